"""What a platform adapter is: the meeting asked for, the meeting that comes back, the methods.

A platform adapter turns a :class:`MeetingRequest` into a :class:`Meeting` on one video
platform. Adapters are registered by plugins through
:func:`~s3events.hookspecs.s3events_register_platforms` and chosen by their ``name``.

The host (start) URL of a meeting is a secret: it is a :class:`~pydantic.SecretStr`, never
shown in reprs or logs, never written into participant messages or calendar files.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from ..models import MeetingOptions

__all__ = [
    "AttendanceInterval",
    "AttendanceRecord",
    "DialIn",
    "Meeting",
    "MeetingRequest",
    "Participant",
    "PlatformAdapter",
    "PlatformOptions",
    "covered_seconds",
    "meeting_marker",
]


def meeting_marker(series_id: str, session_id: str, generation: int = 0) -> str:
    """A stable, opaque marker for one session's meeting: the same on every run and machine.

    Adapters put it on the meeting (Zoom tracking field, Webex integration tag, Graph
    externalId, Google event id) so a meeting created just before a crash can be found again.
    ``generation`` counts how often the session's meeting was made anew (after it was deleted
    on the platform by hand, or the session was cancelled and rescheduled): a new meeting gets
    a new marker, because some platforms never reuse the id of a deleted one. The marker is 32
    characters of ``[a-z0-9]``, starting with ``s3e``.
    """
    key = f"s3events\x00{series_id}\x00{session_id}"
    if generation:
        key += f"\x00{generation}"
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"s3e{digest[:29]}"


class MeetingRequest(BaseModel):
    """What is asked of the platform for one session."""

    model_config = ConfigDict(frozen=True)

    series_id: str
    session_id: str
    topic: str = Field(description="Title, in the series' default language.")
    start: datetime = Field(description="Start as an aware datetime in UTC.")
    timezone: str = Field(description="IANA zone the meeting is scheduled in (display).")
    duration: timedelta
    agenda: str = ""
    language: str = "en"
    settings: MeetingOptions = Field(default_factory=MeetingOptions)
    join_url: str | None = Field(default=None, description="Given link (static platform).")
    passcode: SecretStr | None = None
    generation: int = Field(
        default=0, ge=0, description="How often this session's meeting was made anew."
    )
    attendance_callback_url: SecretStr | None = Field(
        default=None,
        exclude=True,
        description=(
            "A signed address on the event page where the platform may post its attendance "
            "report when the meeting ends (BigBlueButton's learning-analytics callback). "
            "Secret: whoever knows it can post a report. Not part of the fingerprint."
        ),
    )
    secret: SecretStr | None = Field(
        default=None,
        exclude=True,
        description=(
            "A random secret kept in the state database, for adapters that derive unguessable "
            "names from it (jitsi rooms). Never sent anywhere; not part of the fingerprint."
        ),
    )

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("start must be an aware datetime")
        return value

    @property
    def end(self) -> datetime:
        """Start plus duration."""
        return self.start + self.duration

    @property
    def marker(self) -> str:
        """The stable marker of this session's meeting (see :func:`meeting_marker`)."""
        return meeting_marker(self.series_id, self.session_id, self.generation)

    @property
    def duration_minutes(self) -> int:
        """Duration in whole minutes, rounded up."""
        return -(-int(self.duration.total_seconds()) // 60)

    def fingerprint(self) -> str:
        """A hash of everything that, when changed, needs the meeting updated.

        The marker's generation and the state secret are left out; a passcode counts only
        through its own hash, so the fingerprint can be stored without revealing it.
        """
        data = self.model_dump(mode="json", exclude={"passcode", "generation", "secret"})
        if self.passcode is not None:
            secret = self.passcode.get_secret_value().encode()
            data["passcode"] = hashlib.sha256(secret).hexdigest()
        encoded = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(encoded.encode()).hexdigest()[:16]


class DialIn(BaseModel):
    """A telephone dial-in number."""

    model_config = ConfigDict(frozen=True)

    number: str
    country: str | None = None
    label: str | None = None


class Meeting(BaseModel):
    """A meeting as the platform reports it.

    ``host_url`` is the link that starts the meeting as host: a secret, kept out of reprs,
    logs, messages and calendar files. ``extra`` holds non-secret vendor data such as the
    Webex meeting number.
    """

    model_config = ConfigDict(frozen=True)

    platform: str
    meeting_id: str
    join_url: str
    passcode: SecretStr | None = None
    dial_in: list[DialIn] = Field(default_factory=list)
    host_url: SecretStr | None = None
    start: datetime | None = None
    duration: timedelta | None = None
    topic: str | None = None
    marker: str | None = None
    per_participant_links: bool = Field(
        default=False, description="True when each participant gets their own join link."
    )
    extra: dict[str, Any] = Field(default_factory=dict)

    def without_host_url(self) -> Meeting:
        """A copy without the host URL: what may travel towards participants."""
        return self.model_copy(update={"host_url": None})


class Participant(BaseModel):
    """Who a per-participant join link is for (no more personal data than needed)."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    email: str | None = None
    moderator: bool = False


class AttendanceInterval(BaseModel):
    """One stay in a meeting: from a join to the matching leave, aware UTC."""

    model_config = ConfigDict(frozen=True)

    joined: datetime
    left: datetime

    @field_validator("joined", "left")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("join and leave times must be aware datetimes")
        return value.astimezone(timezone.utc)

    @field_validator("left")
    @classmethod
    def _ordered(cls, value: datetime, info: Any) -> datetime:
        joined = info.data.get("joined")
        if joined is not None and value < joined:
            raise ValueError("a participant cannot leave before joining")
        return value

    @property
    def seconds(self) -> int:
        """Length of the stay in whole seconds."""
        return int((self.left - self.joined).total_seconds())


def covered_seconds(intervals: Iterable[AttendanceInterval]) -> int:
    """Seconds covered by at least one of ``intervals``: overlapping stays count once.

    A person in a meeting from a laptop and, for the audio, a phone at the same time is there
    once. Adapters use it for :attr:`AttendanceRecord.seconds` where the platform reports
    no total of its own.
    """
    total, reach = 0.0, None
    for stay in sorted(intervals, key=lambda i: i.joined):
        if reach is None or stay.joined > reach:
            total += (stay.left - stay.joined).total_seconds()
            reach = stay.left
        elif stay.left > reach:
            total += (stay.left - reach).total_seconds()
            reach = stay.left
    return int(total)


class AttendanceRecord(BaseModel):
    """One participant of an ended meeting, as the platform reports them.

    ``identity`` is the platform's own id of the participant (a Zoom participant or user id,
    a Webex participant id, a Graph identity id, a Meet participant name, a BigBlueButton
    ``userID`` — which s3events sets to the registration's id): stable within the meeting,
    never shown to other participants. ``email`` is given only where the platform reports
    one. ``intervals`` holds each join and leave; a person who rejoined has several.
    ``seconds`` is the total the platform reports, or the sum of the intervals.
    """

    model_config = ConfigDict(frozen=True)

    name: str
    email: str | None = None
    identity: str | None = None
    intervals: tuple[AttendanceInterval, ...] = ()
    seconds: int = Field(default=0, ge=0)

    @property
    def first_join(self) -> datetime | None:
        """The earliest join, if any interval is known."""
        return min((i.joined for i in self.intervals), default=None)

    @property
    def last_leave(self) -> datetime | None:
        """The latest leave, if any interval is known."""
        return max((i.left for i in self.intervals), default=None)


class PlatformOptions(BaseModel):
    """Base of every adapter's options model. Secrets are :class:`SecretStr`."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PlatformAdapter(ABC):
    """Base class of platform adapters.

    Subclasses set ``name`` (the string in series files), ``options_model`` and implement
    the four meeting methods. ``create_meeting`` must not make a second meeting for the same
    ``request.marker``: use the platform's idempotency key where it has one, and implement
    :meth:`find_meeting` where it does not, so provisioning can reconcile after a crash.
    Errors are raised as :mod:`s3events.errors` classes, never as vendor exceptions.
    """

    name: ClassVar[str]
    options_model: ClassVar[type[PlatformOptions]] = PlatformOptions
    #: True when the platform itself refuses duplicates for one marker (Graph createOrGet,
    #: Google event id, BigBlueButton meetingID, Jitsi/static which create nothing).
    idempotent_create: ClassVar[bool] = False
    #: True when meetings live on the platform and can be deleted there by hand; provisioning
    #: then checks each one with :meth:`get_meeting`. False for platforms where s3events only
    #: builds links and nothing exists remotely ahead of time (jitsi, static).
    stores_meetings: ClassVar[bool] = True
    #: One-line description for ``s3events plugins`` and the docs.
    description: ClassVar[str] = ""
    #: True when :meth:`get_attendance` asks the platform who attended an ended meeting.
    #: Platforms without such an API (jitsi, static) leave it False: their attendance comes
    #: from a file with ``s3events attendance import``.
    supports_attendance: ClassVar[bool] = False
    #: True when the platform can only say who is in a meeting *now*
    #: (:meth:`attendance_now`): s3events then polls it while the session runs and builds
    #: each participant's intervals from what it sees (BigBlueButton's getMeetingInfo).
    polls_attendance: ClassVar[bool] = False

    def __init__(self, options: PlatformOptions | None = None, **kwargs: Any) -> None:
        self.options = options if options is not None else self.options_model()

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> PlatformAdapter:
        """Build the adapter from file options overlaid by ``S3EVENTS_<NAME>_<OPTION>``."""
        from ..config import resolve_options

        return cls(resolve_options("platform", cls.name, cls.options_model, options, environ),
                   **kwargs)

    @abstractmethod
    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Create the meeting for ``request`` (or return the one already made for its marker)."""

    @abstractmethod
    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """Change ``meeting`` to match ``request``; return the meeting as it now is."""

    @abstractmethod
    def delete_meeting(self, meeting: Meeting) -> None:
        """Delete ``meeting``. A meeting that is already gone counts as deleted."""

    @abstractmethod
    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The meeting with ``meeting_id``, or ``None`` if the platform no longer has it."""

    def find_meeting(self, request: MeetingRequest) -> Meeting | None:
        """Look up the meeting carrying ``request.marker``, for reconciliation after a crash.

        Adapters without ``idempotent_create`` should implement this; the default finds
        nothing.
        """
        return None

    def validate_request(self, request: MeetingRequest) -> None:
        """Raise :class:`~s3events.errors.ConfigurationError` if ``request`` cannot be met.

        Called by ``s3events plan`` before anything is written, so problems in the series
        file show up early (the static platform needs a link per session). Default: no check.
        """

    def fingerprint(self, request: MeetingRequest) -> str:
        """What provisioning compares to decide that a meeting needs an update.

        The default is :meth:`MeetingRequest.fingerprint`. Adapters whose links depend on
        their options (a Jitsi domain) mix those in, so changing them updates the meetings.
        """
        return request.fingerprint()

    def join_url_for(self, meeting: Meeting, participant: Participant) -> str:
        """The join link for one participant (default: the meeting's shared link)."""
        return meeting.join_url

    def prepare(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """Make the meeting usable just before links go out (BigBlueButton creates it here)."""
        return meeting

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who attended ``meeting`` once it has ended: one record per participant.

        An optional capability: adapters that implement it set ``supports_attendance``.
        Follow the platform's pagination to the end; raise :mod:`s3events.errors` classes
        (:class:`~s3events.errors.NotFound` when the platform has no report for the meeting
        yet). The default raises :class:`~s3events.errors.ConfigurationError` naming the
        platform and the import command.
        """
        from ..errors import ConfigurationError

        raise ConfigurationError(
            f"platform '{self.name}' does not report attendance; import the participant "
            "report instead: s3events attendance import SERIES FILE --session ID")

    def attendance_now(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who is in ``meeting`` at this moment (no intervals needed): for polling adapters.

        Adapters that set ``polls_attendance`` implement it; an empty list means nobody is
        in (or the meeting is not running). The default raises
        :class:`~s3events.errors.ConfigurationError`.
        """
        from ..errors import ConfigurationError

        raise ConfigurationError(f"platform '{self.name}' cannot be polled for attendance")

    def attendance_from_callback(
        self, body: bytes, content_type: str, *, headers: Mapping[str, str] | None = None,
    ) -> list[AttendanceRecord]:
        """Read an attendance report the platform posted to ``attendance_callback_url``.

        The event page (``s3events serve``) checks the URL's signature before calling this;
        the adapter parses the vendor's payload. ``headers`` are the request's headers, for
        platforms that also sign their posts (BigBlueButton sends a JWT made with its shared
        secret): when given, the adapter checks that signature too and raises
        :class:`~s3events.errors.AuthenticationError` when it is missing or wrong. Raise
        :class:`~s3events.errors.InvalidRequest` for a body it cannot read. The default
        raises :class:`~s3events.errors.ConfigurationError` (the platform posts no reports).
        """
        from ..errors import ConfigurationError

        raise ConfigurationError(f"platform '{self.name}' posts no attendance reports")

    def close(self) -> None:
        """Release connections."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} options={self.options!r}>"
