"""Where the state database lives, and its engine: URLs read safely, errors without secrets.

:func:`resolve_state_url` turns ``--state``, ``S3EVENTS_STATE`` or the default into a
SQLAlchemy URL (a user name or password with unencoded ``@ : / ? #`` is percent-encoded so
it is read whole); :func:`make_engine` builds the engine with bound parameters hidden from
errors and logs, result rows hidden from SQLAlchemy's DEBUG log (they hold names, emails
and tokens), PostgreSQL's row details dropped from its errors, and SQLite's pragmas
(WAL journal, busy timeout, secure delete). :func:`first_line` is the reason of a
database error, for messages. Nothing here shows a password: :func:`given_state` is what
the person wrote, to be shown through :func:`s3events.urls.redact_url`.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError

from .errors import InputError, StoreError
from .urls import split_credentials, with_encoded_credentials

__all__ = [
    "DEFAULT_STATE",
    "first_line",
    "given_state",
    "make_engine",
    "no_such_database",
    "prepare_sqlite_file",
    "resolve_state_url",
    "sqlite_path",
]

DEFAULT_STATE = Path(".s3events") / "state.db"


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


def prepare_sqlite_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


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
    kwargs: dict[str, Any] = {"hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": 30}
    try:
        engine = create_engine(parsed, **kwargs)
    except (SQLAlchemyError, ImportError) as exc:
        hint = " (pip install 's3events[postgresql]')" if "postgresql" in url else ""
        raise StoreError(f"cannot use state database {where}: {type(exc).__name__}: "
                         f"{first_line(exc)}{hint}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "handle_error", _terse_errors)
    _hide_rows(logging.getLogger("sqlalchemy.engine.Engine"))
    return engine


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
