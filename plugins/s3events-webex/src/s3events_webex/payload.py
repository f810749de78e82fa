"""What the Webex adapter sends (``CreateMeetingObject``, ``PatchMeetingObject``) and reads back.

* ``start`` and ``end`` are ISO 8601 with the UTC offset the session's zone has at that
  moment (from the tz database), and ``timezone`` is the IANA name: Webex shows the meeting
  in the zone it was scheduled in.
* ``title`` is cut to 128 characters and ``agenda`` to 1300, at a character boundary.
* ``integrationTags`` carries the session's marker, so the meeting can be found again with
  ``GET /meetings?integrationTag=…`` after an interrupted create.
* ``sendEmail`` is false: s3events sends the invitations itself.

From the answer: ``webLink`` is the join URL, ``password`` the passcode, ``meetingNumber``
and the telephony access code go in ``extra``, the call-in numbers in ``dial_in``. The
``hostKey`` is never read, so it is neither stored nor shown to anyone.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import SecretStr

from s3events.platforms.base import DialIn, Meeting, MeetingRequest
from s3events.timezones import to_zone

__all__ = [
    "AGENDA_MAX",
    "MAX_DURATION",
    "MIN_DURATION",
    "TITLE_MAX",
    "meeting_body",
    "meeting_from_webex",
    "parse_time",
    "truncate",
    "webex_time",
]

TITLE_MAX = 128
AGENDA_MAX = 1300
MIN_DURATION = timedelta(minutes=10)
MAX_DURATION = timedelta(hours=23, minutes=59)
ELLIPSIS = "…"


def _attached(char: str) -> bool:
    """True for characters that belong to the one before them (marks, joiners, selectors)."""
    return bool(unicodedata.combining(char)) or char in "\u200d\ufe0e\ufe0f"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis if cut.

    The cut never separates a character from the marks, joiners or variation selectors that
    follow it: the whole cluster goes.
    """
    if len(text) <= limit:
        return text
    keep = limit - len(ELLIPSIS)
    while keep > 0 and (_attached(text[keep]) or text[keep - 1] == "\u200d"):
        keep -= 1
    return text[:keep].rstrip() + ELLIPSIS


def webex_time(moment: datetime, zone: str) -> str:
    """``2021-10-28T17:00:00+02:00``: the instant as wall time in ``zone``, with its offset."""
    return to_zone(moment, zone).replace(microsecond=0).isoformat()


def meeting_body(
    request: MeetingRequest, *, host_email: str | None = None, site_url: str | None = None
) -> dict[str, Any]:
    """The create (or, without ``site_url``, the patch) body for ``request``."""
    settings = request.settings
    body: dict[str, Any] = {
        "title": truncate(request.topic, TITLE_MAX),
        "start": webex_time(request.start, request.timezone),
        "end": webex_time(request.end, request.timezone),
        "timezone": request.timezone,
        "enabledJoinBeforeHost": settings.join_before_host,
        "enabledAutoRecordMeeting": settings.auto_recording != "none",
        "unlockedMeetingJoinSecurity": (
            "allowJoinWithLobby" if settings.waiting_room else "allowJoin"),
        "audioConnectionOptions": {"muteAttendeeUponEntry": settings.mute_on_entry},
        "sendEmail": False,
        "integrationTags": [request.marker],
    }
    if request.agenda.strip():
        body["agenda"] = truncate(request.agenda.strip(), AGENDA_MAX)
    if host_email:
        body["hostEmail"] = host_email
    if site_url:
        body["siteUrl"] = site_url
    return body


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from a Webex ISO 8601 time (``None`` if absent or unreadable)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(timezone.utc)


def dial_in_of(data: Mapping[str, Any]) -> list[DialIn]:
    """Call-in numbers from ``telephony.callInNumbers`` (empty when the site has none)."""
    telephony = data.get("telephony") or {}
    found = []
    for item in telephony.get("callInNumbers") or ():
        if isinstance(item, Mapping) and item.get("callInNumber"):
            found.append(DialIn(number=str(item["callInNumber"]),
                                label=str(item.get("label") or item.get("tollType") or "")
                                or None))
    return found


def _extra(data: Mapping[str, Any]) -> dict[str, Any]:
    extra = {key: data[key] for key in ("meetingNumber", "siteUrl", "sipAddress", "timezone")
             if data.get(key)}
    access_code = (data.get("telephony") or {}).get("accessCode")
    if access_code:
        extra["accessCode"] = str(access_code)
    return extra


def _marker(data: Mapping[str, Any]) -> str | None:
    tags = [t for t in data.get("integrationTags") or () if isinstance(t, str)]
    return next((t for t in tags if t.startswith("s3e")), None)


def meeting_from_webex(data: Mapping[str, Any]) -> Meeting:
    """A :class:`Meeting` from a Webex meeting object; ``hostKey`` is left behind."""
    start, end = parse_time(data.get("start")), parse_time(data.get("end"))
    password = data.get("password")
    return Meeting(
        platform="webex",
        meeting_id=str(data["id"]),
        join_url=str(data.get("webLink") or ""),
        passcode=SecretStr(str(password)) if password else None,
        dial_in=dial_in_of(data),
        start=start,
        duration=(end - start) if start and end else None,
        topic=data.get("title"),
        marker=_marker(data),
        extra=_extra(data),
    )
