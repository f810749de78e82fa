"""``s3events attendance fetch``: ask the platforms who attended, once sessions have ended.

:func:`fetch_attendance` looks at every session that is not cancelled:

- one that ended at least :data:`DEFAULT_GRACE` ago (platforms need a few minutes to
  produce their reports) and whose attendance is not known yet is fetched: the platform's
  report (``get_attendance``), or, for platforms that can only be polled, the polling
  that ran during the session is closed;
- one that is running (from 15 minutes before its start to the end of the grace period)
  on a platform that can only be polled is polled (see :mod:`s3events.attendance.polling`);
- ``--session ID`` fetches that session only, again if it is already known (the new
  report replaces the old one), and says why when it cannot.

Safe to run as often as you like (cron every few minutes during a series): a known
session is never fetched twice. A platform without attendance (jitsi, static) is named
with the command to import its report instead; a report the platform has not produced yet
is tried again on the next run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from ..errors import ConfigurationError, NotFound, ServiceError
from ..models import Series, Session
from ..platforms.base import Meeting, PlatformAdapter
from ..provision import MeetingRow, load_adapter, meeting_rows
from ..store import Store
from .matching import Matcher
from .polling import close_polling, record_sightings
from .records import Attendee
from .storage import save_attendance, session_states

__all__ = ["DEFAULT_GRACE", "FetchReport", "Outcome", "fetch_attendance"]

#: How long after a session's end its platform report is first asked for.
DEFAULT_GRACE = timedelta(minutes=15)
#: Polling starts this long before a session's start.
EARLY = timedelta(minutes=15)

Status = Literal["fetched", "polled", "closed", "waiting", "unsupported", "failed",
                 "no-meeting", "not-polled", "not-ended"]
#: Outcomes that ask the organiser to import a file instead.
NEEDS_IMPORT = ("unsupported", "no-meeting", "not-polled")


@dataclass(frozen=True)
class Outcome:
    """What happened to one session."""

    session_id: str
    status: Status
    message: str
    participants: int = 0


@dataclass
class FetchReport:
    """Every session a fetch looked at (no personal data)."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def needs_import(self) -> list[Outcome]:
        """Sessions whose attendance can only come from a file."""
        return [o for o in self.outcomes if o.status in NEEDS_IMPORT]

    @property
    def failed(self) -> list[Outcome]:
        """Sessions whose platform failed."""
        return [o for o in self.outcomes if o.status == "failed"]


AdapterFactory = Callable[[str], PlatformAdapter]


def _hint(session_id: str) -> str:
    return f"s3events attendance import SERIES FILE --session {session_id}"


@dataclass
class _Fetch:
    store: Store
    series: Series
    now: datetime
    grace: timedelta
    factory: AdapterFactory
    rows: dict[str, MeetingRow]
    adapters: dict[str, PlatformAdapter] = field(default_factory=dict)
    matcher: Matcher | None = None

    def adapter(self, name: str) -> PlatformAdapter:
        if name not in self.adapters:
            self.adapters[name] = self.factory(name)
        return self.adapters[name]

    def match(self) -> Matcher:
        if self.matcher is None:
            self.matcher = Matcher.for_series(self.store, self.series.id)
        return self.matcher

    def ended(self, session: Session) -> bool:
        return session.ends_at + self.grace <= self.now

    def running(self, session: Session) -> bool:
        return session.start - EARLY <= self.now < session.ends_at + self.grace

    def session(self, session: Session, *, named: bool = False) -> Outcome | None:
        row = self.rows.get(session.id)
        meeting = row.meeting if row is not None else None
        if meeting is None:
            return Outcome(session.id, "no-meeting", "the session has no meeting in the state "
                           f"database; import its participant report: "
                           f"{_hint(session.id)}")
        try:
            adapter = self.adapter(meeting.platform)
        except ConfigurationError as exc:
            return Outcome(session.id, "failed", str(exc))
        if self.ended(session):
            return self.after(session, adapter, meeting)
        if adapter.polls_attendance and self.running(session):
            return self.poll(session, adapter, meeting)
        if named:
            return Outcome(session.id, "not-ended", "the session has not ended (its report is "
                           f"asked for from {_local(session.ends_at + self.grace, self.series)})")
        return None

    def after(self, session: Session, adapter: PlatformAdapter, meeting: Meeting) -> Outcome:
        if adapter.supports_attendance:
            return self.report(session, adapter, meeting)
        if adapter.polls_attendance:
            if close_polling(self.store, self.series.id, session.id, now=self.now):
                return Outcome(session.id, "closed", "polling closed: attendance is known")
            return Outcome(session.id, "not-polled", "nobody polled the platform while the "
                           "session ran; import its participant report: "
                           f"{_hint(session.id)}")
        return Outcome(session.id, "unsupported", f"platform '{adapter.name}' does not report "
                       "attendance; import the participant report: "
                       f"{_hint(session.id)}")

    def report(self, session: Session, adapter: PlatformAdapter, meeting: Meeting) -> Outcome:
        try:
            records = adapter.get_attendance(meeting)
        except NotFound:
            return Outcome(session.id, "waiting", f"{adapter.name} has no report for it yet; "
                           "the next fetch asks again")
        except ServiceError as exc:
            return Outcome(session.id, "failed", str(exc))
        attendees = [Attendee.from_record(r) for r in records]
        matched = save_attendance(self.store, self.series.id, session.id, attendees,
                                  source="platform", now=self.now, matcher=self.match())
        return Outcome(session.id, "fetched", f"{len(attendees)} participant(s), {matched} "
                       "matched to a registration", len(attendees))

    def poll(self, session: Session, adapter: PlatformAdapter, meeting: Meeting) -> Outcome:
        try:
            seen = [Attendee.from_record(r) for r in adapter.attendance_now(meeting)]
        except ServiceError as exc:
            return Outcome(session.id, "failed", str(exc))
        record_sightings(self.store, self.series.id, session.id, seen, at=self.now,
                         matcher=self.match())
        return Outcome(session.id, "polled", f"{len(seen)} participant(s) in the meeting now",
                       len(seen))


def _local(moment: datetime, series: Series) -> str:
    return f"{moment.astimezone(series.zone):%Y-%m-%d %H:%M} {series.timezone}"


def fetch_attendance(store: Store, series: Series, *, now: datetime,
                     session_id: str | None = None, grace: timedelta = DEFAULT_GRACE,
                     adapter_factory: AdapterFactory | None = None,
                     environ: Mapping[str, str] | None = None) -> FetchReport:
    """Fetch or poll what is due at ``now`` (see the module doc); never raises for one session.

    ``adapter_factory(platform)`` builds the adapter of a platform (default: from the
    series file and the environment).
    """
    factory = adapter_factory or (lambda name: load_adapter(series, platform=name,
                                                            environ=environ))
    run = _Fetch(store, series, now, grace, factory, meeting_rows(store, series.id))
    report = FetchReport()
    try:
        if session_id is not None:
            report.outcomes.append(_named(run, series, session_id))
            return report
        known = {k for k, v in session_states(store, series.id).items() if v.known}
        for session in series.sessions:
            if session.cancelled or session.id in known:
                continue
            outcome = run.session(session)
            if outcome is not None:
                report.outcomes.append(outcome)
    finally:
        for adapter in run.adapters.values():
            adapter.close()
    return report


def _named(run: _Fetch, series: Series, session_id: str) -> Outcome:
    session = series.require_session(session_id, option="--session", held=True)
    outcome = run.session(session, named=True)
    assert outcome is not None
    return outcome
