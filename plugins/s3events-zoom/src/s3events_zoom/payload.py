"""What the Zoom adapter sends and how it reads Zoom's answers.

Request bodies follow the Zoom Meetings API v2 (``POST /users/{userId}/meetings`` and
``PATCH /meetings/{meetingId}``):

* ``start_time`` is sent in UTC with a ``Z`` suffix, and ``timezone`` carries the session's
  IANA zone. Zoom then needs no wall-time conversion of its own, and uses the zone only to
  display the time in its invitation and meeting page.
* ``topic`` is cut to 200 characters and ``agenda`` to 2000, at a character boundary and
  with an ellipsis, counting UTF-16 code units as Zoom does.
* The session's marker goes in two places, so a meeting created just before a crash can be
  found again: a tracking field ``s3events`` and the last line of the agenda. The list
  endpoint returns neither field in full, so :meth:`ZoomAdapter.find_meeting` reads candidate
  meetings one by one.

The ``start_url`` of a response becomes ``Meeting.host_url`` (a secret) and nothing else.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import SecretStr

from s3events.platforms.base import DialIn, Meeting, MeetingRequest

__all__ = [
    "AGENDA_MAX",
    "MARKER_FIELD",
    "TOPIC_MAX",
    "marker_line",
    "meeting_body",
    "meeting_from_zoom",
    "meeting_marker_of",
    "parse_time",
    "truncate",
    "utc_z",
]

TOPIC_MAX = 200
AGENDA_MAX = 2000
#: Name of the tracking field that carries the marker.
MARKER_FIELD = "s3events"
ELLIPSIS = "…"


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _attached(char: str) -> bool:
    """True for characters that belong to the one before them (marks, joiners, selectors)."""
    return bool(unicodedata.combining(char)) or char in "\u200d\ufe0e\ufe0f"


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 code units, ending with an ellipsis if cut.

    The cut never splits a surrogate pair, and never separates a character from the marks,
    joiners or variation selectors that follow it: the whole cluster goes.
    """
    if _utf16_len(text) <= limit:
        return text
    budget = limit - _utf16_len(ELLIPSIS)
    keep = used = 0
    for char in text:
        used += _utf16_len(char)
        if used > budget:
            break
        keep += 1
    while keep > 0 and (_attached(text[keep]) or text[keep - 1] == "\u200d"):
        keep -= 1
    return text[:keep].rstrip() + ELLIPSIS


def marker_line(marker: str) -> str:
    """The agenda's last line, which carries the session's marker."""
    return f"[{marker}]"


def agenda_text(request: MeetingRequest) -> str:
    """The agenda: the session text (cut to fit) and, on the last line, the marker."""
    tail = marker_line(request.marker)
    text = request.agenda.strip()
    if not text:
        return tail
    room = AGENDA_MAX - _utf16_len(tail) - 2
    return f"{truncate(text, room)}\n\n{tail}"


def utc_z(moment: datetime) -> str:
    """``2021-10-28T15:00:00Z``: Zoom's GMT form of ``start_time``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def meeting_body(request: MeetingRequest) -> dict[str, Any]:
    """The create/update body for ``request`` (a scheduled meeting, type 2)."""
    settings = request.settings
    return {
        "topic": truncate(request.topic, TOPIC_MAX),
        "type": 2,
        "start_time": utc_z(request.start),
        "timezone": request.timezone,
        "duration": request.duration_minutes,
        "agenda": agenda_text(request),
        "tracking_fields": [{"field": MARKER_FIELD, "value": request.marker}],
        "settings": {
            "waiting_room": settings.waiting_room,
            # Zoom turns join-before-host off when the waiting room is on; say so ourselves.
            "join_before_host": settings.join_before_host and not settings.waiting_room,
            "mute_upon_entry": settings.mute_on_entry,
            "auto_recording": settings.auto_recording,
            "approval_type": 2,
        },
    }


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from Zoom's ``2021-10-28T15:00:00Z`` (``None`` if absent)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def meeting_id_of(value: Any) -> str:
    """The int64 meeting id as the string of the integer (never a float, never rounded)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a Zoom meeting id: {value!r}")
    if isinstance(value, int):
        return str(value)
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"not a Zoom meeting id: {value!r}")
    return str(int(text))


def meeting_marker_of(data: Mapping[str, Any]) -> str | None:
    """The s3events marker a Zoom meeting carries (tracking field or agenda last line)."""
    for item in data.get("tracking_fields") or ():
        if isinstance(item, Mapping) and item.get("field") == MARKER_FIELD and item.get("value"):
            return str(item["value"])
    agenda = str(data.get("agenda") or "").rstrip()
    last = agenda.rsplit("\n", 1)[-1].strip()
    if last.startswith("[s3e") and last.endswith("]"):
        return last[1:-1]
    return None


def dial_in_of(data: Mapping[str, Any]) -> list[DialIn]:
    """Dial-in numbers from ``settings.global_dial_in_numbers`` (empty when absent)."""
    numbers = (data.get("settings") or {}).get("global_dial_in_numbers") or ()
    found = []
    for item in numbers:
        if isinstance(item, Mapping) and item.get("number"):
            label = " ".join(str(item[k]) for k in ("city", "type") if item.get(k)) or None
            found.append(DialIn(number=str(item["number"]),
                                country=item.get("country") or None, label=label))
    return found


def meeting_from_zoom(data: Mapping[str, Any]) -> Meeting:
    """A :class:`Meeting` from a Zoom meeting object (create or get response)."""
    start_url, password = data.get("start_url"), data.get("password")
    duration = data.get("duration")
    return Meeting(
        platform="zoom",
        meeting_id=meeting_id_of(data.get("id")),
        join_url=str(data.get("join_url") or ""),
        passcode=SecretStr(str(password)) if password else None,
        dial_in=dial_in_of(data),
        host_url=SecretStr(str(start_url)) if start_url else None,
        start=parse_time(data.get("start_time")),
        duration=timedelta(minutes=int(duration)) if isinstance(duration, int) else None,
        topic=data.get("topic"),
        marker=meeting_marker_of(data),
        extra={k: data[k] for k in ("uuid", "timezone", "status") if data.get(k)},
    )
