"""The contracts bound to the in-memory fakes: how a non-HTTP adapter plugs into the kit.

:class:`FakePlatformContract` and :class:`MemoryTransportContract` answer the contract hooks
by steering the fakes' backends instead of registering HTTP mocks. The kit's own tests
subclass them as ``Test…`` to show that the fakes pass, and swap ``adapter_class`` /
``transport_class`` for deliberately broken subclasses to show that those fail.

``responses`` semantics are kept: an error registered alone repeats on every call; an error
followed by a success answers once, then the success follows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

import requests
import responses

from ..platforms.base import (
    AttendanceInterval,
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    PlatformAdapter,
)
from ..transports.base import OutgoingMessage, Transport
from . import fakes
from .contracts import PlatformContract, TransportContract

__all__ = ["FakePlatformContract", "MemoryTransportContract", "sample_attendance"]

#: How often an error registered alone repeats (more than any adapter retries).
_REPEAT = 50


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After")
    return float(value) if value is not None else None


def _answer_once(queue: list[Any]) -> None:
    """A success registered after an error: the error answers once, then the success."""
    del queue[1:]


def _stay(start: datetime, begin: int, end: int) -> AttendanceInterval:
    return AttendanceInterval(joined=start + timedelta(minutes=begin),
                              left=start + timedelta(minutes=end))


def sample_attendance(request: MeetingRequest) -> list[AttendanceRecord]:
    """Four participants of the session ``request`` asks for; Zoë leaves and comes back.

    Names in several scripts, one person without an address, one who only dialled in.
    """
    t = request.start
    return [
        AttendanceRecord(name="Zoë Ñúñez", email="zoe.nunez@example.org", identity="fake-u1",
                         intervals=(_stay(t, -5, 40), _stay(t, 55, 150)), seconds=140 * 60),
        AttendanceRecord(name="李小龍", identity="fake-u2", intervals=(_stay(t, 0, 150),),
                         seconds=150 * 60),
        AttendanceRecord(name="Amélie O'Brien", email="amelie@example.com.ar",
                         identity="fake-u3", intervals=(_stay(t, 20, 95),), seconds=75 * 60),
        AttendanceRecord(name="+54 11 ••••-4321", identity="fake-u4",
                         intervals=(_stay(t, 10, 30),), seconds=20 * 60),
    ]


class FakePlatformContract(PlatformContract):
    """:class:`PlatformContract` hooks for :class:`~s3events.testing.fakes.FakePlatform`."""

    adapter_class: ClassVar[type[PlatformAdapter]] = fakes.FakePlatform

    @property
    def backend(self) -> fakes.FakeBackend:
        """The fake platform's in-memory side."""
        return fakes.fake_backend()

    def make_adapter(self, *, session: requests.Session,
                     sleep: Callable[[float], None]) -> PlatformAdapter:
        """A fake platform on a fresh backend, waiting through ``sleep``."""
        fakes.reset()
        return self.adapter_class(sleep=sleep)

    def _succeed(self, operation: str) -> None:
        _answer_once(self.backend.failures.queued.get(operation, []))

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        """The fake creates for real; only a pending failure is shortened."""
        self._succeed("create")

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        """See :meth:`mock_create`."""
        self._succeed("get")

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        """See :meth:`mock_create`."""
        self._succeed("update")

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        """See :meth:`mock_create`."""
        self._succeed("delete")

    def mock_find(self, rsps: responses.RequestsMock, request: MeetingRequest,
                  meeting: Meeting) -> None:
        """The fake finds by marker in memory."""
        self._succeed("find")

    def mock_attendance(self, rsps: responses.RequestsMock, meeting: Meeting,
                        request: MeetingRequest) -> Sequence[str]:
        """Give the meeting :func:`sample_attendance` (two pages on the fake backend)."""
        self._succeed("attendance")
        records = sample_attendance(request)
        self.backend.set_attendance(meeting.meeting_id, records)
        return [record.name for record in records]

    def mock_attendance_now(self, rsps: responses.RequestsMock, meeting: Meeting,
                            request: MeetingRequest, *, running: bool) -> Sequence[str]:
        """Two people in the meeting when ``running``, nobody otherwise."""
        self._succeed("attendance_now")
        present = [record.model_copy(update={"intervals": (), "seconds": 0})
                   for record in sample_attendance(request)[:2]] if running else []
        self.backend.set_present(meeting.meeting_id, present)
        return [record.name for record in present]

    def mock_error(self, rsps: responses.RequestsMock, operation: str, meeting_id: str, *,
                   status: int | None, headers: Mapping[str, str] | None = None) -> None:
        """Queue the failure on the backend (repeating until a success is registered)."""
        self.backend.fail(operation, status, times=_REPEAT, retry_after=_retry_after(headers))

    def vendor_calls(self, operation: str, meeting_id: str) -> int:
        """Calls of ``operation`` the backend received."""
        return sum(1 for called, _ in self.backend.calls if called == operation)

    def assert_mock_checks(self, operation: str, meeting: Meeting) -> None:
        """Nothing to match: the backend keeps the values it is sent and answers with them."""


class MemoryTransportContract(TransportContract):
    """:class:`TransportContract` hooks for :class:`~s3events.testing.fakes.MemoryTransport`."""

    transport_class: ClassVar[type[Transport]] = fakes.MemoryTransport

    @property
    def box(self) -> fakes.Mailbox:
        """The memory transport's mailbox."""
        return fakes.mailbox()

    def make_transport(self, *, session: requests.Session,
                       sleep: Callable[[float], None]) -> Transport:
        """A memory transport on a fresh mailbox."""
        fakes.reset()
        return self.transport_class()

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        """The mailbox keeps messages for real; only a pending failure is shortened."""
        _answer_once(self.box.failures.queued.get("send", []))

    def mock_error(self, rsps: responses.RequestsMock, message: OutgoingMessage, *,
                   status: int | None, headers: Mapping[str, str] | None = None) -> None:
        """Queue the failure on the mailbox (repeating until a success is registered)."""
        self.box.fail(status, times=_REPEAT, retry_after=_retry_after(headers))

    def vendor_calls(self, message: OutgoingMessage) -> int:
        """Deliveries of ``message`` (by ledger key) in the mailbox."""
        return sum(1 for kept in self.box.sent if kept.key == message.key)

    def assert_mock_checks(self, message: OutgoingMessage) -> None:
        """Nothing to match: the mailbox keeps the messages it is sent as they are."""
