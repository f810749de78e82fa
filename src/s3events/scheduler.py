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
- never a message whose moment has passed: a link or update once its session has ended, a
  reminder once it has started (:func:`s3events.owed.too_late`). Such rows become
  ``expired`` — written so when the pass finds them already late (participants imported
  before the series, a first dispatch after a session), or pending rows expired by the
  pass (:func:`s3events.unsent.expire_late`) — and are never sent;
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

from sqlalchemy import bindparam, update

from .followups import plan_after_sessions
from .models import Series
from .owed import Group, Person, Plan, Planner, late_sessions, release_time
from .provision import meeting_rows
from .registrations.model import Registration as RegistrationInfo
from .store import Store, ledger, registrations
from .unsent import expire_late

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
    """The registrations as the planner reads them, in batches, by id.

    Every registration: keyset pages along the (series_id, id) index. Some ids: those ids,
    a batch at a time, looked up in the same index.
    """
    reader = _Reader(store)
    if ids is not None:
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), batch_size):
            chunk = wanted[start:start + batch_size]
            rows = reader.raw(reader.info_in_sql(len(chunk)), (series_id, *chunk))
            if rows:
                yield [reader.person(r) for r in rows]
        return
    last = ""
    while True:
        rows = reader.raw(reader.info_sql, (series_id, last, batch_size))
        if not rows:
            return
        batch = [reader.person(r) for r in rows]
        yield batch
        last = batch[-1].id


@dataclass
class ScheduleReport:
    """What one scheduling pass did."""

    inserted: int = 0
    cancelled: int = 0
    rescheduled: int = 0
    expired: int = 0
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
        existing = reader.existing(series.id, batch, some=registration_ids is not None)
        plan = Plan()
        for reg in batch:
            planner.plan(reg, existing.get(reg.id, _NO_ROWS), plan)
        report.registrations += len(batch)
        if dry_run:
            report.inserted += len(plan.inserts)
            report.cancelled += len(plan.cancels)
            report.rescheduled += len(plan.due_changes)
            report.expired += sum(1 for row in plan.inserts if row[_STATE] == "expired")
        else:
            _write(store, plan, report)
    report.waiting_for_meeting = planner.waiting
    report.expired += expire_late(store, series.id, late=late_sessions(series, now), now=now,
                                  dry_run=dry_run)
    report.inserted += plan_after_sessions(store, series, now=now, dry_run=dry_run,
                                           registration_ids=registration_ids)
    return report


def schedule_messages(store: Store, series: Series, *, now: datetime) -> int:
    """Insert the ledger rows owed at or after ``now``; return how many were new."""
    return schedule(store, series, now=now).inserted


# -- reading and writing rows, in the database's own terms --------------------------------
#: What the planner reads of a ledger row (the first five, see :data:`s3events.owed.ID`),
#: then what rows are grouped by. One range of the registration_id index per batch (for a
#: batch of some ids, which are spread over the whole range, those ids); not
#: ``series_id = ?`` in SQL: with it, SQLite picks the (series_id, state, due_at) index and
#: reads every row of the series for each batch (a pass became quadratic), so rows of
#: another series that fall in the range are left out afterwards.
_EXISTING = ("SELECT id, kind, revision, due_at, state, registration_id, session_id, channel, "
             "series_id FROM s3e_ledger WHERE ")
_EXISTING_RANGE = _EXISTING + "registration_id >= {0} AND registration_id <= {0}"
#: The columns the planner reads of a registration (:class:`~s3events.owed.Person`).
_INFO_SELECT = ("SELECT id, email, name, language, timezone, channels, sessions, status, "
                "registered_at, confirmed_at, token FROM s3e_registrations ")
#: The next page of registrations, keyset-paged by id. The (series_id, id) index fits the
#: query exactly (equality, then the range, in the order asked), so the plan is right by
#: construction, with or without the statistics ``ANALYZE`` leaves: each page reads its
#: own rows and nothing else (``tests/test_query_plans.py`` shows it).
_INFO = _INFO_SELECT + "WHERE series_id = {0} AND id > {0} ORDER BY id LIMIT {0}"
#: Some registrations by id: the same index, one lookup per id.
_INFO_IN = _INFO_SELECT + "WHERE series_id = {0} AND id IN ({1}) ORDER BY id"
_NO_ROWS: dict[Group, list[Any]] = {}
_INSERTED = ("key", "series_id", "registration_id", "session_id", "kind", "revision",
             "channel", "due_at", "state", "attempts", "created_at")
_STATE = _INSERTED.index("state")


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
        self.mark = mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.existing_sql = _EXISTING_RANGE.format(mark)
        self.info_sql = _INFO.format(mark)

    def _marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def info_in_sql(self, count: int) -> str:
        """The registrations of ``count`` ids (:data:`_INFO_IN`)."""
        return _INFO_IN.format(self.mark, self._marks(count))

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
        """A :class:`~s3events.owed.Person` from a row of :data:`_INFO`, as the driver
        gives it."""
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

    def existing(self, series_id: str, batch: list[Person], *, some: bool = False,
                 ) -> dict[str, dict[Group, list[Any]]]:
        """The ledger rows of a batch (in id order), by registration, session and channel.

        Each row is the tuple the planner reads (:data:`s3events.owed.ID` …), straight from
        the driver. A batch of ``some`` ids (spread over all ids) is read by those ids; a
        page of every registration by its range of ids.
        """
        wanted = {reg.id for reg in batch}
        found: dict[str, dict[Group, list[Any]]] = {}
        if some:
            sql = f"{_EXISTING}registration_id IN ({self._marks(len(batch))})"
            rows = self.raw(sql, tuple(reg.id for reg in batch))
        else:
            rows = self.raw(self.existing_sql, (batch[0].id, batch[-1].id))
        for row in rows:
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
            report.expired += sum(1 for row in plan.inserts if row[_STATE] == "expired")
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
