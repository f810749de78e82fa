"""The acme-rooms adapter: the kit's platform contract, then what is particular to Acme Rooms.

``TestAcmeRoomsContract`` inherits every check a platform adapter must pass from
:class:`s3events.testing.contracts.PlatformContract`; it only says how Acme Rooms answers.
The tests after it check the Acme-specific parts with ``responses``: the request sent, the
idempotency key, the options and their environment variables, and provisioning a series.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import responses
import s3events_acme_rooms
from s3events_acme_rooms import AcmeRoomsAdapter, AcmeRoomsOptions, room_body

from s3events.errors import AuthenticationError, ConfigurationError
from s3events.loading import load_series
from s3events.platforms.base import Meeting, MeetingRequest
from s3events.plugins import platform_class
from s3events.provision import apply, load_adapter, stored_meetings
from s3events.store import open_store
from s3events.testing import SleepRecorder, VendorMock, vendor_mock_fixture
from s3events.testing.contracts import PlatformContract, Route
from s3events.testing.helpers import request_json
from s3events.testing.matchers import Matcher, json_fields, same_instant

pytestmark = pytest.mark.s3events_no_network

BASE = "https://rooms.acme.test/api/v1"
API_KEY = "acme-test-key-0123456789"
START = datetime(2030, 3, 5, 16, 0, tzinfo=timezone.utc)


def room(request: MeetingRequest, room_id: str = "rm_1001") -> dict[str, Any]:
    """A room as Acme Rooms returns it."""
    return {
        "id": room_id, "title": request.topic,
        "start": request.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration_minutes": request.duration_minutes,
        "join_url": f"https://rooms.acme.test/r/{room_id}",
        "host_url": f"https://rooms.acme.test/r/{room_id}?host=hk-{room_id}-secret",
        "passcode": "482915",
    }


def sends_room(request: MeetingRequest) -> Matcher:
    """Accepts a room body only with ``request``'s title, start, length and time zone.

    The contract's round trips then pass only when the adapter sent them: a mock that
    answered any body with the request's values could not tell.
    """
    return json_fields({"title": request.topic, "start": same_instant(request.start),
                        "duration_minutes": request.duration_minutes,
                        "timezone": request.timezone})


class TestAcmeRoomsContract(PlatformContract):
    """The checks every s3events platform adapter must pass."""

    adapter_class = AcmeRoomsAdapter
    options: ClassVar[Mapping[str, Any]] = {"api_key": API_KEY, "api_base_url": BASE}

    def error_body(self, status: int) -> Any:
        return {"error": {"code": f"E{status}", "message": f"simulated HTTP {status}"}}

    def route(self, operation: str, meeting_id: str) -> Route:
        if operation == "create":
            return ("POST", f"{BASE}/rooms")
        method = {"get": "GET", "update": "PATCH", "delete": "DELETE"}[operation]
        return (method, f"{BASE}/rooms/{meeting_id}")

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        rsps.add(responses.POST, f"{BASE}/rooms", status=201, json=room(request),
                 match=[sends_room(request)])

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.add(responses.GET, f"{BASE}/rooms/{meeting.meeting_id}",
                 json=room(self.make_request(), meeting.meeting_id))

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        rsps.add(responses.PATCH, f"{BASE}/rooms/{meeting.meeting_id}",
                 json=room(request, meeting.meeting_id), match=[sends_room(request)])

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.add(responses.DELETE, f"{BASE}/rooms/{meeting.meeting_id}", status=204)


class AcmeRoomsForgetsTheNewStart(AcmeRoomsAdapter):
    """An update that sends the room's old start time: the contract must catch it."""

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        return super().update_meeting(meeting, request.model_copy(update={"start": meeting.start}))


def test_the_contract_catches_an_update_that_forgets_the_new_start(
        contract_failure: Any) -> None:
    error = contract_failure(TestAcmeRoomsContract, "test_update_changes_the_meeting",
                             adapter_class=AcmeRoomsForgetsTheNewStart)
    assert "start: sent '2030-03-05T16:00:00Z', expected an ISO 8601 time of " \
           "2030-03-06T17:00:00Z" in str(error)


# -- what is particular to Acme Rooms -------------------------------------------------------

#: The Acme Rooms API, mocked with the kit's vendor_mock (``responses`` underneath).
rsps = vendor_mock_fixture(base_url=BASE)


@pytest.fixture
def adapter(recorded_sleep: SleepRecorder) -> Iterator[AcmeRoomsAdapter]:
    built = AcmeRoomsAdapter.from_options({"api_key": API_KEY, "api_base_url": BASE},
                                          environ={}, session=requests.Session(),
                                          sleep=recorded_sleep)
    assert isinstance(built, AcmeRoomsAdapter)
    yield built
    built.close()


def make_request(**changes: Any) -> MeetingRequest:
    data: dict[str, Any] = {
        "series_id": "acme-series", "session_id": "s1", "topic": "Day 1: Introduction",
        "start": START, "timezone": "Europe/Brussels", "duration": timedelta(minutes=150),
        "agenda": "- Genesis of S3", "language": "en",
    }
    data.update(changes)
    return MeetingRequest(**data)


def test_create_posts_the_room_with_the_marker_as_idempotency_key_and_the_api_key(
    rsps: VendorMock, adapter: AcmeRoomsAdapter
) -> None:
    request = make_request()
    rsps.add(responses.POST, f"{BASE}/rooms", status=201, json=room(request))
    meeting = adapter.create_meeting(request)
    sent = rsps.calls[0].request
    assert sent.headers["Idempotency-Key"] == request.marker
    assert sent.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request_json(sent) == {
        "title": "Day 1: Introduction", "start": "2030-03-05T16:00:00Z",
        "duration_minutes": 150, "timezone": "Europe/Brussels",
        "description": "- Genesis of S3", "language": "en", "waiting_room": False,
        "mute_on_entry": True, "recording": False,
    }
    assert (meeting.meeting_id, meeting.join_url) == ("rm_1001", "https://rooms.acme.test/r/rm_1001")
    assert meeting.host_url is not None and "host=" in meeting.host_url.get_secret_value()
    assert meeting.marker == request.marker


def test_create_after_a_server_error_is_retried_with_the_same_idempotency_key(
    rsps: VendorMock, adapter: AcmeRoomsAdapter, recorded_sleep: SleepRecorder
) -> None:
    request = make_request()
    rsps.add(responses.POST, f"{BASE}/rooms", status=503, json={"error": {"code": "busy"}})
    rsps.add(responses.POST, f"{BASE}/rooms", status=201, json=room(request))
    meeting = adapter.create_meeting(request)
    keys = {call.request.headers["Idempotency-Key"] for call in rsps.calls}
    assert len(rsps.calls) == 2 and keys == {request.marker}
    assert len(recorded_sleep) == 1
    assert meeting.meeting_id == "rm_1001"


def test_a_recreated_session_gets_a_new_idempotency_key() -> None:
    assert make_request().marker != make_request(generation=1).marker


def test_meeting_settings_go_into_the_room_body() -> None:
    from s3events.models import MeetingOptions

    settings = MeetingOptions(waiting_room=True, auto_recording="cloud", mute_on_entry=False)
    body = room_body(make_request(settings=settings))
    assert (body["waiting_room"], body["recording"], body["mute_on_entry"]) == (True, True, False)


def test_refused_api_key_says_which_option_to_check(
    rsps: VendorMock, adapter: AcmeRoomsAdapter
) -> None:
    rsps.add(responses.GET, f"{BASE}/rooms/rm_1", status=401,
             json={"error": {"code": "unauthorized", "message": "invalid API key"}})
    with pytest.raises(AuthenticationError) as caught:
        adapter.get_meeting("rm_1")
    assert "S3EVENTS_ACME_ROOMS_API_KEY" in str(caught.value)
    assert API_KEY not in str(caught.value)


def test_missing_api_key_names_the_option_and_its_environment_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        AcmeRoomsAdapter.from_options({}, environ={})
    assert "api_key" in str(caught.value)
    assert "S3EVENTS_ACME_ROOMS_API_KEY" in str(caught.value)


def test_options_come_from_the_environment_over_the_series_file() -> None:
    adapter = AcmeRoomsAdapter.from_options(
        {"api_key": "from-the-file", "api_base_url": BASE},
        environ={"S3EVENTS_ACME_ROOMS_API_KEY": API_KEY,
                 "S3EVENTS_ACME_ROOMS_API_BASE_URL": "https://rooms.acme.test/api/v2"})
    assert isinstance(adapter.options, AcmeRoomsOptions)
    assert adapter.options.api_key.get_secret_value() == API_KEY
    assert adapter.options.api_base_url == "https://rooms.acme.test/api/v2"
    assert API_KEY not in repr(adapter)


def test_the_plugin_registers_the_acme_rooms_platform(register_plugin: Any) -> None:
    register_plugin(s3events_acme_rooms, name="acme-rooms")
    assert platform_class("acme-rooms") is AcmeRoomsAdapter


# -- provisioning a series on Acme Rooms ---------------------------------------------------

class AcmeRoomsServer:
    """A tiny in-memory Acme Rooms behind ``responses``: rooms by id, idempotent creates."""

    def __init__(self, rsps: responses.RequestsMock) -> None:
        self.rooms: dict[str, dict[str, Any]] = {}
        self.by_key: dict[str, str] = {}
        rsps.add_callback(responses.POST, f"{BASE}/rooms", callback=self.create)
        for method in (responses.GET, responses.PATCH, responses.DELETE):
            rsps.add_callback(method, re.compile(rf"{BASE}/rooms/\w+"),
                              callback=self.room)

    def create(self, request: Any) -> tuple[int, dict[str, str], str]:
        key = request.headers["Idempotency-Key"]
        if key not in self.by_key:
            room_id = f"rm_{len(self.rooms) + 1}"
            self.rooms[room_id] = {**json.loads(request.body), "id": room_id,
                                   "join_url": f"https://rooms.acme.test/r/{room_id}",
                                   "host_url": f"https://rooms.acme.test/r/{room_id}?host=hk9"}
            self.by_key[key] = room_id
        return 201, {}, json.dumps(self.rooms[self.by_key[key]])

    def room(self, request: Any) -> tuple[int, dict[str, str], str]:
        room_id = request.url.rsplit("/", 1)[1]
        if room_id not in self.rooms:
            return 404, {}, json.dumps({"error": {"code": "not_found"}})
        if request.method == "DELETE":
            del self.rooms[room_id]
            return 204, {}, ""
        if request.method == "PATCH":
            self.rooms[room_id].update(json.loads(request.body))
        return 200, {}, json.dumps(self.rooms[room_id])


SERIES = """\
id: acme-demo
title: Seminars on Acme Rooms
organiser: {name: Acme Seminars, email: seminars@acme.example}
timezone: Europe/Brussels
platform:
  name: acme-rooms
  options: {api_base_url: "https://rooms.acme.test/api/v1"}
sessions:
  - {id: day-1, title: Introduction, start: 2030-03-05T17:00:00, end: 2030-03-05T19:30:00}
  - {id: day-2, title: Governance, start: 2030-03-12T17:00:00, end: 2030-03-12T19:30:00}
"""


def test_provisioning_makes_one_room_per_session_and_a_second_run_writes_nothing(
    tmp_path: Path, rsps: VendorMock, register_plugin: Any
) -> None:
    register_plugin(s3events_acme_rooms, name="acme-rooms")
    server = AcmeRoomsServer(rsps)
    (tmp_path / "series.yaml").write_text(SERIES, encoding="utf-8")
    series = load_series(tmp_path / "series.yaml")
    adapter = load_adapter(series, environ={"S3EVENTS_ACME_ROOMS_API_KEY": API_KEY},
                           session=requests.Session(), sleep=lambda _: None)
    now = datetime(2030, 2, 1, tzinfo=timezone.utc)
    with open_store(tmp_path / "state.sqlite") as store:
        first = apply(series, adapter, store, now=now)
        writes = len(rsps.calls)
        second = apply(series, adapter, store, now=now)
        meetings = stored_meetings(store, series.id)
    assert [i.action for i in first] == ["create", "create"]
    assert [i.action for i in second] == ["unchanged", "unchanged"]
    assert {c.request.method for c in rsps.calls[writes:]} == {"GET"}
    assert sorted(server.rooms) == ["rm_1", "rm_2"]
    assert meetings["day-1"].join_url == "https://rooms.acme.test/r/rm_1"
    assert all(m.host_url is None for m in meetings.values())
    for state_file in tmp_path.glob("state.sqlite*"):  # the database and its WAL
        assert b"host=hk9" not in state_file.read_bytes()
