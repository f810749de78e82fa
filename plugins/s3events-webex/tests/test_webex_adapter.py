"""The webex platform against a mocked Webex API (responses), bodies checked against its spec."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from pydantic import SecretStr
from responses import matchers
from s3events_webex import WebexAdapter, WebexOptions

from s3events.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequest,
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


def brussels(wall: str) -> str:
    """A Brussels wall time with the offset the tz database gives it on that date."""
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo("Europe/Brussels")).isoformat()


BASE = "https://webexapis.com/v1"
TOKEN_URL = f"{BASE}/access_token"
SPEC = "webex-meeting.json"
MEETING_ID = "870f51ff287b41be84648412901e0402"
MEETING_URL = f"{BASE}/meetings/{MEETING_ID}"
WEB_LINK = "https://site4-example.webex.com/site4/j.php?MTID=md41817da6a55b0925530cb88b3577b1e"
HOST_KEY = "918273"
SECRET = "webex-client-secret-value"
REFRESH = "refresh-token-one"


#: The mocked vendor; after each test, every request body sent is checked against the spec.
rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE,
                           excluded_paths=("/access_token",), assert_all_requests_are_fired=True)


def make_adapter(clock: Clock, sleep: SleepRecorder, **options: Any) -> WebexAdapter:
    values: dict[str, Any] = {"client_id": "client-1", "client_secret": SecretStr(SECRET),
                              "refresh_token": SecretStr(REFRESH)}
    values.update(options)
    return WebexAdapter(WebexOptions(**values), session=requests.Session(),
                        sleep=sleep, clock=clock.time)


@pytest.fixture
def adapter(frozen_clock: Clock, recorded_sleep: SleepRecorder) -> WebexAdapter:
    return make_adapter(frozen_clock, recorded_sleep)


def meeting_request(**changes: Any) -> MeetingRequest:
    """Day 1 of the reference series, as this plugin's tests ask for it."""
    defaults: dict[str, Any] = {
        "agenda": "Welcome and opening remarks.",
        "settings": MeetingOptions(waiting_room=True),
    }
    return reference_request(**{**defaults, **changes})


def webex_meeting(request: MeetingRequest | None = None, **changes: object) -> dict[str, Any]:
    """A Webex meeting series object, as the spec's example has it."""
    request = request or meeting_request()
    data: dict[str, Any] = {
        "id": MEETING_ID, "meetingNumber": "123456789", "title": request.topic,
        "agenda": request.agenda, "password": "BgJep@43", "meetingType": "meetingSeries",
        "state": "active", "timezone": request.timezone,
        "start": request.start.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "end": request.end.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
        "hostEmail": "host@example.org", "hostKey": HOST_KEY,
        "siteUrl": "site4-example.webex.com", "webLink": WEB_LINK,
        "sipAddress": "123456789@site4-example.webex.com", "scheduledType": "meeting",
        "integrationTags": [request.marker],
        "telephony": {"accessCode": "1234567890", "callInNumbers": [
            {"label": "US Toll", "callInNumber": "+1-415-527-5035", "tollType": "toll"}]},
    }
    data.update(changes)
    return data


def add_token(rsps: responses.RequestsMock, value: str = "access-1", expires_in: int = 1209599,
              refresh: str = REFRESH) -> None:
    rsps.add(responses.POST, TOKEN_URL, json={
        "access_token": value, "expires_in": expires_in, "refresh_token": refresh,
        "refresh_token_expires_in": 7776000, "token_type": "Bearer"})


def token_calls(rsps: responses.RequestsMock) -> list[dict[str, list[str]]]:
    return [parse_qs(str(c.request.body)) for c in rsps.calls if c.request.url == TOKEN_URL]


def existing() -> Meeting:
    return Meeting(platform="webex", meeting_id=MEETING_ID, join_url=WEB_LINK)


# --- create / get / update / delete -------------------------------------------------------------


def test_create_posts_the_meeting_and_reads_web_link_password_and_numbers(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", json=webex_meeting(request), status=200)

    meeting = adapter.create_meeting(request)

    assert meeting.meeting_id == MEETING_ID
    assert meeting.join_url == WEB_LINK
    assert meeting.passcode is not None and meeting.passcode.get_secret_value() == "BgJep@43"
    assert meeting.extra["meetingNumber"] == "123456789"
    assert meeting.extra["accessCode"] == "1234567890"
    assert [(d.number, d.label) for d in meeting.dial_in] == [("+1-415-527-5035", "US Toll")]
    assert meeting.marker == request.marker
    assert meeting.start == request.start and meeting.duration == request.duration
    body = rsps.sent_json(0, method="POST")
    assert body["start"] == brussels("2021-10-28T17:00:00")
    assert body["end"] == brussels("2021-10-28T19:30:00")
    assert body["timezone"] == "Europe/Brussels"
    assert body["unlockedMeetingJoinSecurity"] == "allowJoinWithLobby"
    assert body["enabledJoinBeforeHost"] is False
    assert body["enabledAutoRecordMeeting"] is False
    assert body["sendEmail"] is False
    assert body["integrationTags"] == [request.marker]
    assert "hostEmail" not in body and "siteUrl" not in body
    assert rsps.check_bodies() == 1


def test_offsets_follow_the_zone_across_the_end_of_summer_time(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    request = meeting_request(session_id="day-3",
                              start=datetime(2021, 11, 4, 16, 0, tzinfo=timezone.utc))
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", json=webex_meeting(request))

    adapter.create_meeting(request)

    body = rsps.sent_json(0, method="POST")
    assert body["start"] == brussels("2021-11-04T17:00:00")


def test_host_email_and_site_url_are_sent_when_configured(
    frozen_clock: Clock, recorded_sleep: SleepRecorder, rsps: VendorMock
) -> None:
    adapter = make_adapter(frozen_clock, recorded_sleep, host_email="host@example.org",
                           site_url="example.webex.com")
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", json=webex_meeting())
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting(),
             match=[matchers.query_param_matcher({"hostEmail": "host@example.org"})])

    adapter.create_meeting(meeting_request())
    adapter.get_meeting(MEETING_ID)

    body = rsps.sent_json(0, method="POST")
    assert body["hostEmail"] == "host@example.org"
    assert body["siteUrl"] == "example.webex.com"
    assert rsps.check_bodies() == 1


def test_update_patches_with_the_spec_media_type_and_returns_the_answer(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    moved = meeting_request(start=datetime(2021, 10, 28, 16, 0, tzinfo=timezone.utc),
                            settings=MeetingOptions(join_before_host=True, auto_recording="cloud"))
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, json=webex_meeting(moved), status=200)

    meeting = adapter.update_meeting(existing(), moved)

    assert meeting.start == moved.start
    patch = rsps.api_calls("PATCH")[0]
    assert patch.headers["Content-Type"] == "application/json-patch+json"
    body = request_json(patch)
    assert body["start"] == brussels("2021-10-28T18:00:00")
    assert body["enabledJoinBeforeHost"] is True
    assert body["enabledAutoRecordMeeting"] is True
    assert body["unlockedMeetingJoinSecurity"] == "allowJoin"
    assert "siteUrl" not in body
    assert rsps.check_bodies() == 1


def test_updating_a_meeting_webex_no_longer_has_raises_not_found(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, status=404,
             json={"message": "The requested resource could not be found.",
                   "trackingId": "TRACK_404"})

    with pytest.raises(NotFound):
        adapter.update_meeting(existing(), meeting_request())


def test_delete_asks_webex_not_to_email_anyone(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, MEETING_URL, status=204,
             match=[matchers.query_param_matcher({"sendEmail": "false"})])

    adapter.delete_meeting(existing())

    assert [r.method for r in rsps.api_calls()] == ["DELETE"]


@pytest.mark.parametrize("status", [404, 410])
def test_deleting_a_meeting_already_gone_counts_as_done(
    adapter: WebexAdapter, rsps: VendorMock, status: int
) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, MEETING_URL, status=status,
             json={"message": "The requested resource could not be found."})

    adapter.delete_meeting(existing())

    assert len(rsps.api_calls()) == 1


def test_get_meeting_returns_none_when_webex_no_longer_has_it(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, status=404,
             json={"message": "The requested resource could not be found."})

    assert adapter.get_meeting(MEETING_ID) is None


def test_get_meeting_reads_the_meeting(adapter: WebexAdapter, rsps: VendorMock) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting())

    meeting = adapter.get_meeting(MEETING_ID)

    assert meeting is not None and meeting.join_url == WEB_LINK


# --- finding a meeting again --------------------------------------------------------------------


def listed(request: MeetingRequest, meeting_id: str, tags: list[str]) -> dict[str, Any]:
    return {**webex_meeting(request, id=meeting_id, integrationTags=tags),
            "meetingSeriesId": meeting_id}


def test_find_meeting_filters_by_integration_tag_in_a_window_around_the_session(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.GET, f"{BASE}/meetings", json={"items": [
        listed(request, "other", ["s3e-someone-else"]),
        listed(request, MEETING_ID, [request.marker]),
    ]}, match=[matchers.query_param_matcher({
        "integrationTag": request.marker, "meetingType": "meetingSeries", "max": "100",
        "from": "2021-10-27T15:00:00+00:00", "to": "2021-10-29T17:30:00+00:00"})])
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting(request))

    found = adapter.find_meeting(request)

    assert found is not None and found.meeting_id == MEETING_ID


def test_find_meeting_follows_the_link_header_to_the_next_page(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    next_url = f"{BASE}/meetings?integrationTag={request.marker}&cursor=abc"
    add_token(rsps)
    rsps.add(responses.GET, f"{BASE}/meetings", json={"items": []},
             headers={"Link": f'<{next_url}>; rel="next"'},
             match=[matchers.query_param_matcher({"meetingType": "meetingSeries"},
                                                 strict_match=False)])
    rsps.add(responses.GET, f"{BASE}/meetings",
             json={"items": [listed(request, MEETING_ID, [request.marker])]},
             match=[matchers.query_param_matcher({"cursor": "abc"}, strict_match=False)])
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting(request))

    found = adapter.find_meeting(request)

    assert found is not None and found.meeting_id == MEETING_ID


def test_find_meeting_returns_none_when_no_meeting_has_the_tag(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, f"{BASE}/meetings", json={"items": []})

    assert adapter.find_meeting(meeting_request()) is None


# --- tokens -------------------------------------------------------------------------------------


def test_the_access_token_comes_from_the_refresh_token_and_is_reused_until_near_expiry(
    adapter: WebexAdapter, rsps: VendorMock, frozen_clock: Clock
) -> None:
    add_token(rsps, "access-1", expires_in=3600, refresh="refresh-token-two")
    add_token(rsps, "access-2", expires_in=3600, refresh="refresh-token-two")
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting())

    adapter.get_meeting(MEETING_ID)
    frozen_clock.advance(seconds=3000)
    adapter.get_meeting(MEETING_ID)
    frozen_clock.advance(seconds=580)  # 20 s left: refresh first
    adapter.get_meeting(MEETING_ID)

    used = [r.headers["Authorization"] for r in rsps.api_calls()]
    assert used == ["Bearer access-1", "Bearer access-1", "Bearer access-2"]
    first, second = token_calls(rsps)
    assert first == {"grant_type": ["refresh_token"], "client_id": ["client-1"],
                     "client_secret": [SECRET], "refresh_token": [REFRESH]}
    assert second["refresh_token"] == ["refresh-token-two"]  # the new one Webex returned


def test_a_401_refreshes_the_token_and_retries_once(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    add_token(rsps, "access-old")
    add_token(rsps, "access-new")
    rsps.add(responses.GET, MEETING_URL, status=401,
             json={"message": "The request requires a valid access token set in the "
                              "Authorization request header.", "trackingId": "T401"})
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting())

    assert adapter.get_meeting(MEETING_ID) is not None
    used = [r.headers["Authorization"] for r in rsps.api_calls()]
    assert used == ["Bearer access-old", "Bearer access-new"]


def test_a_given_access_token_is_used_as_is_and_a_401_is_not_retried(
    frozen_clock: Clock, recorded_sleep: SleepRecorder, rsps: VendorMock
) -> None:
    adapter = WebexAdapter(WebexOptions(access_token=SecretStr("personal-token")),
                           session=requests.Session(), sleep=recorded_sleep,
                           clock=frozen_clock.time)
    rsps.add(responses.POST, f"{BASE}/meetings", status=401,
             json={"message": "The request requires a valid access token.", "trackingId": "T"})

    with pytest.raises(AuthenticationError) as caught:
        adapter.create_meeting(meeting_request())

    assert "refresh_token" in str(caught.value)
    assert [r.headers["Authorization"] for r in rsps.api_calls()] == ["Bearer personal-token"]


def test_a_given_access_token_is_replaced_by_a_refreshed_one_after_a_401(
    frozen_clock: Clock, recorded_sleep: SleepRecorder, rsps: VendorMock
) -> None:
    adapter = make_adapter(frozen_clock, recorded_sleep, access_token=SecretStr("given-token"))
    add_token(rsps, "refreshed-token")
    rsps.add(responses.GET, MEETING_URL, status=401, json={"message": "expired"})
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting())

    assert adapter.get_meeting(MEETING_ID) is not None
    used = [r.headers["Authorization"] for r in rsps.api_calls()]
    assert used == ["Bearer given-token", "Bearer refreshed-token"]


def test_a_refused_refresh_token_raises_authentication_error_saying_what_to_do(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    rsps.add(responses.POST, TOKEN_URL, status=400,
             json={"message": "Invalid refresh token", "trackingId": "TREFRESH"})

    with pytest.raises(AuthenticationError) as caught:
        adapter.get_meeting(MEETING_ID)

    assert "Invalid refresh token" in str(caught.value)
    assert "S3EVENTS_WEBEX_REFRESH_TOKEN" in str(caught.value)
    assert REFRESH not in str(caught.value) and SECRET not in str(caught.value)


# --- errors and rate limits ---------------------------------------------------------------------


def test_a_403_raises_permission_denied_naming_the_scopes(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", status=403,
             json={"message": "The server understood the request, but refused to fulfill it.",
                   "trackingId": "T403"})

    with pytest.raises(PermissionDenied) as caught:
        adapter.create_meeting(meeting_request())

    assert "meeting:schedules_write" in str(caught.value)
    assert "T403" in str(caught.value)


def test_a_rejected_create_is_not_retried_because_webex_counts_failures(
    adapter: WebexAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", status=400, json={
        "message": "The input parameters contain invalid items.",
        "errors": [{"description": "Meeting password validation failed."}],
        "trackingId": "19085D1FCFEE445DA358375500D25E44_1598154356721"})

    with pytest.raises(InvalidRequest) as caught:
        adapter.create_meeting(meeting_request())

    assert "Meeting password validation failed" in str(caught.value)
    assert "19085D1FCFEE445DA358375500D25E44_1598154356721" in str(caught.value)
    assert len(rsps.api_calls()) == 1 and recorded_sleep == []


def test_a_429_waits_retry_after_seconds_then_retries(
    adapter: WebexAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", status=429, headers={"Retry-After": "12"},
             json={"message": "Too Many Requests", "trackingId": "T429"})
    rsps.add(responses.POST, f"{BASE}/meetings", json=webex_meeting())

    assert adapter.create_meeting(meeting_request()).meeting_id == MEETING_ID
    assert recorded_sleep == [12.0]


def test_5xx_on_a_read_is_retried(
    adapter: WebexAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, status=503, json={"message": "Service Unavailable"})
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting())

    assert adapter.get_meeting(MEETING_ID) is not None
    assert len(recorded_sleep) == 1


def test_5xx_on_create_is_not_retried(
    adapter: WebexAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", status=502, json={"message": "Bad Gateway"})

    with pytest.raises(ServiceUnavailable):
        adapter.create_meeting(meeting_request())

    assert len(rsps.api_calls()) == 1 and recorded_sleep == []


def test_a_read_timeout_on_create_is_not_retried(
    adapter: WebexAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, f"{BASE}/meetings", body=requests.ReadTimeout("slow"))

    with pytest.raises(ServiceUnavailable):
        adapter.create_meeting(meeting_request())

    assert len(rsps.api_calls()) == 1 and recorded_sleep == []


@pytest.mark.parametrize("minutes", [5, 24 * 60])
def test_durations_webex_refuses_are_caught_before_any_request(
    adapter: WebexAdapter, rsps: VendorMock, minutes: int
) -> None:
    with pytest.raises(ConfigurationError, match="between 10 minutes and 23 h 59 min"):
        adapter.create_meeting(meeting_request(duration=timedelta(minutes=minutes)))

    assert len(rsps.calls) == 0


# --- secrets, options, registration -------------------------------------------------------------


def test_host_key_and_secrets_never_show_in_reprs_meetings_or_logs(
    adapter: WebexAdapter, rsps: VendorMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_token(rsps, "access-secret-token", refresh="refresh-token-new")
    rsps.add(responses.POST, f"{BASE}/meetings", json=webex_meeting())
    rsps.add(responses.GET, MEETING_URL, status=503, json={"message": "busy"})
    rsps.add(responses.GET, MEETING_URL, json=webex_meeting())

    created = adapter.create_meeting(meeting_request())
    read = adapter.get_meeting(MEETING_ID)

    assert read is not None
    shown = [repr(adapter), str(adapter), repr(adapter.options), repr(adapter.tokens),
             repr(created), str(read), created.model_dump_json(),
             json.dumps(created.model_dump(mode="json"))]
    assert_not_logged(caplog, HOST_KEY, SECRET, REFRESH, "refresh-token-new",
                      "access-secret-token", "BgJep@43", shown=shown)
    assert created.host_url is None


def test_options_need_a_token_or_the_three_refresh_options() -> None:
    with pytest.raises(ConfigurationError) as caught:
        WebexAdapter.from_options({"client_id": "c"}, environ={})

    assert "S3EVENTS_WEBEX_CLIENT_SECRET" in str(caught.value)
    assert "S3EVENTS_WEBEX_REFRESH_TOKEN" in str(caught.value)
    adapter = WebexAdapter.from_options({"client_id": "c"}, environ={
        "S3EVENTS_WEBEX_CLIENT_SECRET": SECRET, "S3EVENTS_WEBEX_REFRESH_TOKEN": REFRESH})
    assert isinstance(adapter.options, WebexOptions)
    assert adapter.options.resolved_token_url == TOKEN_URL


def test_token_url_follows_api_base_url_unless_given() -> None:
    options = WebexOptions(access_token=SecretStr("t"), api_base_url="https://proxy.example/v1/")
    assert options.resolved_token_url == "https://proxy.example/v1/access_token"
    explicit = WebexOptions(access_token=SecretStr("t"), token_url="https://idp.example/token")
    assert explicit.resolved_token_url == "https://idp.example/token"


def test_webex_is_registered_through_the_entry_point() -> None:
    assert platform_class("webex", build_plugin_manager()) is WebexAdapter


# --- the plugin-author kit's contract -----------------------------------------------------------


def sends_meeting(request: MeetingRequest) -> Matcher:
    """Accepts a body only with ``request``'s title, zone, and its times as wall times there."""
    def local(moment: datetime) -> str:
        return moment.astimezone(ZoneInfo(request.timezone)).isoformat()

    return json_fields({"title": request.topic, "timezone": request.timezone,
                        "start": local(request.start),
                        "end": local(request.start + request.duration),
                        "integrationTags": [request.marker]})


class TestWebexContract(PlatformContract):
    """The checks every platform adapter must pass, from s3events.testing.contracts."""

    adapter_class = WebexAdapter
    options: ClassVar[Mapping[str, Any]] = {
        "client_id": "client-1", "client_secret": SECRET, "refresh_token": REFRESH}
    secret_values = ("contract-webex-token", "contract-webex-refresh", HOST_KEY)
    spec = SPEC
    spec_base_url = BASE
    spec_unlisted_paths = ("/access_token",)  # the token endpoint is not in the spec

    def mock_auth(self, rsps: responses.RequestsMock) -> None:
        add_token(rsps, "contract-webex-token", refresh="contract-webex-refresh")

    def error_body(self, status: int) -> Any:
        return {"message": f"simulated HTTP {status}", "trackingId": f"CONTRACT_{status}"}

    def route(self, operation: str, meeting_id: str) -> Route:
        if operation in ("create", "attendance"):
            return ("POST" if operation == "create" else "GET", f"{BASE}/meetings")
        method = {"get": "GET", "update": "PATCH", "delete": "DELETE"}[operation]
        return (method, f"{BASE}/meetings/{meeting_id}")

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        rsps.add(responses.POST, f"{BASE}/meetings", json=webex_meeting(request),
                 match=[sends_meeting(request)])

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.add(responses.GET, f"{BASE}/meetings/{meeting.meeting_id}",
                 json=webex_meeting(self.make_request(), id=meeting.meeting_id))

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        rsps.add(responses.PATCH, f"{BASE}/meetings/{meeting.meeting_id}",
                 json=webex_meeting(request, id=meeting.meeting_id),
                 match=[sends_meeting(request)])

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.add(responses.DELETE, f"{BASE}/meetings/{meeting.meeting_id}", status=204)

    def mock_find(self, rsps: responses.RequestsMock, request: MeetingRequest,
                  meeting: Meeting) -> None:
        rsps.add(responses.GET, f"{BASE}/meetings",
                 json={"items": [listed(request, meeting.meeting_id, [request.marker])]})
        self.mock_get(rsps, meeting)

    def mock_attendance(self, rsps: responses.RequestsMock, meeting: Meeting,
                        request: MeetingRequest) -> list[str]:
        def at(minutes: int) -> str:
            return (request.start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def person(name: str, *stays: tuple[int, int]) -> dict[str, Any]:
            devices = [{"deviceType": "webex_meeting_center_mac", "joinedTime": at(join),
                        "leftTime": at(leave), "durationSecond": (leave - join) * 60}
                       for join, leave in stays]
            return {"id": f"p-{name}", "displayName": name, "state": "end",
                    "email": f"{name.lower()}@example.org", "devices": devices,
                    "joinedTime": at(stays[0][0]), "leftTime": at(stays[-1][1])}

        instance = f"{meeting.meeting_id}_I_1"
        listed = webex_meeting(request, id=instance, meetingSeriesId=meeting.meeting_id,
                               meetingType="meeting", state="ended", start=at(-1), end=at(150),
                               hostUserId="Y2lzY29zcGFyazovL3Vz", hostDisplayName="Host",
                               enabledBreakoutSessions=False)
        rsps.add(responses.GET, f"{BASE}/meetings", json={"items": [listed]})
        second = f"{BASE}/meetingParticipants?meetingId={instance}&max=100&cursor=2"
        rsps.add(responses.GET, second, json={"items": [person("Li", (5, 90))]})
        rsps.add(responses.GET, f"{BASE}/meetingParticipants",
                 json={"items": [person("Zoe", (0, 40), (55, 150)), person("Ana", (2, 150))]},
                 headers={"Link": f'<{second}>; rel="next"'})
        return ["Zoe", "Ana", "Li"]

class WebexForgetsTheNewStart(WebexAdapter):
    """Sends an update with the meeting's old start time."""

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        return super().update_meeting(meeting, request.model_copy(update={"start": meeting.start}))


def test_the_contract_catches_an_update_that_forgets_the_new_start(
        contract_failure: Any) -> None:
    error = contract_failure(TestWebexContract, "test_update_changes_the_meeting",
                             adapter_class=WebexForgetsTheNewStart)
    assert "start: sent '2030-03-05T13:00:00-03:00', expected '2030-03-06T14:00:00-03:00'" in str(
        error)
