"""Who attended a Webex meeting: its ended instances, their participants, one record per person.

s3events keeps the id of the meeting *series*. What happened is a meeting *instance*
(``meetingType=meeting``): ``GET /meetings?meetingSeriesId=…&meetingType=meeting&state=ended``
lists those that started within the session (from an hour before its start to its end; a
host who ended the meeting and started it again makes two). Webex documents that an ended
meeting's details appear only 15 minutes after it ends.

For each instance, ``GET /meetingParticipants?meetingId={instance id}`` lists who joined,
following ``Link: <…>; rel="next"`` to the last page. Each participant's ``devices`` give
every join and leave (a laptop, then a phone for the audio); without devices the
participant's own ``joinedTime``/``leftTime`` are one stay. A time of
``1970-01-01T00:00:00Z`` means "not known" (Webex's own convention), and people who never
left the lobby did not attend. A person in several instances becomes one record (matched by
address, else by name); their total counts overlapping devices once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from s3events.errors import NotFound
from s3events.http import HttpClient
from s3events.platforms.base import AttendanceInterval, AttendanceRecord, Meeting, covered_seconds

from .payload import parse_time

__all__ = ["EARLY_START", "WebexAttendance", "link_pages", "records_from_participants"]

log = logging.getLogger("s3events_webex")

#: How long before the session an instance may start and still be the session's.
EARLY_START = timedelta(hours=1)
#: Webex's "unknown time".
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
ENDED_HINT = (
    "Webex lists an ended meeting about 15 minutes after it ends; run again later, or import "
    "the participant report: s3events attendance import SERIES FILE --session ID")


def link_pages(http: HttpClient, path: str, params: dict[str, str], *,
               action: str) -> Iterator[Mapping[str, Any]]:
    """Every item of a Webex list, following ``Link: <…>; rel="next"`` to the end."""
    url: str | None = path
    query: dict[str, str] | None = params
    seen: set[str] = set()
    while url is not None:
        response = http.request("GET", url, params=query, action=action)
        items = (response.json() or {}).get("items") or ()
        yield from (item for item in items if isinstance(item, Mapping))
        url, query = response.links.get("next", {}).get("url"), None
        if url in seen:
            return
        seen.add(str(url))


class WebexAttendance:
    """Reads the participants of a meeting series' ended instances through ``http``.

    ``params`` adds the adapter's own query parameters (``hostEmail`` with admin scopes).
    """

    def __init__(self, http: HttpClient, params: Callable[..., dict[str, str]]) -> None:
        self.http = http
        self.params = params

    def report(self, meeting: Meeting) -> list[AttendanceRecord]:
        """One record per person who joined an instance of ``meeting`` during its session."""
        instances = list(self._instances(meeting))
        if not instances:
            raise NotFound(f"Webex lists no ended instance of meeting {meeting.meeting_id} "
                           "during the session", service="webex", status=404, hint=ENDED_HINT)
        participants: list[Mapping[str, Any]] = []
        for instance in instances:
            participants += link_pages(
                self.http, "/meetingParticipants",
                self.params(meetingId=str(instance["id"]), max="100"),
                action="listing the participants of an ended meeting")
        return records_from_participants(participants)

    def _instances(self, meeting: Meeting) -> Iterator[Mapping[str, Any]]:
        params = self.params(meetingSeriesId=meeting.meeting_id, meetingType="meeting",
                             state="ended", max="100")
        if meeting.start is not None:
            end = meeting.start + (meeting.duration or timedelta(0))
            params["from"] = _utc(meeting.start - EARLY_START)
            params["to"] = _utc(end)
        for item in link_pages(self.http, "/meetings", params,
                               action="listing the ended instances of a meeting"):
            if item.get("id") and item.get("state", "ended") == "ended":
                yield item


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _time(value: Any) -> datetime | None:
    moment = parse_time(value)
    return None if moment is None or moment <= _EPOCH else moment


def _stay(joined: Any, left: Any) -> AttendanceInterval | None:
    start, end = _time(joined), _time(left)
    if start is None or end is None or end < start:
        return None
    return AttendanceInterval(joined=start, left=end)


def _stays(item: Mapping[str, Any]) -> list[AttendanceInterval]:
    devices = [d for d in item.get("devices") or () if isinstance(d, Mapping)]
    stays = [s for s in (_stay(d.get("joinedTime"), d.get("leftTime")) for d in devices) if s]
    if not stays:
        own = _stay(item.get("joinedTime"), item.get("leftTime"))
        stays = [own] if own else []
    return stays


def _person(item: Mapping[str, Any]) -> str:
    email = str(item.get("email") or "").strip().lower()
    return f"email:{email}" if email else f"name:{str(item.get('displayName') or '').strip()}"


def records_from_participants(items: list[Mapping[str, Any]]) -> list[AttendanceRecord]:
    """One :class:`AttendanceRecord` per person from Webex participant objects."""
    people: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        if item.get("state") == "lobby":
            continue  # waited in the lobby and was never let in
        people.setdefault(_person(item), []).append(item)
    return [_record(joins) for joins in people.values()]


def _record(items: list[Mapping[str, Any]]) -> AttendanceRecord:
    stays = sorted((s for item in items for s in _stays(item)), key=lambda s: s.joined)
    first = items[0]
    email = str(first.get("email") or "").strip()
    name = str(first.get("displayName") or "").strip() or email or "Webex participant"
    return AttendanceRecord(
        name=name, email=email if "@" in email else None,
        identity=str(first["id"]) if first.get("id") else None,
        intervals=tuple(stays), seconds=covered_seconds(stays))
