"""The state database: meetings, registrations and the delivery ledger, via SQLAlchemy Core.

SQLite by default (one file, WAL journal, owner-only permissions), or any PostgreSQL URL
(``postgresql://user@host/db``) for several dispatch workers on several machines.

Where the state lives, first match wins: the ``--state`` option (a path or a URL), the
``S3EVENTS_STATE`` environment variable, ``.s3events/state.db`` in the current directory.
Only commands that create the state (provision, registrations import, serve) write to a
database without the s3events tables; the others refuse it, and write nothing to a file
that is not theirs.

Times are stored as UTC and always come back as aware UTC datetimes. The ledger holds no
personal data: it refers to registrations by id. Personal data lives in the registrations
table and in the attendance table (who was seen in which session), so erasing a person
removes them from those two.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError, OperationalError, SQLAlchemyError
from sqlalchemy.schema import CreateIndex

from .errors import MissingStateError, S3EventsError, StoreError
from .stateengine import (
    DEFAULT_STATE,
    OTHER_TABLES,
    check_sqlite_file,
    first_line,
    given_state,
    make_engine,
    no_such_database,
    not_state,
    remove_sqlite_file,
    resolve_state_url,
    sqlite_path,
)
from .urls import redact_url

__all__ = [
    "DEFAULT_STATE",
    "SCHEMA_VERSION",
    "Store",
    "UTCDateTime",
    "attendance",
    "attendance_sessions",
    "form_posts",
    "ledger",
    "lock",
    "meetings",
    "meta",
    "metadata",
    "open_store",
    "open_store_or_empty",
    "rate_limits",
    "registrations",
    "resolve_state_url",
    "utcnow",
]

SCHEMA_VERSION = 1


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc)


metadata = MetaData()

meta = Table(
    "s3e_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

#: One row per (series, session): the meeting on the platform and the intent to create it.
meetings = Table(
    "s3e_meetings",
    metadata,
    Column("series_id", String(64), primary_key=True),
    Column("session_id", String(64), primary_key=True),
    Column("platform", String(64), nullable=False),
    # intent: a create was started (and may have happened); active; deleted
    Column("state", String(16), nullable=False),
    Column("marker", String(64), nullable=False),
    Column("meeting_id", String(256)),
    Column("join_url", Text),
    Column("passcode", String(256)),
    Column("dial_in", JSON, nullable=False, default=list),
    Column("data", JSON, nullable=False, default=dict),
    Column("fingerprint", String(64)),
    Column("start_utc", UTCDateTime()),
    Column("duration_s", Integer),
    # calendar SEQUENCE: bumped when the time or the link changes
    Column("sequence", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

#: One row per person and series. Personal data lives here and only here.
registrations = Table(
    "s3e_registrations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("series_id", String(64), nullable=False),
    Column("email_key", String(320), nullable=False),
    Column("email", String(320), nullable=False),
    Column("name", String(256), nullable=False),
    Column("language", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("timezone_source", String(16), nullable=False, default="given"),
    Column("country", String(2)),
    Column("organisation", String(256)),
    Column("sector", String(32)),
    Column("channels", JSON, nullable=False, default=dict),
    Column("sessions", JSON(none_as_null=True)),  # SQL NULL: all sessions
    Column("consent", JSON, nullable=False, default=dict),
    # pending (awaiting opt-in), confirmed, waitlisted, cancelled
    Column("status", String(16), nullable=False),
    Column("position", Integer, nullable=False),
    Column("token", String(64), nullable=False, unique=True),
    Column("source", String(256)),
    Column("registered_at", UTCDateTime(), nullable=False),
    Column("confirmed_at", UTCDateTime()),
    Column("cancelled_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("series_id", "email_key", name="uq_registration_email"),
)
Index("ix_registrations_series_status", registrations.c.series_id, registrations.c.status,
      registrations.c.position)
# the scheduler pages a series' registrations by id: this index fits that query exactly
Index("ix_registrations_series_id", registrations.c.series_id, registrations.c.id)

#: The delivery ledger: one row per (registration, session, kind, revision, channel).
ledger = Table(
    "s3e_ledger",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(256), nullable=False, unique=True),
    Column("series_id", String(64), nullable=False),
    Column("registration_id", String(32), nullable=False),
    Column("session_id", String(64)),
    Column("kind", String(16), nullable=False),
    Column("revision", Integer, nullable=False, default=0),
    Column("channel", String(32), nullable=False),
    Column("due_at", UTCDateTime(), nullable=False),
    # pending, sending, sent, failed, cancelled
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Column("next_attempt_at", UTCDateTime()),
    Column("claimed_by", String(64)),
    Column("claimed_at", UTCDateTime()),
    Column("sent_at", UTCDateTime()),
    Column("message_id", String(256)),
    Column("provider_id", String(256)),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_ledger_due", ledger.c.series_id, ledger.c.state, ledger.c.due_at)
Index("ix_ledger_registration", ledger.c.registration_id)

#: Who was seen in a session: one row per participant a platform or a report names.
#: Personal data (names, emails), matched to a registration where one fits.
attendance = Table(
    "s3e_attendance",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", String(64), nullable=False),
    Column("session_id", String(64), nullable=False),
    # where the row came from: platform, poll, callback, or import:FORMAT
    Column("source", String(32), nullable=False),
    Column("name", String(256), nullable=False),
    Column("email", String(320)),
    Column("email_key", String(320)),
    Column("identity", String(256)),
    Column("registration_id", String(32)),
    Column("matched_by", String(16)),  # identity, email, name; NULL: unmatched
    # [[join, leave], …] as ISO 8601 UTC; exact: one interval per stay (else first join to
    # last leave, with ``seconds`` the time actually spent)
    Column("intervals", JSON, nullable=False, default=list),
    Column("exact", Boolean, nullable=False, default=True),
    Column("seconds", Integer, nullable=False, default=0),
    Column("created_at", UTCDateTime(), nullable=False),
)
Index("ix_attendance_session", attendance.c.series_id, attendance.c.session_id)
Index("ix_attendance_registration", attendance.c.registration_id)

#: Per session: whether its attendance is known (``complete``) or being polled. No
#: personal data.
attendance_sessions = Table(
    "s3e_attendance_sessions",
    metadata,
    Column("series_id", String(64), primary_key=True),
    Column("session_id", String(64), primary_key=True),
    Column("state", String(16), nullable=False),  # polling, complete
    Column("source", String(32), nullable=False),
    Column("participants", Integer, nullable=False, default=0),
    Column("last_poll_at", UTCDateTime()),
    Column("completed_at", UTCDateTime()),
    Column("updated_at", UTCDateTime(), nullable=False),
)

#: The event page's form posts, for its rate limit across processes: a keyed hash of the
#: client's address (never the address) and when it posted. Rows leave once they are
#: older than the limit's window.
form_posts = Table(
    "s3e_form_posts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("series_id", String(64), nullable=False),
    Column("client", String(64), nullable=False),  # HMAC-SHA256 of the address, hex
    Column("posted_at", UTCDateTime(), nullable=False),
)
Index("ix_form_posts_client", form_posts.c.series_id, form_posts.c.client,
      form_posts.c.posted_at)

#: One row per rate-limited channel of a series: the earliest moment (seconds since the
#: epoch, on the database's clock) at which its next message may go. Every dispatch worker
#: sharing the database reserves its turns here (:mod:`s3events.delivery.throttle`).
rate_limits = Table(
    "s3e_rate_limits",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("next_at", Float(precision=53), nullable=False),
)


def _create_missing_indexes(conn: Connection) -> None:
    """Indexes added since a database was made (``create_all`` skips existing tables')."""
    inspector = inspect(conn)
    for table in metadata.sorted_tables:
        have = {index["name"] for index in inspector.get_indexes(table.name)}
        for index in table.indexes:
            if index.name not in have:
                conn.execute(CreateIndex(index, if_not_exists=True))


def lock(conn: Connection, name: str) -> None:
    """Serialise writers that take the lock ``name`` until the transaction ends.

    Call it first in a transaction that reads and then writes (a capacity check before an
    insert). PostgreSQL: a transaction-level advisory lock on a hash of ``name``. SQLite: a
    no-op write that takes the database's write lock (SQLite has one writer at a time), so
    what the transaction reads next stays true until it commits.
    """
    if conn.dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        conn.execute(meta.update().where(meta.c.key == "schema_version")
                     .values(value=meta.c.value))


class Store:
    """A connection to the state database. Create with :func:`open_store`.

    ``where`` names it in messages (as given, password hidden); ``created`` lists the
    SQLite file and folders that opening it made, deepest first (empty when it existed).
    """

    def __init__(self, engine: Engine, *, where: str | None = None,
                 created: list[Path] | None = None) -> None:
        self.engine = engine
        self.where = where or self.url
        self.created = created or []

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        """The database URL with any password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: committed on success, rolled back on error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise StoreError(f"state database {self.where}: {type(exc).__name__}: "
                             f"{first_line(exc)}") from exc

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for reading (or for explicit transactions)."""
        with self.engine.connect() as conn:
            yield conn

    def has_schema(self) -> bool:
        """True when the database exists and holds the s3events tables."""
        return self.contents() == "s3events"

    def contents(self) -> Literal["nothing", "s3events", "other"]:
        """What the database holds: no table (or no database), s3events', or only others."""
        try:
            with self.engine.connect() as conn:
                names = set(inspect(conn).get_table_names())
        except OperationalError as exc:
            if no_such_database(exc):
                return "nothing"
            raise self._open_error(exc) from exc
        except SQLAlchemyError as exc:
            raise self._open_error(exc) from exc
        if meta.name in names:
            return "s3events"
        return "other" if names else "nothing"

    def create_schema(self) -> None:
        """Create missing tables and record the schema version."""
        try:
            metadata.create_all(self.engine)
            with self.engine.begin() as conn:
                _create_missing_indexes(conn)
                found = conn.execute(
                    meta.select().where(meta.c.key == "schema_version")
                ).first()
                if found is None:
                    conn.execute(meta.insert().values(key="schema_version",
                                                      value=str(SCHEMA_VERSION)))
                elif int(found.value) > SCHEMA_VERSION:
                    raise StoreError(
                        f"state database {self.where} has schema version {found.value}, "
                        f"newer than this s3events ({SCHEMA_VERSION}); upgrade s3events")
        except SQLAlchemyError as exc:
            raise self._open_error(exc) from exc

    def _open_error(self, exc: SQLAlchemyError) -> S3EventsError:
        """A SQLite file that is not a database is bad input; the rest (down, locked) is not."""
        if self.dialect == "sqlite" and isinstance(exc, DatabaseError) \
                and not isinstance(exc, OperationalError):
            return not_state(self.where, first_line(exc))
        return StoreError(f"cannot open state database {self.where}: {first_line(exc)}")

    def purge_deleted(self) -> bool:
        """Make deleted rows unrecoverable from the database files; True when fully done.

        SQLite (``secure_delete`` is on, so deleted cells are already zeroed): ``VACUUM``
        rebuilds the file, then a ``TRUNCATE`` checkpoint copies the write-ahead log into it
        and empties the ``-wal`` file. False when another process holds a read transaction
        that keeps the log from being emptied; the next checkpoint finishes the job.
        PostgreSQL: ``VACUUM`` on the registrations, ledger and attendance tables, so dead
        rows are removed from the pages (their copies in the server's WAL archive and
        backups follow the operator's retention).
        """
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                if self.dialect == "sqlite":
                    conn.execute(text("VACUUM"))
                    busy = conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
                    return busy is not None and busy[0] == 0
                conn.execute(text(f"VACUUM {registrations.name}, {ledger.name}, "
                                  f"{attendance.name}"))
                return True
        except SQLAlchemyError as exc:
            raise StoreError(f"state database {self.where}: cannot purge deleted rows: "
                             f"{first_line(exc)}") from exc

    def close(self) -> None:
        """Release all connections."""
        self.engine.dispose()

    def holds_data(self) -> bool:
        """True when any table holds a row (besides the schema version and the secret).

        True as well when that cannot be read: the answer decides whether a file may go.
        """
        tables = [t for t in metadata.sorted_tables if t is not meta]
        try:
            with self.engine.connect() as conn:
                return any(conn.execute(select(func.count()).select_from(t)).scalar()
                           for t in tables)
        except SQLAlchemyError:
            return True

    def close_or_discard(self) -> bool:
        """Close; and when opening made the SQLite file and nothing was stored, delete it.

        For a command that creates the state and then stores nothing (an import whose file
        was refused whole): no empty database stays behind to pass for a real one, which a
        later ``dispatch`` would read as "nothing to send". The file goes with its ``-wal``,
        ``-shm`` and ``-journal`` files, and the folders opening made, when empty. True when
        the file was deleted.
        """
        discard = bool(self.created) and not self.holds_data()
        self.close()
        if discard:
            remove_sqlite_file(self.created)
        return discard

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Store {self.url}>"


def open_store(state: str | os.PathLike[str] | None = None, *,
               environ: Mapping[str, str] | None = None, create: bool = True) -> Store:
    """Open the state database named by ``state`` (see the module doc for where it lives).

    With ``create`` (provision, registrations import, serve) a missing SQLite file is
    created, and missing tables in any database. Without it (commands that only read the
    state) a database that does not exist — a missing or empty file, a SQLite database
    without tables, a PostgreSQL database that is not there or has no s3events tables —
    raises :class:`~s3events.errors.MissingStateError`, and nothing is created or written.
    Either way a file that is not a SQLite database (or, without ``create``, one holding
    only other tables) raises :class:`~s3events.errors.InputError` and is left untouched, as
    does a URL that cannot be read or is not SQLite or PostgreSQL. A server that cannot be
    reached raises :class:`~s3events.errors.StoreError`. No message shows a password.
    """
    given = given_state(state, environ)
    where = redact_url(given)
    url = resolve_state_url(state, environ)
    engine = make_engine(url, where)
    path = sqlite_path(url)
    try:
        created = [] if path is None else check_sqlite_file(path, where, create=create,
                                                             marker=meta.name)
    except BaseException:
        engine.dispose()
        raise
    store = Store(engine, where=where, created=created)
    try:
        contents = "s3events" if path is not None or create else store.contents()
        if contents == "other":
            raise not_state(where, OTHER_TABLES)
        if contents == "nothing":
            raise MissingStateError(where)
        store.create_schema()
    except BaseException:
        store.close_or_discard()
        raise
    return store


def open_store_or_empty(state: str | os.PathLike[str] | None = None, *,
                        environ: Mapping[str, str] | None = None) -> tuple[Store, bool]:
    """The state database named by ``state``, or an empty one in memory when it is missing.

    For commands that show what a first run would do (``plan`` before any ``provision``):
    nothing is created on disk. Returns the store and whether the named database exists.
    """
    try:
        return open_store(state, environ=environ, create=False), True
    except MissingStateError:
        return open_store("sqlite://"), False
