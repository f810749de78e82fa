"""Where the state database lives, and its engine: URLs read safely, errors without secrets.

:func:`resolve_state_url` turns ``--state``, ``S3EVENTS_STATE`` or the default into a
SQLAlchemy URL (a user name or password with unencoded ``@ : / ? #`` is percent-encoded so
it is read whole); :func:`make_engine` builds the engine with bound parameters hidden from
errors and logs, result rows hidden from SQLAlchemy's DEBUG log (they hold names, emails
and tokens), PostgreSQL's row details dropped from its errors, and SQLite's pragmas
(WAL journal, busy timeout, secure delete). Only SQLite and PostgreSQL are supported;
another scheme or a port out of range is bad input. :func:`sqlite_contents` looks into an
existing SQLite file without writing to it, so a command that only reads the state never
turns a stray file into a database. :func:`first_line` is the reason of a database error,
for messages. Nothing here shows a password: :func:`given_state` is what the person wrote,
to be shown through :func:`s3events.urls.redact_url`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import sqlite3
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from .errors import InputError, MissingStateError, StoreError
from .urls import split_credentials, with_encoded_credentials

__all__ = [
    "DEFAULT_STATE",
    "OTHER_TABLES",
    "check_sqlite_file",
    "first_line",
    "given_state",
    "make_engine",
    "no_such_database",
    "not_state",
    "prepare_sqlite_file",
    "remove_sqlite_file",
    "resolve_state_url",
    "sqlite_contents",
    "sqlite_path",
]

DEFAULT_STATE = Path(".s3events") / "state.db"

#: The backends the state can live on (SQLAlchemy backend names).
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

#: Why a database with tables, none of them s3events', is not a state database.
OTHER_TABLES = "it holds other tables, none of s3events'"

#: The first 16 bytes of every SQLite database file.
SQLITE_HEADER = b"SQLite format 3\x00"

#: How to install the PostgreSQL driver (s3events is installed from a clone, not from PyPI).
POSTGRESQL_EXTRA = ("install the postgresql extra: pip install -e '.[postgresql]' in "
                    "s3events' folder")


def resolve_state_url(state: str | os.PathLike[str] | None = None,
                      environ: Mapping[str, str] | None = None) -> str:
    """The database URL for ``--state``, ``S3EVENTS_STATE`` or the default file.

    A user name or password with unencoded ``@ : / ? #`` is percent-encoded, so the URL's
    parser reads it whole.
    """
    value = given_state(state, environ)
    if "://" in value:
        value = with_encoded_credentials(value)
        if value.startswith(("postgresql://", "postgres://")):
            return "postgresql+psycopg://" + value.split("://", 1)[1]
        return value
    return f"sqlite:///{Path(value).expanduser().absolute()}"


def given_state(state: str | os.PathLike[str] | None,
                environ: Mapping[str, str] | None = None) -> str:
    """The state as the person gave it: option, environment variable or the default."""
    environ = os.environ if environ is None else environ
    return str(state) if state else environ.get("S3EVENTS_STATE") or str(DEFAULT_STATE)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///`` URL (None for an in-memory database)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///").split("?", 1)[0]
    return None if path in ("", ":memory:") else Path(path)


def prepare_sqlite_file(path: Path) -> list[Path]:
    """Create ``path`` (owner-only) and its folders if missing.

    Returns what this call made: the file, then its new folders, deepest first; empty when
    the file was there (or another process made it at the same moment).
    """
    missing = [folder for folder in path.parents if not folder.exists()]
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        made = [path, *missing]
    except FileExistsError:
        made = []
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return made


def not_state(where: str, reason: str) -> InputError:
    """The error for a state that exists but is not an s3events state database."""
    return InputError(f"{where} is not an s3events state database ({reason}): give the right "
                      "--state or S3EVENTS_STATE")


def sqlite_contents(path: Path, where: str, *,
                    marker: str) -> Literal["nothing", "s3events", "other"]:
    """What the existing SQLite file ``path`` holds, read without writing a byte to it.

    ``nothing``: an empty file, or a database without tables; ``s3events``: a database
    with the table ``marker``; ``other``: a database with only other tables. A file that is
    not a SQLite database (or a damaged one) raises :class:`~s3events.errors.InputError`; one
    that cannot be opened (no permission, locked) :class:`~s3events.errors.StoreError`.
    """
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot open state database {where}: {exc.strerror or exc}") from None
    if not head:
        return "nothing"
    if head != SQLITE_HEADER:
        raise not_state(where, "file is not a database")
    try:
        # without a write-ahead log, all is in the file: read it as immutable, which creates
        # no -wal or -shm file beside it; with one, read-only (the log holds recent writes)
        mode = "mode=ro" if Path(f"{path}-wal").exists() else "immutable=1"
        conn = sqlite3.connect(f"{path.absolute().as_uri()}?{mode}", uri=True, timeout=30)
        try:
            names = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.OperationalError as exc:  # locked, unreadable: not the person's input
        raise StoreError(f"cannot open state database {where}: {exc}") from None
    except sqlite3.DatabaseError as exc:  # not a database, or a damaged one
        raise not_state(where, str(exc)) from None
    if marker in names:
        return "s3events"
    return "other" if names else "nothing"


def check_sqlite_file(path: Path, where: str, *, create: bool, marker: str) -> list[Path]:
    """Before any connection: refuse what is not a state; with ``create``, make the file.

    Without ``create``, a missing or empty file, or a database without tables, is missing
    (:class:`~s3events.errors.MissingStateError`); a file that is not a SQLite database, or
    one with only other tables (none named ``marker``), is not a state. Nothing is written
    either way. Returns the file and folders made, deepest first (empty when it existed).
    """
    contents = sqlite_contents(path, where, marker=marker) if path.is_file() else None
    if create:
        return prepare_sqlite_file(path)
    if contents == "other":
        raise not_state(where, OTHER_TABLES)
    if contents != "s3events":
        raise MissingStateError(where)
    return []


def remove_sqlite_file(created: list[Path]) -> None:
    """Delete a SQLite file made by :func:`check_sqlite_file`, and its folders when empty."""
    database, *folders = created
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # something else is in it now
            break


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # erased personal data is overwritten
    cursor.close()


def make_engine(url: str, where: str) -> Engine:
    """An engine for ``url``; ``where`` names it in errors (as given, without password).

    Bound parameters are never put in error messages or logs. A URL that cannot be read
    raises :class:`~s3events.errors.InputError`.
    """
    try:
        parsed = make_url(url)
        if "[" in split_credentials(url)[3].split("/", 1)[0]:  # a bracketed IPv6 host
            ipaddress.IPv6Address((parsed.host or "").split("%", 1)[0])
    except (ArgumentError, ValueError):
        raise InputError(
            f"state database {where} is not a path or database URL that can be read; write "
            "postgresql://user:password@host:port/database (an IPv6 host in brackets) or a "
            "SQLite file path") from None
    _check_supported(parsed, where)
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    try:
        engine = create_engine(parsed, **kwargs)
    except ImportError as exc:  # the driver is missing: the installation, not the input
        hint = f"; {POSTGRESQL_EXTRA}" if parsed.get_driver_name() == "psycopg" else ""
        raise StoreError(f"cannot use state database {where}: its driver is not installed "
                         f"({first_line(exc)}){hint}") from None
    except SQLAlchemyError as exc:
        raise StoreError(f"cannot use state database {where}: {type(exc).__name__}: "
                         f"{first_line(exc)}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "handle_error", _terse_errors)
    _hide_rows(logging.getLogger("sqlalchemy.engine.Engine"))
    return engine


def _check_supported(parsed: URL, where: str) -> None:
    """Bad input: a backend other than SQLite or PostgreSQL, or a port out of range."""
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise InputError(
            f"state database {where}: {parsed.get_backend_name()} is not supported; give a "
            "SQLite file path or a postgresql://user:password@host:port/database URL")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise InputError(f"state database {where}: port {parsed.port} is out of range "
                         "(1 to 65535)")


class _RowsHidden(logging.Filter):
    """SQLAlchemy's DEBUG log shows each result row (``Row (…)``); here without its values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == "Row %r":
            record.msg, record.args = "Row (values hidden)", ()
        return True


def _hide_rows(logger: logging.Logger) -> None:
    if not any(isinstance(f, _RowsHidden) for f in logger.filters):
        logger.addFilter(_RowsHidden())


def _terse_errors(context: Any) -> None:
    """Keep only the reason of a database error: PostgreSQL's DETAIL shows row values.

    A unique violation says ``Key (series_id, email_key)=(s3, ana@example.org)``, a NOT
    NULL one ``Failing row contains (…)`` — personal data in any log that records the
    error. The first line (the reason) stays; the server's details stay available on the
    driver's error (``orig.diag``), and bound parameters are hidden by the engine.
    """
    orig = context.original_exception
    reason = first_line(orig)
    if reason == str(orig).strip():
        return
    orig.args = (reason,)
    wrapped = context.sqlalchemy_exception
    if wrapped is not None:
        wrapped.args = (f"({type(orig).__module__}.{type(orig).__name__}) {reason}",)


def no_such_database(exc: OperationalError) -> bool:
    """True when PostgreSQL says the database named in the URL does not exist.

    libpq reports it at connection time without an SQLSTATE, so the server's (English)
    message is recognised too.
    """
    if getattr(exc.orig, "sqlstate", None) == "3D000":
        return True
    return re.search(r'database ".*" does not exist', str(exc.orig)) is not None


def first_line(exc: BaseException) -> str:
    """The first line of a database error: the reason, without SQL, parameters or DETAIL."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc)
    return (text.strip().splitlines() or [""])[0]
