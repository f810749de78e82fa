"""The attendance report: per person and session, attended or not, and for how long.

:func:`attendance_report` reads the stored participants of a series, merges each person's
stays per session (see :func:`~s3events.attendance.records.presence`) and decides who
attended: from ``attendance.min_minutes`` minutes (default 10). A session's registered
people are those confirmed for it before it ended. Participants that matched
no registration are listed apart, per session. Sessions whose attendance is not known yet
are listed with ``known: false`` and count nobody.

``report.as_json()`` is the ``s3events attendance --json`` shape::

    {"sessions": [{"id", "known", "registered", "attended",
                   "unmatched": [{"name", "email", "minutes"}]}],
     "people": [{"email", "name",
                 "sessions": {"SESSION_ID": {"attended", "minutes", "matched_by",
                                             "first_join", "last_leave", "registered"}}}]}
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from ..models import Series, Session
from ..store import Store, registrations
from .matching import email_key, name_key
from .records import Attendee, Presence, presence
from .storage import StoredAttendee, session_rows, session_states

__all__ = ["AttendanceReport", "PersonSession", "SessionSummary", "attendance_report"]

_STRENGTH = {"identity": 0, "email": 1, "name": 2}
CSV_COLUMNS = ("session", "name", "email", "registered", "attended", "minutes", "first_join",
               "last_leave", "matched_by")


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment is not None else None


@dataclass(frozen=True)
class PersonSession:
    """One person in one session whose attendance is known."""

    attended: bool
    presence: Presence
    matched_by: str | None
    registered: bool

    def as_json(self) -> dict[str, Any]:
        """The ``people[].sessions[ID]`` entry."""
        return {"attended": self.attended, "minutes": self.presence.minutes,
                "matched_by": self.matched_by, "first_join": _iso(self.presence.first_join),
                "last_leave": _iso(self.presence.last_leave), "registered": self.registered}


@dataclass(frozen=True)
class Unmatched:
    """A participant of a session who matched no registration."""

    name: str
    email: str | None
    presence: Presence


@dataclass
class SessionSummary:
    """One session: whether its attendance is known, counts, and who matched nobody."""

    id: str
    known: bool
    registered: int = 0
    attended: int = 0
    unmatched: list[Unmatched] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The ``sessions[]`` entry."""
        return {"id": self.id, "known": self.known, "registered": self.registered,
                "attended": self.attended,
                "unmatched": [{"name": u.name, "email": u.email, "minutes": u.presence.minutes}
                              for u in self.unmatched]}


@dataclass
class Person:
    """A registration and their known sessions."""

    id: str
    email: str
    name: str
    status: str
    registered_for: tuple[str, ...] | None
    sessions: dict[str, PersonSession] = field(default_factory=dict)
    #: When the registration started to count (confirmed, else registered); None: always.
    since: datetime | None = None

    def wants(self, session_id: str) -> bool:
        """Whether they registered for the session (no list: all)."""
        return self.registered_for is None or session_id in self.registered_for

    def expected(self, session: Session) -> bool:
        """Whether they were registered for ``session`` before it ended.

        Someone who registers after a session is not one of its no-shows (and gets no
        ``missed`` message for it).
        """
        return self.wants(session.id) and (self.since is None or self.since < session.ends_at)

    def attended(self) -> list[str]:
        """The ids of the sessions they attended."""
        return [s for s, p in self.sessions.items() if p.attended]


@dataclass
class AttendanceReport:
    """Attendance of a whole series (see the module doc)."""

    series_id: str
    min_minutes: int
    sessions: list[SessionSummary]
    people: list[Person]
    _by_id: dict[str, Person] = field(default_factory=dict, init=False, repr=False,
                                      compare=False)

    def person(self, registration_id: str) -> Person | None:
        """The person with this registration id, if any (looked up, not searched)."""
        if len(self._by_id) != len(self.people):
            self._by_id = {p.id: p for p in self.people}
        return self._by_id.get(registration_id)

    def known(self, session_id: str) -> bool:
        """Whether the session's attendance is known."""
        return any(s.id == session_id and s.known for s in self.sessions)

    def as_json(self) -> dict[str, Any]:
        """The ``s3events attendance --json`` document."""
        return {"series": self.series_id, "min_minutes": self.min_minutes,
                "sessions": [s.as_json() for s in self.sessions],
                "people": [{"email": p.email, "name": p.name,
                            "sessions": {k: v.as_json() for k, v in p.sessions.items()}}
                           for p in self.people if p.status == "confirmed" or p.sessions]}

    def csv_rows(self) -> Iterator[list[str]]:
        """One row per person and known session, then the unmatched participants."""
        yield list(CSV_COLUMNS)
        for person in self.people:
            for session_id, entry in person.sessions.items():
                data = entry.as_json()
                yield [session_id, _cell(person.name), _cell(person.email),
                       _yes(entry.registered),
                       _yes(entry.attended), str(data["minutes"]), data["first_join"] or "",
                       data["last_leave"] or "", entry.matched_by or ""]
        for summary in self.sessions:
            for u in summary.unmatched:
                attended = u.presence.minutes >= self.min_minutes
                yield [summary.id, _cell(u.name), _cell(u.email or ""), "no", _yes(attended),
                       str(u.presence.minutes), _iso(u.presence.first_join) or "",
                       _iso(u.presence.last_leave) or "", ""]

    def as_csv(self) -> str:
        """The ``--csv`` output."""
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(self.csv_rows())
        return out.getvalue()


#: First characters that make a spreadsheet read a cell as a formula (OWASP's list).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A name or address as a spreadsheet shows it, never runs it.

    Names come from public forms and the platforms' reports: ``=HYPERLINK(…)`` typed as a
    name would be a live formula in the organiser's spreadsheet. Such a value gets a leading
    ``'``, which spreadsheets read as "this is text".
    """
    return "'" + text if text.startswith(_FORMULA_START) else text


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _people(store: Store, series_id: str, ids: Sequence[str] | None = None) -> list[Person]:
    r = registrations.c
    query = (select(r.id, r.email, r.name, r.status, r.sessions, r.position,
                    r.registered_at, r.confirmed_at)
             .where(r.series_id == series_id).order_by(r.position, r.id))
    chunks = [query] if ids is None else [
        query.where(r.id.in_(part)) for part in _chunks(sorted(set(ids)), 500)]
    with store.connect() as conn:
        rows = [row for chunk in chunks for row in conn.execute(chunk)]
    rows.sort(key=lambda row: (row.position, row.id))
    return [Person(row.id, row.email, row.name, row.status,
                   tuple(row.sessions) if row.sessions is not None else None,
                   since=row.confirmed_at or row.registered_at) for row in rows]


def _chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


def _unmatched(rows: list[StoredAttendee]) -> list[Unmatched]:
    groups: dict[str, list[Attendee]] = defaultdict(list)
    for row in rows:
        a = row.attendee
        groups[email_key(a.email) or f"name:{name_key(a.name)}"].append(a)
    found = [Unmatched(g[0].name, next((a.email for a in g if a.email), None), presence(g))
             for g in groups.values()]
    return sorted(found, key=lambda u: (-u.presence.seconds, u.name))


def attendance_report(store: Store, series: Series, *,
                      registration_ids: Sequence[str] | None = None) -> AttendanceReport:
    """The attendance of every person in every session of ``series`` (see module doc).

    With ``registration_ids``, of those people only, read for them alone (the scheduler's
    passes for a few people): their entries are what the whole report says of them; the
    session counts are theirs, and no unmatched participant is listed.
    """
    states = session_states(store, series.id)
    people = _people(store, series.id, registration_ids)
    by_id = {p.id: p for p in people}
    rows = session_rows(store, series.id, registration_ids=registration_ids)
    threshold = series.attendance.min_minutes * 60
    summaries = []
    for session in series.sessions:
        if session.cancelled:
            continue
        known = session.id in states and states[session.id].known
        summary = SessionSummary(session.id, known)
        summary.registered = sum(1 for p in people if p.status == "confirmed"
                                 and p.expected(session))
        if known:
            mine = [r for r in rows if r.session_id == session.id]
            _session_people(mine, by_id, session, threshold)
            summary.attended = sum(1 for p in people if session.id in p.sessions
                                   and p.sessions[session.id].attended)
            summary.unmatched = _unmatched([r for r in mine if r.registration_id not in by_id])
        summaries.append(summary)
    return AttendanceReport(series.id, series.attendance.min_minutes, summaries, people)


def _session_people(rows: list[StoredAttendee], by_id: dict[str, Person], session: Session,
                    threshold: int) -> None:
    grouped: dict[str, list[StoredAttendee]] = defaultdict(list)
    for row in rows:
        if row.registration_id in by_id:
            grouped[str(row.registration_id)].append(row)
    for person in by_id.values():
        mine = grouped.get(person.id, [])
        if not mine and not (person.status == "confirmed" and person.expected(session)):
            continue
        time = presence([r.attendee for r in mine])
        how = min((r.matched_by for r in mine if r.matched_by),
                  key=lambda m: _STRENGTH.get(m, 9), default=None)
        person.sessions[session.id] = PersonSession(
            bool(mine) and time.seconds >= threshold, time, how, person.expected(session))
