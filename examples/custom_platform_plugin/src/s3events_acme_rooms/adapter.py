"""The ``acme-rooms`` platform: one Acme Rooms video room per seminar session.

Acme Rooms is an in-house video platform with a small REST API (the base URL is the
``api_base_url`` option; every call carries ``Authorization: Bearer <api_key>``):

``POST /rooms``
    Creates a room. The ``Idempotency-Key`` header makes the create safe to repeat: Acme
    Rooms answers a second POST with the same key with the room made by the first. The key
    sent is the session's marker (:attr:`MeetingRequest.marker
    <s3events.platforms.base.MeetingRequest.marker>`), so a run that crashed just after the
    create, and runs after it, find the same room. Answer: ``201 {id, join_url, host_url,
    passcode}`` (plus the room's other fields, when the server sends them).
``GET /rooms/{id}``, ``PATCH /rooms/{id}``, ``DELETE /rooms/{id}``
    Read a room (``200``, ``404`` when it is gone), change it (``200`` with the room) and
    delete it (``204``; ``404``/``410`` count as deleted).

A room's fields: ``title``, ``start`` (ISO 8601, UTC), ``duration_minutes``, ``timezone``,
``description``, ``language``, ``waiting_room``, ``mute_on_entry``, ``recording``.
``host_url`` starts the room as its host: it is kept as a secret and never reaches a
participant. Errors are mapped to :mod:`s3events.errors` by :class:`~s3events.http.HttpClient`
(401, 403, 404, 429 with ``Retry-After``, 5xx, connection errors).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr

from s3events.errors import NotFound, ServiceUnavailable
from s3events.http import HttpClient
from s3events.platforms.base import Meeting, MeetingRequest, PlatformAdapter, PlatformOptions

__all__ = ["DEFAULT_API_BASE_URL", "AcmeRoomsAdapter", "AcmeRoomsOptions", "room_body"]

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://rooms.acme.example/api/v1"

#: Advice for the person running s3events, by HTTP status.
HINTS = {
    401: "check the api_key option (or S3EVENTS_ACME_ROOMS_API_KEY): an Acme Rooms API key "
         "from the Acme Rooms admin console",
    403: "the API key needs the 'rooms:write' permission in the Acme Rooms admin console",
}


class AcmeRoomsOptions(PlatformOptions):
    """Options of the ``acme-rooms`` platform (environment: ``S3EVENTS_ACME_ROOMS_<OPTION>``)."""

    api_key: SecretStr = Field(description="API key from the Acme Rooms admin console.")
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL,
                              description="Base URL of the Acme Rooms API, with its version.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds to wait for an answer.")


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def room_body(request: MeetingRequest) -> dict[str, Any]:
    """The JSON body that creates or changes the room for ``request``."""
    settings = request.settings
    return {
        "title": request.topic,
        "start": _utc(request.start),
        "duration_minutes": request.duration_minutes,
        "timezone": request.timezone,
        "description": request.agenda,
        "language": request.language,
        "waiting_room": settings.waiting_room,
        "mute_on_entry": settings.mute_on_entry,
        "recording": settings.auto_recording != "none",
    }


def _secret(value: Any) -> SecretStr | None:
    return SecretStr(str(value)) if value else None


def _start(data: dict[str, Any], fallback: datetime | None) -> datetime | None:
    text = data.get("start")
    if not isinstance(text, str):
        return fallback
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


class AcmeRoomsAdapter(PlatformAdapter):
    """Acme Rooms video rooms through its REST API (see the module documentation)."""

    name: ClassVar[str] = "acme-rooms"
    options_model: ClassVar[type[PlatformOptions]] = AcmeRoomsOptions
    idempotent_create: ClassVar[bool] = True  # the Idempotency-Key header
    description: ClassVar[str] = "Acme Rooms, the in-house video platform (REST API)"

    options: AcmeRoomsOptions

    def __init__(self, options: PlatformOptions | None = None, *,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not isinstance(options, AcmeRoomsOptions):
            raise TypeError("AcmeRoomsAdapter needs AcmeRoomsOptions "
                            "(build it with AcmeRoomsAdapter.from_options)")
        super().__init__(options)
        self._owns_session = session is None
        self.http = HttpClient(self.name, options.api_base_url, session=session, sleep=sleep,
                               timeout=options.timeout, hints=HINTS)

    def _call(self, method: str, path: str, *, action: str, **kwargs: Any) -> Any:
        """One API call with the API key; the decoded JSON answer (``None`` when empty)."""
        headers = {"Authorization": f"Bearer {self.options.api_key.get_secret_value()}",
                   **kwargs.pop("headers", {})}
        return self.http.json(method, path, headers=headers, action=action, **kwargs)

    def _meeting(self, data: Any, request: MeetingRequest | None = None) -> Meeting:
        """A :class:`Meeting` from a room as Acme Rooms returns it."""
        if not isinstance(data, dict) or not data.get("id") or not data.get("join_url"):
            raise ServiceUnavailable("acme-rooms answered without a room id and join_url",
                                     service=self.name)
        minutes = data.get("duration_minutes")
        return Meeting(
            platform=self.name, meeting_id=str(data["id"]), join_url=str(data["join_url"]),
            host_url=_secret(data.get("host_url")), passcode=_secret(data.get("passcode")),
            start=_start(data, request.start if request else None),
            duration=timedelta(minutes=minutes) if isinstance(minutes, int) else (
                request.duration if request else None),
            topic=data.get("title") or (request.topic if request else None),
            marker=request.marker if request else None,
        )

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Create the session's room; asking again with the same marker gives the same room."""
        data = self._call("POST", "/rooms", json=room_body(request), idempotent=True,
                          headers={"Idempotency-Key": request.marker},
                          action=f"creating the room for session {request.session_id}")
        meeting = self._meeting(data, request)
        log.info("acme-rooms: room %s for session %s", meeting.meeting_id, request.session_id)
        return meeting

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The room, or ``None`` when Acme Rooms no longer has it."""
        try:
            data = self._call("GET", f"/rooms/{meeting_id}", action=f"reading room {meeting_id}")
        except NotFound:
            return None
        return self._meeting(data)

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """Change the room to match ``request`` (moved session, new title)."""
        data = self._call("PATCH", f"/rooms/{meeting.meeting_id}", json=room_body(request),
                          action=f"updating room {meeting.meeting_id} "
                                 f"(session {request.session_id})")
        log.info("acme-rooms: updated room %s", meeting.meeting_id)
        return self._meeting(data, request)

    def delete_meeting(self, meeting: Meeting) -> None:
        """Delete the room; a room that is already gone counts as deleted."""
        try:
            self._call("DELETE", f"/rooms/{meeting.meeting_id}",
                       action=f"deleting room {meeting.meeting_id}")
        except NotFound:
            log.info("acme-rooms: room %s was already gone", meeting.meeting_id)
            return
        log.info("acme-rooms: deleted room %s", meeting.meeting_id)

    def close(self) -> None:
        """Close the HTTP session if this adapter made it."""
        if self._owns_session:
            self.http.close()
