"""The zoom platform against a mocked Zoom API (responses), bodies checked against Zoom's spec.

The spec, shipped with the testing kit, is Zoom's archived 2018 OpenAPI 2.0 definition. It
knows every field the adapter sends (``tracking_fields`` included). Where it differs from
today's API, the tests follow today's API and say so: meeting ids are int64 JSON numbers
(2018: strings), the token comes from Server-to-Server OAuth (2018: JWT, ``access_token``
query key), 429 responses and their headers are not in the 2018 spec, and the list endpoint
pages with ``next_page_token`` (2018: ``page_number``).
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from pydantic import SecretStr
from responses import matchers
from s3events_zoom import ZoomAdapter, ZoomOptions
from s3events_zoom.payload import AGENDA_MAX, TOPIC_MAX, marker_line

from s3events.errors import (
    AuthenticationError,
    ConfigurationError,
    PermissionDenied,
    RateLimited,
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
from s3events.testing.matchers import Matcher, json_fields

BASE = "https://api.zoom.us/v2"
TOKEN_URL = "https://zoom.us/oauth/token"
SPEC = "zoom-api-v2-openapi-2018.json"
SECRET = "zoom-client-secret-value"
START_URL = "https://us02web.zoom.us/s/85746065123?zak=host-only-zak-token"
JOIN_URL = "https://us02web.zoom.us/j/85746065123?pwd=participantpwd"
MEETING_URL = f"{BASE}/meetings/85746065123"
CREATE_URL = f"{BASE}/users/host@example.org/meetings"
#: 2021-10-28 12:00 UTC, before the first reference session (Zoom's daily limit resets at
#: 00:00 UTC, so the tests of it need the time of day).
T0 = datetime(2021, 10, 28, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def clock() -> Clock:
    return Clock(T0)


#: The mocked vendor; after each test, every request body sent is checked against the spec.
rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE, assert_all_requests_are_fired=True)


def make_adapter(clock: Clock, sleep: SleepRecorder, **options: str) -> ZoomAdapter:
    opts = ZoomOptions(account_id="acct-1", client_id="client-1",
                       client_secret=SecretStr(SECRET), user_id="host@example.org",
                       **options)  # type: ignore[arg-type]
    return ZoomAdapter(opts, session=requests.Session(), sleep=sleep, clock=clock.time)


@pytest.fixture
def adapter(clock: Clock, recorded_sleep: SleepRecorder) -> ZoomAdapter:
    return make_adapter(clock, recorded_sleep)


def meeting_request(**changes: Any) -> MeetingRequest:
    """Day 1 of the reference series, as this plugin's tests ask for it."""
    defaults: dict[str, Any] = {
        "agenda": "Welcome and opening remarks.\nSmart Specialisation in Latin America.",
        "settings": MeetingOptions(waiting_room=True, auto_recording="cloud"),
    }
    return reference_request(**{**defaults, **changes})


def zoom_meeting(request: MeetingRequest | None = None, **changes: object) -> dict[str, object]:
    """A Zoom meeting object as today's API returns it (id as an int64 number)."""
    request = request or meeting_request()
    data: dict[str, object] = {
        "id": 85746065123,
        "uuid": "aDYlohsHRtCd4ii1uC2+hA==",
        "host_id": "30R7kT7bTIKSNUFEuH_Qlg",
        "topic": request.topic,
        "type": 2,
        "status": "waiting",
        "start_time": request.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": request.duration_minutes,
        "timezone": request.timezone,
        "agenda": f"{request.agenda}\n\n{marker_line(request.marker)}",
        "join_url": JOIN_URL,
        "start_url": START_URL,
        "password": "123456",
        "settings": {
            "waiting_room": True,
            "approval_type": 2,
            "global_dial_in_numbers": [
                {"country": "BE", "country_name": "Belgium", "city": "Brussels",
                 "number": "+32 2 000 0000", "type": "toll"},
            ],
        },
        "tracking_fields": [{"field": "s3events", "value": request.marker}],
    }
    data.update(changes)
    return data


def add_token(rsps: responses.RequestsMock, value: str = "token-1",
              expires_in: int = 3599) -> None:
    rsps.add(responses.POST, TOKEN_URL,
             json={"access_token": value, "token_type": "bearer", "expires_in": expires_in,
                   "scope": "meeting:write:meeting:admin meeting:read:meeting:admin"})


# --- create / get / update / delete -------------------------------------------------------------


def test_create_posts_a_scheduled_meeting_and_returns_the_join_details(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, json=zoom_meeting(request), status=201)

    meeting = adapter.create_meeting(request)

    assert meeting.platform == "zoom"
    assert meeting.meeting_id == "85746065123"
    assert meeting.join_url == JOIN_URL
    assert meeting.host_url is not None and meeting.host_url.get_secret_value() == START_URL
    assert meeting.passcode is not None and meeting.passcode.get_secret_value() == "123456"
    assert [(d.number, d.country) for d in meeting.dial_in] == [("+32 2 000 0000", "BE")]
    assert meeting.marker == request.marker
    assert meeting.start == request.start
    body = rsps.sent_json(0, method="POST")
    assert body["start_time"] == "2021-10-28T15:00:00Z"
    assert body["timezone"] == "Europe/Brussels"
    assert body["duration"] == 150
    assert body["type"] == 2
    assert body["settings"] == {"waiting_room": True, "join_before_host": False,
                                "mute_upon_entry": True, "auto_recording": "cloud",
                                "approval_type": 2}
    assert body["tracking_fields"] == [{"field": "s3events", "value": request.marker}]
    assert str(body["agenda"]).splitlines()[-1] == f"[{request.marker}]"
    assert rsps.check_bodies() == 1


def test_token_request_uses_account_credentials_grant_with_basic_auth(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    add_token(rsps, "token-abc")
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting())

    adapter.get_meeting("85746065123")

    token_call = rsps.calls[0].request
    expected = base64.b64encode(f"client-1:{SECRET}".encode()).decode()
    assert token_call.headers["Authorization"] == f"Basic {expected}"
    assert parse_qs(str(token_call.body)) == {"grant_type": ["account_credentials"],
                                              "account_id": ["acct-1"]}
    assert rsps.api_calls()[0].headers["Authorization"] == "Bearer token-abc"


def test_meeting_id_keeps_every_digit_of_an_int64(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    big = 9007199254740993  # 2**53 + 1: a float would round it
    add_token(rsps)
    body = json.dumps(zoom_meeting(id=big))
    rsps.add(responses.POST, CREATE_URL, body=body, status=201,
             content_type="application/json")

    assert adapter.create_meeting(meeting_request()).meeting_id == "9007199254740993"


def test_update_patches_the_meeting_then_reads_it_back(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    moved = meeting_request(start=datetime(2021, 10, 28, 16, 0, tzinfo=timezone.utc),
                            topic="Introduction (moved)")
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, status=204)
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting(moved))
    old = Meeting(platform="zoom", meeting_id="85746065123", join_url=JOIN_URL)

    meeting = adapter.update_meeting(old, moved)

    assert meeting.start == moved.start
    assert meeting.topic == "Introduction (moved)"
    body = rsps.sent_json(0, method="PATCH")
    assert body["start_time"] == "2021-10-28T16:00:00Z"
    assert rsps.check_bodies() == 1


def test_delete_sends_delete_for_the_meeting(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, MEETING_URL, status=204)

    adapter.delete_meeting(Meeting(platform="zoom", meeting_id="85746065123", join_url=JOIN_URL))

    assert [r.method for r in rsps.api_calls()] == ["DELETE"]


@pytest.mark.parametrize("status", [404, 400])
def test_deleting_a_meeting_zoom_no_longer_has_counts_as_done(
    adapter: ZoomAdapter, rsps: VendorMock, status: int
) -> None:
    add_token(rsps)
    rsps.add(responses.DELETE, MEETING_URL, status=status,
             json={"code": 3001, "message": "Meeting 85746065123 is not found or has expired."})

    adapter.delete_meeting(Meeting(platform="zoom", meeting_id="85746065123", join_url=JOIN_URL))

    assert len(rsps.api_calls("DELETE")) == 1


def test_get_meeting_returns_none_when_zoom_no_longer_has_it(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, status=404,
             json={"code": 3001, "message": "Meeting does not exist: 85746065123."})

    assert adapter.get_meeting("85746065123") is None


# --- finding a meeting again after a crash ------------------------------------------------------


def listed(meeting_id: int, *, start: str, topic: str, agenda: str = "") -> dict[str, object]:
    return {"id": meeting_id, "uuid": f"u{meeting_id}", "topic": topic, "type": 2,
            "start_time": start, "duration": 150, "timezone": "Europe/Brussels",
            "agenda": agenda, "join_url": f"https://zoom.us/j/{meeting_id}"}


def test_find_meeting_reads_upcoming_meetings_and_returns_the_one_with_the_marker(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    other = meeting_request(session_id="day-9")
    add_token(rsps)
    rsps.add(responses.GET, CREATE_URL, json={"page_size": 300, "meetings": [
        listed(111, start="2021-11-30T15:00:00Z", topic="Unrelated"),
        listed(222, start="2021-10-28T15:00:00Z", topic=request.topic),
        listed(333, start="2021-10-28T15:00:00Z", topic=request.topic),
    ]}, match=[matchers.query_param_matcher({"type": "upcoming", "page_size": "300"})])
    rsps.add(responses.GET, f"{BASE}/meetings/222", json=zoom_meeting(other, id=222))
    rsps.add(responses.GET, f"{BASE}/meetings/333", json=zoom_meeting(request, id=333))

    found = adapter.find_meeting(request)

    assert found is not None and found.meeting_id == "333"
    assert f"{BASE}/meetings/111" not in [str(r.url) for r in rsps.api_calls()]


def test_find_meeting_recognises_the_marker_on_the_agenda_without_tracking_field(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.GET, CREATE_URL, json={"meetings": [
        listed(444, start="2021-12-01T15:00:00Z", topic="Renamed by hand",
               agenda=f"Short agenda\n\n[{request.marker}]"),
    ]})
    rsps.add(responses.GET, f"{BASE}/meetings/444",
             json=zoom_meeting(request, id=444, tracking_fields=[]))

    found = adapter.find_meeting(request)

    assert found is not None and found.meeting_id == "444"


def test_find_meeting_follows_next_page_token(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    add_token(rsps)
    rsps.add(responses.GET, CREATE_URL, json={"next_page_token": "page2", "meetings": [
        listed(111, start="2021-11-30T15:00:00Z", topic="Unrelated")]},
        match=[matchers.query_param_matcher({"type": "upcoming", "page_size": "300"})])
    rsps.add(responses.GET, CREATE_URL, json={"next_page_token": "", "meetings": [
        listed(555, start="2021-10-28T15:00:00Z", topic=request.topic)]},
        match=[matchers.query_param_matcher(
            {"type": "upcoming", "page_size": "300", "next_page_token": "page2"})])
    rsps.add(responses.GET, f"{BASE}/meetings/555", json=zoom_meeting(request, id=555))

    found = adapter.find_meeting(request)

    assert found is not None and found.meeting_id == "555"


def test_find_meeting_returns_none_when_no_meeting_carries_the_marker(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    request = meeting_request()
    stranger = meeting_request(series_id="another-series")
    add_token(rsps)
    rsps.add(responses.GET, CREATE_URL, json={"meetings": [
        listed(666, start="2021-10-28T15:00:00Z", topic=request.topic)]})
    rsps.add(responses.GET, f"{BASE}/meetings/666", json=zoom_meeting(stranger, id=666))

    assert adapter.find_meeting(request) is None


# --- tokens -------------------------------------------------------------------------------------


def test_token_is_reused_then_fetched_again_shortly_before_it_expires(
    adapter: ZoomAdapter, rsps: VendorMock, clock: Clock
) -> None:
    add_token(rsps, "token-1", expires_in=3600)
    add_token(rsps, "token-2", expires_in=3600)
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting())

    adapter.get_meeting("85746065123")
    clock.advance(seconds=3000)  # still more than a minute left
    adapter.get_meeting("85746065123")
    clock.advance(seconds=560)  # 40 s left: fetch a new one first
    adapter.get_meeting("85746065123")

    used = [r.headers["Authorization"] for r in rsps.api_calls()]
    assert used == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]
    assert len([c for c in rsps.calls if c.request.url == TOKEN_URL]) == 2


def test_a_401_fetches_a_new_token_and_retries_once(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    add_token(rsps, "token-old")
    add_token(rsps, "token-new")
    rsps.add(responses.GET, MEETING_URL, status=401,
             json={"code": 124, "message": "Invalid access token."})
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting())

    assert adapter.get_meeting("85746065123") is not None

    used = [r.headers["Authorization"] for r in rsps.api_calls()]
    assert used == ["Bearer token-old", "Bearer token-new"]


def test_a_second_401_raises_authentication_error_with_the_credentials_hint(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, status=401,
             json={"code": 124, "message": "Invalid access token."})

    with pytest.raises(AuthenticationError) as caught:
        adapter.get_meeting("85746065123")

    assert "Invalid access token" in str(caught.value)
    assert "S3EVENTS_ZOOM_CLIENT_SECRET" in str(caught.value)
    assert len(rsps.api_calls()) == 2


def test_refused_app_credentials_raise_authentication_error_without_the_secret(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    rsps.add(responses.POST, TOKEN_URL, status=400,
             json={"reason": "Invalid client_id or client_secret", "error": "invalid_client"})

    with pytest.raises(AuthenticationError) as caught:
        adapter.create_meeting(meeting_request())

    assert "Invalid client_id or client_secret" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert rsps.api_calls() == []


# --- errors and rate limits ---------------------------------------------------------------------


def test_a_403_raises_permission_denied_naming_the_scopes(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, status=403,
             json={"code": 4711, "message": "Invalid access token, does not contain scopes."})

    with pytest.raises(PermissionDenied) as caught:
        adapter.create_meeting(meeting_request())

    assert "meeting:write:meeting:admin" in str(caught.value)
    assert "does not contain scopes" in str(caught.value)


def test_an_unknown_host_names_the_user_id_option(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, status=404,
             json={"code": 1001, "message": "User does not exist: host@example.org."})

    with pytest.raises(Exception) as caught:
        adapter.create_meeting(meeting_request())

    assert "user_id" in str(caught.value)


def test_a_429_with_retry_after_seconds_waits_that_long_and_retries(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, status=429, headers={"Retry-After": "7"},
             json={"code": 429, "message": "You have reached the maximum per-second rate "
                                           "limit for this API. Try again later."})
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting())

    assert adapter.get_meeting("85746065123") is not None
    assert recorded_sleep == [7.0]


def test_a_per_second_429_on_create_is_waited_out_and_creates_once(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, status=429, headers={"Retry-After": "2"},
             json={"code": 429, "message": "You have reached the maximum per-second rate "
                                           "limit for this API. Try again later."})
    rsps.add(responses.POST, CREATE_URL, status=201, json=zoom_meeting())

    assert adapter.create_meeting(meeting_request()).meeting_id == "85746065123"
    assert recorded_sleep == [2.0]
    assert len(rsps.api_calls("POST")) == 2


DAILY_MESSAGE = ("You have exceeded the daily rate limit (100) of Meeting Create/Update API "
                 "requests permitted for this particular user. You may resume these requests "
                 "at GMT 00:00:00.")


def test_the_daily_limit_with_an_iso_retry_after_stops_at_once_and_says_when_it_resets(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, status=429, json={"code": 429, "message": DAILY_MESSAGE},
             headers={"Retry-After": "2021-10-29T00:00:00Z", "X-RateLimit-Type": "Daily-limit",
                      "X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0"})

    with pytest.raises(RateLimited) as caught:
        adapter.create_meeting(meeting_request())

    assert caught.value.retry_after == 12 * 3600  # from 12:00 to 00:00 UTC
    assert "2021-10-29 00:00 UTC" in str(caught.value)
    assert "daily rate limit (100)" in str(caught.value)
    assert recorded_sleep == []
    assert len(rsps.api_calls("POST")) == 1


def test_the_daily_limit_without_headers_is_recognised_by_its_message(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder, clock: Clock
) -> None:
    clock.advance(seconds=3 * 3600)  # 15:00 UTC
    add_token(rsps)
    rsps.add(responses.PATCH, MEETING_URL, status=429,
             json={"code": 429, "message": DAILY_MESSAGE})
    old = Meeting(platform="zoom", meeting_id="85746065123", join_url=JOIN_URL)

    with pytest.raises(RateLimited) as caught:
        adapter.update_meeting(old, meeting_request())

    assert caught.value.retry_after == 9 * 3600  # Zoom resets at 00:00 UTC
    assert recorded_sleep == []


def test_5xx_on_a_read_is_retried_with_backoff(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.GET, MEETING_URL, status=503, json={"message": "busy"})
    rsps.add(responses.GET, MEETING_URL, status=502, json={"message": "busy"})
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting())

    assert adapter.get_meeting("85746065123") is not None
    assert len(recorded_sleep) == 2 and all(s > 0 for s in recorded_sleep)


def test_5xx_on_create_is_not_retried_so_no_second_meeting_is_made(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, status=502, json={"message": "Bad gateway"})

    with pytest.raises(ServiceUnavailable):
        adapter.create_meeting(meeting_request())

    assert len(rsps.api_calls("POST")) == 1
    assert recorded_sleep == []


def test_a_connection_error_on_create_is_not_retried(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, body=requests.ConnectionError("reset by peer"))

    with pytest.raises(ServiceUnavailable):
        adapter.create_meeting(meeting_request())

    assert len(rsps.api_calls("POST")) == 1
    assert recorded_sleep == []


# --- secrets ------------------------------------------------------------------------------------


def test_the_start_url_and_secrets_never_show_in_reprs_or_logs(
    adapter: ZoomAdapter, rsps: VendorMock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    add_token(rsps, "token-very-secret")
    rsps.add(responses.POST, CREATE_URL, json=zoom_meeting(), status=201)
    rsps.add(responses.GET, MEETING_URL, status=503, json={"message": "busy"})
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting())

    created = adapter.create_meeting(meeting_request())
    read = adapter.get_meeting(created.meeting_id)

    assert read is not None
    shown = [repr(adapter), str(adapter), repr(adapter.http), repr(adapter.options),
             repr(created), str(created), repr(read), created.model_dump_json(),
             json.dumps(created.model_dump(mode="json"))]
    assert_not_logged(caplog, "zak=host-only-zak-token", SECRET, "token-very-secret", "123456",
                      shown=shown)
    assert created.join_url == JOIN_URL  # the participant link is there, the host link is not
    assert "zak" not in created.join_url and "zak" not in json.dumps(created.extra)


# --- bodies, limits, registration ---------------------------------------------------------------


def test_long_topic_and_agenda_are_cut_and_the_marker_stays_on_the_last_line(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    request = meeting_request(topic="Ü" * 300, agenda="Política de innovación. " * 200)
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, json=zoom_meeting(request), status=201)

    adapter.create_meeting(request)

    body = rsps.sent_json(0, method="POST")
    topic, agenda = str(body["topic"]), str(body["agenda"])
    assert len(topic) <= TOPIC_MAX and topic.endswith("…")
    assert len(agenda.encode("utf-16-le")) // 2 <= AGENDA_MAX
    assert agenda.splitlines()[-1] == f"[{request.marker}]"
    assert rsps.check_bodies() == 1


@pytest.mark.parametrize("settings", [
    MeetingOptions(),
    MeetingOptions(join_before_host=True, auto_recording="local", mute_on_entry=False),
    MeetingOptions(waiting_room=True, join_before_host=True),
])
def test_create_and_update_bodies_match_zoom_spec_for_every_setting(
    adapter: ZoomAdapter, rsps: VendorMock, settings: MeetingOptions
) -> None:
    request = meeting_request(settings=settings, agenda="")
    add_token(rsps)
    rsps.add(responses.POST, CREATE_URL, json=zoom_meeting(request), status=201)
    rsps.add(responses.PATCH, MEETING_URL, status=204)
    rsps.add(responses.GET, MEETING_URL, json=zoom_meeting(request))

    adapter.update_meeting(adapter.create_meeting(request), request)

    assert rsps.check_bodies() == 2
    body = rsps.sent_json(0, method="POST")
    assert body["agenda"] == f"[{request.marker}]"
    assert body["settings"]["join_before_host"] == (
        settings.join_before_host and not settings.waiting_room)


def test_a_body_the_spec_forbids_is_caught_by_the_spec_check() -> None:
    from s3events.testing.specs import validate_request

    with pytest.raises(AssertionError, match=r"settings\.auto_recording"):
        validate_request(SPEC, method="POST", path="/users/me/meetings",
                         body={"topic": "x", "settings": {"auto_recording": "sometimes"}})


def test_zoom_is_registered_through_the_entry_point() -> None:
    assert platform_class("zoom", build_plugin_manager()) is ZoomAdapter


def test_options_come_from_the_environment_and_missing_ones_are_named() -> None:
    environ = {"S3EVENTS_ZOOM_CLIENT_SECRET": SECRET, "S3EVENTS_ZOOM_CLIENT_ID": "client-1"}

    adapter = ZoomAdapter.from_options({"account_id": "acct-1"}, environ=environ)

    assert isinstance(adapter.options, ZoomOptions)
    assert adapter.options.client_secret.get_secret_value() == SECRET
    assert adapter.options.user_id == "me"
    with pytest.raises(ConfigurationError, match="S3EVENTS_ZOOM_ACCOUNT_ID"):
        ZoomAdapter.from_options({}, environ=environ)


def test_api_base_url_and_token_url_can_point_elsewhere(
    clock: Clock, recorded_sleep: SleepRecorder, rsps: VendorMock
) -> None:
    adapter = make_adapter(clock, recorded_sleep, api_base_url="https://api.zoomgov.com/v2",
                           token_url="https://zoomgov.com/oauth/token")
    rsps.add(responses.POST, "https://zoomgov.com/oauth/token",
             json={"access_token": "gov", "expires_in": 3599})
    rsps.add(responses.GET, "https://api.zoomgov.com/v2/meetings/85746065123",
             json=zoom_meeting())

    assert adapter.get_meeting("85746065123") is not None
    assert urlsplit(str(rsps.calls[-1].request.url)).hostname == "api.zoomgov.com"


# --- the plugin-author kit's contract -----------------------------------------------------------


def sends_meeting(request: MeetingRequest) -> Matcher:
    """Accepts a create or update body only with ``request``'s time, length, title and zone."""
    return json_fields({
        "topic": request.topic, "start_time": request.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": int(request.duration.total_seconds()) // 60, "timezone": request.timezone,
        "tracking_fields": [{"field": "s3events", "value": request.marker}]})


class TestZoomContract(PlatformContract):
    """The checks every platform adapter must pass, from s3events.testing.contracts."""

    adapter_class = ZoomAdapter
    options: ClassVar[Mapping[str, Any]] = {
        "account_id": "acct-1", "client_id": "client-1", "client_secret": SECRET,
        "user_id": "host@example.org"}
    secret_values = ("contract-zoom-token", START_URL)
    spec = SPEC
    spec_base_url = BASE

    def mock_auth(self, rsps: responses.RequestsMock) -> None:
        add_token(rsps, "contract-zoom-token")

    def error_body(self, status: int) -> Any:
        return {"code": status, "message": f"simulated HTTP {status}"}

    def route(self, operation: str, meeting_id: str) -> Route:
        if operation == "create":
            return ("POST", CREATE_URL)
        if operation == "attendance":
            return ("GET", f"{BASE}/past_meetings/{meeting_id}/instances")
        method = {"get": "GET", "update": "PATCH", "delete": "DELETE"}[operation]
        return (method, f"{BASE}/meetings/{meeting_id}")

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        rsps.add(responses.POST, CREATE_URL, json=zoom_meeting(request), status=201,
                 match=[sends_meeting(request)])

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        request = self.make_request()
        rsps.add(responses.GET, f"{BASE}/meetings/{meeting.meeting_id}",
                 json=zoom_meeting(request, id=int(meeting.meeting_id)))

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        url = f"{BASE}/meetings/{meeting.meeting_id}"
        rsps.add(responses.PATCH, url, status=204, match=[sends_meeting(request)])
        rsps.add(responses.GET, url, json=zoom_meeting(request, id=int(meeting.meeting_id)))

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.add(responses.DELETE, f"{BASE}/meetings/{meeting.meeting_id}", status=204)

    def mock_find(self, rsps: responses.RequestsMock, request: MeetingRequest,
                  meeting: Meeting) -> None:
        rsps.add(responses.GET, CREATE_URL, json={"meetings": [
            listed(int(meeting.meeting_id), start=request.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   topic=request.topic)]})
        self.mock_get(rsps, meeting)

    def mock_attendance(self, rsps: responses.RequestsMock, meeting: Meeting,
                        request: MeetingRequest) -> list[str]:
        def at(minutes: int) -> str:
            return (request.start + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")

        def row(name: str, join: int, leave: int, user: str) -> dict[str, object]:
            return {"id": user, "name": name, "user_email": f"{user}@example.org",
                    "join_time": at(join), "leave_time": at(leave),
                    "duration": (leave - join) * 60, "status": "in_meeting"}

        rsps.add(responses.GET, f"{BASE}/past_meetings/{meeting.meeting_id}/instances",
                 json={"meetings": [{"uuid": "/contract//run==", "start_time": at(-1)}]})
        url = f"{BASE}/past_meetings/%252Fcontract%252F%252Frun%253D%253D/participants"
        pages = [[row("Zoë", 0, 40, "zoe"), row("Ana", 2, 150, "ana")],
                 [row("Zoë", 55, 150, "zoe"), row("李", 5, 90, "li")]]
        for number, rows in enumerate(pages):
            query = {"page_size": "300", **({"next_page_token": "next"} if number else {})}
            rsps.add(responses.GET, url, match=[matchers.query_param_matcher(query)],
                     json={"participants": rows, "page_size": 300,
                           "next_page_token": "" if number else "next"})
        return ["Zoë", "Ana", "李"]

class ZoomForgetsTheNewStart(ZoomAdapter):
    """Sends an update with the meeting's old start time."""

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        return super().update_meeting(meeting, request.model_copy(update={"start": meeting.start}))


def test_the_contract_catches_an_update_that_forgets_the_new_start(
        contract_failure: Any) -> None:
    error = contract_failure(TestZoomContract, "test_update_changes_the_meeting",
                             adapter_class=ZoomForgetsTheNewStart)
    assert "start_time: sent '2030-03-05T16:00:00Z', expected '2030-03-06T17:00:00Z'" in str(
        error)
