"""Contract suites: the checks every platform adapter and every transport must pass.

A plugin's test module subclasses :class:`PlatformContract` or :class:`TransportContract`
(the subclass name starts with ``Test`` so pytest collects it), says how to build the adapter
and how the vendor answers, and inherits the checks::

    class TestZoomContract(PlatformContract):
        adapter_class = ZoomAdapter
        options = {"account_id": "acc", "client_id": "cid", "client_secret": "s3cr3t-value"}
        spec = "zoom-api-v2-openapi-2018.json"
        spec_base_url = "https://api.zoom.us/v2"

        def route(self, operation, meeting_id):
            ...  # ("POST", "https://api.zoom.us/v2/users/me/meetings") for "create", …

        def mock_create(self, rsps, request): ...
        def mock_get(self, rsps, meeting): ...
        def mock_update(self, rsps, meeting, request): ...
        def mock_delete(self, rsps, meeting): ...

The adapter is built with ``adapter_class.from_options(options, environ={}, session=...,
sleep=...)``: every HTTP adapter accepts a ``requests.Session`` as ``session`` and a
``sleep(seconds)`` callable as ``sleep``, so the contract can mock HTTP with ``responses`` and
see the waits. Override :meth:`PlatformContract.make_adapter` for anything else.

The mocks of calls that write (create, update, and prepare where it calls the vendor) must
check what they are sent — ``match=[json_fields({...})]`` from
:mod:`s3events.testing.matchers`, or any ``responses`` matcher — so that a round trip only
passes when the adapter sent the values asked for; a check fails when one accepts anything,
and a refused request fails the round trip with the matcher's reasons. The update moves the
meeting by a day and an hour, shortens it, renames it and changes its time zone.
:func:`contract_failure` runs one check with a deliberately broken adapter, to show the mocks
catch it.

Vendor errors are registered on :meth:`~PlatformContract.route` with
:meth:`~ContractBase.error_body` as the JSON body; override ``mock_error`` where the vendor
signals errors differently (HTTP 200 with ``ok: false``, XML), and ``expected_errors`` where
a status means something else for the vendor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
import requests
import responses

from ..errors import ServiceError
from ..platforms.base import Meeting, MeetingRequest, Participant, PlatformAdapter
from ..transports.base import OutgoingMessage, SendResult, Transport
from ._attendance_contract import AttendanceChecks
from ._contract_support import (
    CONNECTION_ERROR,
    DEFAULT_ERRORS,
    ContractBase,
    Route,
    contract_failure,
    describe,
    raised_by,
    status_id,
)

__all__ = [
    "CONNECTION_ERROR",
    "DEFAULT_ERRORS",
    "OPERATIONS",
    "PlatformContract",
    "Route",
    "TransportContract",
    "contract_failure",
]

#: The meeting operations a platform contract exercises (``prepare`` only when listed).
OPERATIONS = ("create", "get", "update", "delete")

_START = datetime(2030, 3, 5, 16, 0, tzinfo=timezone.utc)


def _missing(contract: object, hook: str) -> TypeError:
    return TypeError(f"{type(contract).__name__} must define {hook}() to use this contract")


class PlatformContract(AttendanceChecks):
    """The checks every video-platform adapter must pass (subclass it as ``Test…``).

    Provide ``adapter_class`` and ``options`` (or override :meth:`make_adapter`), then
    :meth:`route` and the ``mock_*`` hooks. ``remote_operations`` lists the operations that
    call the vendor (an adapter that creates meetings just in time, like BigBlueButton, calls
    none of them and checks its vendor calls elsewhere).
    """

    adapter_class: ClassVar[type[PlatformAdapter]]
    remote_operations: ClassVar[tuple[str, ...]] = OPERATIONS
    participant: ClassVar[Participant] = Participant(
        id="contract-participant-1", name="Ana Contractual", email="ana.contract@example.org")

    adapter: PlatformAdapter

    # -- hooks the plugin's test provides ---------------------------------------------------

    def make_adapter(self, *, session: requests.Session,
                     sleep: Callable[[float], None]) -> PlatformAdapter:
        """The adapter under test; by default ``adapter_class.from_options(options, …)``."""
        return self.adapter_class.from_options(dict(self.options), environ={}, session=session,
                                               sleep=sleep)

    def make_request(self, **changes: Any) -> MeetingRequest:
        """The meeting asked for; keyword arguments replace fields."""
        data: dict[str, Any] = {
            "series_id": "contract-series", "session_id": "s1", "topic": "Contract seminar",
            "start": _START, "timezone": "Europe/Brussels", "duration": timedelta(minutes=150),
            "agenda": "Checks every adapter must pass.", "language": "en",
        }
        data.update(changes)
        return MeetingRequest(**data)

    def route(self, operation: str, meeting_id: str) -> Route:
        """The HTTP call ``operation`` makes: ``("PATCH", "https://…/meetings/123")``.

        Used to register vendor errors and to count vendor calls. For an update that writes
        and then reads back, give the write.
        """
        raise _missing(self, "route")

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        """Register the vendor's answer to creating the meeting for ``request``."""
        raise _missing(self, "mock_create")

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        """Register the vendor's answer to reading ``meeting``."""
        raise _missing(self, "mock_get")

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        """Register the vendor's answers to changing ``meeting`` to ``request``."""
        raise _missing(self, "mock_update")

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        """Register the vendor's answer to deleting ``meeting``."""
        raise _missing(self, "mock_delete")

    def mock_prepare(self, rsps: responses.RequestsMock, meeting: Meeting,
                     request: MeetingRequest) -> None:
        """Register answers for :meth:`~PlatformAdapter.prepare` (default: it calls nothing).

        Adapters that create meetings just in time (BigBlueButton) put ``"prepare"`` in
        ``remote_operations`` and mock it here.
        """

    def mock_find(self, rsps: responses.RequestsMock, request: MeetingRequest,
                  meeting: Meeting) -> None:
        """Register answers for finding ``meeting`` by ``request.marker`` (optional hook).

        Without it the find check is skipped; adapters without ``idempotent_create`` should
        provide it, as provisioning relies on ``find_meeting`` after a crash.
        """
        pytest.skip(f"{type(self).__name__} does not mock find_meeting")

    def mock_error(self, rsps: responses.RequestsMock, operation: str, meeting_id: str, *,
                   status: int | None, headers: Mapping[str, str] | None = None) -> None:
        """Make ``operation`` answer HTTP ``status`` (``None``: the connection fails)."""
        self.add_error(rsps, self.route(operation, meeting_id), status=status, headers=headers)

    def vendor_calls(self, operation: str, meeting_id: str) -> int:
        """How many calls of ``operation`` reached the vendor (default: calls on the route)."""
        return len(self.calls_on(self.route(operation, meeting_id)))

    def assert_mock_checks(self, operation: str, meeting: Meeting) -> None:
        """Fail unless the mock of ``operation`` (a write) checks what it is sent.

        By default: the answers ``mock_<operation>`` registers on :meth:`route` must carry a
        ``responses`` matcher. A contract whose vendor is not mocked with ``responses``
        overrides this.
        """
        before = list(self.rsps.registered())
        self._mock_success(operation, meeting)
        added = [mock for mock in self.rsps.registered()
                 if not any(mock is old for old in before)]
        self.assert_mocks_check(added, self.route(operation, meeting.meeting_id),
                                f"mock_{operation}")

    # -- machinery --------------------------------------------------------------------------

    def _start(self, *, session: requests.Session, sleep: Callable[[float], None]) -> None:
        self.adapter = self.make_adapter(session=session, sleep=sleep)
        self.mock_auth(self.rsps)

    def _stop(self) -> None:
        self.adapter.close()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize the error check over remote operations and vendor statuses."""
        if "contract_case" not in metafunc.fixturenames:
            return
        cases = [(op, status) for op in self.remote_operations for status in self.error_statuses
                 if not (status in (404, 410) and op in ("get", "delete"))]
        metafunc.parametrize("contract_case", cases,
                             ids=[f"{op}-{status_id(status)}" for op, status in cases])

    def _secrets(self) -> set[str]:
        return self.secrets(self.adapter.options)

    def _create(self, request: MeetingRequest | None = None) -> Meeting:
        request = request or self.make_request()
        self.mock_create(self.rsps, request)
        with self.vendor_step("create_meeting"):
            meeting = self.adapter.create_meeting(request)
        assert isinstance(meeting, Meeting), f"create_meeting returned {type(meeting).__name__}"
        self.keep_secret(meeting.host_url.get_secret_value() if meeting.host_url else None)
        return meeting

    def _run(self, operation: str, meeting: Meeting | None) -> Any:
        request = self.make_request()
        if operation == "create":
            return self.adapter.create_meeting(request)
        assert meeting is not None
        if operation == "get":
            return self.adapter.get_meeting(meeting.meeting_id)
        if operation == "update":
            return self.adapter.update_meeting(meeting, self._moved())
        if operation == "delete":
            return self.adapter.delete_meeting(meeting)
        return self.adapter.prepare(meeting, request)

    def _moved(self) -> MeetingRequest:
        return self.make_request(start=_START + timedelta(days=1, hours=1),
                                 topic="Contract seminar, moved", duration=timedelta(minutes=120),
                                 timezone="America/Santiago")

    def _mock_success(self, operation: str, meeting: Meeting) -> None:
        if operation == "get":
            self.mock_get(self.rsps, meeting)
        elif operation == "update":
            self.mock_update(self.rsps, meeting, self._moved())
        elif operation == "delete":
            self.mock_delete(self.rsps, meeting)
        elif operation == "create":
            self.mock_create(self.rsps, self.make_request())
        elif operation == "prepare":
            self.mock_prepare(self.rsps, meeting, self.make_request())

    def _assert_called(self, operation: str, meeting_id: str) -> None:
        if operation in self.remote_operations:
            assert self.vendor_calls(operation, meeting_id) >= 1, (
                f"{operation} returned without calling the platform (see vendor_calls)")

    # -- the checks -------------------------------------------------------------------------

    def test_create_makes_the_meeting_on_the_platform(self) -> None:
        request = self.make_request()
        meeting = self._create(request)
        assert meeting.platform == self.adapter.name
        assert meeting.meeting_id, "the meeting has no id"
        assert meeting.join_url.startswith(("https://", "http://")), meeting.join_url
        if meeting.start is not None:
            assert meeting.start == request.start, "the meeting starts at another time"
        self._assert_called("create", meeting.meeting_id)
        self.check_spec()

    def test_get_returns_the_created_meeting(self) -> None:
        created = self._create()
        self.mock_get(self.rsps, created)
        found = self.adapter.get_meeting(created.meeting_id)
        assert found is not None, "get_meeting did not find the meeting just created"
        assert (found.meeting_id, found.join_url) == (created.meeting_id, created.join_url)
        self._assert_called("get", created.meeting_id)

    def test_update_changes_the_meeting(self) -> None:
        created, moved = self._create(), self._moved()
        self.mock_update(self.rsps, created, moved)
        with self.vendor_step("update_meeting"):
            updated = self.adapter.update_meeting(created, moved)
        assert isinstance(updated, Meeting), f"update_meeting returned {type(updated).__name__}"
        assert updated.meeting_id == created.meeting_id, "the update made another meeting"
        if updated.start is not None:
            assert updated.start == moved.start, "the meeting was not moved"
        if updated.duration is not None:
            assert updated.duration == moved.duration, "the meeting kept its old length"
        if updated.topic is not None:
            assert updated.topic == moved.topic, "the meeting kept its old title"
        self._assert_called("update", created.meeting_id)
        assert not self.refused_calls(), "\n".join(self.refused_calls())
        self.check_spec()

    def test_prepare_readies_the_updated_meeting(self) -> None:
        created, moved = self._create(), self._moved()
        if "update" in self.remote_operations:
            self.mock_update(self.rsps, created, moved)
        with self.vendor_step("update_meeting"):
            updated = self.adapter.update_meeting(created, moved)
        self.mock_prepare(self.rsps, updated, moved)
        calls = len(self.rsps.calls)
        with self.vendor_step("prepare"):
            ready = self.adapter.prepare(updated, moved)
        assert isinstance(ready, Meeting), f"prepare returned {type(ready).__name__}"
        assert ready.meeting_id == updated.meeting_id, "prepare made another meeting"
        if "prepare" in self.remote_operations:
            self._assert_called("prepare", updated.meeting_id)
        else:
            assert len(self.rsps.calls) == calls, (
                "prepare called the platform, but 'prepare' is not in remote_operations")
        self.check_spec()

    def test_mocks_check_what_they_are_sent(self) -> None:
        meeting = self._create()
        for operation in ("create", "update", "prepare"):
            if operation in self.remote_operations:
                self.assert_mock_checks(operation, meeting)

    def test_delete_removes_the_meeting(self) -> None:
        created = self._create()
        self.mock_delete(self.rsps, created)
        assert self.adapter.delete_meeting(created) is None
        self._assert_called("delete", created.meeting_id)

    @pytest.mark.parametrize("gone_status", [404, 410])
    def test_deleting_an_already_deleted_meeting_counts_as_done(self, gone_status: int) -> None:
        if "delete" not in self.remote_operations:
            pytest.skip("delete does not call the platform")
        created = self._create()
        self.mock_error(self.rsps, "delete", created.meeting_id, status=gone_status)
        self.adapter.delete_meeting(created)

    def test_get_of_a_missing_meeting_returns_none(self) -> None:
        if "get" not in self.remote_operations:
            pytest.skip("get does not call the platform")
        created = self._create()
        self.mock_error(self.rsps, "get", created.meeting_id, status=404)
        assert self.adapter.get_meeting(created.meeting_id) is None

    def test_vendor_error_maps_to_library_error(
        self, contract_case: tuple[str, int | None]
    ) -> None:
        operation, status = contract_case
        meeting = None if operation == "create" else self._create()
        self.mock_error(self.rsps, operation, meeting.meeting_id if meeting else "",
                        status=status, headers={"Retry-After": "1"} if status == 429 else None)
        expected = self.expected_errors.get(status, DEFAULT_ERRORS[status])
        error = raised_by(lambda: self._run(operation, meeting),
                        f"{operation} answered with {status_id(status)}", expected)
        self.assert_hidden(f"{error!s} {error!r}", "the error", self._secrets())

    def test_retry_after_is_honoured(self) -> None:
        operation = next((op for op in ("get", "delete", "update", "create", "prepare")
                          if op in self.remote_operations), None)
        if operation is None:
            pytest.skip("no operation calls the platform")
        meeting = None if operation == "create" else self._create()
        self.mock_error(self.rsps, operation, meeting.meeting_id if meeting else "", status=429,
                        headers={"Retry-After": str(self.retry_after_seconds)})
        self._mock_success(operation, meeting or self._placeholder())
        error: BaseException | None = None
        try:
            self._run(operation, meeting)
        except ServiceError as exc:
            error = exc
        self.assert_waited_or_reported(error)

    def _placeholder(self) -> Meeting:
        return Meeting(platform=self.adapter.name, meeting_id="", join_url="https://x.invalid")

    def test_find_meeting_finds_the_marked_meeting(self) -> None:
        request = self.make_request()
        created = self._create(request)
        self.mock_find(self.rsps, request, created)
        found = self.adapter.find_meeting(request)
        assert found is not None, "find_meeting did not find the meeting carrying the marker"
        assert found.meeting_id == created.meeting_id

    def test_secrets_never_shown_in_reprs(self) -> None:
        meeting = self._create()
        secrets = self._secrets()
        for label, text in (("repr(adapter)", repr(self.adapter)),
                            ("str(adapter)", str(self.adapter)),
                            ("repr(adapter.options)", repr(self.adapter.options)),
                            ("repr(meeting)", repr(meeting)), ("str(meeting)", str(meeting))):
            self.assert_hidden(text, label, secrets)

    def test_secrets_and_host_url_never_logged(self) -> None:
        meeting = self._create()
        for operation in ("prepare", "get", "update", "delete"):
            self._mock_success(operation, meeting)
            self._run(operation, meeting)
        for status in (401, 500):
            self.mock_error(self.rsps, "create", "", status=status)
            with pytest.raises(ServiceError):
                self._run("create", None)
        self.assert_hidden(self.log_text(), "the log (DEBUG)", self._secrets())

    def test_participants_never_get_the_host_url(self) -> None:
        meeting = self._create()
        if meeting.host_url is not None:
            assert meeting.join_url != meeting.host_url.get_secret_value()
        public = {
            "join_url": meeting.join_url,
            "join_url_for(participant)": self.adapter.join_url_for(meeting, self.participant),
            "meeting.without_host_url()": describe(meeting.without_host_url()),
            "meeting.extra": describe(meeting.extra),
        }
        for label, text in public.items():
            self.assert_hidden(text, label, self._secrets())


class TransportContract(ContractBase):
    """The checks every message transport must pass (subclass it as ``Test…``).

    Provide ``transport_class``, ``options`` and ``recipient`` (or override
    :meth:`make_transport` / :meth:`make_message`), then :meth:`route` and :meth:`mock_send`.
    Set ``idempotent_sends`` when the vendor has an idempotency key (Matrix transaction ids):
    the same ledger key must then produce the same request. :meth:`mock_send` must check
    what it is sent (the recipient, and the link in the text: ``match=[json_fields(...)]``
    with :func:`~s3events.testing.matchers.contains`).
    """

    transport_class: ClassVar[type[Transport]]
    recipient: ClassVar[str] = "ana.contract@example.org"
    idempotent_sends: ClassVar[bool] = False

    transport: Transport

    # -- hooks the plugin's test provides ---------------------------------------------------

    def make_transport(self, *, session: requests.Session,
                       sleep: Callable[[float], None]) -> Transport:
        """The transport under test; by default ``transport_class.from_options(options, …)``."""
        return self.transport_class.from_options(dict(self.options), environ={},
                                                 session=session, sleep=sleep)

    def make_message(self, **changes: Any) -> OutgoingMessage:
        """A join-link message for :attr:`recipient`; keyword arguments replace fields."""
        link = "https://meet.example.org/j/contract-123"
        data: dict[str, Any] = {
            "key": "contract-ledger-key-0001", "channel": self.transport_class.channel,
            "kind": "link", "recipient": self.recipient, "recipient_name": "Ana Contractual",
            "language": "es", "subject": "Enlace para la sesión de mañana",
            "text": f"Hola Ana Contractual, el enlace para mañana: {link}",
            "facts": {"link": link, "title": "Sesión de contrato", "session": "contract-1",
                      "kind": "link", "local_time": "martes, 5 de marzo de 2030, 10:00"},
        }
        data.update(changes)
        return OutgoingMessage(**data)

    def route(self, message: OutgoingMessage) -> Route:
        """The HTTP call that sends ``message``: ``("POST", "https://…/chat.postMessage")``."""
        raise _missing(self, "route")

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        """Register the vendor's answer to a successful send of ``message``."""
        raise _missing(self, "mock_send")

    def mock_error(self, rsps: responses.RequestsMock, message: OutgoingMessage, *,
                   status: int | None, headers: Mapping[str, str] | None = None) -> None:
        """Make sending ``message`` answer HTTP ``status`` (``None``: the connection fails)."""
        self.add_error(rsps, self.route(message), status=status, headers=headers)

    def vendor_calls(self, message: OutgoingMessage) -> int:
        """How many calls for ``message`` reached the vendor (default: calls on the route)."""
        return len(self.calls_on(self.route(message)))

    def assert_mock_checks(self, message: OutgoingMessage) -> None:
        """Fail unless :meth:`mock_send` checks what it is sent (recipient, the link).

        By default: the answers it registers on :meth:`route` must carry a ``responses``
        matcher. A contract whose vendor is not mocked with ``responses`` overrides this.
        """
        before = list(self.rsps.registered())
        self.mock_send(self.rsps, message)
        added = [mock for mock in self.rsps.registered()
                 if not any(mock is old for old in before)]
        self.assert_mocks_check(added, self.route(message), "mock_send",
                                values="recipient and join link")

    # -- machinery --------------------------------------------------------------------------

    def _start(self, *, session: requests.Session, sleep: Callable[[float], None]) -> None:
        self.transport = self.make_transport(session=session, sleep=sleep)
        self.mock_auth(self.rsps)

    def _stop(self) -> None:
        self.transport.close()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize the error check over vendor statuses."""
        if "contract_status" in metafunc.fixturenames:
            metafunc.parametrize("contract_status", list(self.error_statuses),
                                 ids=[status_id(s) for s in self.error_statuses])

    def _private(self, message: OutgoingMessage) -> set[str]:
        personal = {message.recipient, message.recipient_name, message.text}
        return self.secrets(self.transport.options) | {p for p in personal if len(p) >= 6}

    # -- the checks -------------------------------------------------------------------------

    def test_send_delivers_the_message_once(self) -> None:
        message = self.make_message()
        self.mock_send(self.rsps, message)
        with self.vendor_step("send"):
            result = self.transport.send(message)
        assert isinstance(result, SendResult), f"send returned {type(result).__name__}"
        calls = self.vendor_calls(message)
        assert calls == 1, f"one send reached the vendor {calls} times"
        self.check_spec()

    def test_mocks_check_what_they_are_sent(self) -> None:
        self.assert_mock_checks(self.make_message())

    def test_send_many_delivers_each_message(self) -> None:
        messages = [self.make_message(), self.make_message(key="contract-ledger-key-0002")]
        for message in messages:
            self.mock_send(self.rsps, message)
        with self.transport as transport:
            results = list(transport.send_many(messages))
        assert len(results) == len(messages)
        assert all(isinstance(result, SendResult) for result in results)

    def test_vendor_error_maps_to_library_error(self, contract_status: int | None) -> None:
        message = self.make_message()
        self.mock_error(self.rsps, message, status=contract_status,
                        headers={"Retry-After": "1"} if contract_status == 429 else None)
        expected = self.expected_errors.get(contract_status, DEFAULT_ERRORS[contract_status])
        error = raised_by(lambda: self.transport.send(message),
                        f"a send answered with {status_id(contract_status)}", expected)
        self.assert_hidden(f"{error!s} {error!r}", "the error",
                           self.secrets(self.transport.options))

    def test_rate_limit_signal_is_honoured(self) -> None:
        message = self.make_message()
        self.mock_error(self.rsps, message, status=429,
                        headers={"Retry-After": str(self.retry_after_seconds)})
        self.mock_send(self.rsps, message)
        error: BaseException | None = None
        try:
            self.transport.send(message)
        except ServiceError as exc:
            error = exc
        self.assert_waited_or_reported(error)

    def test_secrets_never_shown_in_reprs(self) -> None:
        secrets = self.secrets(self.transport.options)
        for label, text in (("repr(transport)", repr(self.transport)),
                            ("str(transport)", str(self.transport)),
                            ("repr(transport.options)", repr(self.transport.options))):
            self.assert_hidden(text, label, secrets)

    def test_secrets_and_personal_data_never_logged(self) -> None:
        message = self.make_message()
        self.mock_send(self.rsps, message)
        self.transport.send(message)
        for status in (401, 500):
            self.mock_error(self.rsps, message, status=status)
            with pytest.raises(ServiceError):
                self.transport.send(message)
        self.assert_hidden(self.log_text(), "the log (DEBUG)", self._private(message))

    def test_same_ledger_key_makes_the_same_request(self) -> None:
        if not self.idempotent_sends:
            pytest.skip("the vendor has no idempotency key (idempotent_sends = False)")
        first, other = self.make_message(), self.make_message(key="contract-ledger-key-0002")
        for message in (first, first, other):
            self.mock_send(self.rsps, message)
            self.transport.send(message)
        sent = [self._signature(call.request) for call in self.rsps.calls
                if str(call.request.method) != "GET"][-3:]
        assert sent[0] == sent[1], "a retried message (same key) was sent as a new request"
        assert sent[0] != sent[2], "two messages with different keys made the same request"

    @staticmethod
    def _signature(request: Any) -> tuple[str, str, str]:
        body = request.body.decode() if isinstance(request.body, bytes) else str(request.body)
        return (str(request.url), body, str(request.headers.get("Idempotency-Key", "")))
