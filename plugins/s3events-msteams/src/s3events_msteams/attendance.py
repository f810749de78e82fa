"""Who attended a Teams meeting: its attendance reports from Microsoft Graph.

``GET /users/{organiser}/onlineMeetings/{id}/attendanceReports`` lists one report per time
the meeting was held (a host who ended it and started again makes two); s3events keeps those
that started within the session (from an hour before its start to its end). Each report's
``attendanceRecords`` list who was there: ``emailAddress``, ``identity`` (``id``,
``displayName``), every stay in ``attendanceIntervals`` (``joinDateTime``,
``leaveDateTime``, ``durationInSeconds``) and ``totalAttendanceInSeconds``. Both lists are
followed to their last ``@odata.nextLink``. A person in several reports becomes one record
(by Graph identity, else address, else name), their totals added up.

Graph reads attendance with the application permission ``OnlineMeetingArtifact.Read.All``,
allowed for the organiser by the same application access policy as the meetings; Teams
makes a report only when the organiser's meeting policy allows attendance reports, a few
minutes after the meeting ends. s3events creates standalone online meetings (never calendar
events), so the meeting id it keeps is always the ``onlineMeeting`` id Graph asks for.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from s3events.errors import NotFound, PermissionDenied
from s3events.http import HttpClient
from s3events.platforms.base import AttendanceInterval, AttendanceRecord, Meeting, covered_seconds

from .payload import parse_time

__all__ = ["ATTENDANCE_HINT", "EARLY_START", "TeamsAttendance", "records_from_graph"]

log = logging.getLogger("s3events_msteams")

EARLY_START = timedelta(hours=1)
ATTENDANCE_HINT = (
    "give the app the application permission OnlineMeetingArtifact.Read.All with admin "
    "consent; the organiser must be covered by the application access policy "
    "(Grant-CsApplicationAccessPolicy) and their Teams meeting policy must allow attendance "
    "reports (AllowEngagementReport); or import the participant report: s3events attendance "
    "import SERIES FILE --session ID")
NOT_YET_HINT = (
    "Teams makes the attendance report a few minutes after the meeting ends, and only when "
    "the organiser's meeting policy allows attendance reports; otherwise import the "
    "participant report: s3events attendance import SERIES FILE --session ID")


class TeamsAttendance:
    """Reads a meeting's attendance reports through ``http`` under ``meetings`` (a path)."""

    def __init__(self, http: HttpClient, meetings: str) -> None:
        self.http = http
        self.meetings = meetings

    def report(self, meeting: Meeting) -> list[AttendanceRecord]:
        """One record per person in the reports of ``meeting`` made during its session."""
        base = f"{self.meetings}/{quote(meeting.meeting_id, safe='')}/attendanceReports"
        try:
            reports = [r for r in self._pages(base, "attendance reports") if r.get("id")]
            within = [r for r in reports if _within(r, meeting)]
            if not within:
                raise _no_report(meeting, held=len(reports))
            items: list[Mapping[str, Any]] = []
            for found in within:
                items += self._pages(f"{base}/{quote(str(found['id']), safe='')}"
                                     "/attendanceRecords", "attendance records")
        except PermissionDenied as exc:
            exc.hint = ATTENDANCE_HINT
            raise
        return records_from_graph(items)

    def _pages(self, path: str, what: str) -> Iterator[Mapping[str, Any]]:
        url: str | None = path
        seen: set[str] = set()
        while url is not None:
            page = self.http.json("GET", url, action=f"reading the {what}") or {}
            yield from (item for item in page.get("value") or () if isinstance(item, Mapping))
            link = page.get("@odata.nextLink")
            url = str(link) if link and link not in seen else None
            seen.add(str(link))


def _within(report: Mapping[str, Any], meeting: Meeting) -> bool:
    start = parse_time(report.get("meetingStartDateTime"))
    if start is None or meeting.start is None:
        return True
    end = meeting.start + (meeting.duration or timedelta(0))
    return meeting.start - EARLY_START <= start <= end


def _no_report(meeting: Meeting, *, held: int) -> NotFound:
    if held:
        return NotFound(f"the Teams meeting has {held} attendance report(s), but none of the "
                        "session", service="msteams", status=404,
                        hint="if the session was held at another time, import its report: "
                             "s3events attendance import SERIES FILE --session ID")
    return NotFound("Teams has no attendance report for the meeting (yet)", service="msteams",
                    status=404, hint=NOT_YET_HINT)


def _person(item: Mapping[str, Any]) -> str:
    identity = item.get("identity") or {}
    if identity.get("id"):
        return f"id:{identity['id']}"
    email = str(item.get("emailAddress") or "").strip().lower()
    return f"email:{email}" if email else f"name:{identity.get('displayName') or ''}"


def _stays(item: Mapping[str, Any]) -> list[AttendanceInterval]:
    stays = []
    for interval in item.get("attendanceIntervals") or ():
        if not isinstance(interval, Mapping):
            continue
        joined: datetime | None = parse_time(interval.get("joinDateTime"))
        left = parse_time(interval.get("leaveDateTime"))
        seconds = interval.get("durationInSeconds")
        if joined is not None and left is None and isinstance(seconds, int):
            left = joined + timedelta(seconds=seconds)
        if joined is not None and left is not None and left >= joined:
            stays.append(AttendanceInterval(joined=joined, left=left))
    return stays


def records_from_graph(items: list[Mapping[str, Any]]) -> list[AttendanceRecord]:
    """One :class:`AttendanceRecord` per person from Graph ``attendanceRecord`` objects."""
    people: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        people.setdefault(_person(item), []).append(item)
    return [_record(entries) for entries in people.values()]


def _record(entries: list[Mapping[str, Any]]) -> AttendanceRecord:
    first = entries[0]
    identity = first.get("identity") or {}
    email = str(first.get("emailAddress") or "").strip()
    stays = sorted((s for entry in entries for s in _stays(entry)), key=lambda s: s.joined)
    totals = [e.get("totalAttendanceInSeconds") for e in entries]
    seconds = (sum(t for t in totals if isinstance(t, int))
               if all(isinstance(t, int) and t >= 0 for t in totals) else covered_seconds(stays))
    name = str(identity.get("displayName") or "").strip() or email or "Teams participant"
    return AttendanceRecord(name=name, email=email if "@" in email else None,
                            identity=str(identity["id"]) if identity.get("id") else None,
                            intervals=tuple(stays), seconds=seconds)
