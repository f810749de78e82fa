"""The scheduler: which messages each participant is owed, as ledger rows, idempotently.

:func:`schedule_messages` walks the registrations of a series in small batches (memory
stays flat however many there are), compares what each person is owed with the ledger
rows they already have, and writes the difference in one short transaction per batch:

- **confirmation** when a registration is confirmed (due at ``confirmed_at``), or a
  **waitlisted** notice while it waits; a promoted person then gets the confirmation;
- **link** for every session they attend, released per :attr:`DispatchSettings.link
  <s3events.models.DispatchSettings.link>` in *their* time zone (default: the day before at
  09:00). Someone who registers after the release gets the link right after the
  confirmation; nobody gets a link for a session that had ended when they registered, for
  a cancelled session, or while the session has no meeting yet (run ``s3events provision``);
- **reminder** when the series asks for one;
- **update** when the meeting's ``sequence`` (its revision, kept by provisioning) is higher
  than the one the person's link carried: a new invitation with that SEQUENCE. A link not
  yet sent is simply replaced by one with the new revision;
- **cancellation** (METHOD:CANCEL) for a cancelled session, to those who were sent its link
  or their confirmation; pending links and reminders of it become ``cancelled``;
- **followup**, **missed** and **certificate** once sessions' attendance is known, when the
  series asks for them (see :mod:`s3events.followups`).

The opt-in email is not scheduled here: :func:`s3events.registrations.register` queues one
each time a pending person registers (:func:`s3events.ledger.queue_message`); once the
registration is no longer pending, an opt-in message still waiting is cancelled.

One row per channel in use (``dispatch.channels``) for which the person has an address, so
a failing channel never makes another resend. Cancelled, waitlisted and not yet confirmed
(double opt-in) registrations get no links; erased people have no rows at all. A person
with a message in flight (``sending``) for a session is left alone until it settles.

What one registration is owed is worked out by :class:`s3events.owed.Planner`. A pass
reads rows as the database driver gives them and inserts with one ``executemany`` per
batch: ``benchmarks/dispatch.py --schedule-only`` compares it with plain SQL doing the
same reads and inserts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, type_coerce, update
from sqlalchemy.types import NullType

from .followups import plan_after_sessions
from .models import Series
from .owed import Group, Person, Plan, Planner, release_time
from .provision import meeting_rows
from .registrations.model import Registration as RegistrationInfo
from .store import Store, ledger, registrations

__all__ = [
    "RegistrationInfo",
    "ScheduleReport",
    "attends",
    "release_time",
    "schedule",
    "schedule_messages",
    "stream_registrations",
]

def attends(registration: RegistrationInfo, session_id: str) -> bool:
    """Whether the person registered for ``session_id`` (no list means all sessions)."""
    return registration.sessions is None or session_id in registration.sessions


def stream_registrations(store: Store, series_id: str, *, batch_size: int = 500,
                         ids: Sequence[str] | None = None) -> Iterator[list[RegistrationInfo]]:
    """The registrations of a series in batches, by id (keyset paging: flat memory)."""
    for batch in _people(store, series_id, batch_size=batch_size, ids=ids):
        yield [RegistrationInfo.from_row(person._asdict()) for person in batch]


def _people(store: Store, series_id: str, *, batch_size: int = 500,
            ids: Sequence[str] | None = None) -> Iterator[list[Person]]:
    """The registrations as the planner reads them, in batches, by id."""
    reader = _Reader(store)
    last = ""
    while True:
        if ids is None:  # every registration: the query a pass over thousands repeats
            rows: Sequence[Any] = reader.raw(reader.info_sql, (series_id, last, batch_size))
        else:
            query = (select(*_INFO_COLUMNS).where(registrations.c.series_id == series_id,
                                                 registrations.c.id > last,
                                                 registrations.c.id.in_(list(ids)))
                     .order_by(registrations.c.id).limit(batch_size))
            with store.connect() as conn:
                rows = conn.execute(query).all()
        batch = [reader.person(r) for r in rows]
        if not batch:
            return
        yield batch
        last = batch[-1].id


@dataclass
class ScheduleReport:
    """What one scheduling pass did."""

    inserted: int = 0
    cancelled: int = 0
    rescheduled: int = 0
    registrations: int = 0
    waiting_for_meeting: set[str] = field(default_factory=set)


def schedule(store: Store, series: Series, *, now: datetime, batch_size: int = 500,
             dry_run: bool = False, registration_ids: Sequence[str] | None = None,
             ) -> ScheduleReport:
    """Bring the ledger up to date for ``series`` at ``now``; see the module doc.

    Safe to run any number of times and from several processes at once (inserts ignore
    keys that exist). With ``dry_run`` nothing is written; the report counts what would be.
    """
    report = ScheduleReport()
    reader = _Reader(store)
    planner = Planner(series, meeting_rows(store, series.id), now, reader.stored)
    for batch in _people(store, series.id, batch_size=batch_size, ids=registration_ids):
        existing = reader.existing(series.id, batch)
        plan = Plan()
        for reg in batch:
            planner.plan(reg, existing.get(reg.id, _NO_ROWS), plan)
        report.registrations += len(batch)
        if dry_run:
            report.inserted += len(plan.inserts)
            report.cancelled += len(plan.cancels)
            report.rescheduled += len(plan.due_changes)
        else:
            _write(store, plan, report)
    report.waiting_for_meeting = planner.waiting
    report.inserted += plan_after_sessions(store, series, now=now, dry_run=dry_run,
                                           registration_ids=registration_ids)
    return report


def schedule_messages(store: Store, series: Series, *, now: datetime) -> int:
    """Insert the ledger rows owed at or after ``now``; return how many were new."""
    return schedule(store, series, now=now).inserted


# -- reading and writing rows, in the database's own terms --------------------------------
#: The columns :class:`RegistrationInfo` reads (not consent, address keys, positions…), as
#: the driver gives them: the JSON and time columns are decoded by :class:`_Reader`.
_INFO_COLUMNS = (
    registrations.c.id, registrations.c.email, registrations.c.name, registrations.c.language,
    registrations.c.timezone, type_coerce(registrations.c.channels, NullType()),
    type_coerce(registrations.c.sessions, NullType()), registrations.c.status,
    type_coerce(registrations.c.registered_at, NullType()),
    type_coerce(registrations.c.confirmed_at, NullType()), registrations.c.token,
)
#: What the planner reads of a ledger row (the first five, see :data:`s3events.owed.ID`),
#: then what rows are grouped by. One range of the registration_id index per batch; not
#: ``series_id = ?`` in SQL: with it, SQLite picks the (series_id, state, due_at) index and
#: reads every row of the series for each batch (a pass became quadratic), so rows of
#: another series that fall in the range are left out afterwards.
_EXISTING = ("SELECT id, kind, revision, due_at, state, registration_id, session_id, channel, "
             "series_id FROM s3e_ledger WHERE registration_id >= {0} AND registration_id <= {0}")
#: The next batch of registrations, keyset-paged by id (the columns of _INFO_COLUMNS). On
#: SQLite, ``+series_id`` keeps the planner on the primary key's index: by the
#: (series_id, status, position) index it read and sorted every registration of the series
#: for each batch, and a pass became quadratic.
_INFO = ("SELECT id, email, name, language, timezone, channels, sessions, status, "
         "registered_at, confirmed_at, token FROM s3e_registrations "
         "WHERE {1}series_id = {0} AND id > {0} ORDER BY id LIMIT {0}")
_NO_ROWS: dict[Group, list[Any]] = {}
_INSERTED = ("key", "series_id", "registration_id", "session_id", "kind", "revision",
             "channel", "due_at", "state", "attempts", "created_at")


class _Reader:
    """Reads rows as the driver gives them and decodes only what planning uses.

    Decoding goes through the columns' own types (the same processors SQLAlchemy uses), so
    values read and written here are exactly those of every other query; times to store
    are converted once per distinct value.
    """

    def __init__(self, store: Store) -> None:
        self.store, dialect = store, store.engine.dialect
        self._time = registrations.c.registered_at.type.dialect_impl(dialect) \
            .result_processor(dialect, None)
        self._json = registrations.c.channels.type.dialect_impl(dialect) \
            .result_processor(dialect, None)
        self._bind = ledger.c.due_at.type.dialect_impl(dialect).bind_processor(dialect)
        self._stored: dict[datetime, Any] = {}
        sqlite = dialect.name == "sqlite"
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.existing_sql = _EXISTING.format(mark)
        self.info_sql = _INFO.format(mark, "+" if sqlite else "")

    def raw(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """The rows of ``sql`` as the driver's own tuples (no per-row objects on top)."""
        with self.store.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql, params)
                return list(cursor.fetchall())
            finally:
                cursor.close()

    def _decode_time(self, raw: Any) -> Any:
        return self._time(raw) if self._time is not None and raw is not None else raw

    def _decode_json(self, raw: Any) -> Any:
        return self._json(raw) if self._json is not None and raw is not None else raw

    def person(self, row: Any) -> Person:
        """A :class:`~s3events.owed.Person` from a row of :data:`_INFO_COLUMNS`."""
        channels = self._decode_json(row[5]) or {}
        sessions = self._decode_json(row[6])
        return Person(row[0], row[1], row[2], row[3], row[4],
                      {str(k): str(v) for k, v in channels.items() if v},
                      tuple(sessions) if sessions is not None else None, row[7],
                      self._decode_time(row[8]), self._decode_time(row[9]), row[10])

    def stored(self, when: datetime) -> Any:
        """``when`` as the database stores it (what a ``due`` read here compares with)."""
        value = self._stored.get(when)
        if value is None:
            value = self._stored[when] = self._bind(when) if self._bind else when
        return value

    def existing(self, series_id: str, batch: list[Person],
                 ) -> dict[str, dict[Group, list[Any]]]:
        """The ledger rows of a batch (in id order), by registration, session and channel.

        Each row is the tuple the planner reads (:data:`s3events.owed.ID` …), straight from
        the driver.
        """
        wanted = {reg.id for reg in batch}  # a batch restricted to some ids skips others
        found: dict[str, dict[Group, list[Any]]] = {}
        for row in self.raw(self.existing_sql, (batch[0].id, batch[-1].id)):
            if row[8] == series_id and row[5] in wanted:
                found.setdefault(row[5], {}).setdefault((row[6], row[7]), []).append(row)
        return found


def _insert_sql(store: Store) -> str:
    mark = "?" if store.engine.dialect.paramstyle == "qmark" else "%s"
    return (f"INSERT INTO {ledger.name} ({', '.join(_INSERTED)}) "  # noqa: S608 - constants
            f"VALUES ({', '.join([mark] * len(_INSERTED))}) ON CONFLICT (key) DO NOTHING")


def _write(store: Store, plan: Plan, report: ScheduleReport) -> None:
    if not (plan.inserts or plan.cancels or plan.due_changes):
        return
    with store.begin() as conn:
        if plan.inserts:  # driver-level executemany: the values are stored forms already
            result = conn.exec_driver_sql(_insert_sql(store), plan.inserts)
            report.inserted += max(result.rowcount, 0)
        if plan.cancels:
            result = conn.execute(
                update(ledger).where(ledger.c.id.in_(plan.cancels), ledger.c.state == "pending")
                .values(state="cancelled", next_attempt_at=None))
            report.cancelled += result.rowcount
        if plan.due_changes:
            conn.execute(update(ledger).where(ledger.c.id == bindparam("row_id"),
                                              ledger.c.state == "pending")
                         .values(due_at=bindparam("due")),
                         [{"row_id": i, "due": d} for i, d in plan.due_changes])
            report.rescheduled += len(plan.due_changes)
