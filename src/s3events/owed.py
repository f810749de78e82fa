"""What each person is owed: the scheduler's plan for one registration, against its rows.

:class:`Planner` compares what one registration is owed (see :mod:`s3events.scheduler` for
the rules) with the ledger rows it already has and adds the difference to a :class:`Plan`:
rows to insert, pending rows to cancel, pending rows to re-time. It runs once per
registration on every scheduling pass, over every registration of a series, so it is
written to do little when nothing has changed: what depends on the series alone (each
session's revision and readiness, release times per zone) is worked out once per pass,
and an existing row's due time is compared in the form the database stores it.

**Never sent late.** A message whose moment has passed is not sent: a ``link`` or
``update`` once its session has ended, a ``reminder`` once its session has started
(:func:`too_late`). The planner writes a row that is already too late as ``expired``; a
pending row that becomes too late is expired by the scheduling pass
(:func:`s3events.unsent.expire_late`), is never claimed (:func:`s3events.ledger.claim_due`
leaves out what :func:`late_sessions` names), and a row claimed before the moment passed is
checked again just before it is sent. Someone who registers while a session runs is owed
its link at once, and it goes out until the session ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from .models import ReleaseRule, Series, Session
from .timezones import ZoneNameError, get_zone

if TYPE_CHECKING:
    from .provision import MeetingRow

__all__ = ["DUE", "ID", "KIND", "LATE_AT_END", "LATE_AT_START", "REVISION", "STATE", "Group",
           "Person", "Plan", "Planner", "late_sessions", "release_time", "too_late"]

_UTC = timezone.utc
_LINKS = ("link", "update")
_SESSION_KINDS = ("link", "update", "reminder")
_ENDED_KINDS = (*_SESSION_KINDS, "cancellation")
#: Kinds never sent once their session has ended, and once it has started.
LATE_AT_END = _LINKS
LATE_AT_START = ("reminder",)


def too_late(kind: str, session: Session, moment: datetime) -> bool:
    """Whether a ``kind`` message for ``session`` would be late at ``moment``: a link or
    update at or after the session's end, a reminder after its start; never other kinds."""
    if kind in LATE_AT_END:
        return moment >= session.ends_at
    if kind in LATE_AT_START:
        return moment > session.start
    return False


def late_sessions(series: Series, moment: datetime) -> dict[str, list[str]]:
    """Kind → the ids of the sessions whose messages of that kind are late at ``moment``
    (only kinds with such sessions)."""
    late: dict[str, list[str]] = {}
    for session in series.sessions:
        for kind in (*LATE_AT_END, *LATE_AT_START):
            if too_late(kind, session, moment):
                late.setdefault(kind, []).append(session.id)
    return late


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


class Person(NamedTuple):
    """A registration as the planner reads it: the fields of
    :class:`~s3events.scheduler.Person`, in a tuple that is cheap to make for
    every registration of every pass."""

    id: str
    email: str
    name: str
    language: str
    timezone: str
    channels: dict[str, str]
    sessions: tuple[str, ...] | None
    status: str
    registered_at: datetime
    confirmed_at: datetime | None
    token: str

    @property
    def since(self) -> datetime:
        """When the registration started to count: confirmed, else registered."""
        return self.confirmed_at or self.registered_at

    def address(self, channel: str) -> str | None:
        """The person's address on ``channel``, if they gave one."""
        return self.email if channel == "email" else self.channels.get(channel)


@dataclass
class Plan:
    """Ledger changes for a batch of registrations.

    ``inserts`` are tuples of the inserted columns in the order of
    :data:`s3events.scheduler._INSERTED`, times already in their stored form.
    """

    inserts: list[tuple[Any, ...]] = field(default_factory=list)
    cancels: list[int] = field(default_factory=list)
    due_changes: list[tuple[int, datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class _Session:
    """What the plan needs of one session, worked out once per pass."""

    session: Session
    id: str
    revision: int
    ready: bool
    end: datetime


#: A person's ledger rows by (session id or ``None`` for series-wide messages, channel).
Group = tuple[str | None, str]
#: What the planner reads of an existing row, by position: (id, kind, revision, due, state),
#: ``due`` as the database stores it.
ID, KIND, REVISION, DUE, STATE = range(5)
_NONE: list[Any] = []  # no rows (never appended to)


def _pending(rows: Iterable[Any], kinds: Sequence[str]) -> list[int]:
    return [r[ID] for r in rows if r[STATE] == "pending" and r[KIND] in kinds]


class Planner:
    """Works out, per registration, the rows to add, re-time and cancel.

    ``meetings`` are the series' meeting rows by session; ``stored`` converts a time to
    the form the database stores (what the ``due`` of an existing row is compared with).
    Existing rows are tuples ``(id, kind, revision, due, state)`` (``due`` in stored form;
    see :data:`ID` …); grouped by session and channel, a row's kind and revision name its
    message (its key is the person, session, kind, revision and channel).
    """

    def __init__(self, series: Series, meetings: Mapping[str, MeetingRow], now: datetime,
                 stored: Callable[[datetime], Any]) -> None:
        self.series, self.now, self.stored = series, now, stored
        self.channels = list(series.dispatch.channels)
        self.created = stored(now)
        self.sessions = [self._session(s, meetings.get(s.id)) for s in series.sessions]
        self.waiting: set[str] = set()
        self._by_zone: dict[str, list[tuple[datetime, datetime | None]]] = {}

    @staticmethod
    def _session(session: Session, row: MeetingRow | None) -> _Session:
        ready = row is not None and row.state == "active" and bool(row.join_url)
        assert session.end is not None
        return _Session(session, session.id, row.sequence if row is not None else 0, ready,
                        session.end)

    def _times(self, reg: Person) -> list[tuple[datetime, datetime | None]]:
        """(link release, reminder release) of each session in the person's zone."""
        times = self._by_zone.get(reg.timezone)
        if times is None:
            try:
                zone = get_zone(reg.timezone)
            except ZoneNameError:
                zone = self.series.zone  # the person's cannot be used: the series'
            link, reminder = self.series.dispatch.link, self.series.dispatch.reminder
            times = self._by_zone[reg.timezone] = [
                (release_time(link, s.session.start, zone),
                 release_time(reminder, s.session.start, zone) if reminder else None)
                for s in self.sessions]
        return times

    # -- one registration -----------------------------------------------------------------
    def plan(self, reg: Person, existing: Mapping[Group, list[Any]],
             out: Plan) -> None:
        """Add to ``out`` what ``reg`` is owed beyond its ``existing`` rows.

        ``existing`` holds the person's rows by (session id or ``None``, channel).
        """
        if reg.status != "pending":  # confirmed (or cancelled) before the email went out
            for (session_id, _channel), found in existing.items():
                if session_id is None:
                    out.cancels += _pending(found, ("optin",))
        for channel in self.channels:
            if not reg.address(channel):
                continue
            series_rows = existing.get((None, channel), _NONE)
            self._series_messages(out, reg, channel, series_rows)
            for s, times in zip(self.sessions, self._times(reg), strict=True):
                rows: list[Any] | None = existing.get((s.id, channel))
                if rows is not None:
                    self._for_session(out, reg, s, channel, rows, series_rows, times)
                elif reg.sessions is None or s.id in reg.sessions:
                    self._for_session(out, reg, s, channel, _NONE, series_rows, times)
                # else: nothing owed, nothing to cancel or re-time (the usual case)

    def _series_messages(self, out: Plan, reg: Person, channel: str,
                         rows: list[Any]) -> None:
        if reg.status == "confirmed":
            self._want(out, rows, reg, None, "confirmation", 0, channel, reg.since)
            out.cancels += _pending(rows, ("waitlisted",))
        elif reg.status == "waitlisted":
            self._want(out, rows, reg, None, "waitlisted", 0, channel, reg.registered_at)
        else:
            out.cancels += _pending(rows, ("confirmation", "waitlisted"))

    def _for_session(self, out: Plan, reg: Person, s: _Session, channel: str,
                     rows: list[Any], series_rows: list[Any],
                     times: tuple[datetime, datetime | None]) -> None:
        for r in rows:
            if r[STATE] == "sending":
                return  # in flight: decide once it has settled
        attends = reg.sessions is None or s.id in reg.sessions
        if s.session.cancelled:
            self._cancelled(out, reg, s, channel, rows, series_rows, attends)
        elif not (reg.status == "confirmed" and attends and s.end > reg.since):
            out.cancels += _pending(rows, _ENDED_KINDS)
        elif not s.ready:
            self.waiting.add(s.id)
        else:
            link_at, reminder_at = times
            self._link_or_update(out, reg, s, channel, rows, link_at)
            if reminder_at is not None and reminder_at >= reg.since:
                self._want(out, rows, reg, s.id, "reminder", 0, channel, reminder_at,
                           late=self.now > s.session.start)

    def _link_or_update(self, out: Plan, reg: Person, s: _Session, channel: str,
                        rows: list[Any], release: datetime) -> None:
        delivered = -1
        for r in rows:  # one pass: what was delivered, what is stale, what is cancelled
            kind, state = r[KIND], r[STATE]
            if kind in _LINKS:
                if state == "sent":
                    delivered = max(delivered, r[REVISION])
                elif state == "pending" and r[REVISION] < s.revision:
                    out.cancels.append(r[ID])  # a link or update of an older revision
            elif kind == "cancellation" and state == "pending":
                out.cancels.append(r[ID])
        ended = self.now >= s.end
        if delivered < 0:
            due = release if release > reg.since else reg.since
            self._want(out, rows, reg, s.id, "link", s.revision, channel, due, late=ended)
        elif delivered < s.revision:
            self._want(out, rows, reg, s.id, "update", s.revision, channel, self.now,
                       late=ended)

    def _cancelled(self, out: Plan, reg: Person, s: _Session, channel: str,
                   rows: list[Any], series_rows: list[Any], attends: bool) -> None:
        out.cancels += _pending(rows, _SESSION_KINDS)
        if reg.status != "confirmed" or not attends:
            return
        told = any(r[STATE] == "sent" and r[KIND] in _LINKS for r in rows) or any(
            r[STATE] == "sent" and r[KIND] == "confirmation" for r in series_rows)
        if told and not any(r[KIND] == "cancellation" for r in rows):
            self._want(out, rows, reg, s.id, "cancellation", s.revision, channel, self.now)

    def _want(self, out: Plan, rows: list[Any], reg: Person,
              session_id: str | None, kind: str, revision: int, channel: str,
              due: datetime, *, late: bool = False) -> None:
        """Owe one message: insert its row, or re-time the pending one that exists.

        ``rows`` are the person's rows of this session (or none) and channel: a row of
        the same kind and revision there is the same message (the same key). A message
        that is already ``late`` (see :func:`too_late`) is inserted ``expired``; a pending
        one is left to :func:`s3events.unsent.expire_late`.
        """
        for r in rows:
            if r[KIND] == kind and r[REVISION] == revision:
                if r[STATE] == "pending" and not late and r[DUE] != self.stored(due):
                    out.due_changes.append((r[ID], due))
                return
        out.inserts.append((f"{reg.id}:{session_id or '-'}:{kind}:{revision}:{channel}",
                            self.series.id, reg.id, session_id, kind, revision, channel,
                            self.stored(due), "expired" if late else "pending", 0,
                            self.created))
