"""Tests of the google-meet platform: Calendar events with Meet conferences, over mocked HTTP."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests
import responses
import s3events_google_meet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr
from responses import matchers
from s3events_google_meet import GoogleMeetAdapter, GoogleMeetOptions
from s3events_google_meet.events import event_body, event_id_for

from s3events.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)
from s3events.platforms.base import Meeting, MeetingRequest, Participant
from s3events.testing import (
    Clock,
    SleepRecorder,
    assert_not_logged,
    reference_request,
    vendor_mock_fixture,
)
from s3events.testing.contracts import PlatformContract
from s3events.testing.matchers import Matcher, json_fields, same_instant
from s3events.testing.specs import spec_path, validate_request


def brussels(wall: str) -> str:
    """A Brussels wall time with the offset the tz database gives it on that date."""
    return datetime.fromisoformat(wall).replace(tzinfo=ZoneInfo("Europe/Brussels")).isoformat()


API = "https://www.googleapis.com/calendar/v3"
EVENTS = f"{API}/calendars/primary/events"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SPEC = "google-calendar-v3-discovery.json"
SCOPE = "https://www.googleapis.com/auth/calendar.events"
CLIENT_SECRET = "GOCSPX-client-secret-value"
REFRESH_TOKEN = "1//refresh-token-value"
START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)
NOW = START - timedelta(days=20)
MEET = "https://meet.google.com/abc-defg-hij"
MEET_API = "https://meet.googleapis.com/v2"


def make_request(**changes: Any) -> MeetingRequest:
    """Day 1 of the reference series, as this plugin's tests ask for it."""
    defaults: dict[str, Any] = {
        "topic": "Introduction: what is S3?", "agenda": "Welcome and overview", "start": START,
    }
    return reference_request(**{**defaults, **changes})


def oauth_adapter(*, sleep: Any = None, clock: Clock | None = None,
                  **options: Any) -> GoogleMeetAdapter:
    opts = GoogleMeetOptions(client_id="client-123.apps.googleusercontent.com",
                             client_secret=SecretStr(CLIENT_SECRET),
                             refresh_token=SecretStr(REFRESH_TOKEN), **options)
    return GoogleMeetAdapter(opts, session=requests.Session(),
                             sleep=(lambda _s: None) if sleep is None else sleep,
                             clock=(clock or Clock(NOW)).time)


def event(event_id: str | None = None, *, status: str = "success", **fields: Any) -> dict[str, Any]:
    """A Calendar event as Google returns it, with the conference in the given state."""
    event_id = event_id or event_id_for(make_request().marker)
    conference: dict[str, Any] = {"createRequest": {
        "requestId": make_request().marker,
        "conferenceSolutionKey": {"type": "hangoutsMeet"}, "status": {"statusCode": status}}}
    if status == "success":
        conference.update(conferenceId="abc-defg-hij", entryPoints=[
            {"entryPointType": "video", "uri": MEET, "label": "meet.google.com/abc-defg-hij"},
            {"entryPointType": "phone", "uri": "tel:+1-555-0100", "label": "+1 555-0100",
             "pin": "123456789", "regionCode": "US"},
            {"entryPointType": "more", "uri": "https://tel.meet/abc-defg-hij?pin=123456789"}])
    body: dict[str, Any] = {
        "kind": "calendar#event", "id": event_id, "status": "confirmed",
        "htmlLink": "https://www.google.com/calendar/event?eid=secretish",
        "summary": "Introduction: what is S3?",
        "start": {"dateTime": brussels("2021-10-28T17:00:00"), "timeZone": "Europe/Brussels"},
        "end": {"dateTime": brussels("2021-10-28T19:30:00"), "timeZone": "Europe/Brussels"},
        "conferenceData": conference,
        "extendedProperties": {"private": {"s3eventsMarker": make_request().marker}},
    }
    if status == "success":
        body["hangoutLink"] = MEET
    body.update(fields)
    return body


def google_error(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"error": {"errors": [{"domain": "global", "reason": reason, "message": message}],
                      "code": code, "message": message}}


def token_ok(rsps: Any, token: str = "ya29.first", expires_in: int = 3599) -> None:
    rsps.post(TOKEN_URL, json={"access_token": token, "expires_in": expires_in,
                               "token_type": "Bearer"})


def api_calls(rsps: Any) -> list[Any]:
    return [call for call in rsps.calls if call.request.url.startswith(API)]


def token_calls(rsps: Any) -> list[Any]:
    return [call for call in rsps.calls if call.request.url.startswith(TOKEN_URL)]


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def check_spec(call: Any) -> None:
    """Validate a Calendar request body against the discovery document."""
    body = json.loads(call.request.body)
    path = urlsplit(call.request.url).path.removeprefix("/calendar/v3")
    validate_request(SPEC, method=call.request.method, path=path, body=body)
    assert_known_fields(body, "Event")


def assert_known_fields(value: Any, schema_name: str) -> None:
    """Discovery schemas allow unknown fields; a misspelt one must still fail our tests."""
    schemas = json.loads(spec_path(SPEC).read_text())["schemas"]

    def walk(node: Any, schema: dict[str, Any], where: str) -> None:
        if "$ref" in schema:
            schema = schemas[schema["$ref"]]
        if isinstance(node, dict) and "properties" in schema:
            for key, item in node.items():
                assert key in schema["properties"], f"{where}.{key} is not in the spec"
                walk(item, schema["properties"][key], f"{where}.{key}")
        elif isinstance(node, dict) and isinstance(schema.get("additionalProperties"), dict):
            for key, item in node.items():
                walk(item, schema["additionalProperties"], f"{where}.{key}")
        elif isinstance(node, list) and isinstance(schema.get("items"), dict):
            for item in node:
                walk(item, schema["items"], f"{where}[]")

    walk(value, schemas[schema_name], "body")


#: The mocked Google APIs; at the end, every Calendar request body is checked too.
rsps = vendor_mock_fixture(spec=SPEC, base_url=API)


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def key_file(tmp_path: Path, rsa_key: rsa.RSAPrivateKey) -> Path:
    pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "s3events-test", "private_key_id": "kid-1",
        "private_key": pem, "client_email": "s3events@s3events-test.iam.gserviceaccount.com",
        "client_id": "1234567890", "token_uri": TOKEN_URL}))
    return path


# -- create -------------------------------------------------------------------------------


def test_create_inserts_an_event_with_a_meet_conference_request(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event())
    meeting = oauth_adapter().create_meeting(make_request())
    call = api_calls(rsps)[0]
    body = json.loads(call.request.body)
    check_spec(call)
    assert query(call) == {"conferenceDataVersion": ["1"], "sendUpdates": ["none"]}
    assert body["conferenceData"] == {"createRequest": {
        "requestId": make_request().marker, "conferenceSolutionKey": {"type": "hangoutsMeet"}}}
    assert body["summary"] == "Introduction: what is S3?"
    assert body["description"] == "Welcome and overview"
    assert call.request.headers["Authorization"] == "Bearer ya29.first"
    assert meeting.join_url == MEET and meeting.meeting_id == body["id"]


def test_event_id_is_lowercase_hex_derived_from_the_marker(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event())
    oauth_adapter().create_meeting(make_request())
    event_id = json.loads(api_calls(rsps)[0].request.body)["id"]
    assert re.fullmatch(r"[0-9a-f]{5,1024}", event_id)
    assert re.fullmatch(r"[0-9a-v]+", event_id)  # base32hex
    assert event_id == event_id_for(make_request().marker)
    assert event_id != event_id_for(make_request(session_id="day-2").marker)


def test_start_and_end_carry_the_zones_offset_and_name(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event())
    rsps.post(EVENTS, json=event())
    adapter = oauth_adapter()
    adapter.create_meeting(make_request())
    adapter.create_meeting(make_request(session_id="day-3", start=START + timedelta(days=7)))
    first, after_dst = (json.loads(c.request.body) for c in api_calls(rsps))
    assert first["start"] == {"dateTime": brussels("2021-10-28T17:00:00"),
                              "timeZone": "Europe/Brussels"}
    assert first["end"]["dateTime"] == brussels("2021-10-28T19:30:00")
    assert after_dst["start"] == {"dateTime": brussels("2021-11-04T16:00:00"),
                                  "timeZone": "Europe/Brussels"}


def test_meeting_reads_join_link_dial_in_and_pin(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event())
    meeting = oauth_adapter().create_meeting(make_request())
    assert meeting.platform == "google-meet"
    assert meeting.join_url == MEET
    assert [(d.number, d.country) for d in meeting.dial_in] == [("+1 555-0100", "US")]
    assert meeting.passcode is not None and meeting.passcode.get_secret_value() == "123456789"
    assert meeting.start == START and meeting.duration == timedelta(hours=2, minutes=30)
    assert meeting.marker == make_request().marker
    assert meeting.extra["conference_id"] == "abc-defg-hij"


def test_hangout_link_is_the_fallback_join_link(rsps: Any) -> None:
    token_ok(rsps)
    body = event()
    body["conferenceData"]["entryPoints"] = []
    rsps.post(EVENTS, json=body)
    assert oauth_adapter().create_meeting(make_request()).join_url == MEET


def test_pending_conference_is_polled_until_it_succeeds(
    rsps: Any, recorded_sleep: SleepRecorder
) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event(status="pending"))
    event_url = f"{EVENTS}/{event_id_for(make_request().marker)}"
    rsps.get(event_url, json=event(status="pending"))
    rsps.get(event_url, json=event(status="success"))
    meeting = oauth_adapter(sleep=recorded_sleep).create_meeting(make_request())
    assert meeting.join_url == MEET
    assert len(recorded_sleep) == 2 and recorded_sleep[1] > recorded_sleep[0]
    assert [c.request.method for c in api_calls(rsps)] == ["POST", "GET", "GET"]


def test_conference_that_stays_pending_is_service_unavailable_after_bounded_polls(
    rsps: Any, recorded_sleep: SleepRecorder,
) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event(status="pending"))
    rsps.get(f"{EVENTS}/{event_id_for(make_request().marker)}", json=event(status="pending"))
    with pytest.raises(ServiceUnavailable, match="still creating the Meet conference") as caught:
        oauth_adapter(sleep=recorded_sleep).create_meeting(make_request())
    assert len(recorded_sleep) == GoogleMeetAdapter.poll_attempts
    assert len(api_calls(rsps)) == 1 + GoogleMeetAdapter.poll_attempts
    assert caught.value.session_id == "day-1"


def test_failed_conference_creation_is_reported_with_a_hint(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event(status="failure"))
    with pytest.raises(InvalidRequest, match="could not create the Meet conference") as caught:
        oauth_adapter().create_meeting(make_request())
    assert "Google Meet is turned on" in str(caught.value)


def test_duplicate_insert_returns_the_existing_event(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, status=409, json=google_error(
        409, "duplicate", "The requested identifier already exists."))
    rsps.get(f"{EVENTS}/{event_id_for(make_request().marker)}", json=event())
    meeting = oauth_adapter().create_meeting(make_request())
    assert meeting.join_url == MEET
    assert [c.request.method for c in api_calls(rsps)] == ["POST", "GET"]


def test_duplicate_of_a_deleted_event_restores_it(rsps: Any) -> None:
    token_ok(rsps)
    event_url = f"{EVENTS}/{event_id_for(make_request().marker)}"
    rsps.post(EVENTS, status=409, json=google_error(409, "duplicate", "exists"))
    rsps.get(event_url, json={**event(), "status": "cancelled"})
    rsps.patch(event_url, json=event())
    meeting = oauth_adapter().create_meeting(make_request())
    patch = api_calls(rsps)[2]
    check_spec(patch)
    assert json.loads(patch.request.body)["status"] == "confirmed"
    assert query(patch)["conferenceDataVersion"] == ["1"]
    assert meeting.join_url == MEET


def test_event_without_a_conference_gets_one_added(rsps: Any) -> None:
    token_ok(rsps)
    event_url = f"{EVENTS}/{event_id_for(make_request().marker)}"
    bare = event()
    del bare["conferenceData"], bare["hangoutLink"]
    rsps.post(EVENTS, status=409, json=google_error(409, "duplicate", "exists"))
    rsps.get(event_url, json=bare)
    rsps.patch(event_url, json=event())
    oauth_adapter().create_meeting(make_request())
    patch = api_calls(rsps)[2]
    check_spec(patch)
    assert query(patch)["conferenceDataVersion"] == ["1"]
    request = json.loads(patch.request.body)["conferenceData"]["createRequest"]
    assert request["conferenceSolutionKey"] == {"type": "hangoutsMeet"}


def test_retrying_the_insert_after_a_server_error_finds_the_event_made_meanwhile(
    rsps: Any,
) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, status=503, json=google_error(503, "backendError", "Backend Error"))
    rsps.post(EVENTS, status=409, json=google_error(409, "duplicate", "exists"))
    rsps.get(f"{EVENTS}/{event_id_for(make_request().marker)}", json=event())
    meeting = oauth_adapter().create_meeting(make_request())
    inserts = [c for c in api_calls(rsps) if c.request.method == "POST"]
    assert len({json.loads(c.request.body)["id"] for c in inserts}) == 1
    assert meeting.join_url == MEET


# -- update, delete, lookup ---------------------------------------------------------------


def _meeting() -> Meeting:
    return Meeting(platform="google-meet", meeting_id=event_id_for(make_request().marker),
                   join_url=MEET)


def test_update_patches_the_event_with_conference_data_version_1(rsps: Any) -> None:
    token_ok(rsps)
    moved = make_request(start=START + timedelta(hours=1), topic="Moved")
    rsps.patch(f"{EVENTS}/{_meeting().meeting_id}", json=event(
        summary="Moved", start={"dateTime": brussels("2021-10-28T18:00:00")},
        end={"dateTime": brussels("2021-10-28T20:30:00")}))
    updated = oauth_adapter().update_meeting(_meeting(), moved)
    call = api_calls(rsps)[0]
    check_spec(call)
    body = json.loads(call.request.body)
    assert query(call) == {"conferenceDataVersion": ["1"], "sendUpdates": ["none"]}
    assert body["start"]["dateTime"] == brussels("2021-10-28T18:00:00")
    assert "conferenceData" not in body and "id" not in body
    assert updated.start == START + timedelta(hours=1) and updated.topic == "Moved"


def test_update_of_a_missing_event_is_not_found(rsps: Any) -> None:
    token_ok(rsps)
    rsps.patch(f"{EVENTS}/{_meeting().meeting_id}", status=404,
               json=google_error(404, "notFound", "Not Found"))
    with pytest.raises(NotFound):
        oauth_adapter().update_meeting(_meeting(), make_request())


@pytest.mark.parametrize("status", [204, 404, 410])
def test_delete_succeeds_when_deleted_or_already_gone(rsps: Any, status: int) -> None:
    token_ok(rsps)
    body = None if status == 204 else json.dumps(google_error(status, "deleted", "Gone"))
    rsps.delete(f"{EVENTS}/{_meeting().meeting_id}", status=status, body=body)
    oauth_adapter(send_updates="all").delete_meeting(_meeting())
    call = api_calls(rsps)[0]
    assert call.request.method == "DELETE"
    assert query(call) == {"sendUpdates": ["all"]}


def test_delete_without_permission_is_permission_denied(rsps: Any) -> None:
    token_ok(rsps)
    rsps.delete(f"{EVENTS}/{_meeting().meeting_id}", status=403,
                json=google_error(403, "forbidden", "Forbidden"))
    with pytest.raises(PermissionDenied):
        oauth_adapter().delete_meeting(_meeting())
    assert len(api_calls(rsps)) == 1


def test_get_meeting_returns_the_meeting(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", json=event())
    meeting = oauth_adapter().get_meeting(_meeting().meeting_id)
    assert meeting is not None and meeting.join_url == MEET


@pytest.mark.parametrize("status", [404, 410])
def test_get_meeting_of_a_gone_event_is_none(rsps: Any, status: int) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", status=status,
             json=google_error(status, "notFound", "Not Found"))
    assert oauth_adapter().get_meeting(_meeting().meeting_id) is None


def test_get_meeting_of_a_cancelled_event_is_none(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", json={**event(), "status": "cancelled"})
    assert oauth_adapter().get_meeting(_meeting().meeting_id) is None


def test_get_meeting_of_an_event_whose_meet_link_was_removed_is_none(rsps: Any) -> None:
    token_ok(rsps)
    bare = event()
    del bare["conferenceData"], bare["hangoutLink"]
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", json=bare)
    assert oauth_adapter().get_meeting(_meeting().meeting_id) is None


def test_find_meeting_looks_up_the_event_id_of_the_marker(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", json=event())
    found = oauth_adapter().find_meeting(make_request())
    assert found is not None and found.meeting_id == _meeting().meeting_id


def test_calendar_ids_are_url_encoded(rsps: Any) -> None:
    token_ok(rsps)
    calendar = "seminars@group.calendar.google.com"
    rsps.get(f"{API}/calendars/seminars%40group.calendar.google.com/events/{_meeting().meeting_id}",
             json=event())
    meeting = oauth_adapter(calendar_id=calendar).get_meeting(_meeting().meeting_id)
    assert meeting is not None and meeting.extra["calendar_id"] == calendar


def test_participants_get_the_shared_meet_link_never_the_host_link(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, json=event())
    adapter = oauth_adapter()
    meeting = adapter.create_meeting(make_request())
    link = adapter.join_url_for(meeting, Participant(id="r1", name="Ana"))
    assert link == MEET
    assert meeting.host_url is not None and meeting.host_url.get_secret_value() not in link


# -- tokens -------------------------------------------------------------------------------


def test_service_account_signs_a_delegation_jwt_and_exchanges_it(
    rsps: Any, key_file: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    clock = Clock(NOW)
    token_ok(rsps, "ya29.delegated")
    rsps.post(EVENTS, json=event())
    adapter = GoogleMeetAdapter(
        GoogleMeetOptions(service_account_file=key_file, subject="organiser@example.org"),
        session=requests.Session(), sleep=lambda _s: None, clock=clock.time)
    adapter.create_meeting(make_request())
    form = parse_qs(token_calls(rsps)[0].request.body)
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    assertion = form["assertion"][0]
    assert jwt.get_unverified_header(assertion)["kid"] == "kid-1"
    claims = jwt.decode(assertion, rsa_key.public_key(), algorithms=["RS256"],
                        audience=TOKEN_URL, options={"verify_exp": False, "verify_iat": False})
    assert claims["iss"] == "s3events@s3events-test.iam.gserviceaccount.com"
    assert claims["sub"] == "organiser@example.org"
    assert claims["scope"] == SCOPE
    assert claims["iat"] == int(clock.time())
    assert 0 < claims["exp"] - claims["iat"] <= 3600
    assert api_calls(rsps)[0].request.headers["Authorization"] == "Bearer ya29.delegated"


def test_refresh_token_flow_sends_client_credentials_and_refresh_token(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", json=event())
    oauth_adapter().get_meeting(_meeting().meeting_id)
    form = parse_qs(token_calls(rsps)[0].request.body)
    assert form == {"grant_type": ["refresh_token"],
                    "client_id": ["client-123.apps.googleusercontent.com"],
                    "client_secret": [CLIENT_SECRET], "refresh_token": [REFRESH_TOKEN]}


def test_token_is_cached_and_refreshed_before_it_expires(rsps: Any) -> None:
    clock = Clock(NOW)
    rsps.post(TOKEN_URL, json={"access_token": "ya29.first", "expires_in": 3600})
    rsps.post(TOKEN_URL, json={"access_token": "ya29.second", "expires_in": 3600})
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", json=event())
    adapter = oauth_adapter(clock=clock)
    adapter.get_meeting(_meeting().meeting_id)
    clock.advance(seconds=3000)
    adapter.get_meeting(_meeting().meeting_id)
    assert len(token_calls(rsps)) == 1
    clock.advance(seconds=560)  # 40 s before expiry: inside the refresh margin
    adapter.get_meeting(_meeting().meeting_id)
    assert len(token_calls(rsps)) == 2
    assert api_calls(rsps)[-1].request.headers["Authorization"] == "Bearer ya29.second"


def test_a_401_refreshes_the_token_once_and_retries(rsps: Any) -> None:
    rsps.post(TOKEN_URL, json={"access_token": "ya29.stale", "expires_in": 3600})
    rsps.post(TOKEN_URL, json={"access_token": "ya29.fresh", "expires_in": 3600})
    url = f"{EVENTS}/{_meeting().meeting_id}"
    rsps.get(url, status=401, json=google_error(401, "authError", "Invalid Credentials"))
    rsps.get(url, json=event())
    assert oauth_adapter().get_meeting(_meeting().meeting_id) is not None
    assert [c.request.headers["Authorization"] for c in api_calls(rsps)] == [
        "Bearer ya29.stale", "Bearer ya29.fresh"]


def test_a_second_401_is_an_authentication_error(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", status=401,
             json=google_error(401, "authError", "Invalid Credentials"))
    with pytest.raises(AuthenticationError, match="Invalid Credentials"):
        oauth_adapter().get_meeting(_meeting().meeting_id)
    assert len(api_calls(rsps)) == 2 and len(token_calls(rsps)) == 2


def test_revoked_refresh_token_is_an_authentication_error_with_a_hint(rsps: Any) -> None:
    rsps.post(TOKEN_URL, status=400, json={
        "error": "invalid_grant", "error_description": "Token has been expired or revoked."})
    with pytest.raises(AuthenticationError, match="revoked") as caught:
        oauth_adapter().get_meeting(_meeting().meeting_id)
    assert "obtain a new one" in str(caught.value)
    assert not api_calls(rsps)


def test_missing_delegation_names_the_admin_console_and_scope(rsps: Any, key_file: Path) -> None:
    rsps.post(TOKEN_URL, status=401, json={
        "error": "unauthorized_client",
        "error_description": "Client is unauthorized to retrieve access tokens using this method"})
    adapter = GoogleMeetAdapter(
        GoogleMeetOptions(service_account_file=key_file, subject="organiser@example.org"),
        session=requests.Session(), sleep=lambda _s: None, clock=Clock(NOW).time)
    with pytest.raises(AuthenticationError) as caught:
        adapter.get_meeting(_meeting().meeting_id)
    assert "Domain-wide delegation" in str(caught.value) and SCOPE in str(caught.value)


def test_unreadable_key_file_is_a_configuration_error(rsps: Any, tmp_path: Path) -> None:
    adapter = GoogleMeetAdapter(GoogleMeetOptions(
        service_account_file=tmp_path / "missing.json", subject="organiser@example.org"))
    with pytest.raises(ConfigurationError, match=r"missing\.json"):
        adapter.get_meeting(_meeting().meeting_id)
    bad = tmp_path / "bad.json"
    bad.write_text('{"type": "service_account", "client_email": "a@b", "private_key": "nope"}')
    adapter = GoogleMeetAdapter(GoogleMeetOptions(service_account_file=bad, subject="x@y"))
    with pytest.raises(ConfigurationError, match="cannot sign") as caught:
        adapter.get_meeting(_meeting().meeting_id)
    assert "nope" not in str(caught.value)
    assert not rsps.calls


# -- error mapping ------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["userRateLimitExceeded", "rateLimitExceeded",
                                    "quotaExceeded"])
def test_403_rate_limit_reasons_are_retried_with_backoff(
    rsps: Any, recorded_sleep: SleepRecorder, reason: str
) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, status=403, json=google_error(403, reason, "Rate Limit Exceeded"))
    rsps.post(EVENTS, json=event())
    meeting = oauth_adapter(sleep=recorded_sleep).create_meeting(make_request())
    assert meeting.join_url == MEET
    assert len(recorded_sleep) == 1


def test_403_rate_limit_that_persists_is_rate_limited(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", status=403,
             json=google_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded"))
    with pytest.raises(RateLimited):
        oauth_adapter().get_meeting(_meeting().meeting_id)
    assert len(api_calls(rsps)) == 4


def test_other_403_is_permission_denied_with_a_delegation_hint(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, status=403, json=google_error(
        403, "requiredAccessLevel", "You need to have writer access to this calendar."))
    with pytest.raises(PermissionDenied, match="writer access") as caught:
        oauth_adapter().create_meeting(make_request())
    assert SCOPE in str(caught.value)
    assert len(api_calls(rsps)) == 1


def test_invalid_conference_type_explains_service_accounts_need_delegation(rsps: Any) -> None:
    token_ok(rsps)
    rsps.post(EVENTS, status=400, json=google_error(
        400, "invalid", "Invalid conference type value."))
    with pytest.raises(InvalidRequest) as caught:
        oauth_adapter().create_meeting(make_request())
    assert "without delegation cannot create Meet links" in str(caught.value)


def test_429_honours_retry_after(rsps: Any, recorded_sleep: SleepRecorder) -> None:
    token_ok(rsps)
    url = f"{EVENTS}/{_meeting().meeting_id}"
    rsps.get(url, status=429, headers={"Retry-After": "7"},
             json=google_error(429, "rateLimitExceeded", "Too many requests"))
    rsps.get(url, json=event())
    assert oauth_adapter(sleep=recorded_sleep).get_meeting(_meeting().meeting_id) is not None
    assert recorded_sleep == [7.0]


def test_5xx_on_a_lookup_is_retried_then_service_unavailable(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", status=503,
             json=google_error(503, "backendError", "Backend Error"))
    with pytest.raises(ServiceUnavailable):
        oauth_adapter().get_meeting(_meeting().meeting_id)
    assert len(api_calls(rsps)) == 4


def test_connection_errors_are_service_unavailable(rsps: Any) -> None:
    token_ok(rsps)
    rsps.get(f"{EVENTS}/{_meeting().meeting_id}", body=requests.ConnectionError("reset"))
    with pytest.raises(ServiceUnavailable, match="could not reach"):
        oauth_adapter().get_meeting(_meeting().meeting_id)


# -- spec, secrets, configuration ---------------------------------------------------------


def test_every_calendar_request_body_matches_the_discovery_document(rsps: Any) -> None:
    token_ok(rsps)
    event_url = f"{EVENTS}/{_meeting().meeting_id}"
    rsps.post(EVENTS, json=event())
    rsps.patch(event_url, json=event())
    adapter = oauth_adapter()
    meeting = adapter.create_meeting(make_request())
    adapter.update_meeting(meeting, make_request(topic="New title", agenda=""))
    bodies = [c for c in api_calls(rsps) if c.request.body]
    assert len(bodies) == 2
    for call in bodies:
        check_spec(call)
    with pytest.raises(AssertionError):
        assert_known_fields({"summary": "x", "conferenceDate": {}}, "Event")


def test_secrets_stay_out_of_reprs_and_logs(
    rsps: Any, key_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(TOKEN_URL, json={"access_token": "ya29.access-token", "expires_in": 3600})
    rsps.post(EVENTS, status=403, json=google_error(403, "rateLimitExceeded", "slow down"))
    rsps.post(EVENTS, json=event())
    adapter = oauth_adapter()
    meeting = adapter.create_meeting(make_request())
    delegated = GoogleMeetOptions(service_account_file=key_file, subject="organiser@example.org")
    private_key = json.loads(key_file.read_text())["private_key"]
    assert meeting.host_url is not None
    shown = [repr(adapter), repr(adapter.options), repr(adapter.http.token_provider),
             repr(meeting), str(meeting), meeting.model_dump_json(), repr(delegated),
             repr(GoogleMeetAdapter(delegated))]
    assert_not_logged(caplog, CLIENT_SECRET, REFRESH_TOKEN, "ya29.access-token", "123456789",
                      meeting.host_url.get_secret_value(), private_key[40:80], shown=shown)


def test_options_come_from_the_environment() -> None:
    adapter = GoogleMeetAdapter.from_options({"client_id": "c"}, environ={
        "S3EVENTS_GOOGLE_MEET_CALENDAR_ID": "seminars@group.calendar.google.com",
        "S3EVENTS_GOOGLE_MEET_CLIENT_SECRET": CLIENT_SECRET,
        "S3EVENTS_GOOGLE_MEET_REFRESH_TOKEN": REFRESH_TOKEN,
        "S3EVENTS_GOOGLE_MEET_SEND_UPDATES": "all"})
    assert isinstance(adapter, GoogleMeetAdapter)
    assert adapter.options.calendar_id == "seminars@group.calendar.google.com"
    assert adapter.options.send_updates == "all"
    assert adapter.options.api_base_url == API and adapter.options.token_url == TOKEN_URL


@pytest.mark.parametrize(("options", "expected"), [
    ({}, "service_account_file + subject"),
    ({"client_id": "c", "client_secret": "s"}, "missing refresh_token"),
    ({"service_account_file": "k.json"}, "missing subject"),
    ({"subject": "a@b", "client_id": "c"}, "not both"),
])
def test_incomplete_credentials_are_one_clear_configuration_error(
    options: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(expected)) as caught:
        GoogleMeetAdapter.from_options(options, environ={})
    assert "Traceback" not in str(caught.value)


def test_plugin_registers_the_platform_through_the_entry_point() -> None:
    points = {ep.name: ep.value for ep in metadata.entry_points(group="s3events")}
    assert points["google-meet"] == "s3events_google_meet"
    assert s3events_google_meet.s3events_register_platforms() == [GoogleMeetAdapter]
    assert GoogleMeetAdapter.name == "google-meet" and GoogleMeetAdapter.idempotent_create


# -- the plugin-author kit's contract -----------------------------------------------------


def sends_event(request: MeetingRequest, **more: Any) -> Matcher:
    """Accepts an event body only with ``request``'s title, start, end and zone."""
    return json_fields({
        "summary": request.topic,
        "start": {"dateTime": same_instant(request.start), "timeZone": request.timezone},
        "end": {"dateTime": same_instant(request.start + request.duration),
                "timeZone": request.timezone},
        **more})


class TestGoogleMeetContract(PlatformContract):
    """The checks every platform adapter must pass, against mocked Calendar answers."""

    adapter_class = GoogleMeetAdapter
    options: ClassVar[dict[str, Any]] = {
        "client_id": "client-123.apps.googleusercontent.com",
        "client_secret": CLIENT_SECRET, "refresh_token": REFRESH_TOKEN}
    secret_values = ("ya29.contract-access-token",)
    spec = SPEC
    spec_base_url = API
    attendance_spec = "google-meet-v2-discovery.json"
    attendance_spec_base_url = "https://meet.googleapis.com"

    def mock_auth(self, rsps: responses.RequestsMock) -> None:
        rsps.post(TOKEN_URL, json={"access_token": "ya29.contract-access-token",
                                   "expires_in": 3599, "token_type": "Bearer"})

    def error_body(self, status: int) -> Any:
        reason = {403: "forbidden", 429: "rateLimitExceeded", 401: "authError"}.get(
            status, "backendError" if status >= 500 else "invalid")
        return google_error(status, reason, f"simulated HTTP {status}")

    def route(self, operation: str, meeting_id: str) -> tuple[str, str]:
        if operation == "attendance":
            return ("GET", f"{MEET_API}/conferenceRecords")
        method = {"create": "POST", "get": "GET", "update": "PATCH", "delete": "DELETE"}
        url = EVENTS if operation == "create" else f"{EVENTS}/{meeting_id}"
        return method[operation], url

    def _event(self, request: MeetingRequest) -> dict[str, Any]:
        body = event(event_id_for(request.marker))
        return {**body, **event_body(request), "id": event_id_for(request.marker)}

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        rsps.post(EVENTS, json=self._event(request), match=[
            sends_event(request, id=event_id_for(request.marker),
                        conferenceData={"createRequest": {"requestId": request.marker}})])

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.get(f"{EVENTS}/{meeting.meeting_id}", json=self._event(self.make_request()))

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        rsps.patch(f"{EVENTS}/{meeting.meeting_id}", json=self._event(request),
                   match=[sends_event(request)])

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.delete(f"{EVENTS}/{meeting.meeting_id}", status=204)

    def mock_find(self, rsps: responses.RequestsMock, request: MeetingRequest,
                  meeting: Meeting) -> None:
        rsps.get(f"{EVENTS}/{event_id_for(request.marker)}", json=self._event(request))

    def mock_attendance(self, rsps: responses.RequestsMock, meeting: Meeting,
                        request: MeetingRequest) -> list[str]:
        def at(minutes: int) -> str:
            return (request.start + timedelta(minutes=minutes)).isoformat().replace(
                "+00:00", "Z")

        conference = "conferenceRecords/contract-1"
        rsps.get(f"{MEET_API}/conferenceRecords", json={"conferenceRecords": [
            {"name": conference, "startTime": at(-1), "endTime": at(150)}]})
        people = [(f"{conference}/participants/{n}", name, spans) for n, name, spans in (
            ("p1", "Zoë", [(0, 40), (55, 150)]), ("p2", "Ana", [(2, 150)]),
            ("p3", "李", [(5, 90)]))]
        listed = [{"name": path, "signedinUser": {"user": f"users/{path[-2:]}",
                                                  "displayName": name}}
                  for path, name, _spans in people]
        url = f"{MEET_API}/{conference}/participants"
        rsps.get(url, json={"participants": listed[2:]},
                 match=[matchers.query_param_matcher({"pageSize": "100", "pageToken": "2"})])
        rsps.get(url, json={"participants": listed[:2], "nextPageToken": "2"},
                 match=[matchers.query_param_matcher({"pageSize": "100"})])
        for path, _name, spans in people:
            rsps.get(f"{MEET_API}/{path}/participantSessions", json={"participantSessions": [
                {"name": f"{path}/participantSessions/{i}", "startTime": at(join),
                 "endTime": at(leave)} for i, (join, leave) in enumerate(spans)]})
        return [name for _path, name, _spans in people]

class GoogleMeetForgetsTheNewStart(GoogleMeetAdapter):
    """Sends an update with the meeting's old start time."""

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        return super().update_meeting(meeting, request.model_copy(update={"start": meeting.start}))


def test_the_contract_catches_an_update_that_forgets_the_new_start(
        contract_failure: Any) -> None:
    error = contract_failure(TestGoogleMeetContract, "test_update_changes_the_meeting",
                             adapter_class=GoogleMeetForgetsTheNewStart)
    assert ("start.dateTime: sent '2030-03-05T13:00:00-03:00', expected an ISO 8601 time of "
            "2030-03-06T17:00:00Z") in str(error)
