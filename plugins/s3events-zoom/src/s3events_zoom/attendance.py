"""Who attended a Zoom meeting: its ended instances, their participants, one record per person.

A session's meeting may have run more than once (the host ended it and started it again):
Zoom gives each run, an *instance*, its own UUID. The instances that started within the
session (from an hour before its start to its end) are listed with
``GET /past_meetings/{meetingId}/instances``; without that list (scope missing, nothing
listed yet) the UUID Zoom gave at create time, then the meeting id, stand in.

For each instance the participants come from ``GET /past_meetings/{uuid}/participants``.
Zoom's documentation says when that list is not enough, and the report endpoint
``GET /report/meetings/{uuid}/participants`` is asked instead:

* the call is refused (HTTP 400, 403 or 404: the app lacks the ``meeting:read`` scopes,
  the account is on the free plan, or Zoom no longer keeps that instance), or
* it answers with no participant: Zoom documents that it "doesn't return results if
  there's only one participant in a meeting" (the report, in turn, needs "two or more
  participants, including the host").

Both need a Pro or higher plan. UUIDs that begin with ``/`` or contain ``//`` are encoded
twice in the path, as Zoom requires; every list is followed to its last
``next_page_token``. Zoom gives one row per join: rows are merged into one record per person
(by Zoom user id, else address, else name), rows of people still in the waiting room are
left out, and each row's ``join_time``/``leave_time`` becomes one stay.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from s3events.errors import InvalidRequest, NotFound, PermissionDenied, ServiceError
from s3events.http import HttpClient
from s3events.platforms.base import AttendanceInterval, AttendanceRecord, Meeting, covered_seconds

from .payload import parse_time

__all__ = ["ATTENDANCE_HINT", "EARLY_START", "ZoomAttendance", "records_from_rows", "uuid_path"]

log = logging.getLogger("s3events_zoom")

#: How long before the session an instance may start and still be the session's.
EARLY_START = timedelta(hours=1)
PAGE_SIZE = 300
#: Answers that mean "this list is not for you", after which the report is asked.
REFUSALS = (InvalidRequest, NotFound, PermissionDenied)
ATTENDANCE_HINT = (
    "attendance needs a Pro or higher Zoom plan and the scopes "
    "meeting:read:list_past_instances:admin, meeting:read:list_past_participants:admin and "
    "report:read:list_meeting_participants:admin (classic apps: meeting:read:admin and "
    "report:read:admin); Zoom lists participants only a few minutes after the meeting ends, "
    "or import the participant report: s3events attendance import SERIES FILE --session ID"
)


def uuid_path(uuid: str) -> str:
    """A meeting UUID as a path segment: encoded once, or twice when Zoom requires it.

    Zoom: "If the UUID begins with a ``/`` or contains ``//``, you must double encode it".
    """
    once = quote(uuid, safe="")
    return quote(once, safe="") if uuid.startswith("/") or "//" in uuid else once


class ZoomAttendance:
    """Reads the participants of a meeting's ended instances through ``http``."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def report(self, meeting: Meeting) -> list[AttendanceRecord]:
        """One record per person who joined an instance of ``meeting`` during its session."""
        instances = self._listed_instances(meeting) or [
            str(meeting.extra.get("uuid") or meeting.meeting_id)]
        rows: list[Mapping[str, Any]] = []
        refusals: list[ServiceError] = []
        answered = 0
        for uuid in instances:
            found = self._participants(uuid, refusals)
            if found is not None:
                answered += 1
                rows += found
        if not answered:
            raise _no_report(meeting, refusals)
        return records_from_rows(rows)

    def _listed_instances(self, meeting: Meeting) -> list[str] | None:
        """UUIDs of the ended instances within the session; ``None`` if Zoom lists none."""
        path = f"/past_meetings/{quote(meeting.meeting_id, safe='')}/instances"
        try:
            data = self.http.json("GET", path,
                                  action=f"listing the ended instances of {meeting.meeting_id}")
        except REFUSALS as exc:
            log.info("zoom: no instance list for meeting %s (%s); using its own id",
                     meeting.meeting_id, type(exc).__name__)
            return None
        listed = [item for item in (data or {}).get("meetings") or ()
                  if isinstance(item, Mapping) and item.get("uuid")]
        if not listed:
            return None
        within = [str(item["uuid"]) for item in listed if _within(item, meeting)]
        if not within:
            raise NotFound(
                f"Zoom meeting {meeting.meeting_id} ran {len(listed)} time(s), but none during "
                "the session", service="zoom", hint="if the session was held at another time, "
                "import its participant report: s3events attendance import SERIES FILE "
                "--session ID")
        return within

    # -- participants -----------------------------------------------------------------------

    def _participants(self, uuid: str,
                      refusals: list[ServiceError]) -> list[Mapping[str, Any]] | None:
        """The rows of one instance, from the past-meeting list or else the report.

        ``None`` when both refused (the refusals are added to ``refusals``).
        """
        answered = False
        for source in ("past_meetings", "report/meetings"):
            try:
                rows = list(self._pages(f"/{source}/{uuid_path(uuid)}/participants", source))
            except REFUSALS as exc:
                log.info("zoom: %s refused the participants of an instance (%s)", source,
                         type(exc).__name__)
                refusals.append(exc)
                continue
            answered = True
            if rows:
                return rows
            log.info("zoom: %s lists no participant for an instance", source)
        return [] if answered else None

    def _pages(self, path: str, source: str) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] = {"page_size": PAGE_SIZE}
        seen: set[str] = set()
        while True:
            page = self.http.json("GET", path, params=params,
                                  action=f"reading the participants ({source})") or {}
            yield from (row for row in page.get("participants") or ()
                        if isinstance(row, Mapping))
            token = page.get("next_page_token")
            if not token or token in seen:
                return
            seen.add(str(token))
            params = {"page_size": PAGE_SIZE, "next_page_token": token}


def _within(item: Mapping[str, Any], meeting: Meeting) -> bool:
    start = parse_time(item.get("start_time"))
    if start is None or meeting.start is None:
        return True
    end = meeting.start + (meeting.duration or timedelta(0))
    return meeting.start - EARLY_START <= start <= end


def _no_report(meeting: Meeting, refusals: list[ServiceError]) -> ServiceError:
    """The error when neither list answered: NotFound if Zoom knows nothing yet."""
    if all(isinstance(error, NotFound) for error in refusals):
        return NotFound(
            f"Zoom has no participant list for meeting {meeting.meeting_id} (yet): it has not "
            "ended, ended only minutes ago, or is older than Zoom keeps", service="zoom",
            status=404, hint=ATTENDANCE_HINT)
    error = next(e for e in reversed(refusals) if not isinstance(e, NotFound))
    error.hint = ATTENDANCE_HINT
    return error


# -- rows → records ---------------------------------------------------------------------------


def _person(row: Mapping[str, Any]) -> str:
    """Whose row this is: Zoom user id, else address, else display name."""
    for key in ("id", "participant_user_id"):
        if row.get(key):
            return f"{key}:{row[key]}"
    email = str(row.get("user_email") or "").strip().lower()
    return f"email:{email}" if email else f"name:{str(row.get('name') or '').strip()}"


def _stay(row: Mapping[str, Any]) -> AttendanceInterval | None:
    joined, left = parse_time(row.get("join_time")), parse_time(row.get("leave_time"))
    duration = row.get("duration")
    if joined is not None and left is None and isinstance(duration, int):
        left = joined + timedelta(seconds=duration)
    if joined is None or left is None or left < joined:
        return None
    return AttendanceInterval(joined=joined, left=left)


def _email(value: Any) -> str | None:
    text = str(value or "").strip()
    return text if "@" in text and " " not in text else None


def records_from_rows(rows: list[Mapping[str, Any]]) -> list[AttendanceRecord]:
    """One :class:`AttendanceRecord` per person from Zoom's rows (one row per join)."""
    people: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if row.get("status") == "in_waiting_room":
            continue
        people.setdefault(_person(row), []).append(row)
    return [_record(joins) for joins in people.values()]


def _record(joins: list[Mapping[str, Any]]) -> AttendanceRecord:
    stays = sorted((s for s in map(_stay, joins) if s is not None), key=lambda s: s.joined)
    first = joins[0]
    name = next((str(r["name"]).strip() for r in joins if str(r.get("name") or "").strip()),
                "Zoom participant")
    seconds = covered_seconds(stays) if stays else sum(
        r["duration"] for r in joins if isinstance(r.get("duration"), int) and r["duration"] > 0)
    identity = first.get("id") or first.get("participant_user_id") or None
    return AttendanceRecord(
        name=name, email=next((e for e in map(_email, (r.get("user_email") for r in joins))
                               if e), None),
        identity=str(identity) if identity else None, intervals=tuple(stays), seconds=seconds)
