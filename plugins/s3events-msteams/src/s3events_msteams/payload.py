"""What the Teams adapter sends to Microsoft Graph and how it reads ``onlineMeeting`` objects.

* ``createOrGet`` takes only the parameters the spec gives it (``externalId``, ``subject``,
  ``startDateTime``, ``endDateTime``; Graph refuses unknown action parameters). Settings
  that only the meeting itself has — ``lobbyBypassSettings`` and ``recordAutomatically`` —
  are set with a PATCH when the created meeting does not already have them.
* Times are sent in UTC with a ``Z`` suffix, as Graph documents them.
* A waiting room means the lobby lets in only people of the organiser's organisation
  (``scope: organization``); without one, everyone (``scope: everyone``) joins directly.

From the answer: ``joinWebUrl`` is the join URL, ``externalId`` the marker, the
``audioConferencing`` toll and toll-free numbers the dial-in (its ``conferenceId`` goes in
``extra``), and, where Graph returns ``joinMeetingIdSettings``, its passcode.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from pydantic import SecretStr

from s3events.platforms.base import DialIn, Meeting, MeetingRequest

__all__ = [
    "create_body",
    "lobby_scope",
    "meeting_from_graph",
    "needs_settings_patch",
    "parse_time",
    "patch_body",
    "utc_z",
]


def utc_z(moment: datetime) -> str:
    """``2021-10-28T15:00:00Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def lobby_scope(request: MeetingRequest) -> str:
    """Who bypasses the lobby: the organisation with a waiting room, else everyone."""
    return "organization" if request.settings.waiting_room else "everyone"


def records(request: MeetingRequest) -> bool:
    """Whether the meeting records itself (Teams records to the cloud)."""
    return request.settings.auto_recording != "none"


def create_body(request: MeetingRequest) -> dict[str, Any]:
    """The ``createOrGet`` body: the marker as ``externalId`` plus subject and times."""
    return {
        "externalId": request.marker,
        "subject": request.topic,
        "startDateTime": utc_z(request.start),
        "endDateTime": utc_z(request.end),
    }


def patch_body(request: MeetingRequest) -> dict[str, Any]:
    """The ``PATCH`` body: subject, times, lobby and automatic recording."""
    return {
        "subject": request.topic,
        "startDateTime": utc_z(request.start),
        "endDateTime": utc_z(request.end),
        "lobbyBypassSettings": {"scope": lobby_scope(request), "isDialInBypassEnabled": False},
        "recordAutomatically": records(request),
    }


def needs_settings_patch(data: Mapping[str, Any], request: MeetingRequest) -> bool:
    """True when a meeting from ``createOrGet`` differs from ``request`` in what PATCH sets."""
    lobby = (data.get("lobbyBypassSettings") or {}).get("scope")
    return (
        lobby != lobby_scope(request)
        or bool(data.get("recordAutomatically")) != records(request)
        or data.get("subject") != request.topic
        or parse_time(data.get("startDateTime")) != request.start
        or parse_time(data.get("endDateTime")) != request.end
    )


_FRACTION = re.compile(r"\.(\d{6})\d+")


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from Graph's ``2021-10-28T15:00:00.0000000Z`` forms."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r".\1", value.strip()).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def dial_in_of(data: Mapping[str, Any]) -> list[DialIn]:
    """Toll and toll-free numbers from ``audioConferencing`` (empty without audio conferencing)."""
    audio = data.get("audioConferencing") or {}
    found: dict[str, DialIn] = {}
    for label, single, several in (("toll", "tollNumber", "tollNumbers"),
                                   ("toll-free", "tollFreeNumber", "tollFreeNumbers")):
        numbers = [audio.get(single), *(audio.get(several) or ())]
        for number in numbers:
            if isinstance(number, str) and number and number not in found:
                found[number] = DialIn(number=number, label=label)
    return list(found.values())


def _extra(data: Mapping[str, Any]) -> dict[str, Any]:
    audio = data.get("audioConferencing") or {}
    join_id = data.get("joinMeetingIdSettings") or {}
    extra = {"conferenceId": audio.get("conferenceId"), "dialinUrl": audio.get("dialinUrl"),
             "joinMeetingId": join_id.get("joinMeetingId")}
    return {key: value for key, value in extra.items() if value}


def meeting_from_graph(data: Mapping[str, Any]) -> Meeting:
    """A :class:`Meeting` from a Graph ``onlineMeeting`` object."""
    start, end = parse_time(data.get("startDateTime")), parse_time(data.get("endDateTime"))
    passcode = (data.get("joinMeetingIdSettings") or {}).get("passcode")
    return Meeting(
        platform="msteams",
        meeting_id=str(data["id"]),
        join_url=str(data.get("joinWebUrl") or ""),
        passcode=SecretStr(str(passcode)) if passcode else None,
        dial_in=dial_in_of(data),
        start=start,
        duration=(end - start) if start and end else None,
        topic=data.get("subject"),
        marker=data.get("externalId") or None,
        extra=_extra(data),
    )
