"""Google Calendar events ↔ s3events meetings: the request body and the meeting read back.

The event id is derived from the session's marker (lowercase hex, which is valid base32hex),
and the Meet conference is asked for with ``conferenceData.createRequest`` whose
``requestId`` is the marker: repeating the insert never makes a second event or conference.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from typing import Any

from pydantic import SecretStr

from s3events.platforms.base import DialIn, Meeting, MeetingRequest
from s3events.timezones import get_zone

__all__ = [
    "MARKER_PROPERTY",
    "PLATFORM",
    "conference_request",
    "conference_status",
    "event_body",
    "event_date_time",
    "event_id_for",
    "meeting_from_event",
]

PLATFORM = "google-meet"
#: Private extended property carrying the marker, so the event can be recognised later.
MARKER_PROPERTY = "s3eventsMarker"


def event_id_for(marker: str) -> str:
    """The Calendar event id of a session: 32 lowercase hex characters derived from its marker."""
    return hashlib.sha256(f"s3events-google-meet\x00{marker}".encode()).hexdigest()[:32]


def event_date_time(moment: datetime, zone: str) -> dict[str, str]:
    """An ``EventDateTime``: RFC 3339 with the offset of ``zone`` at that instant, and the zone."""
    local = moment.astimezone(get_zone(zone))
    return {"dateTime": local.isoformat(timespec="seconds"), "timeZone": zone}


def conference_request(request_id: str) -> dict[str, Any]:
    """``conferenceData`` asking Google to create a Meet conference."""
    return {"createRequest": {"requestId": request_id,
                              "conferenceSolutionKey": {"type": "hangoutsMeet"}}}


def event_body(request: MeetingRequest) -> dict[str, Any]:
    """The event fields s3events sets: title, agenda, start and end, and the marker."""
    return {
        "summary": request.topic,
        "description": request.agenda,
        "start": event_date_time(request.start, request.timezone),
        "end": event_date_time(request.end, request.timezone),
        "extendedProperties": {"private": {
            MARKER_PROPERTY: request.marker,
            "s3eventsSeries": request.series_id,
            "s3eventsSession": request.session_id,
        }},
    }


def conference_status(event: dict[str, Any]) -> str | None:
    """``pending``, ``success`` or ``failure``; ``None`` when the event has no Meet conference."""
    data = event.get("conferenceData")
    if not isinstance(data, dict):
        return None
    status = (data.get("createRequest") or {}).get("status") or {}
    code = status.get("statusCode")
    if code:
        return str(code)
    return "success" if _video_uri(event) else None


def meeting_from_event(event: dict[str, Any], *, calendar_id: str) -> Meeting:
    """The :class:`Meeting` an event with a ready Meet conference describes."""
    data = event.get("conferenceData") or {}
    points = [p for p in data.get("entryPoints") or [] if isinstance(p, dict)]
    phones = [p for p in points if p.get("entryPointType") == "phone"]
    pin = next((str(p["pin"]) for p in phones if p.get("pin")), None)
    # The "more numbers" page carries the PIN in its query; the PIN is kept as the passcode.
    more = next((str(p["uri"]).split("?")[0] for p in points
                 if p.get("entryPointType") == "more" and p.get("uri")), None)
    extra = {"calendar_id": calendar_id, "conference_id": data.get("conferenceId"),
             "more_phone_numbers": more}
    start, end = _when(event.get("start")), _when(event.get("end"))
    link = event.get("htmlLink")
    return Meeting(
        platform=PLATFORM,
        meeting_id=str(event["id"]),
        join_url=_video_uri(event) or "",
        passcode=SecretStr(pin) if pin else None,
        dial_in=[DialIn(number=str(p.get("label") or p.get("uri", "")).removeprefix("tel:"),
                        country=p.get("regionCode")) for p in phones],
        host_url=SecretStr(str(link)) if link else None,
        start=start,
        duration=end - start if start and end else None,
        topic=event.get("summary"),
        marker=((event.get("extendedProperties") or {}).get("private") or {}).get(MARKER_PROPERTY),
        extra={key: value for key, value in extra.items() if value},
    )


def _video_uri(event: dict[str, Any]) -> str | None:
    data = event.get("conferenceData") or {}
    for point in data.get("entryPoints") or []:
        if isinstance(point, dict) and point.get("entryPointType") == "video" and point.get("uri"):
            return str(point["uri"])
    link = event.get("hangoutLink")
    return str(link) if link else None


def _when(value: Any) -> datetime | None:
    if not isinstance(value, dict) or not value.get("dateTime"):
        return None
    moment = datetime.fromisoformat(str(value["dateTime"]).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=get_zone(str(value.get("timeZone") or "UTC")))
    return moment.astimezone(timezone.utc)
