"""Webex attendance against a mocked Webex API: every answer mocked here is checked against
Webex's own OpenAPI spec (``validate_response``), every request body by the vendor mock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from pydantic import SecretStr
from responses import matchers
from s3events_webex import WebexAdapter, WebexOptions
from s3events_webex.attendance import records_from_participants

from s3events.errors import NotFound, PermissionDenied
from s3events.platforms.base import Meeting
from s3events.testing import SleepRecorder, VendorMock, vendor_mock_fixture
from s3events.testing.specs import validate_response

BASE = "https://webexapis.com/v1"
SPEC = "webex-meeting.json"
SERIES = "870f51ff287b41be84648412901e0402"
START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)
UNKNOWN = "1970-01-01T00:00:00.000Z"

rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE, assert_all_requests_are_fired=True)


def make_adapter(sleep: SleepRecorder, **options: Any) -> WebexAdapter:
    opts = WebexOptions(access_token=SecretStr("webex-attendance-token"), **options)
    return WebexAdapter(opts, session=requests.Session(), sleep=sleep)


@pytest.fixture
def adapter(recorded_sleep: SleepRecorder) -> WebexAdapter:
    return make_adapter(recorded_sleep)


def series() -> Meeting:
    return Meeting(platform="webex", meeting_id=SERIES, join_url="https://example.webex.com/j",
                   start=START, duration=timedelta(minutes=150))


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def answer(rsps: VendorMock, path: str, body: dict[str, Any], **kwargs: Any) -> None:
    """Register ``body`` as Webex's answer to GET ``path``, checked against the spec first."""
    validate_response(SPEC, method="GET", path=path, status=200, body=body)
    rsps.add(responses.GET, BASE + path, json=body, **kwargs)


def instance(number: int, start: int, end: int) -> dict[str, Any]:
    """An ended meeting instance as ``GET /meetings`` lists it (every field the spec needs)."""
    return {"id": f"{SERIES}_I_{number}", "meetingSeriesId": SERIES, "meetingType": "meeting",
            "state": "ended", "title": "Day 1: what is S3?", "start": at(start), "end": at(end),
            "timezone": "UTC", "password": "BgJep@43", "hostUserId": "Y2lzY29zcGFyazovL3Vz",
            "hostDisplayName": "Host", "hostEmail": "host@example.org", "hostKey": "918273",
            "siteUrl": "site4-example.webex.com", "enabledBreakoutSessions": False,
            "webLink": "https://site4-example.webex.com/site4/j.php?MTID=m1",
            "telephony": {"accessCode": "1234567890", "callInNumbers": [
                {"label": "US Toll", "callInNumber": "+1-415-527-5035", "tollType": "toll"}]}}


def instances(rsps: VendorMock, *items: dict[str, Any]) -> None:
    answer(rsps, "/meetings", {"items": list(items)})


def device(join: int, leave: int) -> dict[str, Any]:
    return {"correlationId": f"c-{join}", "deviceType": "webex_meeting_center_mac",
            "audioType": "voip", "joinedTime": at(join), "leftTime": at(leave),
            "durationSecond": (leave - join) * 60}


def person(name: str, email: str | None, *devices: dict[str, Any], instance_no: int = 1,
           **fields: Any) -> dict[str, Any]:
    item = {"id": f"{SERIES}_I_{instance_no}_{abs(hash(name)) % 10**8}", "displayName": name,
            "host": False, "coHost": False, "invitee": False, "state": "end",
            "meetingId": f"{SERIES}_I_{instance_no}", "devices": list(devices), **fields}
    if devices:
        item.update(joinedTime=devices[0]["joinedTime"], leftTime=devices[-1]["leftTime"])
    if email:
        item["email"] = email
    return item


def participants(rsps: VendorMock, instance_no: int, *pages: list[dict[str, Any]],
                 **headers: str) -> None:
    """The pages of one instance's participants, linked with ``Link: rel="next"``."""
    meeting_id = f"{SERIES}_I_{instance_no}"
    for number, items in enumerate(pages):
        query = {"meetingId": meeting_id, "max": "100"}
        if number:
            query["cursor"] = str(number)
        link = {}
        if number < len(pages) - 1:
            link["Link"] = (f'<{BASE}/meetingParticipants?meetingId={meeting_id}&max=100'
                            f'&cursor={number + 1}>; rel="next"')
        validate_response(SPEC, method="GET", path="/meetingParticipants", status=200,
                          body={"items": items})
        rsps.add(responses.GET, f"{BASE}/meetingParticipants", json={"items": items},
                 headers={**link, **headers}, match=[matchers.query_param_matcher(query)])


def test_participants_of_the_ended_instance_are_read_page_by_page_with_each_device(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    instances(rsps, instance(1, -2, 151))
    participants(rsps, 1, [
        person("Zoë Ñúñez", "Zoe.Nunez@example.org", device(-1, 40), device(52, 150)),
        person("Waiting Will", "will@example.org", state="lobby"),
    ], [
        person("Ana Pérez", "ana@example.com.mx", device(3, 90), device(60, 120)),
        person("李小龍", None, device(10, 95)),
    ])

    records = {r.name: r for r in adapter.get_attendance(series())}

    assert sorted(records) == ["Ana Pérez", "Zoë Ñúñez", "李小龍"]
    zoë = records["Zoë Ñúñez"]
    assert zoë.email == "Zoe.Nunez@example.org" and zoë.identity
    assert [(i.joined, i.left) for i in zoë.intervals] == [
        (START - timedelta(minutes=1), START + timedelta(minutes=40)),
        (START + timedelta(minutes=52), START + timedelta(minutes=150))]
    # Ana's laptop and phone overlapped from 60 to 90: counted once
    assert records["Ana Pérez"].seconds == (120 - 3) * 60
    assert records["李小龍"].email is None
    listing = parse_qs(urlsplit(rsps.api_calls("GET")[0].url).query)
    assert listing == {"meetingSeriesId": [SERIES], "meetingType": ["meeting"],
                       "state": ["ended"], "max": ["100"], "from": ["2021-10-28T14:00:00Z"],
                       "to": ["2021-10-28T17:30:00Z"]}
    assert len(rsps.api_calls("GET")) == 3


def test_a_restarted_meeting_gives_one_record_per_person_over_both_instances(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    instances(rsps, instance(1, 0, 60), instance(2, 70, 150))
    participants(rsps, 1, [person("Zoë", "zoe@example.org", device(0, 60)),
                           person("Ana", "ana@example.org", device(5, 60))])
    participants(rsps, 2, [person("Zoë N.", "ZOE@example.org", device(71, 150),
                                  instance_no=2)])

    records = {r.name: r for r in adapter.get_attendance(series())}

    assert sorted(records) == ["Ana", "Zoë"]
    assert len(records["Zoë"].intervals) == 2


def test_unknown_device_times_fall_back_to_the_participants_own_times() -> None:
    item = person("Bo", "bo@example.org", {"joinedTime": UNKNOWN, "leftTime": UNKNOWN},
                  joinedTime=at(5), leftTime=at(65))
    item.update(joinedTime=at(5), leftTime=at(65))
    (record,) = records_from_participants([item])
    assert record.seconds == 3600 and len(record.intervals) == 1
    (nothing,) = records_from_participants([{"displayName": "Cy", "joinedTime": UNKNOWN}])
    assert nothing.intervals == () and nothing.seconds == 0


def test_host_email_is_sent_with_admin_scopes(
    recorded_sleep: SleepRecorder, rsps: VendorMock
) -> None:
    adapter = make_adapter(recorded_sleep, host_email="host@example.org")
    instances(rsps, instance(1, 0, 150))
    rsps.add(responses.GET, f"{BASE}/meetingParticipants", json={"items": [
        person("Ana", "ana@example.org", device(0, 150))]}, match=[matchers.query_param_matcher(
            {"meetingId": f"{SERIES}_I_1", "max": "100", "hostEmail": "host@example.org"})])

    assert [r.name for r in adapter.get_attendance(series())] == ["Ana"]
    assert parse_qs(urlsplit(rsps.api_calls()[0].url).query)["hostEmail"] == ["host@example.org"]


def test_no_ended_instance_yet_is_not_found_saying_webex_needs_15_minutes(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    instances(rsps)
    with pytest.raises(NotFound, match="no ended instance") as raised:
        adapter.get_attendance(series())
    assert "15 minutes" in str(raised.value.hint)


def test_a_token_without_the_participants_scope_is_permission_denied_naming_it(
    adapter: WebexAdapter, rsps: VendorMock
) -> None:
    instances(rsps, instance(1, 0, 150))
    rsps.add(responses.GET, f"{BASE}/meetingParticipants", status=403, json={
        "message": "The server understood the request, but refused to fulfill it.",
        "trackingId": "ROUTER_1"})
    with pytest.raises(PermissionDenied) as raised:
        adapter.get_attendance(series())
    assert "meeting:participants_read" in str(raised.value.hint)


def test_a_429_on_the_second_page_waits_as_told_and_goes_on(
    adapter: WebexAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    instances(rsps, instance(1, 0, 150))
    rsps.add(responses.GET, f"{BASE}/meetingParticipants", status=429,
             headers={"Retry-After": "3"}, json={"message": "Too Many Requests"},
             match=[matchers.query_param_matcher(
                 {"meetingId": f"{SERIES}_I_1", "max": "100", "cursor": "1"})])
    participants(rsps, 1, [person("Ana", "ana@example.org", device(0, 50))],
                 [person("Bo", "bo@example.org", device(0, 150))])

    assert sorted(r.name for r in adapter.get_attendance(series())) == ["Ana", "Bo"]
    assert recorded_sleep == [3.0]
