"""Teams attendance from Microsoft Graph's attendance reports, over a mocked Graph: every
answer mocked here is checked against the Graph spec (``validate_response``), every request
body by the vendor mock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
import requests
import responses
from pydantic import SecretStr
from s3events_msteams import TeamsAdapter, TeamsOptions
from s3events_msteams.attendance import records_from_graph

from s3events.errors import NotFound, PermissionDenied
from s3events.platforms.base import Meeting
from s3events.testing import SleepRecorder, VendorMock, vendor_mock_fixture
from s3events.testing.specs import validate_response

TENANT = "contoso.onmicrosoft.com"
USER = "1f35f2e6-9cab-44ad-8d5a-b74c14720000"
BASE = "https://graph.microsoft.com/v1.0"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
SPEC = "msgraph-v1.0-onlinemeetings-events-subset.json"
MEETING_ID = "MSpkYzE3Njc0Yy04MWQ5LTRhZGItYmZi=="
REPORTS = f"{BASE}/users/{USER}/onlineMeetings/{quote(MEETING_ID, safe='')}/attendanceReports"
START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)

rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE, assert_all_requests_are_fired=True)


@pytest.fixture
def adapter(recorded_sleep: SleepRecorder, rsps: VendorMock) -> TeamsAdapter:
    rsps.add(responses.POST, TOKEN_URL, json={"access_token": "graph-token",
                                              "expires_in": 3599, "token_type": "Bearer"})
    opts = TeamsOptions(tenant_id=TENANT, client_id="app-1",
                        client_secret=SecretStr("graph-client-secret-value"), user_id=USER)
    return TeamsAdapter(opts, session=requests.Session(), sleep=recorded_sleep)


def session_meeting() -> Meeting:
    return Meeting(platform="msteams", meeting_id=MEETING_ID, join_url="https://teams.ms/l/x",
                   start=START, duration=timedelta(minutes=150))


def at(minutes: int) -> str:
    """Graph's form: seven fractional digits and Z."""
    return (START + timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def answer(rsps: VendorMock, url: str, body: dict[str, Any], **kwargs: Any) -> None:
    """Register Graph's answer to GET ``url``, after checking it against the Graph spec."""
    path = url.split("?")[0].removeprefix(BASE)
    validate_response(SPEC, method="GET", path=path, status=200, body=body)
    rsps.add(responses.GET, url, json=body, **kwargs)


def report(number: int, start: int, end: int, count: int) -> dict[str, Any]:
    return {"id": f"report-{number}", "totalParticipantCount": count,
            "meetingStartDateTime": at(start), "meetingEndDateTime": at(end)}


def attendee(name: str, email: str | None, user: str | None, *stays: tuple[int, int],
             role: str = "Attendee") -> dict[str, Any]:
    record = {
        "id": email or name, "emailAddress": email, "role": role,
        "totalAttendanceInSeconds": sum((b - a) * 60 for a, b in stays),
        "identity": {"id": user, "displayName": name, "tenantId": None},
        "attendanceIntervals": [{"joinDateTime": at(a), "leaveDateTime": at(b),
                                 "durationInSeconds": (b - a) * 60} for a, b in stays]}
    return record


def records_pages(rsps: VendorMock, number: int, *pages: list[dict[str, Any]]) -> None:
    url = f"{REPORTS}/report-{number}/attendanceRecords"
    for index, items in enumerate(pages):
        body: dict[str, Any] = {"value": items}
        if index < len(pages) - 1:
            body["@odata.nextLink"] = f"{url}?$skiptoken=page{index + 1}"
        target = url if index == 0 else f"{url}?$skiptoken=page{index}"
        match = [] if index else [responses.matchers.query_string_matcher("")]
        answer(rsps, target, body, match=match)


def test_each_reports_records_are_read_to_the_last_next_link(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    answer(rsps, REPORTS, {"value": [report(9, -2000, -1900, 1), report(1, -3, 152, 4)]})
    records_pages(rsps, 1, [
        attendee("Zoë Ñúñez", "zoe.nunez@contoso.com", "user-zoe", (-2, 40), (52, 150),
                 role="Organizer"),
        attendee("Ana Pérez", "ana@fabrikam.com.mx", "user-ana", (3, 150)),
    ], [
        attendee("李小龍", None, "anon-li", (10, 95)),
        attendee("+54 11 ••••-4321", None, None, (20, 30)),
    ])

    records = {r.name: r for r in adapter.get_attendance(session_meeting())}

    assert sorted(records) == ["+54 11 ••••-4321", "Ana Pérez", "Zoë Ñúñez", "李小龍"]
    zoë = records["Zoë Ñúñez"]
    assert (zoë.email, zoë.identity, zoë.seconds) == (
        "zoe.nunez@contoso.com", "user-zoe", (42 + 98) * 60)
    assert [(i.joined, i.left) for i in zoë.intervals] == [
        (START - timedelta(minutes=2), START + timedelta(minutes=40)),
        (START + timedelta(minutes=52), START + timedelta(minutes=150))]
    assert records["李小龍"].email is None
    assert [c.url.split("?")[0].rsplit("/", 2)[-2] for c in rsps.api_calls("GET")[1:]] == [
        "report-1", "report-1"], "the report from weeks before is not read"


def test_a_restarted_meeting_adds_up_both_reports_per_person(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    answer(rsps, REPORTS, {"value": [report(1, 0, 60, 2), report(2, 70, 150, 1)]})
    records_pages(rsps, 1, [attendee("Zoë", "zoe@contoso.com", "u1", (0, 60)),
                            attendee("Ana", "ana@contoso.com", "u2", (5, 60))])
    records_pages(rsps, 2, [attendee("Zoë", "zoe@contoso.com", "u1", (71, 150))])

    records = {r.name: r for r in adapter.get_attendance(session_meeting())}

    assert len(records["Zoë"].intervals) == 2 and records["Zoë"].seconds == (60 + 79) * 60


def test_reports_listed_on_several_pages_are_all_read(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    answer(rsps, f"{REPORTS}?$skiptoken=r2", {"value": [report(2, 70, 150, 1)]})
    answer(rsps, REPORTS, {"value": [report(1, 0, 60, 1)],
                           "@odata.nextLink": f"{REPORTS}?$skiptoken=r2"},
           match=[responses.matchers.query_string_matcher("")])
    records_pages(rsps, 1, [attendee("Zoë", "zoe@contoso.com", "u1", (0, 60))])
    records_pages(rsps, 2, [attendee("Bo", "bo@contoso.com", "u3", (71, 150))])

    assert sorted(r.name for r in adapter.get_attendance(session_meeting())) == ["Bo", "Zoë"]


def test_no_report_yet_is_not_found_naming_the_meeting_policy(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    answer(rsps, REPORTS, {"value": []})
    with pytest.raises(NotFound, match="no attendance report") as raised:
        adapter.get_attendance(session_meeting())
    assert "meeting policy" in str(raised.value.hint)


def test_reports_only_of_other_days_are_not_taken_for_the_session(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    answer(rsps, REPORTS, {"value": [report(9, -2000, -1900, 3)]})
    with pytest.raises(NotFound, match="none of the session"):
        adapter.get_attendance(session_meeting())


def test_a_missing_permission_names_online_meeting_artifact_read_all(
    adapter: TeamsAdapter, rsps: VendorMock
) -> None:
    rsps.add(responses.GET, REPORTS, status=403, json={"error": {
        "code": "Forbidden", "message": "Application does not have permission"}})
    with pytest.raises(PermissionDenied) as raised:
        adapter.get_attendance(session_meeting())
    assert "OnlineMeetingArtifact.Read.All" in str(raised.value.hint)
    assert "Grant-CsApplicationAccessPolicy" in str(raised.value.hint)


def test_a_429_from_graph_waits_as_told(
    adapter: TeamsAdapter, rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    rsps.add(responses.GET, REPORTS, status=429, headers={"Retry-After": "8"},
             json={"error": {"code": "TooManyRequests", "message": "throttled"}})
    answer(rsps, REPORTS, {"value": [report(1, 0, 150, 1)]})
    records_pages(rsps, 1, [attendee("Ana", "ana@contoso.com", "u2", (0, 150))])

    assert [r.name for r in adapter.get_attendance(session_meeting())] == ["Ana"]
    assert recorded_sleep == [8.0]


def test_records_without_a_total_add_up_their_intervals() -> None:
    item = attendee("Bo", "bo@contoso.com", "u3", (0, 30), (20, 50))
    del item["totalAttendanceInSeconds"]
    (record,) = records_from_graph([item])
    assert record.seconds == 50 * 60  # the overlap counted once
