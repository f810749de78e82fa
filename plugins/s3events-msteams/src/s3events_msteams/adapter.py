"""The ``msteams`` platform: one Microsoft Teams online meeting per session, via Microsoft Graph.

Creation is idempotent on Graph's side: ``POST /users/{user_id}/onlineMeetings/createOrGet``
with the session's marker as ``externalId`` creates the meeting (201) or returns the one
already made for that marker (200). A create interrupted by a timeout or a crash is simply
sent again, so this adapter sets ``idempotent_create`` and retries creates like reads.
After the session, :meth:`TeamsAdapter.get_attendance` reads Graph's attendance reports
(see :mod:`s3events_msteams.attendance`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from pydantic import SecretStr

from s3events.errors import InvalidRequest, NotFound
from s3events.http import HttpBacked, HttpClient
from s3events.platforms.base import (
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    PlatformAdapter,
    PlatformOptions,
)

from .attendance import TeamsAttendance
from .client import HINTS, USER_HINT, GraphTokenProvider, graph_scope
from .payload import create_body, meeting_from_graph, needs_settings_patch, patch_body

__all__ = ["TeamsAdapter", "TeamsOptions"]

log = logging.getLogger("s3events_msteams")


class TeamsOptions(PlatformOptions):
    """Options of the ``msteams`` platform (a Microsoft Entra app registration).

    Every option can also come from ``S3EVENTS_MSTEAMS_<OPTION>``, for example
    ``S3EVENTS_MSTEAMS_CLIENT_SECRET``.
    """

    tenant_id: str
    client_id: str
    client_secret: SecretStr
    user_id: str
    api_base_url: str = "https://graph.microsoft.com/v1.0"
    token_url: str | None = None

    @property
    def resolved_token_url(self) -> str:
        """``token_url``, or the tenant's v2.0 token endpoint on login.microsoftonline.com."""
        return self.token_url or (
            f"https://login.microsoftonline.com/{quote(self.tenant_id, safe='')}"
            "/oauth2/v2.0/token")


class TeamsAdapter(HttpBacked, PlatformAdapter):
    """Teams online meetings organised by ``user_id`` (the organiser's Entra object id).

    The meeting id is Graph's ``onlineMeeting`` id; ``join_url`` is ``joinWebUrl``; dial-in
    numbers come from ``audioConferencing``. Standalone online meetings put nothing in
    anyone's calendar: s3events sends the invitations itself.
    """

    name: ClassVar[str] = "msteams"
    options_model: ClassVar[type[PlatformOptions]] = TeamsOptions
    idempotent_create: ClassVar[bool] = True
    supports_attendance: ClassVar[bool] = True
    description: ClassVar[str] = "Microsoft Teams online meetings (Microsoft Graph, app-only)"

    options: TeamsOptions

    def __init__(
        self,
        options: PlatformOptions | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(options, TeamsOptions):
            raise TypeError("TeamsAdapter needs TeamsOptions (use TeamsAdapter.from_options)")
        super().__init__(options)
        tokens = GraphTokenProvider(
            token_url=options.resolved_token_url,
            client_id=options.client_id,
            client_secret=options.client_secret.get_secret_value(),
            scope=graph_scope(options.api_base_url),
            clock=clock,
        )
        self.http = HttpClient(self.name, options.api_base_url, session=session,
                               token_provider=tokens, sleep=sleep, hints=HINTS, clock=clock)
        self._meetings = f"/users/{quote(options.user_id, safe='')}/onlineMeetings"

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """createOrGet by marker (201 new, 200 existing), then PATCH settings if they differ."""
        try:
            data = self.http.json(
                "POST", f"{self._meetings}/createOrGet", json=create_body(request),
                idempotent=True, ok=lambda r: r.status_code in (200, 201),
                action=f"creating the meeting for session {request.session_id}")
        except NotFound as exc:
            exc.hint = exc.hint or USER_HINT
            raise
        meeting = self._meeting(data)
        log.info("msteams: meeting %s ready for session %s", meeting.meeting_id,
                 request.session_id)
        if needs_settings_patch(data, request):
            meeting = self.update_meeting(meeting, request)
        return meeting

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """PATCH subject, times, lobby and recording (200 with the meeting, or 204 then GET)."""
        data = self.http.json(
            "PATCH", self._path(meeting.meeting_id), json=patch_body(request), idempotent=True,
            action=f"updating meeting for session {request.session_id}")
        if data:
            return self._meeting(data)
        updated = self.get_meeting(meeting.meeting_id)
        if updated is None:
            raise NotFound("the Teams meeting vanished during its update", service=self.name,
                           session_id=request.session_id)
        return updated

    def delete_meeting(self, meeting: Meeting) -> None:
        """Delete the meeting (204); one that is already gone counts as deleted."""
        try:
            self.http.request("DELETE", self._path(meeting.meeting_id),
                              action="deleting a meeting")
        except NotFound:
            log.info("msteams: the meeting was already gone")

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The meeting, or ``None`` when Graph no longer has it."""
        try:
            data = self.http.json("GET", self._path(meeting_id), action="reading a meeting")
        except NotFound:
            return None
        return self._meeting(data)

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who took part in ``meeting``: its attendance reports made during the session.

        :class:`~s3events.errors.NotFound` while Teams has made no report (a few minutes
        after the meeting ends, and only where the meeting policy allows reports).
        """
        records = TeamsAttendance(self.http, self._meetings).report(meeting)
        log.info("msteams: %d participants in the meeting", len(records))
        return records

    def _path(self, meeting_id: str) -> str:
        return f"{self._meetings}/{quote(meeting_id, safe='')}"

    def _meeting(self, data: Any) -> Meeting:
        if not isinstance(data, Mapping) or not data.get("id"):
            raise InvalidRequest("Graph answered without an onlineMeeting", service=self.name)
        return meeting_from_graph(data)
