"""The ``zoom`` platform: one scheduled Zoom meeting per session, for one host.

Zoom has no idempotency key, so creates are never retried blindly: a create that fails on
a timeout or a 5xx raises, and provisioning reconciles with :meth:`ZoomAdapter.find_meeting`
(which looks for the session's marker) before it creates again. After the session,
:meth:`ZoomAdapter.get_attendance` reads who took part (see :mod:`s3events_zoom.attendance`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from pydantic import SecretStr

from s3events.errors import InvalidRequest, NotFound
from s3events.http import HttpBacked
from s3events.platforms.base import (
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    PlatformAdapter,
    PlatformOptions,
)

from .attendance import ZoomAttendance
from .client import ZoomHttpClient, ZoomTokenProvider
from .payload import (
    TOPIC_MAX,
    meeting_body,
    meeting_from_zoom,
    meeting_marker_of,
    parse_time,
    truncate,
)

__all__ = ["ZoomAdapter", "ZoomOptions"]

log = logging.getLogger("s3events_zoom")

#: How many upcoming meetings :meth:`ZoomAdapter.find_meeting` reads in full at most.
MAX_CANDIDATES = 20
#: How many pages of 300 upcoming meetings it lists at most.
MAX_PAGES = 10


class ZoomOptions(PlatformOptions):
    """Options of the ``zoom`` platform (a Zoom Server-to-Server OAuth app).

    Every option can also come from ``S3EVENTS_ZOOM_<OPTION>``, for example
    ``S3EVENTS_ZOOM_CLIENT_SECRET``.
    """

    account_id: str
    client_id: str
    client_secret: SecretStr
    user_id: str = "me"
    api_base_url: str = "https://api.zoom.us/v2"
    token_url: str = "https://zoom.us/oauth/token"  # noqa: S105 - a URL, not a secret


class ZoomAdapter(HttpBacked, PlatformAdapter):
    """Zoom meetings through the Meetings API v2 and a Server-to-Server OAuth app.

    Meetings are created for ``user_id`` (the host's email address or Zoom user id). The
    meeting id is Zoom's int64 id as a string; ``join_url`` is Zoom's ``join_url``;
    ``host_url`` holds the ``start_url`` and is never shown; the passcode is Zoom's
    ``password``; dial-in numbers come from ``settings.global_dial_in_numbers``.
    """

    name: ClassVar[str] = "zoom"
    options_model: ClassVar[type[PlatformOptions]] = ZoomOptions
    idempotent_create: ClassVar[bool] = False
    supports_attendance: ClassVar[bool] = True
    description: ClassVar[str] = "Zoom meetings (Server-to-Server OAuth app)"

    options: ZoomOptions

    def __init__(
        self,
        options: PlatformOptions | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(options, ZoomOptions):
            raise TypeError("ZoomAdapter needs ZoomOptions (use ZoomAdapter.from_options)")
        super().__init__(options)
        tokens = ZoomTokenProvider(
            token_url=options.token_url,
            account_id=options.account_id,
            client_id=options.client_id,
            client_secret=options.client_secret.get_secret_value(),
            clock=clock,
        )
        self.http = ZoomHttpClient(options.api_base_url, session=session, token_provider=tokens,
                                   sleep=sleep, clock=clock)
        self._user_path = "/users/" + quote(options.user_id, safe="@")

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Create a scheduled meeting (HTTP 201). Not retried on 5xx or timeouts."""
        data = self.http.json("POST", f"{self._user_path}/meetings", json=meeting_body(request),
                              action=f"creating the meeting for session {request.session_id}")
        meeting = self._meeting(data)
        log.info("zoom: created meeting %s for session %s", meeting.meeting_id,
                 request.session_id)
        return meeting

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """PATCH the meeting (HTTP 204, no body), then read it back."""
        self.http.request("PATCH", _meeting_path(meeting.meeting_id), json=meeting_body(request),
                          idempotent=True,
                          action=f"updating meeting {meeting.meeting_id} "
                                 f"(session {request.session_id})")
        updated = self.get_meeting(meeting.meeting_id)
        if updated is None:
            raise NotFound(f"Zoom meeting {meeting.meeting_id} vanished during its update",
                           service=self.name, session_id=request.session_id)
        return updated

    def delete_meeting(self, meeting: Meeting) -> None:
        """Delete the meeting (HTTP 204); one that is already gone counts as deleted."""
        try:
            self.http.request("DELETE", _meeting_path(meeting.meeting_id),
                              action=f"deleting meeting {meeting.meeting_id}")
        except NotFound:
            log.info("zoom: meeting %s was already gone", meeting.meeting_id)

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The meeting, or ``None`` when Zoom no longer has it."""
        try:
            data = self.http.json("GET", _meeting_path(meeting_id),
                                  action=f"reading meeting {meeting_id}")
        except NotFound:
            return None
        return self._meeting(data)

    def find_meeting(self, request: MeetingRequest) -> Meeting | None:
        """The upcoming meeting of ``user_id`` that carries ``request.marker``, if any.

        Lists ``/users/{user_id}/meetings?type=upcoming``; meetings whose listed agenda
        already shows the marker, then those at the same start or with the same topic, are
        read in full (the list cuts agendas and omits tracking fields).
        """
        listed = list(self._upcoming())
        for item in _candidates(listed, request)[:MAX_CANDIDATES]:
            try:
                found = self.get_meeting(str(item.get("id")))
            except InvalidRequest:
                continue
            if found is not None and found.marker == request.marker:
                return found
        return None

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who took part in ``meeting`` once it ended: one record per person, every join.

        Reads the participants of each instance held during the session, from the
        past-meeting list or, where Zoom documents it falls short, the participant report.
        :class:`~s3events.errors.NotFound` when Zoom has no list yet.
        """
        records = ZoomAttendance(self.http).report(meeting)
        log.info("zoom: %d participants in meeting %s", len(records), meeting.meeting_id)
        return records

    def _upcoming(self) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] | None = {"type": "upcoming", "page_size": 300}
        for _page in range(MAX_PAGES):
            if params is None:
                return
            page = self.http.json("GET", f"{self._user_path}/meetings", params=params,
                                  action="listing upcoming meetings") or {}
            yield from (m for m in page.get("meetings") or () if isinstance(m, Mapping))
            params = _next_page(params, page)

    def _meeting(self, data: Any) -> Meeting:
        if not isinstance(data, Mapping) or data.get("id") is None:
            raise InvalidRequest("Zoom answered without a meeting object", service=self.name)
        return meeting_from_zoom(data)


def _next_page(params: dict[str, Any], page: Mapping[str, Any]) -> dict[str, Any] | None:
    """The query for the next page: ``next_page_token``, or the older ``page_number``."""
    if page.get("next_page_token"):
        return {**params, "next_page_token": page["next_page_token"]}
    number, count = page.get("page_number"), page.get("page_count")
    if isinstance(number, int) and isinstance(count, int) and number < count:
        return {**params, "page_number": number + 1}
    return None


def _meeting_path(meeting_id: str) -> str:
    return "/meetings/" + quote(str(meeting_id), safe="")


def _candidates(
    listed: list[Mapping[str, Any]], request: MeetingRequest
) -> list[Mapping[str, Any]]:
    """Listed meetings worth reading in full, most likely first."""
    marked = [m for m in listed if meeting_marker_of(m) == request.marker
              or request.marker in str(m.get("agenda") or "")]
    same_time = [m for m in listed if _same_start(m, request) and m not in marked]
    topic = truncate(request.topic, TOPIC_MAX)
    same_topic = [m for m in listed if m.get("topic") == topic
                  and m not in marked and m not in same_time]
    return [*marked, *same_time, *same_topic]


def _same_start(item: Mapping[str, Any], request: MeetingRequest) -> bool:
    start = parse_time(item.get("start_time"))
    return start is not None and abs(start - request.start) < timedelta(minutes=1)
