"""The ``webex`` platform: one scheduled Webex meeting per session (Webex Meetings REST API).

Webex has no idempotency key, so a create is never retried blindly: after a timeout or a
5xx the create raises, and provisioning reconciles with :meth:`WebexAdapter.find_meeting`,
which asks Webex for meetings carrying the session's marker as an integration tag. Webex
counts failed requests against the host's scheduling quota, so requests it rejected (4xx)
are not retried, and durations Webex would refuse are caught before anything is sent.
After the session, :meth:`WebexAdapter.get_attendance` reads who took part (see
:mod:`s3events_webex.attendance`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from pydantic import SecretStr

from s3events.errors import ConfigurationError, InvalidRequest, NotFound
from s3events.http import HttpBacked, HttpClient
from s3events.platforms.base import (
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    PlatformAdapter,
    PlatformOptions,
)

from .attendance import WebexAttendance, link_pages
from .client import HINTS, WebexTokenProvider, parse_webex_error
from .payload import MAX_DURATION, MIN_DURATION, meeting_body, meeting_from_webex, webex_time

__all__ = ["WebexAdapter", "WebexOptions"]

log = logging.getLogger("s3events_webex")

#: The spec's media type for PATCH bodies (a partial meeting object, not RFC 6902 ops).
PATCH_TYPE = "application/json-patch+json"
#: How many pages of listed meetings :meth:`WebexAdapter.find_meeting` reads at most.
MAX_PAGES = 10


class WebexOptions(PlatformOptions):
    """Options of the ``webex`` platform.

    Give ``access_token``, or ``client_id`` + ``client_secret`` + ``refresh_token`` (the
    adapter then refreshes the access token itself). Every option can also come from
    ``S3EVENTS_WEBEX_<OPTION>``, for example ``S3EVENTS_WEBEX_REFRESH_TOKEN``.
    """

    access_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    host_email: str | None = None
    site_url: str | None = None
    api_base_url: str = "https://webexapis.com/v1"
    token_url: str | None = None

    @property
    def resolved_token_url(self) -> str:
        """``token_url``, or ``{api_base_url}/access_token``."""
        return self.token_url or self.api_base_url.rstrip("/") + "/access_token"


def _check_credentials(options: WebexOptions) -> None:
    refresh = {"client_id": options.client_id, "client_secret": options.client_secret,
               "refresh_token": options.refresh_token}
    if options.access_token is not None or all(refresh.values()):
        return
    missing = [name for name, value in refresh.items() if not value]
    variables = ", ".join(f"S3EVENTS_WEBEX_{name.upper()}" for name in missing)
    raise ConfigurationError(
        "platform 'webex' needs either access_token (S3EVENTS_WEBEX_ACCESS_TOKEN) or "
        f"client_id, client_secret and refresh_token; missing: {', '.join(missing)} "
        f"(set them in the series file or as {variables})"
    )


class WebexAdapter(HttpBacked, PlatformAdapter):
    """Webex meetings through ``https://webexapis.com/v1/meetings``.

    The meeting id is Webex's meeting-series id; ``join_url`` is ``webLink``; the passcode is
    ``password``; ``extra`` holds ``meetingNumber`` and the telephony ``accessCode``. With
    ``host_email`` (admin scopes) meetings are scheduled for that host.
    """

    name: ClassVar[str] = "webex"
    options_model: ClassVar[type[PlatformOptions]] = WebexOptions
    idempotent_create: ClassVar[bool] = False
    supports_attendance: ClassVar[bool] = True
    description: ClassVar[str] = "Webex meetings (integration or service app)"

    options: WebexOptions

    def __init__(
        self,
        options: PlatformOptions | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not isinstance(options, WebexOptions):
            raise TypeError("WebexAdapter needs WebexOptions (use WebexAdapter.from_options)")
        _check_credentials(options)
        super().__init__(options)
        self.tokens = WebexTokenProvider(
            token_url=options.resolved_token_url,
            access_token=_secret(options.access_token),
            client_id=options.client_id,
            client_secret=_secret(options.client_secret),
            refresh_token=_secret(options.refresh_token),
            clock=clock,
        )
        self.http = HttpClient(self.name, options.api_base_url, session=session,
                               token_provider=self.tokens, sleep=sleep, hints=HINTS,
                               error_parser=parse_webex_error, clock=clock)

    def validate_request(self, request: MeetingRequest) -> None:
        """Refuse durations Webex would reject (it counts rejected requests in its quota)."""
        if not MIN_DURATION <= request.duration <= MAX_DURATION:
            raise ConfigurationError(
                f"webex: session {request.session_id} lasts {_minutes(request.duration)}; "
                "Webex meetings last between 10 minutes and 23 h 59 min"
            )

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Create the meeting (HTTP 200). Not retried on 5xx or timeouts."""
        self.validate_request(request)
        body = meeting_body(request, host_email=self.options.host_email,
                            site_url=self.options.site_url)
        data = self.http.json("POST", "/meetings", json=body,
                              action=f"creating the meeting for session {request.session_id}")
        meeting = self._meeting(data)
        log.info("webex: created meeting %s for session %s", meeting.meeting_id,
                 request.session_id)
        return meeting

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """PATCH the meeting with the request's values (HTTP 200 with the meeting)."""
        self.validate_request(request)
        body = meeting_body(request, host_email=self.options.host_email)
        data = self.http.json(
            "PATCH", _meeting_path(meeting.meeting_id), data=_json_bytes(body),
            headers={"Content-Type": PATCH_TYPE},
            action=f"updating meeting {meeting.meeting_id} (session {request.session_id})")
        return self._meeting(data) if data else self._read_back(meeting.meeting_id)

    def delete_meeting(self, meeting: Meeting) -> None:
        """Delete the meeting without Webex emails (204); one already gone counts as deleted."""
        try:
            self.http.request("DELETE", _meeting_path(meeting.meeting_id),
                              params=self._params(sendEmail="false"),
                              action=f"deleting meeting {meeting.meeting_id}")
        except NotFound:
            log.info("webex: meeting %s was already gone", meeting.meeting_id)

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The meeting, or ``None`` when Webex no longer has it."""
        try:
            data = self.http.json("GET", _meeting_path(meeting_id), params=self._params(),
                                  action=f"reading meeting {meeting_id}")
        except NotFound:
            return None
        return self._meeting(data)

    def find_meeting(self, request: MeetingRequest) -> Meeting | None:
        """The meeting carrying ``request.marker`` as an integration tag, if any.

        Lists meeting series with ``integrationTag`` set to the marker, in a window of a
        day around the session (Webex lists a 7-day window from now by default), and
        checks the tags of what comes back.
        """
        params = self._params(
            integrationTag=request.marker, meetingType="meetingSeries", max="100",
            **{"from": webex_time(request.start - timedelta(days=1), "UTC"),
               "to": webex_time(request.end + timedelta(days=1), "UTC")})
        for item in self._listed(params):
            if request.marker in (item.get("integrationTags") or ()):
                return self.get_meeting(str(item.get("meetingSeriesId") or item["id"]))
        return None

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who took part in ``meeting`` once it ended: one record per person, every device.

        Reads the participants of each ended instance held during the session.
        :class:`~s3events.errors.NotFound` while Webex lists no ended instance (it lists
        one about 15 minutes after the meeting ends).
        """
        records = WebexAttendance(self.http, self._params).report(meeting)
        log.info("webex: %d participants in meeting %s", len(records), meeting.meeting_id)
        return records

    def _listed(self, params: dict[str, str]) -> Iterator[Mapping[str, Any]]:
        pages = link_pages(self.http, "/meetings", params,
                           action="listing meetings by integration tag")
        for number, item in enumerate(pages):
            if number >= MAX_PAGES * 100:
                return
            if item.get("id"):
                yield item

    def _params(self, **params: str) -> dict[str, str]:
        if self.options.host_email:
            params["hostEmail"] = self.options.host_email
        return params

    def _read_back(self, meeting_id: str) -> Meeting:
        found = self.get_meeting(meeting_id)
        if found is None:
            raise NotFound(f"Webex meeting {meeting_id} vanished during its update",
                           service=self.name)
        return found

    def _meeting(self, data: Any) -> Meeting:
        if not isinstance(data, Mapping) or not data.get("id"):
            raise InvalidRequest("Webex answered without a meeting object", service=self.name)
        return meeting_from_webex(data)


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def _meeting_path(meeting_id: str) -> str:
    return "/meetings/" + quote(str(meeting_id), safe="")


def _minutes(duration: timedelta) -> str:
    return f"{int(duration.total_seconds() // 60)} minutes"


def _json_bytes(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body).encode("utf-8")
