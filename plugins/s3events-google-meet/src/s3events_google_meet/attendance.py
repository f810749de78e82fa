"""Who attended a Google Meet conference, through the Meet REST API v2.

The Calendar event gives the meeting code (``abc-mnop-xyz``). Each time people meet in that
space Google keeps a *conference record*:
``GET conferenceRecords?filter=space.meeting_code="abc-mnop-xyz" AND start_time>=… AND
start_time<=…`` lists those that started within the session (from an hour before its start
to its end). For each one, ``conferenceRecords/{id}/participants`` lists who took part and
``…/participants/{id}/participantSessions`` each of their stays (``startTime``/``endTime``).
Every list is followed to its last ``nextPageToken``.

Meet reports no email addresses, only display names and, for people signed in to Google,
their user id (``users/…``). So records have ``email=None`` and ``identity`` the user id (or,
for guests and phone callers, the participant's resource name): s3events matches Meet
attendance to registrations **by name**. Google deletes conference records 30 days after
the conference ends.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from s3events.errors import InvalidRequest, NotFound
from s3events.http import HttpClient
from s3events.platforms.base import AttendanceInterval, AttendanceRecord, Meeting, covered_seconds

__all__ = ["EARLY_START", "MeetAttendance", "meeting_code"]

log = logging.getLogger("s3events_google_meet")

EARLY_START = timedelta(hours=1)
PAGE_SIZE = 100
_CODE = re.compile(r"[a-z]{3}-[a-z]{4}-[a-z]{3}")
NOT_YET_HINT = (
    "Google lists a conference once people have met in it; records are kept 30 days. "
    "Otherwise import the participant report: s3events attendance import SERIES FILE "
    "--session ID")


def meeting_code(meeting: Meeting) -> str:
    """The Meet code (``abc-mnop-xyz``) of ``meeting``: its conference id, or its link's path."""
    for candidate in (str(meeting.extra.get("conference_id") or ""),
                      meeting.join_url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]):
        if _CODE.fullmatch(candidate):
            return candidate
    raise InvalidRequest(
        f"google-meet: meeting {meeting.meeting_id} has no Meet code to look attendance up "
        "by", service="google-meet",
        hint="provision the session again, or import the participant report: "
             "s3events attendance import SERIES FILE --session ID")


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = re.sub(r"\.(\d{6})\d+", r".\1", value).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo else None


class MeetAttendance:
    """Reads conference records, participants and their sessions through ``http``."""

    def __init__(self, http: HttpClient) -> None:
        self.http = http

    def report(self, meeting: Meeting) -> list[AttendanceRecord]:
        """One record per person who took part in a conference of ``meeting``'s session."""
        code = meeting_code(meeting)
        conferences = list(self._conferences(code, meeting))
        if not conferences:
            raise NotFound(f"Google Meet has no conference in {code} during the session",
                           service="google-meet", status=404, hint=NOT_YET_HINT)
        people: dict[str, tuple[str, str, list[AttendanceInterval]]] = {}
        for conference in conferences:
            ended = _time(conference.get("endTime"))
            for participant in self._pages(f"{conference['name']}/participants",
                                           "participants"):
                key, name, identity = _who(participant)
                stays = self._stays(participant, ended)
                known = people.setdefault(key, (name, identity, []))
                known[2].extend(stays)
        return [AttendanceRecord(name=name, identity=identity,
                                 intervals=tuple(sorted(stays, key=lambda s: s.joined)),
                                 seconds=covered_seconds(stays))
                for name, identity, stays in people.values()]

    def _conferences(self, code: str, meeting: Meeting) -> Iterator[Mapping[str, Any]]:
        condition = f'space.meeting_code = "{code}"'
        if meeting.start is not None:
            end = meeting.start + (meeting.duration or timedelta(0))
            condition += (f' AND start_time>="{_rfc3339(meeting.start - EARLY_START)}"'
                          f' AND start_time<="{_rfc3339(end)}"')
        for record in self._pages("conferenceRecords", "conferenceRecords", filter=condition):
            if record.get("name"):
                yield record

    def _stays(self, participant: Mapping[str, Any],
               ended: datetime | None) -> list[AttendanceInterval]:
        stays = []
        for session in self._pages(f"{participant['name']}/participantSessions",
                                   "participantSessions"):
            joined = _time(session.get("startTime"))
            left = _time(session.get("endTime")) or ended
            if joined is not None and left is not None and left >= joined:
                stays.append(AttendanceInterval(joined=joined, left=left))
        return stays

    def _pages(self, path: str, key: str, **params: str) -> Iterator[Mapping[str, Any]]:
        query: dict[str, Any] = {"pageSize": PAGE_SIZE, **params}
        seen: set[str] = set()
        while True:
            page = self.http.json("GET", path, params=query,
                                  action=f"reading Meet {key}") or {}
            yield from (item for item in page.get(key) or () if isinstance(item, Mapping)
                        and item.get("name"))
            token = page.get("nextPageToken")
            if not token or token in seen:
                return
            seen.add(str(token))
            query = {"pageSize": PAGE_SIZE, **params, "pageToken": token}


def _who(participant: Mapping[str, Any]) -> tuple[str, str, str]:
    """(merge key, display name, identity) of a Meet participant."""
    for kind in ("signedinUser", "anonymousUser", "phoneUser"):
        user = participant.get(kind)
        if isinstance(user, Mapping):
            name = str(user.get("displayName") or "").strip() or "Meet participant"
            if kind == "signedinUser" and user.get("user"):
                return f"user:{user['user']}", name, str(user["user"])
            return f"{kind}:{name}", name, str(participant["name"])
    return f"participant:{participant['name']}", "Meet participant", str(participant["name"])
