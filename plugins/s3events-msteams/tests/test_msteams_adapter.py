"""The msteams platform against a mocked Microsoft Graph (responses), bodies checked against the
Graph OpenAPI subset shipped with the testing kit."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs

import pytest
import requests
import responses
from pydantic import SecretStr
from responses import matchers
from s3events_msteams import TeamsAdapter, TeamsOptions
from s3events_msteams.payload import lobby_scope

from s3events.errors import (
    AuthenticationError,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
)
from s3events.models import MeetingOptions
from s3events.platforms.base import Meeting, MeetingRequest
from s3events.plugins import build_plugin_manager, platform_class
from s3events.testing import (
    Clock,
    SleepRecorder,
    VendorMock,
    assert_not_logged,
    reference_request,
    vendor_mock_fixture,
)
from s3events.testing.contracts import PlatformContract, Route
from s3events.testing.helpers import request_json
from s3events.testing.matchers import Matcher, json_fields

TENANT = "contoso.onmicrosoft.com"
USER = "1f35f2e6-9cab-44ad-8d5a-b74c14720000"
BASE = "https://graph.microsoft.com/v1.0"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
SPEC = "msgraph-v1.0-onlinemeetings-events-subset.json"
MEETINGS = f"{BASE}/users/{USER}/onlineMeetings"
CREATE_URL = f"{MEETINGS}/createOrGet"
MEETING_ID = "MSpkYzE3Njc0Yy04MWQ5LTRhZGItYmZi"
MEETING_URL = f"{MEETINGS}/{MEETING_ID}"
JOIN_URL = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_abc%40thread.v2/0?context=x"
SECRET = "graph-client-secret-value"


#: The mocked vendor; after each test, every request body sent is checked against the spec.
rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE, assert_all_requests_are_fired=True)


def make_adapter(clock: Clock, sleep: SleepRecorder, **options: Any) -> TeamsAdapter:
    values: dict[str, Any] = {"tenant_id": TENANT, "client_id": "app-1",
                              "client_secret": SecretStr(SECRET), "user_id": USER}
    values.update(options)
    return TeamsAdapter(TeamsOptions(**values), session=requests.Session(),
                        sleep=sleep, clock=clock.time)


@pytest.fixture
def adapter(frozen_clock: Clock, recorded_sleep: SleepRecorder) -> TeamsAdapter:
    return make_adapter(frozen_clock, recorded_sleep)


def meeting_request(**changes: Any) -> MeetingRequest:
    """Day 1 of the reference series, as this plugin's tests ask for it."""
    return reference_request(**{"settings": MeetingOptions(waiting_room=True), **changes})


def graph_meeting(request: MeetingRequest | None = None, **changes: object) -> dict[str, Any]:
    """An onlineMeeting as Graph returns it (7 fractional digits, as Graph writes them)."""
    request = request or meeting_request()
    data: dict[str, Any] = {
        "id": MEETING_ID,
        "creationDateTime": "2021-10-01T09:00:00.1900000Z",
        "startDateTime": request.start.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
        "endDateTime": request.end.strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
        "joinWebUrl": JOIN_URL,
        "subject": request.topic,
        "externalId": request.marker,
        "videoTeleconferenceId": "123456789",
        "lobbyBypassSettings": {"scope": lobby_scope(request), "isDialInBypassEnabled": False},
        "recordAutomatically": request.settings.auto_recording != "none",
        "audioConferencing": {
            "conferenceId": "24229087", "tollNumber": "+32 2 000 00 00",
            "tollNumbers": ["+32 2 000 00 00", "+52 55 0000 0000"],
            "tollFreeNumber": "+1 800 000 0000",
            "dialinUrl": "https://dialin.teams.microsoft.com/22f12fa0-499f-435b-bc69",
        },
        "chatInfo": {"threadId": "19:meeting_abc@thread.v2", "messageId": "0"},
    }
    data.update(changes)
    return data


def add_token(rsps: responses.RequestsMock, value: str = "graph-token-1",
              expires_in: int = 3599) -> None:
    rsps.add(responses.POST, TOKEN_URL, json={"token_type": "Bearer", "expires_in": expires_in,
                                              "ext_expires_in": expires_in,
                                              "access_token": value})


def existing() -> Meeting:
    return Meeting(platform="msteams", meeting_id=MEETING_ID, join_url=JOIN_URL)


# --- create / get / update / delete -------------------------------------------------------------


def test_create_uses_create_or_get_with_the_marker_as_external_id(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, json=graph_meeting(request), status=201)

    meeting = adapter.create_meeting(request)

    assert meeting.meeting_id == MEETING_ID
    assert meeting.join_url == JOIN_URL
    assert meeting.marker == request.marker
    assert meeting.start == request.start and meeting.duration == request.duration
    assert [(d.number, d.label) for d in meeting.dial_in] == [
        ("+32 2 000 00 00", "toll"), ("+52 55 0000 0000", "toll"),
        ("+1 800 000 0000", "toll-free")]
    assert meeting.extra["conferenceId"] == "24229087"
    assert rsps.sent_json(0, method="POST") == {
        "externalId": request.marker, "subject": request.topic,
        "startDateTime": "2021-10-28T15:00:00Z", "endDateTime": "2021-10-28T17:30:00Z"}
    assert rsps.api_calls("PATCH") == []  # the lobby already matches: no second write
    assert rsps.check_bodies() == 1


def test_create_returning_the_existing_meeting_makes_no_new_one(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, json=graph_meeting(request), status=200)

    assert adapter.create_meeting(request).meeting_id == MEETING_ID
    assert [r.method for r in rsps.api_calls()] == ["POST"]


def test_create_sets_lobby_and_recording_with_a_patch_when_they_differ(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    request = meeting_request(settings=MeetingOptions(waiting_room=False,
                                                      auto_recording="cloud"))
    add_token(rsps)
    as_created = graph_meeting(request, lobbyBypassSettings={"scope": "organization"},
                               recordAutomatically=False)  # the tenant's defaults
    rsps.add(responses.POST, CREATE_URL, json=as_created, status=201)
    patched = graph_meeting(request)
    rsps.add(responses.PATCH, MEETING_URL, json=patched, status=200)

    meeting = adapter.create_meeting(request)

    assert meeting.meeting_id == MEETING_ID
    body = rsps.sent_json(0, method="PATCH")
    assert body["lobbyBypassSettings"] == {"scope": "everyone", "isDialInBypassEnabled": False}
    assert body["recordAutomatically"] is True
    assert rsps.check_bodies() == 2


def test_a_timed_out_create_is_sent_again_because_create_or_get_is_idempotent(
    adapter: TeamsAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, body=requests.ReadTimeout("slow"))
    rsps.add(responses.POST, CREATE_URL, status=503, json={"error": {
        "code": "ServiceUnavailable", "message": "busy"}}, headers={"Retry-After": "3"})
    rsps.add(responses.POST, CREATE_URL, json=graph_meeting(request), status=200)

    assert adapter.create_meeting(request).meeting_id == MEETING_ID
    assert len(recorded_sleep) == 2 and recorded_sleep[1] == 3.0
    bodies = {json.dumps(request_json(r), sort_keys=True) for r in rsps.api_calls("POST")}
    assert len(bodies) == 1  # the same externalId every time


def test_update_patches_and_accepts_200_with_the_meeting(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    moved = meeting_request(start=datetime(2021, 10, 28, 16, 0, tzinfo=timezone.utc))
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, json=graph_meeting(moved), status=200)

    meeting = adapter.update_meeting(existing(), moved)

    assert meeting.start == moved.start
    body = rsps.sent_json(0, method="PATCH")
    assert body["startDateTime"] == "2021-10-28T16:00:00Z"
    assert body["endDateTime"] == "2021-10-28T18:30:00Z"
    assert body["lobbyBypassSettings"]["scope"] == "organization"
    assert body["recordAutomatically"] is False
    assert rsps.check_bodies() == 1


def test_update_accepts_204_and_reads_the_meeting_back(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    moved = meeting_request(topic="Introduction (moved)")
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, status=204)
    rsps.add(responses.GET, MEETING_URL, json=graph_meeting(moved))

    assert adapter.update_meeting(existing(), moved).topic == "Introduction (moved)"
    assert [r.method for r in rsps.api_calls()] == ["PATCH", "GET"]


def test_delete_sends_delete(adapter: TeamsAdapter, rsps: VendorMock) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, MEETING_URL, status=204)

    adapter.delete_meeting(existing())

    assert [r.method for r in rsps.api_calls()] == ["DELETE"]


def test_deleting_a_meeting_already_gone_counts_as_done(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, MEETING_URL, status=404, json={"error": {
        "code": "NotFound", "message": "The meeting was not found."}})

    adapter.delete_meeting(existing())

    assert len(rsps.api_calls()) == 1


def test_get_meeting_returns_the_meeting_or_none_when_gone(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, json=graph_meeting())
    rsps.add(responses.GET, MEETING_URL, status=404, json={"error": {
        "code": "NotFound", "message": "The meeting was not found."}})

    found = adapter.get_meeting(MEETING_ID)
    gone = adapter.get_meeting(MEETING_ID)

    assert found is not None and found.join_url == JOIN_URL
    assert gone is None


def test_updating_a_meeting_graph_no_longer_has_raises_not_found(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, status=404, json={"error": {
        "code": "NotFound", "message": "The meeting was not found."}})

    with pytest.raises(NotFound):
        adapter.update_meeting(existing(), meeting_request())


# --- tokens -------------------------------------------------------------------------------------


def test_token_uses_client_credentials_for_the_graph_default_scope(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    add_token(rsps, "graph-abc")
    rsps.add(responses.GET, MEETING_URL, json=graph_meeting())

    adapter.get_meeting(MEETING_ID)

    assert parse_qs(str(rsps.calls[0].request.body)) == {
        "client_id": ["app-1"], "client_secret": [SECRET],
        "scope": ["https://graph.microsoft.com/.default"], "grant_type": ["client_credentials"]}
    assert rsps.api_calls()[0].headers["Authorization"] == "Bearer graph-abc"


def test_token_is_reused_then_requested_again_before_it_expires(
    adapter: TeamsAdapter, rsps: VendorMock, frozen_clock: Clock
) -> None:
    add_token(rsps, "graph-1", expires_in=3599)
    add_token(rsps, "graph-2", expires_in=3599)
    rsps.add(responses.GET, MEETING_URL, json=graph_meeting())

    adapter.get_meeting(MEETING_ID)
    frozen_clock.advance(seconds=3500)  # 99 s left
    adapter.get_meeting(MEETING_ID)
    frozen_clock.advance(seconds=50)  # 49 s left: get a new one first
    adapter.get_meeting(MEETING_ID)

    used = [r.headers["Authorization"] for r in rsps.api_calls()]
    assert used == ["Bearer graph-1", "Bearer graph-1", "Bearer graph-2"]


def test_a_401_gets_a_new_token_and_retries_once(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    add_token(rsps, "graph-old")
    add_token(rsps, "graph-new")
    rsps.add(responses.GET, MEETING_URL, status=401, json={"error": {
        "code": "InvalidAuthenticationToken", "message": "Access token has expired."}})
    rsps.add(responses.GET, MEETING_URL, json=graph_meeting())

    assert adapter.get_meeting(MEETING_ID) is not None
    used = [r.headers["Authorization"] for r in rsps.api_calls()]
    assert used == ["Bearer graph-old", "Bearer graph-new"]


def test_refused_app_credentials_raise_authentication_error_with_the_entra_message(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    rsps.add(responses.POST, TOKEN_URL, status=401, json={
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided."})

    with pytest.raises(AuthenticationError) as caught:
        adapter.create_meeting(meeting_request())

    assert "AADSTS7000215" in str(caught.value)
    assert "S3EVENTS_MSTEAMS_CLIENT_SECRET" in str(caught.value)
    assert SECRET not in str(caught.value)


# --- errors -------------------------------------------------------------------------------------


def test_a_403_explains_the_permission_and_the_application_access_policy(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, status=403, json={"error": {
        "code": "Forbidden", "message": "No application access policy found for this app."}})

    with pytest.raises(PermissionDenied) as caught:
        adapter.create_meeting(meeting_request())

    text = str(caught.value)
    assert "No application access policy found" in text
    assert "OnlineMeetings.ReadWrite.All" in text
    assert "New-CsApplicationAccessPolicy" in text and "Grant-CsApplicationAccessPolicy" in text


def test_an_unknown_organiser_names_the_user_id_option(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, status=404, json={"error": {
        "code": "NotFound", "message": "User not found."}})

    with pytest.raises(NotFound, match="user_id"):
        adapter.create_meeting(meeting_request())


def test_a_429_waits_retry_after_seconds_then_retries(
    adapter: TeamsAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, status=429, headers={"Retry-After": "4"},
             json={"error": {"code": "TooManyRequests", "message": "Throttled."}})
    rsps.add(responses.PATCH, MEETING_URL, json=graph_meeting(), status=200)

    adapter.update_meeting(existing(), meeting_request())

    assert recorded_sleep == [4.0]


def test_persistent_5xx_raises_service_unavailable_after_the_retries(
    adapter: TeamsAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, status=502, json={"error": {
        "code": "BadGateway", "message": "Bad gateway."}})

    with pytest.raises(ServiceUnavailable):
        adapter.get_meeting(MEETING_ID)

    assert len(rsps.api_calls()) == adapter.http.retry.attempts
    assert len(recorded_sleep) == adapter.http.retry.attempts - 1


# --- secrets, options, registration -------------------------------------------------------------


def test_secrets_and_tokens_never_show_in_reprs_or_logs(
    adapter: TeamsAdapter, rsps: VendorMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_token(rsps, "graph-token-secret")
    rsps.add(responses.POST, CREATE_URL, json=graph_meeting(), status=201)
    rsps.add(responses.GET, MEETING_URL, status=503, json={"error": {
        "code": "ServiceUnavailable", "message": "busy"}})
    rsps.add(responses.GET, MEETING_URL, json=graph_meeting())

    created = adapter.create_meeting(meeting_request())
    read = adapter.get_meeting(MEETING_ID)

    assert read is not None and created.host_url is None
    shown = [repr(adapter), str(adapter), repr(adapter.options), repr(created), str(read),
             created.model_dump_json()]
    assert_not_logged(caplog, SECRET, "graph-token-secret", shown=shown)


def test_token_url_defaults_to_the_tenant_endpoint_and_scope_follows_the_cloud(
    frozen_clock: Clock, recorded_sleep: SleepRecorder, rsps: VendorMock
) -> None:
    adapter = make_adapter(frozen_clock, recorded_sleep,
                           api_base_url="https://graph.microsoft.us/v1.0",
                           token_url="https://login.microsoftonline.us/t/oauth2/v2.0/token")
    rsps.add(responses.POST, "https://login.microsoftonline.us/t/oauth2/v2.0/token",
             json={"access_token": "gov", "expires_in": 3599})
    rsps.add(responses.GET, f"https://graph.microsoft.us/v1.0/users/{USER}/onlineMeetings/"
             f"{MEETING_ID}", json=graph_meeting())

    assert adapter.get_meeting(MEETING_ID) is not None
    assert parse_qs(str(rsps.calls[0].request.body))["scope"] == [
        "https://graph.microsoft.us/.default"]
    assert TeamsOptions(tenant_id=TENANT, client_id="a", client_secret=SecretStr("s"),
                        user_id=USER).resolved_token_url == TOKEN_URL


def test_options_come_from_the_environment_and_missing_ones_are_named() -> None:
    environ = {"S3EVENTS_MSTEAMS_CLIENT_SECRET": SECRET, "S3EVENTS_MSTEAMS_USER_ID": USER}

    adapter = TeamsAdapter.from_options({"tenant_id": TENANT, "client_id": "app-1"},
                                        environ=environ)

    assert isinstance(adapter.options, TeamsOptions)
    assert adapter.options.client_secret.get_secret_value() == SECRET
    with pytest.raises(ConfigurationError, match="S3EVENTS_MSTEAMS_TENANT_ID"):
        TeamsAdapter.from_options({"client_id": "app-1"}, environ=environ)


def test_msteams_is_registered_through_the_entry_point() -> None:
    cls = platform_class("msteams", build_plugin_manager())
    assert cls is TeamsAdapter and cls.idempotent_create is True


# --- the plugin-author kit's contract -----------------------------------------------------------


def sends_meeting(request: MeetingRequest, **more: Any) -> Matcher:
    """Accepts a body only with ``request``'s subject, start and end (Graph has no zone)."""
    def utc(moment: datetime) -> str:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    return json_fields({"subject": request.topic, "startDateTime": utc(request.start),
                        "endDateTime": utc(request.start + request.duration), **more})


class TestTeamsContract(PlatformContract):
    """The checks every platform adapter must pass, from s3events.testing.contracts.

    Graph's createOrGet is idempotent, so there is no find_meeting to check.
    """

    adapter_class = TeamsAdapter
    options: ClassVar[Mapping[str, Any]] = {
        "tenant_id": TENANT, "client_id": "app-1", "client_secret": SECRET, "user_id": USER}
    secret_values = ("contract-graph-token",)
    spec = SPEC
    spec_base_url = BASE

    def mock_auth(self, rsps: responses.RequestsMock) -> None:
        add_token(rsps, "contract-graph-token")

    def error_body(self, status: int) -> Any:
        return {"error": {"code": f"Simulated{status}", "message": f"simulated HTTP {status}"}}

    def route(self, operation: str, meeting_id: str) -> Route:
        if operation == "create":
            return ("POST", CREATE_URL)
        if operation == "attendance":
            return ("GET", f"{MEETINGS}/{meeting_id}/attendanceReports")
        method = {"get": "GET", "update": "PATCH", "delete": "DELETE"}[operation]
        return (method, f"{MEETINGS}/{meeting_id}")

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        rsps.add(responses.POST, CREATE_URL, json=graph_meeting(request), status=201,
                 match=[sends_meeting(request, externalId=request.marker)])

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.add(responses.GET, f"{MEETINGS}/{meeting.meeting_id}",
                 json=graph_meeting(self.make_request(), id=meeting.meeting_id))

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        rsps.add(responses.PATCH, f"{MEETINGS}/{meeting.meeting_id}",
                 json=graph_meeting(request, id=meeting.meeting_id),
                 match=[sends_meeting(request)])

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.add(responses.DELETE, f"{MEETINGS}/{meeting.meeting_id}", status=204)

    def mock_attendance(self, rsps: responses.RequestsMock, meeting: Meeting,
                        request: MeetingRequest) -> list[str]:
        def at(minutes: int) -> str:
            moment = request.start + timedelta(minutes=minutes)
            return moment.strftime("%Y-%m-%dT%H:%M:%S.0000000Z")

        def record(name: str, *stays: tuple[int, int]) -> dict[str, Any]:
            return {"id": name, "emailAddress": f"{name.lower()}@contoso.com",
                    "role": "Attendee", "identity": {"id": f"user-{name}", "displayName": name},
                    "totalAttendanceInSeconds": sum((b - a) * 60 for a, b in stays),
                    "attendanceIntervals": [
                        {"joinDateTime": at(a), "leaveDateTime": at(b),
                         "durationInSeconds": (b - a) * 60} for a, b in stays]}

        reports = f"{MEETINGS}/{meeting.meeting_id}/attendanceReports"
        rsps.add(responses.GET, reports, json={"value": [
            {"id": "r1", "totalParticipantCount": 3, "meetingStartDateTime": at(-1),
             "meetingEndDateTime": at(150)}]})
        records = f"{reports}/r1/attendanceRecords"
        rsps.add(responses.GET, f"{records}?$skiptoken=2", json={"value": [record("Li", (5, 90))]})
        rsps.add(responses.GET, records, match=[matchers.query_string_matcher("")], json={
            "value": [record("Zoe", (0, 40), (55, 150)), record("Ana", (2, 150))],
            "@odata.nextLink": f"{records}?$skiptoken=2"})
        return ["Zoe", "Ana", "Li"]

class TeamsForgetsTheNewStart(TeamsAdapter):
    """Sends an update with the meeting's old start time."""

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        return super().update_meeting(meeting, request.model_copy(update={"start": meeting.start}))


def test_the_contract_catches_an_update_that_forgets_the_new_start(
        contract_failure: Any) -> None:
    error = contract_failure(TestTeamsContract, "test_update_changes_the_meeting",
                             adapter_class=TeamsForgetsTheNewStart)
    assert ("startDateTime: sent '2030-03-05T16:00:00Z', expected '2030-03-06T17:00:00Z'"
            in str(error))
