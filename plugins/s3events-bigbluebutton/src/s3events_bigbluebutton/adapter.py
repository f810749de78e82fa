"""The ``bigbluebutton`` platform: a stable meeting per session, created on the server just in time.

A BigBlueButton meeting exists only while it runs: one that is created and never joined is
removed after ``meetingExpireIfNoUserJoinedInMinutes`` (5 by default). So the adapter splits
"provision" from "create":

* :meth:`~BigBlueButtonAdapter.create_meeting` makes **no API call**. It fixes the meeting id
  of the session (derived from the session's marker, the same on every run) and returns a
  planned :class:`~s3events.platforms.base.Meeting`. Its ``join_url`` is the server's address,
  which lets nobody in; ``per_participant_links`` is true.
* :meth:`~BigBlueButtonAdapter.join_url_for` signs one ``join`` link per participant, always
  with ``role=VIEWER``. The moderator link exists only as the secret ``Meeting.host_url``.
* :meth:`~BigBlueButtonAdapter.prepare` calls the API ``create`` (idempotent for one meeting
  id: a repeat answers ``duplicateWarning``). Call it just before links are released or when
  the host starts; the meeting is then kept until the session's end even if nobody joins yet.
* :meth:`~BigBlueButtonAdapter.get_meeting` asks ``getMeetingInfo``; a meeting that is not
  running still exists as a plan, so it is returned (``extra["running"]`` is false), never
  ``None``.
* :meth:`~BigBlueButtonAdapter.update_meeting` changes nothing on the server (parameters are
  sent at ``create`` time) and :meth:`~BigBlueButtonAdapter.delete_meeting` calls ``end``.

Attendance (see :mod:`s3events_bigbluebutton.attendance`): a meeting created with the
request's ``attendance_callback_url`` sends its learning-analytics report there when it
ends (:meth:`~BigBlueButtonAdapter.attendance_from_callback` reads it), and
:meth:`~BigBlueButtonAdapter.attendance_now` says who is in while it runs
(``polls_attendance``). Either way each person is known by the join link's ``userID``, the
registration's own id.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

import requests
from pydantic import Field, SecretStr, field_validator

from s3events.errors import ConfigurationError, ServiceUnavailable
from s3events.http import HttpBacked, HttpClient
from s3events.platforms.base import (
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    Participant,
    PlatformAdapter,
    PlatformOptions,
)

from .api import MAX_RESPONSE_BYTES, ChecksumAlgorithm, Reply, parse_reply, raise_for_reply
from .api import signed_url as _signed_url
from .attendance import analytics_records, present_records, verify_callback_token

__all__ = ["BigBlueButtonAdapter", "BigBlueButtonOptions", "GuestPolicy"]

GuestPolicy = Literal["ALWAYS_ACCEPT", "ALWAYS_DENY", "ASK_MODERATOR"]

#: The server's own minimum lifetime of a meeting nobody has joined yet.
MIN_EXPIRY_MINUTES = 5
#: The create parameter that makes the server post its analytics report when the meeting ends.
ANALYTICS_CALLBACK = "meta_analytics-callback-url"
_QUERY = re.compile(r"\?[^\s'\"]*")


def _without_query(text: str) -> str:
    """``text`` with every URL query cut: call URLs carry the callback address and checksums."""
    return _QUERY.sub("?…", text)


class BigBlueButtonOptions(PlatformOptions):
    """Options of the ``bigbluebutton`` platform (``S3EVENTS_BIGBLUEBUTTON_<OPTION>``)."""

    api_base_url: str = Field(
        description="The server's API root, e.g. https://bbb.example.org/bigbluebutton/api")
    secret: SecretStr = Field(description="The shared secret (`bbb-conf --secret`).")
    checksum_algorithm: ChecksumAlgorithm = "sha256"
    welcome: str | None = Field(default=None, description="Welcome message in the chat.")
    guest_policy: GuestPolicy | None = Field(
        default=None,
        description="Default: ASK_MODERATOR when the series asks for a waiting room, "
        "else ALWAYS_ACCEPT.")
    moderator_name: str = Field(default="Host", description="Name shown for the host link.")

    @field_validator("api_base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc:
            raise ValueError("must be the server's API URL, https://HOST/bigbluebutton/api")
        return value.rstrip("/")


class BigBlueButtonAdapter(HttpBacked, PlatformAdapter):
    """BigBlueButton through its checksum-signed API; see the module documentation."""

    name: ClassVar[str] = "bigbluebutton"
    options_model: ClassVar[type[PlatformOptions]] = BigBlueButtonOptions
    idempotent_create: ClassVar[bool] = True
    #: Nothing exists on the server ahead of time, so provisioning has nothing to check.
    stores_meetings: ClassVar[bool] = False
    #: getMeetingInfo says who is in a running meeting; the server keeps nothing afterwards
    #: but what it posts to the analytics callback.
    polls_attendance: ClassVar[bool] = True
    description: ClassVar[str] = (
        "BigBlueButton: stable meeting id per session, created just in time, one signed "
        "VIEWER link per participant")
    options: BigBlueButtonOptions

    def __init__(
        self,
        options: BigBlueButtonOptions,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(options)
        self.options = options
        self._clock = clock
        self.http = HttpClient(
            self.name, options.api_base_url, session=session, sleep=sleep, timeout=30.0,
            redact=_without_query)

    # -- the four meeting methods ---------------------------------------------------------

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Fix the session's meeting id and return the planned meeting; no API call."""
        return self._meeting(
            request.marker, topic=request.topic, guest_policy=self._guest_policy(request),
            extra={}, start=request.start, duration=request.duration)

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """Return the meeting as ``request`` now plans it; nothing changes on the server.

        Meeting parameters are sent with ``create`` (in :meth:`prepare`); a meeting that is
        already running keeps the parameters it was created with.
        """
        return self._meeting(
            meeting.meeting_id, topic=request.topic, guest_policy=self._guest_policy(request),
            extra=dict(meeting.extra), start=request.start, duration=request.duration)

    def delete_meeting(self, meeting: Meeting) -> None:
        """End the meeting if it is running; a meeting that is not running counts as done."""
        reply = self._call("end", [("meetingID", meeting.meeting_id)])
        if reply.message_key != "notFound":
            raise_for_reply(reply, call="end")

    def get_meeting(self, meeting_id: str) -> Meeting:
        """The meeting with ``meeting_id``; ``extra["running"]`` says whether it runs now.

        A meeting that is not running is returned too, built from its stable id: it exists as
        a plan and :meth:`prepare` creates it on the server when it is needed.
        """
        reply = self._call("getMeetingInfo", [("meetingID", meeting_id)])
        if reply.message_key == "notFound":
            return self._meeting(meeting_id, extra={"running": False})
        raise_for_reply(reply, call="getMeetingInfo")
        return self._meeting(
            meeting_id, topic=reply.fields.get("meetingName") or None,
            extra={"running": reply.fields.get("running") == "true",
                   "participant_count": int(reply.fields.get("participantCount") or 0),
                   **_instance(reply)})

    def find_meeting(self, request: MeetingRequest) -> Meeting:
        """The meeting of ``request``: its id is derived from the marker, so it always exists."""
        return self.get_meeting(request.marker)

    def fingerprint(self, request: MeetingRequest) -> str:
        """The request's fingerprint mixed with the options the stored host link depends on.

        Changing the server, the secret, the algorithm or the host's name then updates the
        planned meeting (and its host link) on the next provisioning run. The secret enters
        only through a hash.
        """
        opts = self.options
        secret = hashlib.sha256(opts.secret.get_secret_value().encode()).hexdigest()
        mixed = "\x00".join([request.fingerprint(), opts.api_base_url, opts.checksum_algorithm,
                             opts.moderator_name, opts.guest_policy or "", secret])
        return hashlib.sha256(mixed.encode()).hexdigest()[:16]

    # -- links and the just-in-time create ------------------------------------------------

    def join_url_for(self, meeting: Meeting, participant: Participant) -> str:
        """A signed ``join`` link for one participant: always ``role=VIEWER``.

        Moderators join through ``Meeting.host_url``. When the guest policy is
        ``ASK_MODERATOR`` (the waiting room) the link joins as a guest, so the moderator
        admits each participant.
        """
        params = [
            ("fullName", participant.name.strip() or "Participant"),
            ("meetingID", meeting.meeting_id),
            ("role", "VIEWER"),
            ("userID", participant.id),
            ("redirect", "true"),
        ]
        if self._policy_of(meeting) == "ASK_MODERATOR":
            params.append(("guest", "true"))
        return self._signed("join", params)

    def prepare(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """Create the meeting on the server (``create``; a repeat is ``duplicateWarning``).

        The meeting is kept until the end of the session even if nobody joins before:
        ``meetingExpireIfNoUserJoinedInMinutes`` is set from the time left.
        """
        reply = self._call("create", self._create_params(meeting, request))
        raise_for_reply(reply, call="create")
        return meeting.model_copy(update={"extra": {**meeting.extra, **_instance(reply)}})

    # -- attendance -----------------------------------------------------------------------

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Refused: BigBlueButton keeps no attendance of an ended meeting to ask for."""
        raise ConfigurationError(
            "platform 'bigbluebutton' has no attendance to fetch after a meeting: it posts "
            "its analytics report to the event page (s3events serve, with the series' base "
            "URL) or is polled while the session runs; otherwise import the participant "
            "report: s3events attendance import SERIES FILE --session ID")

    def attendance_now(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who is in ``meeting`` now, by ``getMeetingInfo``; empty when it is not running."""
        reply = self._call("getMeetingInfo", [("meetingID", meeting.meeting_id)])
        if reply.message_key == "notFound":
            return []
        raise_for_reply(reply, call="getMeetingInfo")
        return present_records(reply)

    def attendance_from_callback(
        self, body: bytes, content_type: str, *, headers: Mapping[str, str] | None = None,
    ) -> list[AttendanceRecord]:
        """The records of the learning-analytics report the server posted.

        With ``headers``, the post's JWT must be signed with the ``secret`` option
        (:class:`~s3events.errors.AuthenticationError` otherwise).
        """
        if headers is not None:
            verify_callback_token(headers, self.options.secret.get_secret_value())
        return analytics_records(body, content_type)

    # -- helpers --------------------------------------------------------------------------

    def _create_params(self, meeting: Meeting, request: MeetingRequest) -> list[tuple[str, str]]:
        settings = request.settings
        name = (request.topic.strip() or request.session_id)[:64].ljust(2, ".")
        params = [("name", name), ("meetingID", meeting.meeting_id)]
        if self.options.welcome:
            params.append(("welcome", self.options.welcome))
        recording = settings.auto_recording != "none"
        params += [
            ("record", _flag(recording)),
            ("autoStartRecording", _flag(recording)),
            ("muteOnStart", _flag(settings.mute_on_entry)),
            ("guestPolicy", self._guest_policy(request)),
            ("meetingExpireIfNoUserJoinedInMinutes", str(self._expiry_minutes(request))),
        ]
        if request.attendance_callback_url is not None:
            # keep the events even when nothing is recorded, so the report can be made
            params += [("meetingKeepEvents", "true"),
                       (ANALYTICS_CALLBACK, request.attendance_callback_url.get_secret_value())]
        return params

    def _expiry_minutes(self, request: MeetingRequest) -> int:
        left = request.end.timestamp() - self._clock()
        return max(MIN_EXPIRY_MINUTES, math.ceil(left / 60))

    def _guest_policy(self, request: MeetingRequest) -> GuestPolicy:
        if self.options.guest_policy is not None:
            return self.options.guest_policy
        return "ASK_MODERATOR" if request.settings.waiting_room else "ALWAYS_ACCEPT"

    def _policy_of(self, meeting: Meeting) -> str:
        return str(meeting.extra.get("guest_policy") or self.options.guest_policy
                   or "ALWAYS_ACCEPT")

    def _meeting(self, meeting_id: str, *, extra: dict[str, Any], topic: str | None = None,
                 guest_policy: GuestPolicy | None = None, **fields: Any) -> Meeting:
        if guest_policy is not None:
            extra = {**extra, "guest_policy": guest_policy}
        host = self._signed("join", [
            ("fullName", self.options.moderator_name), ("meetingID", meeting_id),
            ("role", "MODERATOR"), ("redirect", "true")])
        return Meeting(
            platform=self.name, meeting_id=meeting_id, join_url=self._server_url(),
            host_url=SecretStr(host), topic=topic, marker=meeting_id,
            per_participant_links=True, extra=extra, **fields)

    def _server_url(self) -> str:
        parts = urlsplit(self.options.api_base_url)
        return f"{parts.scheme}://{parts.netloc}/"

    def _signed(self, call: str, params: list[tuple[str, str]]) -> str:
        return _signed_url(
            self.options.api_base_url, call, params,
            secret=self.options.secret.get_secret_value(),
            algorithm=self.options.checksum_algorithm)

    def _call(self, call: str, params: list[tuple[str, str]]) -> Reply:
        response = self.http.request(
            "GET", self._signed(call, params), idempotent=True, action=f"'{call}'",
            stream=True)
        with response:
            return parse_reply(_read_bounded(response, call), call=call)


def _read_bounded(response: requests.Response, call: str) -> bytes:
    """The body, refusing to read more than an API reply can be."""
    body = bytearray()
    for chunk in response.iter_content(chunk_size=65536):
        body += chunk
        if len(body) > MAX_RESPONSE_BYTES:
            raise ServiceUnavailable(
                f"bigbluebutton answered '{call}' with more than {MAX_RESPONSE_BYTES} bytes",
                service="bigbluebutton", hint="check that api_base_url ends in /bigbluebutton/api")
    return bytes(body)


def _instance(reply: Reply) -> dict[str, Any]:
    """The running instance's ids from a create or getMeetingInfo reply."""
    found = {"internal_meeting_id": reply.fields.get("internalMeetingID"),
             "create_time": reply.fields.get("createTime")}
    return {key: value for key, value in found.items() if value}


def _flag(value: bool) -> str:
    return "true" if value else "false"
