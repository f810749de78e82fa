"""BigBlueButton attendance: the analytics callback asked for at create, the report it posts,
and getMeetingInfo polled while the session runs."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
import responses
from pydantic import SecretStr
from s3events_bigbluebutton import BigBlueButtonAdapter, BigBlueButtonOptions

from s3events.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequest,
    ServiceUnavailable,
)
from s3events.platforms.base import MeetingRequest, Participant
from s3events.testing import reference_request

API = "https://bbb.example.org/bigbluebutton/api"
SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)
CALLBACK = "https://events.example.org/attendance/s3-latam-2021/day-1?sig=0123456789abcdef"


def make_adapter() -> BigBlueButtonAdapter:
    opts = BigBlueButtonOptions(api_base_url=API, secret=SecretStr(SECRET))
    return BigBlueButtonAdapter(opts, session=requests.Session(), sleep=lambda _s: None,
                                clock=lambda: (START - timedelta(minutes=30)).timestamp())


def make_request(**changes: Any) -> MeetingRequest:
    return reference_request(**{"start": START, **changes})


@pytest.fixture
def rsps() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


CREATED = b"""<response><returncode>SUCCESS</returncode><meetingID>m</meetingID>
<internalMeetingID>int-1</internalMeetingID><createTime>1635433200000</createTime>
</response>"""


# -- create asks for the report ------------------------------------------------------------


def test_prepare_asks_for_the_analytics_report_and_the_checksum_covers_it(rsps: Any) -> None:
    adapter, request = make_adapter(), make_request(attendance_callback_url=SecretStr(CALLBACK))
    rsps.get(f"{API}/create", body=CREATED)

    adapter.prepare(adapter.create_meeting(request), request)

    url = rsps.calls[0].request.url
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["meta_analytics-callback-url"] == CALLBACK
    assert query["meetingKeepEvents"] == "true"
    sent, _, signature = urlsplit(url).query.rpartition("&checksum=")
    assert "meta_analytics-callback-url=" in sent
    assert signature == hashlib.sha256(f"create{sent}{SECRET}".encode()).hexdigest()


def test_without_a_callback_address_nothing_about_analytics_is_sent(rsps: Any) -> None:
    adapter, request = make_adapter(), make_request()
    rsps.get(f"{API}/create", body=CREATED)
    adapter.prepare(adapter.create_meeting(request), request)
    query = dict(parse_qsl(urlsplit(rsps.calls[0].request.url).query))
    assert "meta_analytics-callback-url" not in query and "meetingKeepEvents" not in query


def test_the_callback_address_never_shows_in_errors_or_logs(
    rsps: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter, request = make_adapter(), make_request(attendance_callback_url=SecretStr(CALLBACK))
    rsps.get(f"{API}/create", body=requests.ConnectionError(
        f"Max retries exceeded with url: /bigbluebutton/api/create?meta={CALLBACK}"))
    with pytest.raises(ServiceUnavailable) as raised:
        adapter.prepare(adapter.create_meeting(request), request)
    shown = f"{raised.value} {raised.value!r} {raised.value.__cause__} {caplog.text}"
    assert "0123456789abcdef" not in shown and "events.example.org" not in shown


def test_join_links_carry_the_registrations_id_as_user_id() -> None:
    adapter = make_adapter()
    meeting = adapter.create_meeting(make_request())
    link = adapter.join_url_for(meeting, Participant(id="reg-0042", name="Zoë Ñúñez"))
    assert dict(parse_qsl(urlsplit(link).query))["userID"] == "reg-0042"


# -- the report BigBlueButton posts --------------------------------------------------------


def at(minutes: float) -> str:
    """BigBlueButton's time format: milliseconds and the server's offset (here Brussels)."""
    moment = (START + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=2)))
    return moment.isoformat(timespec="milliseconds")


def connection(user: str, ext: str, *events: tuple[str, float]) -> dict[str, Any]:
    return {"joins": [{"timestamp": at(t), "userid": user, "ext_userid": ext, "event": "join"}
                      for kind, t in events if kind == "join"],
            "lefts": [{"timestamp": at(t), "userid": user, "ext_userid": ext, "event": "left"}
                      for kind, t in events if kind == "left"]}


def analytics_report() -> dict[str, Any]:
    """A report as post_events_analytics_callback.rb sends it (keys in snake case)."""
    zoe = {"ext_user_id": "reg-0042", "name": "Zoë Ñúñez", "moderator": False,
           "joins": [at(-1), at(52)], "leaves": [at(40), at(150)], "duration": 8280,
           "recent_talking_time": "", "engagement": {"chats": 2, "talks": 1, "raisehand": 0,
                                                     "emojis": 0, "poll_votes": 1,
                                                     "talk_time": 35},
           "sessions": [connection("w_a1", "reg-0042", ("join", -1), ("left", 40)),
                        connection("w_b2", "reg-0042", ("join", 52), ("left", 150))]}
    li = {"ext_user_id": "reg-0043", "name": "李小龍", "moderator": False,
          "joins": [at(5), at(20)], "leaves": [at(60), at(90)], "duration": 5100,
          "sessions": [connection("w_c3", "reg-0043", ("join", 5), ("left", 60)),
                       connection("w_d4", "reg-0043", ("join", 20), ("left", 90))]}
    host = {"ext_user_id": "w_host", "name": "Host", "moderator": True, "joins": [at(-10)],
            "leaves": [], "duration": 9600,
            "sessions": [connection("w_host", "w_host", ("join", -10))]}
    return {"version": "1.0", "meeting_id": "s3e0123456789abcdefabcdefabcd",
            "internal_meeting_id": "c62c9c205d37815befe1b75ae6ef5878d8da5bb6-1635433200000",
            "data": {"metadata": {"analytics_callback_url": "(removed)"}, "duration": 9600,
                     "start": at(-10), "finish": at(150), "attendees": [zoe, li, host],
                     "files": ["default.pdf"], "polls": []}}


def token(secret: str = SECRET, *, expires_in: int = 24 * 3600,
          algorithm: str = "HS512") -> dict[str, str]:
    """The headers BigBlueButton posts with: a JWT it signed (secrets are often short)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*HMAC key.*")
        value = jwt.encode({"exp": int(time.time()) + expires_in}, secret, algorithm=algorithm,
                           headers={"typ": "JWT"})
    return {"Content-Type": "application/json", "Authorization": f"Bearer {value}",
            "User-Agent": "BigBlueButton Analytics Callback"}


def test_the_report_gives_each_person_by_their_registration_id_with_every_stay() -> None:
    body = json.dumps(analytics_report()).encode()

    records = {r.identity: r for r in make_adapter().attendance_from_callback(
        body, "application/json", headers=token())}

    zoe = records["reg-0042"]
    assert zoe.name == "Zoë Ñúñez" and zoe.email is None
    assert [(i.joined, i.left) for i in zoe.intervals] == [
        (START - timedelta(minutes=1), START + timedelta(minutes=40)),
        (START + timedelta(minutes=52), START + timedelta(minutes=150))]
    assert zoe.intervals[0].joined.tzinfo is timezone.utc
    assert zoe.seconds == 8280  # the server's own total
    # two browser tabs at once: two stays, the server's total counts the overlap once
    assert len(records["reg-0043"].intervals) == 2 and records["reg-0043"].seconds == 5100
    # the host never left before the end: the report's finish closes the stay
    assert records["w_host"].intervals[0].left == START + timedelta(minutes=150)


def test_an_older_server_without_sessions_pairs_joins_and_leaves_in_ruby_time() -> None:
    report = analytics_report()
    old = {"extUserId": "ignored", "ext_user_id": "reg-7", "name": "Ana",
           "joins": ["2021-10-28 17:00:00 +0200", "2021-10-28 18:00:00 +0200"],
           "leaves": ["2021-10-28 17:30:00 +0200", "2021-10-28 18:15:00 +0200"],
           "duration": "2700"}
    report["data"]["attendees"] = [old]

    (record,) = make_adapter().attendance_from_callback(json.dumps(report).encode(),
                                                        "application/json; charset=utf-8")

    assert [(i.joined.hour, i.left.minute) for i in record.intervals] == [(15, 30), (16, 15)]
    assert record.seconds == 45 * 60  # no usable total: the stays'


def test_without_headers_the_report_is_read_unchecked_for_the_caller_to_have_checked() -> None:
    body = json.dumps(analytics_report()).encode()
    assert len(make_adapter().attendance_from_callback(body, "application/json")) == 3


@pytest.mark.parametrize("headers", [
    {"Content-Type": "application/json"},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    token("another-servers-secret"),
    token(expires_in=-3600),
    token(algorithm="HS256") | {"Authorization": "Bearer not.a.jwt"},
], ids=["no-token", "not-bearer", "wrong-secret", "expired", "garbage"])
def test_a_post_not_signed_with_the_servers_secret_is_refused(headers: dict[str, str]) -> None:
    body = json.dumps(analytics_report()).encode()
    with pytest.raises(AuthenticationError) as raised:
        make_adapter().attendance_from_callback(body, "application/json", headers=headers)
    assert "secret" in str(raised.value.hint)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize(("body", "content_type", "message"), [
    (b"<html>502 Bad Gateway</html>", "application/json", "not JSON"),
    (b'{"version": "1.0", "data": {"attendees": "none"}}', "application/json", "attendees"),
    (b'["a", "b"]', "application/json", "attendees"),
    (b"\xff\xfe", "application/json", "not JSON"),
    (b"{}", "application/x-www-form-urlencoded", "JSON, not"),
])
def test_a_body_that_is_no_report_is_an_invalid_request(
    body: bytes, content_type: str, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        make_adapter().attendance_from_callback(body, content_type, headers=token())


# -- polling while the session runs -------------------------------------------------------


def info(running: bool, *attendees: tuple[str, str, str]) -> bytes:
    people = "".join(
        f"<attendee><userID>{uid}</userID><fullName>{name}</fullName><role>{role}</role>"
        "<isPresenter>false</isPresenter><isListeningOnly>false</isListeningOnly>"
        "<hasJoinedVoice>true</hasJoinedVoice><hasVideo>false</hasVideo>"
        "<clientType>HTML5</clientType><customdata/></attendee>"
        for uid, name, role in attendees)
    return (f"<response><returncode>SUCCESS</returncode><meetingName>Day 1</meetingName>"
            f"<meetingID>m</meetingID><running>{str(running).lower()}</running>"
            f"<participantCount>{len(attendees)}</participantCount>"
            f"<attendees>{people}</attendees><metadata/></response>").encode()


def test_attendance_now_lists_the_attendees_by_their_user_id(rsps: Any) -> None:
    adapter = make_adapter()
    rsps.get(f"{API}/getMeetingInfo", body=info(
        True, ("reg-0042", "Zoë Ñúñez", "VIEWER"), ("w_hostx", "Host", "MODERATOR")))

    present = adapter.attendance_now(adapter.create_meeting(make_request()))

    assert [(r.identity, r.name, r.intervals) for r in present] == [
        ("reg-0042", "Zoë Ñúñez", ()), ("w_hostx", "Host", ())]
    assert dict(parse_qsl(urlsplit(rsps.calls[0].request.url).query))["meetingID"] == (
        make_request().marker)


@pytest.mark.parametrize("answer", [
    info(False),
    b"<response><returncode>FAILED</returncode><messageKey>notFound</messageKey>"
    b"<message>We could not find a meeting with that meeting ID</message></response>",
], ids=["not-running", "not-found"])
def test_a_meeting_that_is_not_running_has_nobody_in(rsps: Any, answer: bytes) -> None:
    adapter = make_adapter()
    rsps.get(f"{API}/getMeetingInfo", body=answer)
    assert adapter.attendance_now(adapter.create_meeting(make_request())) == []


def test_polling_with_a_wrong_secret_is_an_authentication_error(rsps: Any) -> None:
    adapter = make_adapter()
    rsps.get(f"{API}/getMeetingInfo", body=b"<response><returncode>FAILED</returncode>"
             b"<messageKey>checksumError</messageKey><message>bad</message></response>")
    with pytest.raises(AuthenticationError):
        adapter.attendance_now(adapter.create_meeting(make_request()))


def test_fetching_attendance_after_the_meeting_points_to_the_callback_polling_and_import(
) -> None:
    adapter = make_adapter()
    with pytest.raises(ConfigurationError) as raised:
        adapter.get_attendance(adapter.create_meeting(make_request()))
    text = str(raised.value)
    assert "s3events serve" in text and "polled" in text
    assert "s3events attendance import" in text
