"""In-memory stand-ins: the ``fake`` video platform and the ``memory`` email transport.

Both behave like real adapters (library errors, ``Retry-After`` honoured through an injected
``sleep``, secrets kept out of reprs and logs) and pass the kit's own contracts, so tests of
provisioning and dispatch can run on them without a network. This module is a plugin: its
hooks register :class:`FakePlatform` as ``fake`` and :class:`MemoryTransport` as ``memory``
(channel ``email``); the ``s3events_pm`` fixture registers it.

State lives in named backends shared by every adapter built with the same ``backend`` (or
``mailbox``) option, so a test can look at what code under test did through an adapter it
built itself: ``fake_backend().write_calls``, ``mailbox().sent``.

The fake platform reports attendance too: a test sets who attended a meeting with
``fake_backend().set_attendance(meeting_id, records)`` (served in pages, as vendors do) and
who is in a running meeting with ``set_present``. :class:`PollingFakePlatform`
(``fake-polling``) is the same platform with ``polls_attendance`` set, as BigBlueButton
has; it is not registered by default: ``register_plugin(POLLING_PLUGIN)`` adds it.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import Field, SecretStr, TypeAdapter, ValidationError

from ..errors import InvalidRequest, NotFound, RateLimited, ServiceError, ServiceUnavailable
from ..hookspecs import hookimpl
from ..http import error_for_status
from ..platforms.base import (
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    PlatformAdapter,
    PlatformOptions,
)
from ..transports.base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = [
    "POLLING_PLUGIN",
    "FakeBackend",
    "FakeOptions",
    "FakePlatform",
    "Mailbox",
    "MemoryOptions",
    "MemoryTransport",
    "PollingFakePlatform",
    "fake_backend",
    "mailbox",
    "reset",
]

log = logging.getLogger(__name__)

WRITE_OPERATIONS = frozenset({"create", "update", "delete"})
_IDEMPOTENT = frozenset({"get", "update", "delete", "find", "attendance", "attendance_now"})
#: How many attendance records the fake platform answers per page.
ATTENDANCE_PAGE_SIZE = 2
_RECORDS = TypeAdapter(list[AttendanceRecord])


def _failure(service: str, status: int | None, *, retry_after: float | None,
             action: str) -> ServiceError:
    if status is None:
        return ServiceUnavailable(f"could not reach {service} for {action}: ConnectionError",
                                  service=service)
    return error_for_status(status, service=service, retry_after=retry_after, action=action)


@dataclass
class _Failures:
    """Errors queued per operation; each is raised once, in order."""

    queued: dict[str, list[ServiceError]] = field(default_factory=dict)

    def add(self, operation: str, error: ServiceError, times: int) -> None:
        self.queued.setdefault(operation, []).extend([error] * times)

    def pop(self, operation: str) -> ServiceError | None:
        queue = self.queued.get(operation) or []
        return queue.pop(0) if queue else None


@dataclass
class FakeBackend:
    """The fake platform's side: its meetings, every call it received, failures to come."""

    name: str = "default"
    meetings: dict[str, Meeting] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    failures: _Failures = field(default_factory=_Failures)
    created: int = 0
    attendance: dict[str, list[AttendanceRecord]] = field(default_factory=dict)
    present: dict[str, list[AttendanceRecord]] = field(default_factory=dict)
    page_size: int = ATTENDANCE_PAGE_SIZE

    @property
    def write_calls(self) -> int:
        """How many create, update and delete calls arrived (failed ones included)."""
        return sum(1 for operation, _ in self.calls if operation in WRITE_OPERATIONS)

    def fail(self, operation: str, status: int | None = None, *, times: int = 1,
             retry_after: float | None = None, error: ServiceError | None = None) -> None:
        """Make the next ``times`` calls of ``operation`` fail.

        ``operation`` is ``create``, ``update``, ``delete``, ``get``, ``find``,
        ``attendance`` (each page counts) or ``attendance_now``. The error is ``error``,
        else the one an HTTP ``status`` maps to (``None``: a connection error).
        """
        made = error or _failure("fake", status, retry_after=retry_after,
                                 action=f"{operation} (simulated)")
        self.failures.add(operation, made, times)

    def forget(self, meeting_id: str) -> None:
        """Remove a meeting as if someone deleted it on the platform by hand."""
        self.meetings.pop(meeting_id, None)

    def find(self, marker: str) -> Meeting | None:
        """The meeting carrying ``marker``, if the platform has one."""
        return next((m for m in self.meetings.values() if m.marker == marker), None)

    def set_attendance(self, meeting_id: str, records: Sequence[AttendanceRecord]) -> None:
        """Say who attended meeting ``meeting_id`` once it ended (its attendance report)."""
        self.attendance[meeting_id] = list(records)

    def set_present(self, meeting_id: str, records: Sequence[AttendanceRecord]) -> None:
        """Say who is in meeting ``meeting_id`` now (an empty list: it is not running)."""
        self.present[meeting_id] = list(records)

    def attendance_page(self, meeting_id: str,
                        page: int) -> tuple[list[AttendanceRecord], int | None]:
        """Page ``page`` of the report and the number of the next page (``None``: the last).

        :class:`~s3events.errors.NotFound` when the meeting has no report (yet).
        """
        if meeting_id not in self.attendance:
            raise NotFound(f"fake: meeting {meeting_id} has no attendance report yet",
                           service="fake", status=404)
        records = self.attendance[meeting_id]
        start = page * self.page_size
        more = start + self.page_size < len(records)
        return records[start:start + self.page_size], page + 1 if more else None


_BACKENDS: dict[str, FakeBackend] = {}


def fake_backend(name: str = "default") -> FakeBackend:
    """The named backend of the fake platform (created on first use)."""
    return _BACKENDS.setdefault(name, FakeBackend(name=name))


class FakeOptions(PlatformOptions):
    """Options of the ``fake`` platform."""

    domain: str = Field(default="meet.example.org", description="Host name of the join links.")
    api_key: SecretStr = Field(default=SecretStr("fake-api-key-0123456789"),
                               description="A stand-in credential; never shown.")
    backend: str = Field(default="default", description="Which in-memory backend to use.")


class FakePlatform(PlatformAdapter):
    """A video platform in memory: meetings, call counts and failures on demand.

    Not idempotent on create (like Zoom or Webex): creating twice makes two meetings, and
    :meth:`find_meeting` finds one by its marker. Queued 429 and 5xx failures are retried
    like :class:`~s3events.http.HttpClient` does (5xx only for idempotent operations),
    waiting ``retry_after`` seconds through the injected ``sleep``.

    It reports attendance (``supports_attendance``): :meth:`get_attendance` reads the
    backend's report page by page, :meth:`attendance_now` who is present, and
    :meth:`attendance_from_callback` a JSON list of records (as ``AttendanceRecord``
    dumps), so the event page's callback route can be tested without a real platform.
    """

    name: ClassVar[str] = "fake"
    options_model: ClassVar[type[PlatformOptions]] = FakeOptions
    idempotent_create: ClassVar[bool] = False
    stores_meetings: ClassVar[bool] = True
    supports_attendance: ClassVar[bool] = True
    description: ClassVar[str] = "In-memory video platform for tests (s3events.testing)"

    options: FakeOptions

    def __init__(self, options: PlatformOptions | None = None, *, session: Any = None,
                 sleep: Callable[[float], None] = time.sleep, attempts: int = 3) -> None:
        super().__init__(options)
        if not isinstance(self.options, FakeOptions):
            self.options = FakeOptions.model_validate(self.options.model_dump())
        self.sleep = sleep
        self.attempts = attempts

    @property
    def backend(self) -> FakeBackend:
        """The in-memory platform this adapter talks to."""
        return fake_backend(self.options.backend)

    def _call(self, operation: str, subject: str) -> None:
        attempt = 0
        while True:
            attempt += 1
            self.backend.calls.append((operation, subject))
            error = self.backend.failures.pop(operation)
            if error is None:
                return
            retryable = isinstance(error, RateLimited) or (
                isinstance(error, ServiceUnavailable) and operation in _IDEMPOTENT)
            if not retryable or attempt >= self.attempts:
                raise error
            delay = error.retry_after if error.retry_after is not None else 0.5 * attempt
            log.info("fake: %s failed (%s); retrying in %.1fs", operation, type(error).__name__,
                     delay)
            self.sleep(delay)

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """Make a new meeting carrying ``request.marker``."""
        self._call("create", request.marker)
        self.backend.created += 1
        meeting_id = f"fake-{self.backend.created}"
        meeting = Meeting(
            platform=self.name, meeting_id=meeting_id,
            join_url=f"https://{self.options.domain}/j/{meeting_id}",
            host_url=SecretStr(f"https://{self.options.domain}/host/{meeting_id}"
                               f"?key={secrets.token_urlsafe(16)}"),
            passcode=request.passcode, start=request.start, duration=request.duration,
            topic=request.topic, marker=request.marker)
        self.backend.meetings[meeting_id] = meeting
        log.debug("fake: created meeting %s for session %s", meeting_id, request.session_id)
        return meeting

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """Change start, duration, topic and passcode; :class:`NotFound` if it is gone."""
        self._call("update", meeting.meeting_id)
        current = self.backend.meetings.get(meeting.meeting_id)
        if current is None:
            raise NotFound(f"fake: meeting {meeting.meeting_id} does not exist",
                           service=self.name, status=404, session_id=request.session_id)
        updated = current.model_copy(update={
            "start": request.start, "duration": request.duration, "topic": request.topic,
            "passcode": request.passcode})
        self.backend.meetings[meeting.meeting_id] = updated
        return updated

    def delete_meeting(self, meeting: Meeting) -> None:
        """Delete the meeting; one that is already gone counts as deleted."""
        try:
            self._call("delete", meeting.meeting_id)
        except NotFound:
            log.debug("fake: meeting %s was already gone", meeting.meeting_id)
        self.backend.meetings.pop(meeting.meeting_id, None)

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """The meeting, or ``None`` when the platform no longer has it."""
        try:
            self._call("get", meeting_id)
        except NotFound:
            return None
        return self.backend.meetings.get(meeting_id)

    def find_meeting(self, request: MeetingRequest) -> Meeting | None:
        """The meeting carrying ``request.marker`` (for reconciliation after a crash)."""
        self._call("find", request.marker)
        return self.backend.find(request.marker)

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who attended ``meeting``: every page of the backend's report.

        :class:`~s3events.errors.NotFound` when no report was set for the meeting.
        """
        records: list[AttendanceRecord] = []
        page: int | None = 0
        while page is not None:
            self._call("attendance", meeting.meeting_id)
            found, page = self.backend.attendance_page(meeting.meeting_id, page)
            records.extend(found)
        return records

    def attendance_now(self, meeting: Meeting) -> list[AttendanceRecord]:
        """Who is in ``meeting`` now (empty when nobody was set present)."""
        self._call("attendance_now", meeting.meeting_id)
        return list(self.backend.present.get(meeting.meeting_id, ()))

    def attendance_from_callback(
        self, body: bytes, content_type: str, *, headers: Mapping[str, str] | None = None,
    ) -> list[AttendanceRecord]:
        """Records from a JSON list of ``AttendanceRecord`` dumps; InvalidRequest otherwise."""
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            raise InvalidRequest(f"fake: an attendance report is JSON, not {content_type!r}",
                                 service=self.name, status=415)
        try:
            return _RECORDS.validate_json(body)
        except ValidationError as exc:
            raise InvalidRequest(f"fake: not an attendance report ({exc.error_count()} "
                                 "problems)", service=self.name, status=400) from None


class PollingFakePlatform(FakePlatform):
    """The fake platform as a polled one (``fake-polling``): ``polls_attendance`` is set.

    Not registered by this module's hook: ``register_plugin(POLLING_PLUGIN)`` adds it in
    the tests that need a platform s3events polls while a session runs.
    """

    name: ClassVar[str] = "fake-polling"
    polls_attendance: ClassVar[bool] = True
    description: ClassVar[str] = "In-memory video platform polled for attendance (tests)"


class _PollingPlugin:
    """A plugin registering :class:`PollingFakePlatform` (``fake-polling``)."""

    @hookimpl
    def s3events_register_platforms(self) -> list[type[PlatformAdapter]]:
        """The ``fake-polling`` platform."""
        return [PollingFakePlatform]


#: Register it (``register_plugin(POLLING_PLUGIN)``) to have the ``fake-polling`` platform.
POLLING_PLUGIN = _PollingPlugin()


@dataclass
class Mailbox:
    """What the memory transport delivered (every send, duplicates included) and will fail."""

    name: str = "default"
    sent: list[OutgoingMessage] = field(default_factory=list)
    attempts: int = 0
    failures: _Failures = field(default_factory=_Failures)

    def fail(self, status: int | None = None, *, times: int = 1,
             retry_after: float | None = None, error: ServiceError | None = None) -> None:
        """Make the next ``times`` sends fail (HTTP ``status`` mapped; ``None``: unreachable)."""
        made = error or _failure("memory", status, retry_after=retry_after,
                                 action="sending (simulated)")
        self.failures.add("send", made, times)

    def to(self, recipient: str) -> list[OutgoingMessage]:
        """The messages delivered to ``recipient``."""
        return [m for m in self.sent if m.recipient == recipient]

    def keys(self) -> list[str]:
        """The ledger keys of the delivered messages, in order."""
        return [m.key for m in self.sent]


_MAILBOXES: dict[str, Mailbox] = {}


def mailbox(name: str = "default") -> Mailbox:
    """The named mailbox of the memory transport (created on first use)."""
    return _MAILBOXES.setdefault(name, Mailbox(name=name))


def reset() -> None:
    """Forget every fake backend and mailbox (the fixtures call this before each test)."""
    _BACKENDS.clear()
    _MAILBOXES.clear()


class MemoryOptions(TransportOptions):
    """Options of the ``memory`` transport."""

    mailbox: str = Field(default="default", description="Which in-memory mailbox to use.")
    token: SecretStr = Field(default=SecretStr("memory-token-0123456789"),
                             description="A stand-in credential; never shown.")


class MemoryTransport(Transport):
    """An email transport that keeps every message in memory instead of sending it.

    It never retries by itself: a queued failure is raised (``RateLimited`` with its
    ``retry_after``), as the dispatcher retries later.
    """

    name: ClassVar[str] = "memory"
    channel: ClassVar[str] = "email"
    options_model: ClassVar[type[TransportOptions]] = MemoryOptions
    description: ClassVar[str] = "Keeps messages in memory, for tests (s3events.testing)"

    options: MemoryOptions

    def __init__(self, options: TransportOptions | None = None, **kwargs: Any) -> None:
        super().__init__(options)
        if not isinstance(self.options, MemoryOptions):
            self.options = MemoryOptions.model_validate(self.options.model_dump())

    @property
    def mailbox(self) -> Mailbox:
        """Where this transport delivers."""
        return mailbox(self.options.mailbox)

    @property
    def sent(self) -> list[OutgoingMessage]:
        """Every message delivered so far (a retried message appears once per delivery)."""
        return self.mailbox.sent

    def fail(self, status: int | None = None, *, times: int = 1,
             retry_after: float | None = None, error: ServiceError | None = None) -> None:
        """Make the next sends fail; see :meth:`Mailbox.fail`."""
        self.mailbox.fail(status, times=times, retry_after=retry_after, error=error)

    def send(self, message: OutgoingMessage) -> SendResult:
        """Keep ``message``; raise the next queued failure instead, if there is one."""
        box = self.mailbox
        box.attempts += 1
        error = box.failures.pop("send")
        if error is not None:
            raise error
        box.sent.append(message)
        log.debug("memory: kept %s message %s", message.kind, message.key)
        return SendResult(provider_id=f"memory-{len(box.sent)}")


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """The ``fake`` platform."""
    return [FakePlatform]


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """The ``memory`` transport."""
    return [MemoryTransport]
