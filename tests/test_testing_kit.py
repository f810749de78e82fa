"""The plugin-author kit proves itself: the fakes pass their contracts, broken adapters fail.

The broken adapters are written to a scratch project and run with ``pytester``, exactly as a
plugin's own test suite would run the contracts; the test reads which checks failed and why.
"""

from __future__ import annotations

import json
import logging
import socket
import textwrap
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pluggy
import pytest

from s3events import plugins
from s3events.errors import InvalidRequest, NotFound, RateLimited
from s3events.hookspecs import hookimpl
from s3events.platforms.base import AttendanceInterval, PlatformAdapter, covered_seconds
from s3events.testing.clock import Clock
from s3events.testing.fake_contracts import FakePlatformContract, MemoryTransportContract
from s3events.testing.fakes import (
    POLLING_PLUGIN,
    FakePlatform,
    MemoryTransport,
    PollingFakePlatform,
    fake_backend,
)

pytest_plugins = ["pytester"]

REAL_CONNECT = socket.socket.connect


class TestFakePlatformContract(FakePlatformContract):
    """The fake platform passes the platform contract."""


class TestPollingFakePlatformContract(FakePlatformContract):
    """The polled fake platform passes the platform contract, polling checks included."""

    adapter_class = PollingFakePlatform


class TestMemoryTransportContract(MemoryTransportContract):
    """The memory transport passes the transport contract."""


# --- small HTTP adapters, written as a plugin author would, for the scratch project ---------

MINI = '''
"""A Webex-shaped platform and a Matrix-shaped transport built on s3events.http."""
import logging
import time
import uuid
from datetime import datetime
from typing import ClassVar
from urllib.parse import quote

from pydantic import SecretStr

from s3events.errors import NotFound
from s3events.http import HttpClient
from s3events.platforms.base import (
    AttendanceInterval, AttendanceRecord, Meeting, PlatformAdapter, PlatformOptions)
from s3events.transports.base import SendResult, Transport, TransportOptions

log = logging.getLogger("mini")


class MiniWebexOptions(PlatformOptions):
    access_token: SecretStr
    api_base_url: str = "https://webex.test/v1"


class MiniWebex(PlatformAdapter):
    name: ClassVar[str] = "mini-webex"
    options_model = MiniWebexOptions

    def __init__(self, options=None, *, session=None, sleep=time.sleep):
        super().__init__(options)
        self.http = HttpClient("mini-webex", self.options.api_base_url, session=session,
                               sleep=sleep)
        token = self.options.access_token.get_secret_value()
        self.http.session.headers["Authorization"] = f"Bearer {token}"

    def body(self, request):
        return {"title": request.topic, "start": request.start.isoformat(),
                "end": request.end.isoformat(), "timezone": request.timezone,
                "agenda": f"{request.agenda} [{request.marker}]"}

    def meeting(self, data):
        return Meeting(platform=self.name, meeting_id=data["id"], join_url=data["webLink"],
                       host_url=SecretStr(data["hostLink"]),
                       start=datetime.fromisoformat(data["start"]))

    def create_meeting(self, request):
        data = self.http.json("POST", "/meetings", json=self.body(request))
        log.info("created meeting %s", data["id"])
        return self.meeting(data)

    def get_meeting(self, meeting_id):
        try:
            return self.meeting(self.http.json("GET", f"/meetings/{meeting_id}"))
        except NotFound:
            return None

    def update_meeting(self, meeting, request):
        data = self.http.json("PUT", f"/meetings/{meeting.meeting_id}", json=self.body(request))
        return self.meeting(data)

    def delete_meeting(self, meeting):
        try:
            self.http.request("DELETE", f"/meetings/{meeting.meeting_id}")
        except NotFound:
            log.info("meeting %s was already gone", meeting.meeting_id)

    supports_attendance = True

    def get_attendance(self, meeting):
        url, params, records = "/meetingParticipants", {"meetingId": meeting.meeting_id}, []
        while url:
            response = self.http.request("GET", url, params=params)
            records += [self.record(item) for item in response.json()["items"]]
            url, params = response.links.get("next", {}).get("url"), None
        return records

    def record(self, item):
        stays = tuple(AttendanceInterval(joined=d["joinedTime"], left=d["leftTime"])
                      for d in item["devices"])
        return AttendanceRecord(name=item["displayName"], email=item.get("email"),
                                identity=item["id"], intervals=stays,
                                seconds=sum(s.seconds for s in stays))


class MiniMatrixOptions(TransportOptions):
    access_token: SecretStr
    api_base_url: str = "https://matrix.test/_matrix/client/v3"


class MiniMatrix(Transport):
    name: ClassVar[str] = "mini-matrix"
    channel: ClassVar[str] = "matrix"
    options_model = MiniMatrixOptions

    def __init__(self, options=None, *, session=None, sleep=time.sleep):
        super().__init__(options)
        self.http = HttpClient("mini-matrix", self.options.api_base_url, session=session,
                               sleep=sleep)
        token = self.options.access_token.get_secret_value()
        self.http.session.headers["Authorization"] = f"Bearer {token}"

    def txn(self, message):
        return quote(message.key, safe="")

    def send(self, message):
        room = quote(message.recipient, safe="")
        data = self.http.json("PUT", f"/rooms/{room}/send/m.room.message/{self.txn(message)}",
                              json={"msgtype": "m.text", "body": message.text})
        return SendResult(provider_id=data["event_id"])
'''

HTTP_CONTRACTS = '''
import re
from urllib.parse import quote

from s3events.testing.contracts import PlatformContract, TransportContract
from s3events.testing.matchers import contains, json_fields, same_instant
from mini import MiniMatrix, MiniWebex

BASE = "https://webex.test/v1"
HOST_LINK = "https://example.webex.test/host/m-1?token=HOST-TOKEN-1234567"


def sends(request):
    return json_fields({"title": request.topic, "start": same_instant(request.start),
                        "end": same_instant(request.end), "timezone": request.timezone})


def answer(request, meeting_id="m-1"):
    return {"id": meeting_id, "title": request.topic, "start": request.start.isoformat(),
            "end": request.end.isoformat(), "webLink": f"https://example.webex.test/j/{meeting_id}",
            "hostLink": HOST_LINK}


class WebexContract(PlatformContract):
    adapter_class = MiniWebex
    options = {"access_token": "webex-access-token-123456"}
    secret_values = (HOST_LINK,)
    spec = "webex-meeting.json"
    spec_base_url = BASE

    def meeting_route(self, operation, meeting_id):
        if operation == "create":
            return ("POST", f"{BASE}/meetings")
        method = {"get": "GET", "update": "PUT", "delete": "DELETE"}[operation]
        return (method, f"{BASE}/meetings/{meeting_id}")

    def mock_create(self, rsps, request):
        rsps.post(f"{BASE}/meetings", json=answer(request), match=[sends(request)])

    def mock_get(self, rsps, meeting):
        rsps.get(f"{BASE}/meetings/{meeting.meeting_id}", json=answer(self.make_request()))

    def mock_update(self, rsps, meeting, request):
        rsps.put(f"{BASE}/meetings/{meeting.meeting_id}", json=answer(request),
                 match=[sends(request)])

    def mock_delete(self, rsps, meeting):
        rsps.delete(f"{BASE}/meetings/{meeting.meeting_id}", status=204)

    def mock_attendance(self, rsps, meeting, request):
        def person(number, name, *stays):
            return {"id": f"p-{number}", "displayName": name, "email": f"p{number}@example.org",
                    "devices": [{"joinedTime": join, "leftTime": leave} for join, leave in stays]}

        day = request.start.strftime("%Y-%m-%dT")
        pages = [[person(1, "Zoë", (day + "16:00:00Z", day + "16:40:00Z"),
                         (day + "16:50:00Z", day + "18:30:00Z")),
                  person(2, "Ana", (day + "16:05:00Z", day + "18:00:00Z"))],
                 [person(3, "李", (day + "16:10:00Z", day + "17:00:00Z"))]]
        page_two = f"{BASE}/meetingParticipants?meetingId={meeting.meeting_id}&cursor=2"
        rsps.get(page_two, json={"items": pages[1]})
        rsps.get(f"{BASE}/meetingParticipants", json={"items": pages[0]},
                 headers={"Link": f'<{page_two}>; rel="next"'})
        return ["Zoë", "Ana", "李"]

    def route(self, operation, meeting_id):
        if operation == "attendance":
            return ("GET", f"{BASE}/meetingParticipants")
        return self.meeting_route(operation, meeting_id)


MATRIX = "https://matrix.test/_matrix/client/v3"


class MatrixContract(TransportContract):
    transport_class = MiniMatrix
    options = {"access_token": "syt-matrix-token-123456"}
    recipient = "!contractroom:matrix.test"
    idempotent_sends = True
    spec = "matrix-client-server/room_send.yaml"
    spec_base_url = MATRIX

    def route(self, message):
        room = quote(self.recipient, safe="")
        return ("PUT", re.compile(re.escape(f"{MATRIX}/rooms/{room}/send/m.room.message/")))

    def mock_send(self, rsps, message):
        method, url = self.route(message)
        rsps.add(method, url, json={"event_id": "$event1"}, match=[
            json_fields({"msgtype": "m.text", "body": contains(message.facts["link"])})])
'''


class Outcome:
    """What a scratch run reported: failed checks with their messages, and the counts."""

    def __init__(self, recorder: pytest.HookRecorder) -> None:
        reports = recorder.getreports("pytest_runtest_logreport")
        self.failed = {report.nodeid.split("::", 1)[1]: report.longreprtext
                       for report in reports if report.failed}
        self.passed = sum(1 for r in reports if r.passed and r.when == "call")
        self.collection_errors = [r for r in recorder.getreports("pytest_collectreport")
                                  if r.failed]

    def reason(self, test: str) -> str:
        """The failure message of ``TestBroken::test``; fails when that check passed."""
        assert not self.collection_errors, self.collection_errors[0].longreprtext
        key = f"TestBroken::{test}"
        assert key in self.failed, f"{key} did not fail; failures: {sorted(self.failed)}"
        return self.failed[key]


def scratch(pytester: pytest.Pytester, tests: str) -> Outcome:
    """Run ``tests`` (a test module using the mini adapters) in a scratch project."""
    pytester.makepyfile(mini=MINI, http_contracts=HTTP_CONTRACTS)
    pytester.makepyfile(test_scratch=tests)
    pytester.syspathinsert()
    return Outcome(pytester.inline_run("-p", "no:cacheprovider"))


def test_http_adapters_built_on_the_kit_pass_both_contracts(pytester: pytest.Pytester) -> None:
    result = scratch(pytester, """
        from http_contracts import MatrixContract, WebexContract

        class TestWebex(WebexContract):
            pass

        class TestMatrix(MatrixContract):
            pass
    """)
    assert not result.collection_errors
    assert result.failed == {}, "\n\n".join(result.failed.values())
    assert result.passed >= 50


def test_an_update_that_forgets_the_new_start_fails_the_round_trip(
        pytester: pytest.Pytester) -> None:
    result = scratch(pytester, """
        from http_contracts import WebexContract
        from mini import MiniWebex

        class Forgetful(MiniWebex):
            def update_meeting(self, meeting, request):
                return super().update_meeting(meeting, request.model_copy(
                    update={"start": meeting.start}))

        class TestBroken(WebexContract):
            adapter_class = Forgetful
    """)
    reason = result.reason("test_update_changes_the_meeting")
    assert "update_meeting: the mocked vendor refused what the adapter sent" in reason
    assert ("start: sent '2030-03-05T16:00:00+00:00', expected an ISO 8601 time of "
            "2030-03-06T17:00:00Z") in reason
    assert "TestBroken::test_create_makes_the_meeting_on_the_platform" not in result.failed
    assert result.passed > 10, "the checks that do not update still pass"


def test_a_mock_that_accepts_any_body_fails_the_contract(pytester: pytest.Pytester) -> None:
    result = scratch(pytester, """
        from http_contracts import BASE, WebexContract, answer

        class TestBroken(WebexContract):
            def mock_update(self, rsps, meeting, request):
                rsps.put(f"{BASE}/meetings/{meeting.meeting_id}", json=answer(request))
    """)
    reason = result.reason("test_mocks_check_what_they_are_sent")
    assert "mock_update registers a PUT answer that accepts any request" in reason
    assert "json_fields" in reason


def test_a_send_mock_that_accepts_any_body_fails_the_contract(pytester: pytest.Pytester) -> None:
    result = scratch(pytester, """
        from http_contracts import MatrixContract

        class TestBroken(MatrixContract):
            def mock_send(self, rsps, message):
                method, url = self.route(message)
                rsps.add(method, url, json={"event_id": "$event1"})
    """)
    reason = result.reason("test_mocks_check_what_they_are_sent")
    assert "mock_send registers a PUT answer that accepts any request" in reason


def test_contract_failure_returns_the_failure_of_a_broken_adapter(
        contract_failure: Callable[..., AssertionError]) -> None:
    class Forgetful(FakePlatform):
        def update_meeting(self, meeting: Any, request: Any) -> Any:
            return super().update_meeting(meeting, request.model_copy(
                update={"topic": meeting.topic}))

    error = contract_failure(TestFakePlatformContract, "test_update_changes_the_meeting",
                             adapter_class=Forgetful)
    assert "the meeting kept its old title" in str(error)
    with pytest.raises(AssertionError, match=r"passed with adapter_class=.*does not catch"):
        contract_failure(TestFakePlatformContract, "test_update_changes_the_meeting",
                         adapter_class=FakePlatform)


@pytest.mark.parametrize(("broken", "failing", "reason"), [
    ("""
        class Adapter(FakePlatform):
            def create_meeting(self, request):
                return Meeting(platform=self.name, meeting_id="fake-1",
                               join_url="https://meet.example.org/j/fake-1")
     """, "test_create_makes_the_meeting_on_the_platform",
     "create returned without calling the platform"),
    ("""
        class Adapter(FakePlatform):
            def _call(self, operation, subject):
                try:
                    super()._call(operation, subject)
                except PermissionDenied as exc:
                    raise RuntimeError(f"HTTP {exc.status}") from None
     """, "test_vendor_error_maps_to_library_error[create-403]",
     "raised RuntimeError, expected PermissionDenied"),
    ("""
        class Adapter(FakePlatform):
            def __repr__(self):
                return f"<Adapter key={self.options.api_key.get_secret_value()}>"
     """, "test_secrets_never_shown_in_reprs", "repr(adapter) shows a secret"),
    ("""
        class Adapter(FakePlatform):
            def create_meeting(self, request):
                meeting = super().create_meeting(request)
                host = meeting.host_url.get_secret_value()
                return meeting.model_copy(update={"extra": {"start": host}})
     """, "test_secrets_never_shown_in_reprs", "repr(meeting) shows a secret or host URL"),
    ("""
        class Adapter(FakePlatform):
            def join_url_for(self, meeting, participant):
                return meeting.host_url.get_secret_value()
     """, "test_participants_never_get_the_host_url",
     "join_url_for(participant) shows a secret or host URL"),
    ("""
        class Adapter(FakePlatform):
            def delete_meeting(self, meeting):
                self._call("delete", meeting.meeting_id)
     """, "test_deleting_an_already_deleted_meeting_counts_as_done[410]",
     "NotFound"),
    ("""
        class Adapter(FakePlatform):
            def __init__(self, options=None, *, session=None, sleep=None):
                super().__init__(options, sleep=lambda seconds: sleep(0.5))
     """, "test_retry_after_is_honoured", "without waiting the 7 s of Retry-After"),
    ("""
        log = logging.getLogger("broken")

        class Adapter(FakePlatform):
            def create_meeting(self, request):
                meeting = super().create_meeting(request)
                log.debug("host link %s", meeting.host_url.get_secret_value())
                return meeting
     """, "test_secrets_and_host_url_never_logged", "the log (DEBUG) shows a secret"),
], ids=["create-does-nothing", "error-not-mapped", "secret-in-repr", "host-url-in-repr",
        "host-url-to-participant", "delete-raises-on-gone", "retry-after-ignored",
        "host-url-logged"])
def test_broken_platform_adapter_fails_its_contract(
    pytester: pytest.Pytester, broken: str, failing: str, reason: str
) -> None:
    result = scratch(pytester, textwrap.dedent("""
        import logging
        from s3events.errors import PermissionDenied
        from s3events.platforms.base import Meeting
        from s3events.testing.fake_contracts import FakePlatformContract
        from s3events.testing.fakes import FakePlatform
    """) + textwrap.dedent(broken) + textwrap.dedent("""
        class TestBroken(FakePlatformContract):
            adapter_class = Adapter
    """))
    assert reason in result.reason(failing)
    assert result.passed > 10, "the other checks still run and pass"


@pytest.mark.parametrize(("broken", "failing", "reason"), [
    ("""
        class Adapter(FakePlatform):
            def get_attendance(self, meeting):
                self._call("attendance", meeting.meeting_id)
                return self.backend.attendance_page(meeting.meeting_id, 0)[0]
     """, "test_attendance_reports_everyone_once_with_their_stays",
     "are all pages read"),
    ("""
        class Adapter(FakePlatform):
            def get_attendance(self, meeting):
                return [record.model_copy(update={"email": record.email or record.name})
                        for record in super().get_attendance(meeting)]
     """, "test_attendance_reports_everyone_once_with_their_stays", "is not an address"),
    ("""
        class Adapter(FakePlatform):
            def get_attendance(self, meeting):
                def seconds_as_milliseconds(stay):
                    as_ms = lambda t: datetime.fromtimestamp(t.timestamp() / 1000, timezone.utc)
                    return AttendanceInterval(joined=as_ms(stay.joined), left=as_ms(stay.left))
                return [r.model_copy(update={"intervals": tuple(
                            seconds_as_milliseconds(i) for i in r.intervals)})
                        for r in super().get_attendance(meeting)]
     """, "test_attendance_reports_everyone_once_with_their_stays", "far from the session"),
    ("""
        class Adapter(FakePlatform):
            def get_attendance(self, meeting):
                return [r.model_copy(update={"intervals": (stay,), "seconds": stay.seconds})
                        for r in super().get_attendance(meeting) for stay in r.intervals]
     """, "test_attendance_reports_everyone_once_with_their_stays",
     "one participant reported as several records"),
    ("""
        class Adapter(FakePlatform):
            def get_attendance(self, meeting):
                return [r.model_copy(update={"seconds": r.seconds * 60})
                        for r in super().get_attendance(meeting)]
     """, "test_attendance_reports_everyone_once_with_their_stays", "exceeds its stays"),
    ("""
        class Adapter(FakePlatform):
            get_attendance = PlatformAdapter.get_attendance
     """, "test_attendance_capability_is_declared_with_its_method",
     "sets supports_attendance but does not implement get_attendance"),
    ("""
        class Adapter(FakePlatform):
            supports_attendance = False

            def get_attendance(self, meeting):
                raise ConfigurationError("no attendance here")
     """, "test_attendance_refusal_names_the_import_command",
     "does not name `s3events attendance import`"),
    ("""
        class Adapter(FakePlatform):
            def get_attendance(self, meeting):
                try:
                    return super().get_attendance(meeting)
                except ServiceError as exc:
                    raise LookupError(f"vendor said {exc.status}") from None
     """, "test_attendance_errors_map_to_library_errors[401]", "raised LookupError"),
    ("""
        class Adapter(PollingFakePlatform):
            def attendance_now(self, meeting):
                return super().attendance_now(meeting) or self.last_seen

            last_seen = [AttendanceRecord(name="Someone who left long ago")]
     """, "test_attendance_now_of_a_meeting_not_running_is_empty",
     "a meeting that is not running has people in it"),
], ids=["first-page-only", "name-as-email", "milliseconds-as-seconds", "one-record-per-join",
        "total-in-wrong-unit", "flag-without-method", "refusal-without-hint",
        "error-not-mapped", "stale-presence"])
def test_broken_attendance_fails_its_contract(
    pytester: pytest.Pytester, broken: str, failing: str, reason: str
) -> None:
    result = scratch(pytester, textwrap.dedent("""
        from datetime import datetime, timezone
        from s3events.errors import ConfigurationError, ServiceError
        from s3events.platforms.base import (
            AttendanceInterval, AttendanceRecord, PlatformAdapter)
        from s3events.testing.fake_contracts import FakePlatformContract
        from s3events.testing.fakes import FakePlatform, PollingFakePlatform
    """) + textwrap.dedent(broken) + textwrap.dedent("""
        class TestBroken(FakePlatformContract):
            adapter_class = Adapter
    """))
    assert reason in result.reason(failing)
    assert result.passed > 10, "the other checks still run and pass"


@pytest.mark.parametrize(("broken", "failing", "reason"), [
    ("""
        class Transport(MemoryTransport):
            def __repr__(self):
                return f"<Transport token={self.options.token.get_secret_value()}>"
     """, "test_secrets_never_shown_in_reprs", "repr(transport) shows a secret"),
    ("""
        log = logging.getLogger("broken")

        class Transport(MemoryTransport):
            def send(self, message):
                log.info("sending to %s", message.recipient)
                return super().send(message)
     """, "test_secrets_and_personal_data_never_logged", "the log (DEBUG) shows a secret"),
    ("""
        class Transport(MemoryTransport):
            def send(self, message):
                try:
                    return super().send(message)
                except ServiceError as exc:
                    raise OSError(f"vendor said {exc.status}") from None
     """, "test_vendor_error_maps_to_library_error[401]", "raised OSError"),
    ("""
        class Transport(MemoryTransport):
            def send(self, message):
                super().send(message)
                return super().send(message)
     """, "test_send_delivers_the_message_once", "one send reached the vendor 2 times"),
    ("""
        class Transport(MemoryTransport):
            def send(self, message):
                try:
                    return super().send(message)
                except RateLimited:
                    raise RateLimited("slow down", service="memory") from None
     """, "test_rate_limit_signal_is_honoured", "RateLimited.retry_after is None"),
], ids=["secret-in-repr", "recipient-logged", "error-not-mapped", "sends-twice",
        "retry-after-dropped"])
def test_broken_transport_fails_its_contract(
    pytester: pytest.Pytester, broken: str, failing: str, reason: str
) -> None:
    result = scratch(pytester, textwrap.dedent("""
        import logging
        from s3events.errors import RateLimited, ServiceError
        from s3events.testing.fake_contracts import MemoryTransportContract
        from s3events.testing.fakes import MemoryTransport
    """) + textwrap.dedent(broken) + textwrap.dedent("""
        class TestBroken(MemoryTransportContract):
            transport_class = Transport
    """))
    assert reason in result.reason(failing)


def test_http_adapter_that_maps_no_errors_fails(pytester: pytest.Pytester) -> None:
    result = scratch(pytester, """
        from mini import MiniWebex
        from http_contracts import WebexContract

        class Unmapped(MiniWebex):
            def get_meeting(self, meeting_id):
                response = self.http.session.get(f"{self.http.base_url}/meetings/{meeting_id}")
                response.raise_for_status()
                return self.meeting(response.json())

        class TestBroken(WebexContract):
            adapter_class = Unmapped
    """)
    for status in ("401", "403", "429", "500", "503"):
        reason = result.reason(f"test_vendor_error_maps_to_library_error[get-{status}]")
        assert "raised HTTPError" in reason
    assert "HTTPError" in result.reason("test_get_of_a_missing_meeting_returns_none")


def test_http_adapter_sending_a_body_the_spec_rejects_fails(pytester: pytest.Pytester) -> None:
    result = scratch(pytester, """
        from mini import MiniWebex
        from http_contracts import WebexContract

        class WrongBody(MiniWebex):  # the values the mocks check are right; the shape is not
            def body(self, request):
                return {**super().body(request), "agenda": ["not", "a", "string"]}

        class TestBroken(WebexContract):
            adapter_class = WrongBody
    """)
    reason = result.reason("test_create_makes_the_meeting_on_the_platform")
    assert "webex-meeting.json" in reason and "body.agenda" in reason


def test_an_attendance_mock_the_vendor_would_never_send_fails(
    pytester: pytest.Pytester,
) -> None:
    result = scratch(pytester, """
        import json
        from http_contracts import WebexContract

        class TestBroken(WebexContract):
            def mock_attendance(self, rsps, meeting, request):
                names = super().mock_attendance(rsps, meeting, request)
                for registered in rsps.registered():
                    if "meetingParticipants" not in registered.url:
                        continue
                    answer = json.loads(registered.body)
                    for item in answer["items"]:
                        item["host"] = "yes"
                    registered.body = json.dumps(answer)
                return names
    """)
    reason = result.reason("test_attendance_reports_everyone_once_with_their_stays")
    assert "webex-meeting.json" in reason and "host" in reason


def test_contract_whose_spec_is_missing_fails_instead_of_skipping_the_check(
    pytester: pytest.Pytester
) -> None:
    result = scratch(pytester, """
        from http_contracts import WebexContract

        class TestBroken(WebexContract):
            spec = "webex-meetings.json"
    """)
    reason = result.reason("test_create_makes_the_meeting_on_the_platform")
    assert "FileNotFoundError" in reason and "webex-meetings.json" in reason


def test_transport_with_a_new_transaction_id_per_send_fails(pytester: pytest.Pytester) -> None:
    result = scratch(pytester, """
        import uuid
        from mini import MiniMatrix
        from http_contracts import MatrixContract

        class NewTxn(MiniMatrix):
            def txn(self, message):
                return uuid.uuid4().hex

        class TestBroken(MatrixContract):
            transport_class = NewTxn
    """)
    reason = result.reason("test_same_ledger_key_makes_the_same_request")
    assert "was sent as a new request" in reason


# --- fixtures and fakes ---------------------------------------------------------------------


def test_register_plugin_makes_the_process_manager_use_it(
    register_plugin: Callable[..., pluggy.PluginManager],
) -> None:
    class Other(FakePlatform):
        name = "other-fake"

    class Extra:
        @hookimpl
        def s3events_register_platforms(self) -> list[type[PlatformAdapter]]:
            return [Other]

    extra = Extra()
    pm = register_plugin(extra, name="extra")
    assert plugins.get_plugin_manager() is pm
    assert plugins.platform_class("other-fake") is Other
    assert plugins.platform_class("fake") is FakePlatform
    assert plugins.transport_class("memory") is MemoryTransport


def test_network_guard_fails_a_marked_test_that_connects_out(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_net="""
        import socket
        import pytest

        pytestmark = pytest.mark.s3events_no_network

        def test_reaches_out():
            socket.create_connection(("192.0.2.10", 443), timeout=0.5)

        def test_loopback_is_allowed():
            server = socket.create_server(("127.0.0.1", 0))
            socket.create_connection(server.getsockname()).close()
            server.close()
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*tried to reach the network*192.0.2.10*"])


def test_ini_option_guards_every_test(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ns3events_no_network = true\n")
    pytester.makepyfile(test_net="""
        import socket

        def test_reaches_out():
            socket.socket().connect(("198.51.100.7", 80))
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*NetworkAccessError*"])


def test_unguarded_test_is_left_alone() -> None:
    assert socket.socket.connect is REAL_CONNECT


def test_clock_moves_only_when_told(frozen_clock: Clock) -> None:
    start = frozen_clock.now()
    assert start == datetime(2021, 10, 27, 12, 0, tzinfo=timezone.utc)
    assert frozen_clock.now() == start
    frozen_clock.advance(hours=5, minutes=30)
    assert frozen_clock.now() == datetime(2021, 10, 27, 17, 30, tzinfo=timezone.utc)
    frozen_clock.sleep(7)
    assert frozen_clock.sleeps == [7]
    later = datetime(2021, 10, 27, 17, 30, 7, tzinfo=timezone.utc)
    assert frozen_clock.time() == later.timestamp()
    frozen_clock.set("2021-11-23T16:00:00+00:00")
    assert frozen_clock() == datetime(2021, 11, 23, 16, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="aware"):
        frozen_clock.set(datetime(2021, 11, 23, 16, 0))
    with pytest.raises(ValueError, match="forward"):
        frozen_clock.advance(seconds=-1)


def test_fake_platform_counts_writes_and_finds_by_marker(
    fake_platform: FakePlatform, frozen_clock: Clock
) -> None:
    from s3events.testing.fake_contracts import FakePlatformContract

    request = FakePlatformContract().make_request()
    meeting = fake_platform.create_meeting(request)
    assert fake_backend().write_calls == 1
    assert fake_platform.find_meeting(request) == meeting
    assert fake_platform.get_meeting(meeting.meeting_id) == meeting
    assert fake_backend().write_calls == 1
    fake_backend().forget(meeting.meeting_id)
    assert fake_platform.get_meeting(meeting.meeting_id) is None
    fake_platform.backend.fail("get", 429, retry_after=30)
    assert fake_platform.get_meeting(meeting.meeting_id) is None
    assert frozen_clock.sleeps == [30]


def test_memory_transport_records_every_send_and_fails_on_demand(
    memory_transport: MemoryTransport, caplog: pytest.LogCaptureFixture
) -> None:
    from s3events.testing.fake_contracts import MemoryTransportContract

    message = MemoryTransportContract().make_message()
    memory_transport.fail(429, retry_after=12)
    with pytest.raises(RateLimited) as raised:
        memory_transport.send(message)
    assert raised.value.retry_after == 12
    caplog.set_level(logging.DEBUG)
    memory_transport.send(message)
    memory_transport.send(message)
    assert memory_transport.mailbox.keys() == [message.key, message.key]
    assert memory_transport.mailbox.to(message.recipient) == [message, message]
    assert message.recipient not in caplog.text


def test_fake_platform_reports_the_attendance_a_test_sets(
    fake_platform: FakePlatform, frozen_clock: Clock
) -> None:
    from s3events.testing.fake_contracts import FakePlatformContract, sample_attendance

    request = FakePlatformContract().make_request()
    meeting = fake_platform.create_meeting(request)
    with pytest.raises(NotFound, match="no attendance report yet"):
        fake_platform.get_attendance(meeting)
    records = sample_attendance(request)
    fake_backend().set_attendance(meeting.meeting_id, records)
    fake_backend().fail("attendance", 429, retry_after=5)
    assert fake_platform.get_attendance(meeting) == records
    pages = [subject for operation, subject in fake_backend().calls if operation == "attendance"]
    assert len(pages) == 1 + 1 + 2  # the refused read, the 429, then two pages of two
    assert frozen_clock.sleeps == [5]
    assert fake_platform.attendance_now(meeting) == []
    fake_backend().set_present(meeting.meeting_id, records[:1])
    assert fake_platform.attendance_now(meeting) == records[:1]


def test_fake_platform_reads_a_posted_report_and_refuses_garbage(
    fake_platform: FakePlatform,
) -> None:
    from s3events.testing.fake_contracts import FakePlatformContract, sample_attendance

    records = sample_attendance(FakePlatformContract().make_request())
    body = json.dumps([r.model_dump(mode="json") for r in records]).encode()
    posted = fake_platform.attendance_from_callback(body, "application/json; charset=utf-8")
    assert posted == records
    with pytest.raises(InvalidRequest, match="not an attendance report"):
        fake_platform.attendance_from_callback(b'[{"name": 3}]', "application/json")
    with pytest.raises(InvalidRequest, match="is JSON"):
        fake_platform.attendance_from_callback(body, "text/csv")


def test_the_polling_fake_is_registered_on_demand(
    register_plugin: Callable[..., pluggy.PluginManager],
) -> None:
    pm = register_plugin(POLLING_PLUGIN, name="polling")
    assert plugins.platform_class("fake-polling", pm) is PollingFakePlatform
    assert PollingFakePlatform.polls_attendance and not FakePlatform.polls_attendance


def test_covered_seconds_counts_overlapping_stays_once() -> None:
    t = datetime(2026, 5, 4, 13, 0, tzinfo=timezone.utc)

    def stay(begin: int, end: int) -> AttendanceInterval:
        return AttendanceInterval(joined=t + timedelta(minutes=begin),
                                  left=t + timedelta(minutes=end))

    # laptop 0-40 and phone 30-50 overlap; 60-90 is a separate return; 70-80 lies inside it
    assert covered_seconds([stay(60, 90), stay(0, 40), stay(30, 50), stay(70, 80)]) == 80 * 60
    assert covered_seconds([]) == 0
