"""The ``google-meet`` platform: one Google Calendar event with a Meet conference per session.

Creation is idempotent: the event id is derived from the session's marker and the conference
``requestId`` is the marker, so repeating ``events.insert`` after a timeout or a crash gets
**409 duplicate**, and the adapter reads the existing event instead. Google creates the
conference asynchronously: while ``conferenceData.createRequest.status.statusCode`` is
``pending`` the adapter polls ``events.get`` with backoff (a bounded number of times, then
:class:`~s3events.errors.ServiceUnavailable`; running again later picks the event up).

Every insert and patch carries ``conferenceDataVersion=1``. Deleting an event that is already
gone (404 or 410) counts as done; a lookup of a cancelled event, or of one whose Meet link was
removed by hand, finds no meeting.

Attendance comes from the Meet REST API (``meet_api_base_url``), with a token of its own scope
(``meetings.space.readonly``): see :mod:`s3events_google_meet.attendance`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar, Literal
from urllib.parse import quote, urlsplit

import requests
from pydantic import Field, SecretStr, field_validator, model_validator

from s3events.errors import InvalidRequest, NotFound, ServiceUnavailable
from s3events.http import HttpBacked, TokenProvider
from s3events.platforms.base import (
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    PlatformAdapter,
    PlatformOptions,
)

from .attendance import MeetAttendance
from .auth import RefreshTokenTokens, ServiceAccountTokens
from .client import CALENDAR_SCOPE, MEET_HINTS, MEET_SCOPE, GoogleHttpClient
from .events import (
    PLATFORM,
    conference_request,
    conference_status,
    event_body,
    event_id_for,
    meeting_from_event,
)

__all__ = ["GoogleMeetAdapter", "GoogleMeetOptions"]

CREDENTIALS_HELP = (
    "google-meet needs either service_account_file + subject (domain-wide delegation) or "
    "client_id + client_secret + refresh_token (set them in the series file or as "
    "S3EVENTS_GOOGLE_MEET_<OPTION>)")
FAILURE_HINT = (
    "check that Google Meet is turned on for the subject's organisational unit (Admin console → "
    "Apps → Google Workspace → Google Meet) and that the calendar allows Meet conferences")


class GoogleMeetOptions(PlatformOptions):
    """Options of the ``google-meet`` platform (``S3EVENTS_GOOGLE_MEET_<OPTION>``)."""

    calendar_id: str = Field(default="primary", description="Calendar holding the events.")
    service_account_file: Path | None = Field(
        default=None, description="Service-account JSON key (domain-wide delegation).")
    subject: str | None = Field(default=None, description="Workspace user to act as.")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    api_base_url: str = "https://www.googleapis.com/calendar/v3"
    meet_api_base_url: str = Field(
        default="https://meet.googleapis.com/v2",
        description="The Google Meet REST API, read for attendance.")
    token_url: str = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL
    send_updates: Literal["all", "externalOnly", "none"] = "none"

    @field_validator("api_base_url", "meet_api_base_url", "token_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> GoogleMeetOptions:
        delegation = {"service_account_file": self.service_account_file, "subject": self.subject}
        oauth = {"client_id": self.client_id, "client_secret": self.client_secret,
                 "refresh_token": self.refresh_token}
        used = [group for group in (delegation, oauth) if any(group.values())]
        if len(used) != 1:
            extra = "; not both" if used else ""
            raise ValueError(CREDENTIALS_HELP + extra)
        missing = [name for name, value in used[0].items() if not value]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}: {CREDENTIALS_HELP}")
        return self

    def token_provider(self, clock: Callable[[], float],
                       scope: str = CALENDAR_SCOPE) -> TokenProvider:
        """The token provider for the configured way of authenticating, for ``scope``.

        With delegation the token asks for ``scope`` alone; a refresh token carries the
        scopes the user granted (Calendar, and Meet for attendance).
        """
        if self.service_account_file is not None and self.subject:
            return ServiceAccountTokens(self.service_account_file, self.subject,
                                        token_url=self.token_url, clock=clock, scope=scope)
        assert self.client_id and self.client_secret and self.refresh_token  # validated above
        return RefreshTokenTokens(self.client_id, self.client_secret, self.refresh_token,
                                  token_url=self.token_url, clock=clock)


class GoogleMeetAdapter(HttpBacked, PlatformAdapter):
    """Google Calendar events with Google Meet conferences; see the module documentation."""

    name: ClassVar[str] = PLATFORM
    options_model: ClassVar[type[PlatformOptions]] = GoogleMeetOptions
    idempotent_create: ClassVar[bool] = True
    supports_attendance: ClassVar[bool] = True
    description: ClassVar[str] = (
        "Google Meet through Google Calendar events (service account with domain-wide "
        "delegation, or OAuth refresh token)")
    #: How often to look again while Google is still creating the conference.
    poll_attempts: ClassVar[int] = 6
    poll_delay: ClassVar[float] = 1.0
    poll_max_delay: ClassVar[float] = 16.0
    options: GoogleMeetOptions

    def __init__(
        self,
        options: GoogleMeetOptions,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(options)
        self.options = options
        self._sleep = sleep
        self._clock = clock
        self.http = GoogleHttpClient(
            PLATFORM, options.api_base_url, session=session, sleep=sleep, timeout=30.0,
            token_provider=options.token_provider(clock))
        # Same session (closed with self.http), its own token: the Meet scope is asked for
        # only when attendance is read, so a delegation without it still makes meetings.
        self.meet = GoogleHttpClient(
            PLATFORM, options.meet_api_base_url, session=self.http.session, sleep=sleep,
            timeout=30.0, token_provider=options.token_provider(clock, MEET_SCOPE),
            scope=MEET_SCOPE, hints=MEET_HINTS)

    # -- the four meeting methods ---------------------------------------------------------

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Insert the session's event with a Meet conference, or reuse the one already there."""
        event_id = event_id_for(request.marker)
        body = {"id": event_id, **event_body(request),
                "conferenceData": conference_request(request.marker)}
        response = self.http.request(
            "POST", self._events(), params=self._write_params(), json=body, idempotent=True,
            action="create the event", ok=lambda r: r.status_code < 400 or r.status_code == 409)
        if response.status_code == 409:
            event = self._existing(event_id, request)
        else:
            event = _json(response, "create the event")
        return self._ready(event, request)

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """Patch title, agenda, start and end; the Meet conference stays as it is."""
        event = self._patch(meeting.meeting_id, event_body(request), "update the event")
        return self._ready(event, request)

    def delete_meeting(self, meeting: Meeting) -> None:
        """Delete the event; one that is already gone (404 or 410) counts as deleted."""
        self.http.request(
            "DELETE", self._events(meeting.meeting_id),
            params={"sendUpdates": self.options.send_updates}, action="delete the event",
            ok=lambda r: r.status_code < 400 or r.status_code in (404, 410))

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The meeting of event ``meeting_id``, or ``None`` when there is none to use.

        ``None`` when the event is gone, cancelled, or has no Meet conference any more
        (removed by hand): provisioning then makes the meeting anew.
        """
        event = self._get(meeting_id)
        if event is None or event.get("status") == "cancelled":
            return None
        if conference_status(event) is None:
            return None
        return meeting_from_event(self._await_conference(event), calendar_id=self._calendar)

    def find_meeting(self, request: MeetingRequest) -> Meeting | None:
        """The meeting of ``request``, by the event id derived from its marker."""
        return self.get_meeting(event_id_for(request.marker))

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who took part in ``meeting``'s conferences during the session (Meet REST API).

        Meet gives names and Google user ids, no addresses: ``email`` is ``None`` and
        s3events matches these records to registrations by name.
        """
        return MeetAttendance(self.meet).report(meeting)

    # -- helpers --------------------------------------------------------------------------

    @property
    def _calendar(self) -> str:
        return self.options.calendar_id

    def _events(self, event_id: str | None = None) -> str:
        path = f"calendars/{quote(self._calendar, safe='')}/events"
        return f"{path}/{quote(event_id, safe='')}" if event_id else path

    def _write_params(self) -> dict[str, str]:
        return {"conferenceDataVersion": "1", "sendUpdates": self.options.send_updates}

    def _get(self, event_id: str) -> dict[str, Any] | None:
        response = self.http.request(
            "GET", self._events(event_id), action="read the event",
            ok=lambda r: r.status_code < 400 or r.status_code in (404, 410))
        if response.status_code in (404, 410):
            return None
        return _json(response, "read the event")

    def _patch(self, event_id: str, body: dict[str, Any], action: str) -> dict[str, Any]:
        response = self.http.request(
            "PATCH", self._events(event_id), params=self._write_params(), json=body,
            idempotent=True, action=action)
        return _json(response, action)

    def _existing(self, event_id: str, request: MeetingRequest) -> dict[str, Any]:
        """The event a 409 says exists; revived if it was deleted (cancelled)."""
        event = self._get(event_id)
        if event is None:
            raise InvalidRequest(
                f"Google Calendar says event {event_id} exists but cannot show it",
                service=PLATFORM, session_id=request.session_id,
                hint="the session's event id was used by an event that is now purged; "
                     "provisioning makes the meeting anew under a new id")
        if event.get("status") == "cancelled":
            body = {**event_body(request), "status": "confirmed"}
            event = self._patch(event_id, body, "restore the event")
        return event

    def _ready(self, event: dict[str, Any], request: MeetingRequest) -> Meeting:
        """The meeting once its conference exists: added if missing, awaited if pending."""
        if conference_status(event) is None:
            request_id = f"{request.marker}-{int(self._clock())}"
            event = self._patch(str(event["id"]), {"conferenceData": conference_request(
                request_id)}, "add a Meet conference to the event")
        try:
            event = self._await_conference(event)
        except ServiceUnavailable as exc:
            exc.session_id = request.session_id
            raise
        return meeting_from_event(event, calendar_id=self._calendar)

    def _await_conference(self, event: dict[str, Any]) -> dict[str, Any]:
        """Poll ``events.get`` with backoff while the conference is ``pending`` (bounded)."""
        for attempt in range(self.poll_attempts + 1):
            status = conference_status(event)
            if status == "failure":
                raise InvalidRequest(
                    f"Google could not create the Meet conference of event {event.get('id')}",
                    service=PLATFORM, hint=FAILURE_HINT)
            if status != "pending" or attempt == self.poll_attempts:
                break
            self._sleep(min(self.poll_max_delay, self.poll_delay * 2 ** attempt))
            found = self._get(str(event["id"]))
            if found is None:
                raise NotFound(f"event {event.get('id')} disappeared while its Meet conference "
                               "was being created", service=PLATFORM)
            event = found
        if conference_status(event) == "pending":
            raise ServiceUnavailable(
                f"Google is still creating the Meet conference of event {event.get('id')} "
                f"after {self.poll_attempts} checks", service=PLATFORM,
                hint="run provisioning again in a few minutes: the event exists and is reused")
        return event


def _json(response: requests.Response, action: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict) or not body.get("id"):
        raise ServiceUnavailable(f"Google Calendar answered '{action}' without an event",
                                 service=PLATFORM, status=response.status_code)
    return body
