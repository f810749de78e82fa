"""Google Meet attendance through the Meet REST API v2, over mocked HTTP: every answer mocked
here is checked against Google's discovery document for Meet (``validate_response``)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr
from responses import matchers
from s3events_google_meet import GoogleMeetAdapter, GoogleMeetOptions
from s3events_google_meet.attendance import meeting_code

from s3events.errors import InvalidRequest, NotFound, PermissionDenied
from s3events.platforms.base import Meeting
from s3events.testing import Clock, SleepRecorder, VendorMock, vendor_mock_fixture
from s3events.testing.specs import validate_response

MEET_API = "https://meet.googleapis.com/v2"
SPEC = "google-meet-v2-discovery.json"
TOKEN_URL = "https://oauth2.googleapis.com/token"
MEET_SCOPE = "https://www.googleapis.com/auth/meetings.space.readonly"
START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)
CODE = "abc-mnop-xyz"

rsps = vendor_mock_fixture(spec=SPEC, base_url="https://meet.googleapis.com",
                           assert_all_requests_are_fired=True)


def adapter(sleep: Any = None, **options: Any) -> GoogleMeetAdapter:
    opts = GoogleMeetOptions(client_id="client-123.apps.googleusercontent.com",
                             client_secret=SecretStr("GOCSPX-client-secret-value"),
                             refresh_token=SecretStr("1//refresh-token-value"), **options)
    return GoogleMeetAdapter(opts, session=requests.Session(),
                             sleep=(lambda _s: None) if sleep is None else sleep,
                             clock=Clock(START).time)


def session_meeting(**changes: Any) -> Meeting:
    data: dict[str, Any] = {
        "platform": "google-meet", "meeting_id": "0123456789abcdef0123456789abcdef",
        "join_url": f"https://meet.google.com/{CODE}", "start": START,
        "duration": timedelta(minutes=150),
        "extra": {"calendar_id": "primary", "conference_id": CODE}}
    data.update(changes)
    return Meeting(**data)


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def token(rsps: VendorMock) -> None:
    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "ya29.meet", "expires_in": 3599})


def pages(rsps: VendorMock, path: str, key: str, *items: list[dict[str, Any]],
          **params: str) -> None:
    """The pages of a Meet list at ``path``, linked by ``nextPageToken``, spec-checked."""
    for number, chunk in enumerate(items):
        body: dict[str, Any] = {key: chunk}
        if number < len(items) - 1:
            body["nextPageToken"] = f"{key}-{number + 1}"
        validate_response(SPEC, method="GET", path=f"/v2/{path}", status=200, body=body)
        query = {"pageSize": "100", **params}
        if number:
            query["pageToken"] = f"{key}-{number}"
        rsps.add(responses.GET, f"{MEET_API}/{path}", json=body,
                 match=[matchers.query_param_matcher(query)])


def conference(number: int, start: int, end: int) -> dict[str, Any]:
    return {"name": f"conferenceRecords/conf-{number}", "startTime": at(start),
            "endTime": at(end), "expireTime": at(end + 30 * 24 * 60), "space": "spaces/sp-1"}


def signed_in(number: int, user: str, name: str) -> dict[str, Any]:
    return {"name": f"conferenceRecords/conf-{number}/participants/{user}",
            "signedinUser": {"user": f"users/{user}", "displayName": name}}


def stays(rsps: VendorMock, participant: dict[str, Any], *times: tuple[int, int | None]) -> None:
    sessions = []
    for index, (join, leave) in enumerate(times):
        session = {"name": f"{participant['name']}/participantSessions/s{index}",
                   "startTime": at(join)}
        if leave is not None:
            session["endTime"] = at(leave)
        sessions.append(session)
    half = max(1, len(sessions) // 2)
    chunks = [sessions[:half], sessions[half:]] if len(sessions) > 1 else [sessions]
    pages(rsps, f"{participant['name']}/participantSessions", "participantSessions", *chunks)


FILTER = (f'space.meeting_code = "{CODE}" AND start_time>="2021-10-28T14:00:00.000Z" '
          'AND start_time<="2021-10-28T17:30:00.000Z"')


def test_participants_and_their_sessions_are_read_page_by_page(rsps: VendorMock) -> None:
    token(rsps)
    pages(rsps, "conferenceRecords", "conferenceRecords", [conference(1, -3, 152)],
          filter=FILTER)
    zoe = signed_in(1, "111", "Zoë Ñúñez")
    guest = {"name": "conferenceRecords/conf-1/participants/guest-9",
             "anonymousUser": {"displayName": "Invitado Anónimo"}}
    phone = {"name": "conferenceRecords/conf-1/participants/phone-3",
             "phoneUser": {"displayName": "+54 11 ••••-4321"}}
    pages(rsps, "conferenceRecords/conf-1/participants", "participants", [zoe, guest], [phone])
    stays(rsps, zoe, (-2, 40), (52, 150))
    stays(rsps, guest, (10, 95))
    stays(rsps, phone, (20, None))  # never ended: the conference's end closes it

    records = {r.name: r for r in adapter().get_attendance(session_meeting())}

    assert sorted(records) == ["+54 11 ••••-4321", "Invitado Anónimo", "Zoë Ñúñez"]
    assert all(r.email is None for r in records.values())
    zoë = records["Zoë Ñúñez"]
    assert zoë.identity == "users/111"
    assert [(i.joined, i.left) for i in zoë.intervals] == [
        (START - timedelta(minutes=2), START + timedelta(minutes=40)),
        (START + timedelta(minutes=52), START + timedelta(minutes=150))]
    assert records["Invitado Anónimo"].identity == "conferenceRecords/conf-1/participants/guest-9"
    assert records["+54 11 ••••-4321"].seconds == (152 - 20) * 60
    first = rsps.api_calls("GET")[0]
    assert first.headers["Authorization"] == "Bearer ya29.meet"
    assert parse_qs(urlsplit(first.url).query)["filter"] == [FILTER]


def test_a_restarted_meeting_gives_one_record_per_signed_in_person(rsps: VendorMock) -> None:
    token(rsps)
    pages(rsps, "conferenceRecords", "conferenceRecords",
          [conference(1, 0, 60), conference(2, 70, 150)], filter=FILTER)
    first, second = signed_in(1, "111", "Zoë"), signed_in(2, "111", "Zoë Ñ.")
    pages(rsps, "conferenceRecords/conf-1/participants", "participants", [first])
    pages(rsps, "conferenceRecords/conf-2/participants", "participants", [second])
    stays(rsps, first, (0, 60))
    stays(rsps, second, (71, 150))

    (record,) = adapter().get_attendance(session_meeting())

    assert record.name == "Zoë" and len(record.intervals) == 2
    assert record.seconds == (60 + 79) * 60


def test_no_conference_yet_is_not_found_with_the_30_day_limit(rsps: VendorMock) -> None:
    token(rsps)
    pages(rsps, "conferenceRecords", "conferenceRecords", [], filter=FILTER)
    with pytest.raises(NotFound, match=CODE) as raised:
        adapter().get_attendance(session_meeting())
    assert "30 days" in str(raised.value.hint)


def test_the_code_comes_from_the_link_when_the_event_gave_no_conference_id() -> None:
    assert meeting_code(session_meeting(extra={})) == CODE
    with pytest.raises(InvalidRequest, match="no Meet code"):
        meeting_code(session_meeting(extra={}, join_url="https://meet.google.com/lookup/x"))


def test_a_missing_meet_scope_is_permission_denied_saying_what_to_enable(
    rsps: VendorMock,
) -> None:
    token(rsps)
    rsps.add(responses.GET, f"{MEET_API}/conferenceRecords", status=403, json={"error": {
        "code": 403, "message": "Request had insufficient authentication scopes.",
        "status": "PERMISSION_DENIED"}})
    with pytest.raises(PermissionDenied) as raised:
        adapter().get_attendance(session_meeting())
    assert "Google Meet REST API" in str(raised.value.hint)
    assert MEET_SCOPE in str(raised.value.hint)


def test_a_429_waits_as_google_says(rsps: VendorMock) -> None:
    token(rsps)
    rsps.add(responses.GET, f"{MEET_API}/conferenceRecords", status=429,
             headers={"Retry-After": "6"}, json={"error": {"code": 429, "message": "slow"}})
    pages(rsps, "conferenceRecords", "conferenceRecords", [], filter=FILTER)
    sleep = SleepRecorder()
    with pytest.raises(NotFound):
        adapter(sleep=sleep).get_attendance(session_meeting())
    assert sleep == [6.0]


def test_the_meet_api_address_is_its_own_option_and_environment_variable(
    rsps: VendorMock,
) -> None:
    environ = {"S3EVENTS_GOOGLE_MEET_MEET_API_BASE_URL": "https://meet.example.test/v2"}
    built = GoogleMeetAdapter.from_options(
        {"client_id": "c", "client_secret": "s", "refresh_token": "r"}, environ=environ)
    assert isinstance(built.options, GoogleMeetOptions)
    assert built.options.meet_api_base_url == "https://meet.example.test/v2"
    assert built.options.api_base_url == "https://www.googleapis.com/calendar/v3"
    assert GoogleMeetOptions(client_id="c", client_secret=SecretStr("s"),
                             refresh_token=SecretStr("r")).meet_api_base_url == MEET_API


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps({"type": "service_account", "private_key": pem,
                                "client_email": "s3events@project.iam.gserviceaccount.com"}))
    return path


def test_with_delegation_the_meet_token_asks_for_the_meet_scope_alone(
    rsps: VendorMock, key_file: Path
) -> None:
    token(rsps)
    pages(rsps, "conferenceRecords", "conferenceRecords", [], filter=FILTER)
    delegated = GoogleMeetAdapter(
        GoogleMeetOptions(service_account_file=key_file, subject="organiser@example.org"),
        session=requests.Session(), sleep=lambda _s: None, clock=Clock(START).time)

    with pytest.raises(NotFound):
        delegated.get_attendance(session_meeting())

    (call,) = [c for c in rsps.calls if c.request.url == TOKEN_URL]
    assertion = parse_qs(str(call.request.body))["assertion"][0]
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert claims["scope"] == MEET_SCOPE and claims["sub"] == "organiser@example.org"
