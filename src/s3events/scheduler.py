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
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .followups import plan_after_sessions
from .ledger import LedgerRow, ledger_key
from .models import ReleaseRule, Series, Session
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

_UTC = timezone.utc
_SESSION_KINDS = ("link", "update", "reminder")


def release_time(rule: ReleaseRule, start: datetime, zone: ZoneInfo) -> datetime:
    """When a message under ``rule`` goes out for a session starting at ``start`` (UTC).

    With ``rule.local_time``: that wall time in ``zone`` on the session's date there minus
    ``days_before``. A wall time in a daylight-saving gap is read with the offset before
    the gap (RFC 5545's rule: it moves forward by the gap's length); one that happens twice
    is the first. Without ``local_time``: ``start`` minus ``days_before`` and
    ``hours_before``. Never later than ``start``.
    """
    if rule.local_time is None:
        moment = start - timedelta(days=rule.days_before, hours=rule.hours_before)
    else:
        day = start.astimezone(zone).date() - timedelta(days=rule.days_before)
        wall = datetime.combine(day, rule.local_time).replace(tzinfo=zone, fold=0)
        moment = wall.astimezone(_UTC)
    return min(moment, start)


def attends(registration: RegistrationInfo, session_id: str) -> bool:
    """Whether the person registered for ``session_id`` (no list means all sessions)."""
    return registration.sessions is None or session_id in registration.sessions


#: The columns :class:`RegistrationInfo` reads (not consent, address keys, positions…).
_INFO_COLUMNS = (
    registrations.c.id, registrations.c.email, registrations.c.name, registrations.c.language,
    registrations.c.timezone, registrations.c.channels, registrations.c.sessions,
    registrations.c.status, registrations.c.registered_at, registrations.c.confirmed_at,
    registrations.c.token,
)


def stream_registrations(store: Store, series_id: str, *, batch_size: int = 500,
                         ids: Sequence[str] | None = None) -> Iterator[list[RegistrationInfo]]:
    """The registrations of a series in batches, by id (keyset paging: flat memory)."""
    last = ""
    while True:
        query = (select(*_INFO_COLUMNS).where(registrations.c.series_id == series_id,
                                             registrations.c.id > last)
                 .order_by(registrations.c.id).limit(batch_size))
        if ids is not None:
            query = query.where(registrations.c.id.in_(list(ids)))
        with store.connect() as conn:
            batch = [RegistrationInfo.from_row(r) for r in conn.execute(query)]
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


@dataclass
class _Plan:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[int] = field(default_factory=list)
    due_changes: list[tuple[int, datetime]] = field(default_factory=list)


class _Planner:
    """Works out, per registration, the rows to add, re-time and cancel."""

    def __init__(self, series: Series, store: Store, now: datetime) -> None:
        self.series = series
        self.now = now
        self.rows = meeting_rows(store, series.id)
        self.channels = list(series.dispatch.channels)
        self._release: dict[tuple[str, str, str], datetime] = {}
        self.waiting: set[str] = set()

    def revision(self, session: Session) -> int:
        row = self.rows.get(session.id)
        return row.sequence if row is not None else 0

    def ready(self, session: Session) -> bool:
        row = self.rows.get(session.id)
        if row is None or row.state != "active" or not row.join_url:
            self.waiting.add(session.id)
            return False
        return True

    def release(self, kind: str, rule: ReleaseRule, session: Session, zone: ZoneInfo) -> datetime:
        key = (kind, session.id, zone.key)
        if key not in self._release:
            self._release[key] = release_time(rule, session.start, zone)
        return self._release[key]

    def plan(self, reg: RegistrationInfo, existing: list[LedgerRow]) -> _Plan:
        plan = _Plan()
        if reg.status != "pending":  # confirmed (or cancelled) before the email went out
            _cancel(plan, existing, kinds=("optin",))
        by_key = {r.key: r for r in existing}
        groups: dict[tuple[str | None, str], list[LedgerRow]] = defaultdict(list)
        for row in existing:
            groups[(row.session_id, row.channel)].append(row)
        for channel in self.channels:
            if not reg.address(channel):
                continue
            series_rows = groups.get((None, channel), [])
            self._series_messages(plan, reg, channel, series_rows, by_key)
            for session in self.series.sessions:
                rows = groups.get((session.id, channel))
                if rows is None and not attends(reg, session.id):
                    continue  # nothing owed, nothing to cancel or re-time: the common case
                _Session(self, plan, reg, session, channel, rows or [], by_key,
                         series_rows).plan()
        return plan

    def _series_messages(self, plan: _Plan, reg: RegistrationInfo, channel: str,
                         rows: list[LedgerRow], by_key: dict[str, LedgerRow]) -> None:
        if reg.status == "confirmed":
            _want(plan, by_key, self.row(reg, None, "confirmation", 0, channel, reg.since))
            _cancel(plan, rows, kinds=("waitlisted",))
        elif reg.status == "waitlisted":
            _want(plan, by_key, self.row(reg, None, "waitlisted", 0, channel, reg.registered_at))
        else:
            _cancel(plan, rows, kinds=("confirmation", "waitlisted"))

    def row(self, reg: RegistrationInfo, session_id: str | None, kind: str, revision: int,
            channel: str, due: datetime) -> dict[str, Any]:
        return {
            "key": ledger_key(reg.id, session_id, kind, revision, channel),
            "series_id": self.series.id, "registration_id": reg.id, "session_id": session_id,
            "kind": kind, "revision": revision, "channel": channel, "due_at": due,
            "state": "pending", "attempts": 0, "created_at": self.now,
        }


class _Session:
    """The plan for one person, one session, one channel."""

    def __init__(self, planner: _Planner, plan: _Plan, reg: RegistrationInfo, session: Session,
                 channel: str, rows: list[LedgerRow], by_key: dict[str, LedgerRow],
                 series_rows: list[LedgerRow]) -> None:
        self.p, self.out, self.reg, self.session = planner, plan, reg, session
        self.channel, self.rows, self.by_key, self.series_rows = channel, rows, by_key, series_rows

    def plan(self) -> None:
        if any(r.state == "sending" for r in self.rows):
            return  # in flight: decide once it has settled
        if self.session.cancelled:
            self._cancelled()
        elif not self._eligible():
            _cancel(self.out, self.rows, kinds=(*_SESSION_KINDS, "cancellation"))
        elif self.p.ready(self.session):
            _cancel(self.out, self.rows, kinds=("cancellation",))
            self._link_or_update(self.p.revision(self.session))
            self._reminder()

    def _eligible(self) -> bool:
        session, reg = self.session, self.reg
        assert session.end is not None
        return (reg.status == "confirmed" and attends(reg, session.id)
                and session.end > reg.since)

    def _cancelled(self) -> None:
        _cancel(self.out, self.rows, kinds=_SESSION_KINDS)
        if self.reg.status != "confirmed" or not attends(self.reg, self.session.id):
            return
        told = any(r.state == "sent" and r.kind in ("link", "update") for r in self.rows) or any(
            r.state == "sent" and r.kind == "confirmation" for r in self.series_rows)
        if told and not any(r.kind == "cancellation" for r in self.rows):
            self._want("cancellation", self.p.revision(self.session), self.p.now)

    def _link_or_update(self, revision: int) -> None:
        delivered = [r.revision for r in self.rows
                     if r.kind in ("link", "update") and r.state == "sent"]
        stale = [r for r in self.rows if r.kind in ("link", "update") and r.revision < revision]
        _cancel(self.out, stale, kinds=("link", "update"))
        if not delivered:
            zone = self.reg.zone(self.p.series.zone)
            release = self.p.release("link", self.p.series.dispatch.link, self.session, zone)
            self._want("link", revision, max(release, self.reg.since))
        elif max(delivered) < revision:
            self._want("update", revision, self.p.now)

    def _reminder(self) -> None:
        rule = self.p.series.dispatch.reminder
        if rule is None:
            return
        zone = self.reg.zone(self.p.series.zone)
        release = self.p.release("reminder", rule, self.session, zone)
        if release >= self.reg.since:
            self._want("reminder", 0, release)

    def _want(self, kind: str, revision: int, due: datetime) -> None:
        row = self.p.row(self.reg, self.session.id, kind, revision, self.channel, due)
        _want(self.out, self.by_key, row)


def _want(plan: _Plan, by_key: dict[str, LedgerRow], row: dict[str, Any]) -> None:
    found = by_key.get(row["key"])
    if found is None:
        plan.inserts.append(row)
        by_key[row["key"]] = LedgerRow(0, row["key"], row["registration_id"], row["session_id"],
                                       row["kind"], row["revision"], row["channel"],
                                       row["due_at"], "pending", 0)
    elif found.state == "pending" and found.id and found.due_at != row["due_at"]:
        plan.due_changes.append((found.id, row["due_at"]))


def _cancel(plan: _Plan, rows: list[LedgerRow], *, kinds: Sequence[str]) -> None:
    plan.cancels.extend(r.id for r in rows if r.kind in kinds and r.state == "pending" and r.id)


def _existing(store: Store, series_id: str, ids: list[str]) -> dict[str, list[LedgerRow]]:
    # Only registration_id in SQL: with ``series_id = ?`` there too, SQLite picks the
    # (series_id, state, due_at) index and reads every row of the series for each batch,
    # which made a pass quadratic in the number of registrations. The series is checked
    # here instead (a registration belongs to one series, so nothing is dropped).
    query = select(ledger.c.id, ledger.c.key, ledger.c.registration_id, ledger.c.session_id,
                   ledger.c.kind, ledger.c.revision, ledger.c.channel, ledger.c.due_at,
                   ledger.c.state, ledger.c.attempts, ledger.c.series_id).where(
        ledger.c.registration_id.in_(ids))
    found: dict[str, list[LedgerRow]] = defaultdict(list)
    with store.connect() as conn:
        for row in conn.execute(query):
            if row.series_id == series_id:
                found[row.registration_id].append(LedgerRow.from_row(row))
    return found


def _insert_statement(store: Store) -> Any:
    module: Any = postgresql if store.dialect == "postgresql" else sqlite
    return module.insert(ledger).on_conflict_do_nothing(index_elements=["key"])


def _write(store: Store, plan: _Plan, report: ScheduleReport) -> None:
    if not (plan.inserts or plan.cancels or plan.due_changes):
        return
    with store.begin() as conn:
        if plan.inserts:
            result = conn.execute(_insert_statement(store).returning(ledger.c.id), plan.inserts)
            report.inserted += len(result.all())
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


def schedule(store: Store, series: Series, *, now: datetime, batch_size: int = 500,
             dry_run: bool = False, registration_ids: Sequence[str] | None = None,
             ) -> ScheduleReport:
    """Bring the ledger up to date for ``series`` at ``now``; see the module doc.

    Safe to run any number of times and from several processes at once (inserts ignore
    keys that exist). With ``dry_run`` nothing is written; the report counts what would be.
    """
    report = ScheduleReport()
    planner = _Planner(series, store, now)
    for batch in stream_registrations(store, series.id, batch_size=batch_size,
                                      ids=registration_ids):
        existing = _existing(store, series.id, [r.id for r in batch])
        plan = _Plan()
        for reg in batch:
            one = planner.plan(reg, existing.get(reg.id, []))
            plan.inserts += one.inserts
            plan.cancels += one.cancels
            plan.due_changes += one.due_changes
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

