"""Zoom attendance against a mocked Zoom API: every answer mocked here is checked against
Zoom's spec (``validate_response``), every request body by the vendor mock.

The 2018 spec lists ``/past_meetings/{meetingUUID}/participants`` with only ``id`` and
``name`` per participant; today's API adds ``user_email``, ``join_time``, ``leave_time``,
``duration`` and ``status`` (the spec allows extra fields, so the mocks carry them).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from pydantic import SecretStr
from s3events_zoom import ZoomAdapter, ZoomOptions
from s3events_zoom.attendance import records_from_rows, uuid_path
from s3events_zoom.payload import meeting_from_zoom

from s3events.errors import NotFound, PermissionDenied, ServiceUnavailable
from s3events.platforms.base import Meeting
from s3events.testing import SleepRecorder, VendorMock, reference_request, vendor_mock_fixture
from s3events.testing.specs import validate_response

BASE = "https://api.zoom.us/v2"
SPEC = "zoom-api-v2-openapi-2018.json"
MEETING_ID = "85746065123"
START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)

rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE, assert_all_requests_are_fired=True)


@pytest.fixture
def adapter(recorded_sleep: SleepRecorder, rsps: VendorMock) -> ZoomAdapter:
    rsps.add(responses.POST, "https://zoom.us/oauth/token",
             json={"access_token": "attendance-token", "expires_in": 3599})
    opts = ZoomOptions(account_id="acct-1", client_id="client-1",
                       client_secret=SecretStr("zoom-client-secret-value"))
    return ZoomAdapter(opts, session=requests.Session(), sleep=recorded_sleep)


def session_meeting(uuid: str | None = "aDYlohsHRtCd4ii1uC2+hA==") -> Meeting:
    request = reference_request()
    data: dict[str, Any] = {"id": int(MEETING_ID), "join_url": "https://zoom.us/j/1",
                            "start_time": "2021-10-28T15:00:00Z",
                            "duration": request.duration_minutes}
    if uuid:
        data["uuid"] = uuid
    return meeting_from_zoom(data)


def at(minutes: int) -> str:
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%SZ")


def row(name: str, join: int, leave: int, **fields: Any) -> dict[str, Any]:
    return {"name": name, "join_time": at(join), "leave_time": at(leave),
            "duration": (leave - join) * 60, "status": "in_meeting", **fields}


def answer(rsps: VendorMock, path: str, body: dict[str, Any], *, status: int = 200,
           **kwargs: Any) -> None:
    """Register ``body`` for GET ``path``, after checking it against Zoom's spec."""
    if status == 200:
        validate_response(SPEC, method="GET", path=path.split("?")[0], status=200, body=body)
    rsps.add(responses.GET, BASE + path, json=body, status=status, **kwargs)


def instances(rsps: VendorMock, *items: tuple[str, str]) -> None:
    answer(rsps, f"/past_meetings/{MEETING_ID}/instances",
           {"meetings": [{"uuid": uuid, "start_time": start} for uuid, start in items]})


def participants(rsps: VendorMock, source: str, uuid: str, *pages: list[dict[str, Any]]) -> None:
    """Zoom's pages of participants of instance ``uuid``, linked by ``next_page_token``."""
    path = f"/{source}/{uuid_path(uuid)}/participants"
    for number, rows in enumerate(pages):
        last = number == len(pages) - 1
        body = {"page_size": 300, "total_records": sum(map(len, pages)),
                "next_page_token": "" if last else f"token-{number + 1}", "participants": rows}
        query = {"page_size": "300", **({"next_page_token": f"token-{number}"} if number else {})}
        validate_response(SPEC, method="GET", path=path, status=200, body=body)
        rsps.add(responses.GET, BASE + path, json=body,
                 match=[responses.matchers.query_param_matcher(query)])


def zoe(join: int, leave: int) -> dict[str, Any]:
    return row("Zoë Ñúñez", join, leave, id="zoe-user-uuid", user_id="16778240",
               user_email="zoe.nunez@example.org")


# --- the UUID rule --------------------------------------------------------------------------


@pytest.mark.parametrize(("uuid", "path"), [
    ("/abc==", "%252Fabc%253D%253D"),
    ("ab//c==", "ab%252F%252Fc%253D%253D"),
    ("aDYlohsHRtCd4ii1uC2+hA==", "aDYlohsHRtCd4ii1uC2%2BhA%3D%3D"),
    ("a/b==", "a%2Fb%3D%3D"),
])
def test_uuids_are_double_encoded_only_where_zoom_requires_it(uuid: str, path: str) -> None:
    assert uuid_path(uuid) == path


# --- the usual way: instances, then the past-meeting participants ---------------------------


def test_participants_of_the_session_instance_are_read_page_by_page_and_rejoins_merged(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps, ("rehearsal-uuid==", "2021-10-27T12:00:00Z"), ("/abc==", at(-3)))
    participants(rsps, "past_meetings", "/abc==", [
        zoe(-2, 40),
        row("Ana Pérez", 1, 150, user_email="ana@example.com.mx"),
        row("Waiting Wanda", 0, 5, status="in_waiting_room"),
    ], [
        zoe(52, 149),
        row("李小龍", 10, 95, id="", user_email=""),
    ])

    records = {r.name: r for r in adapter.get_attendance(session_meeting())}

    assert sorted(records) == ["Ana Pérez", "Zoë Ñúñez", "李小龍"]
    zoë = records["Zoë Ñúñez"]
    assert zoë.identity == "zoe-user-uuid" and zoë.email == "zoe.nunez@example.org"
    assert [(i.joined, i.left) for i in zoë.intervals] == [
        (START - timedelta(minutes=2), START + timedelta(minutes=40)),
        (START + timedelta(minutes=52), START + timedelta(minutes=149))]
    assert zoë.seconds == (42 + 97) * 60
    assert all(i.joined.tzinfo is timezone.utc for r in records.values() for i in r.intervals)
    assert records["李小龍"].email is None and records["李小龍"].identity is None
    calls = [urlsplit(r.url) for r in rsps.api_calls("GET")]
    assert [c.path for c in calls[1:]] == ["/v2/past_meetings/%252Fabc%253D%253D/participants"] * 2
    assert parse_qs(calls[2].query) == {"page_size": ["300"], "next_page_token": ["token-1"]}


def test_a_uuid_with_a_double_slash_is_double_encoded_in_the_call(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps, ("ab//c==", at(0)))
    participants(rsps, "past_meetings", "ab//c==", [zoe(0, 30), row("Ana", 0, 60)])

    assert len(adapter.get_attendance(session_meeting())) == 2
    assert urlsplit(rsps.api_calls("GET")[-1].url).path == (
        "/v2/past_meetings/ab%252F%252Fc%253D%253D/participants")


def test_a_host_who_restarted_the_meeting_gives_one_record_per_person_over_both_runs(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps, ("first-run==", at(0)), ("second-run==", at(70)))
    participants(rsps, "past_meetings", "first-run==", [zoe(0, 60), row("Ana", 5, 60)])
    participants(rsps, "past_meetings", "second-run==", [zoe(71, 150), row("Bo", 72, 150)])

    records = {r.name: r for r in adapter.get_attendance(session_meeting())}

    assert sorted(records) == ["Ana", "Bo", "Zoë Ñúñez"]
    assert len(records["Zoë Ñúñez"].intervals) == 2


# --- when the past-meeting list falls short -------------------------------------------------


def test_a_refused_past_meeting_list_falls_back_to_the_participant_report(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps, ("/abc==", at(0)))
    answer(rsps, f"/past_meetings/{uuid_path('/abc==')}/participants", status=400,
           body={"code": 4711, "message": "Invalid access token, does not contain scopes: "
                 "[meeting:read:list_past_participants:admin]"})
    participants(rsps, "report/meetings", "/abc==", [
        row("Zoë Ñúñez", 0, 30, id="", participant_user_id="zoe-puid",
            user_email="zoe.nunez@example.org"),
        row("Zoë Ñúñez", 35, 90, id="", participant_user_id="zoe-puid",
            user_email="zoe.nunez@example.org"),
        row("Ana", 0, 150)])

    records = {r.name: r for r in adapter.get_attendance(session_meeting())}

    assert records["Zoë Ñúñez"].identity == "zoe-puid"
    assert len(records["Zoë Ñúñez"].intervals) == 2


def test_an_empty_past_meeting_list_falls_back_to_the_report(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps, ("/abc==", at(0)))
    participants(rsps, "past_meetings", "/abc==", [])
    participants(rsps, "report/meetings", "/abc==", [zoe(0, 150), row("Ana", 3, 100)])

    assert {r.name for r in adapter.get_attendance(session_meeting())} == {"Zoë Ñúñez", "Ana"}


def test_without_an_instance_list_the_uuid_from_create_is_used(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    answer(rsps, f"/past_meetings/{MEETING_ID}/instances", status=403,
           body={"code": 4711, "message": "no scope meeting:read:list_past_instances:admin"})
    participants(rsps, "past_meetings", "/created==", [zoe(0, 150), row("Ana", 3, 100)])

    assert len(adapter.get_attendance(session_meeting(uuid="/created=="))) == 2


def test_a_meeting_zoom_has_no_list_for_yet_is_not_found_with_the_hint(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps)
    for source in ("past_meetings", "report/meetings"):
        answer(rsps, f"/{source}/{MEETING_ID}/participants", status=404,
               body={"code": 3001, "message": f"Meeting does not exist: {MEETING_ID}."})

    with pytest.raises(NotFound, match="no participant list") as raised:
        adapter.get_attendance(session_meeting(uuid=None))
    assert "attendance import" in str(raised.value.hint)


def test_both_lists_refused_names_the_plan_and_scopes(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps, ("/abc==", at(0)))
    for source in ("past_meetings", "report/meetings"):
        answer(rsps, f"/{source}/{uuid_path('/abc==')}/participants", status=403,
               body={"code": 200, "message": "No permission."})

    with pytest.raises(PermissionDenied) as raised:
        adapter.get_attendance(session_meeting())
    assert "report:read:list_meeting_participants:admin" in str(raised.value.hint)
    assert "Pro" in str(raised.value.hint)


def test_runs_only_at_other_times_are_not_taken_for_the_session(
    adapter: ZoomAdapter, rsps: VendorMock
) -> None:
    instances(rsps, ("rehearsal==", "2021-10-27T12:00:00Z"), ("reused==", "2021-11-04T15:00:00Z"))

    with pytest.raises(NotFound, match="none during the session"):
        adapter.get_attendance(session_meeting())


# --- rate limits and outages ---------------------------------------------------------------


def test_a_429_on_a_later_page_waits_as_told_and_goes_on(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    instances(rsps, ("/abc==", at(0)))
    path = f"/past_meetings/{uuid_path('/abc==')}/participants"
    rsps.add(responses.GET, BASE + path, status=429, headers={"Retry-After": "4"},
             json={"code": 429, "message": "You have reached the maximum per-second rate limit"},
             match=[responses.matchers.query_param_matcher(
                 {"page_size": "300", "next_page_token": "token-1"})])
    participants(rsps, "past_meetings", "/abc==", [zoe(0, 40), row("Ana", 0, 9)],
                 [zoe(50, 150)])

    records = adapter.get_attendance(session_meeting())

    assert recorded_sleep == [4.0]
    assert {r.name: len(r.intervals) for r in records} == {"Zoë Ñúñez": 2, "Ana": 1}


def test_a_zoom_outage_is_service_unavailable_not_a_fallback(
    adapter: ZoomAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    instances(rsps, ("/abc==", at(0)))
    rsps.add(responses.GET, BASE + f"/past_meetings/{uuid_path('/abc==')}/participants",
             status=503, json={"code": 503, "message": "try later"})

    with pytest.raises(ServiceUnavailable):
        adapter.get_attendance(session_meeting())
    assert recorded_sleep, "a read is retried before giving up"
    assert not [r for r in rsps.api_calls() if "/report/" in str(r.url)], "no fallback on 5xx"


def test_rows_without_times_still_count_their_duration() -> None:
    records = records_from_rows([
        {"name": "Phone caller", "duration": 600, "status": "in_meeting"},
        {"name": "Phone caller", "duration": 300},
    ])
    assert [(r.name, r.seconds, r.intervals) for r in records] == [("Phone caller", 900, ())]
