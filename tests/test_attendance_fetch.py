"""Attendance from the platforms: fetched after the session, polled while it runs, posted."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from s3events.attendance import attendance_report, session_states
from s3events.attendance.callback import callback_url
from s3events.attendance.fetching import fetch_attendance
from s3events.cli import cli
from s3events.errors import InvalidRequest, NotFound
from s3events.hookspecs import hookimpl
from s3events.platforms.base import (
    AttendanceInterval,
    AttendanceRecord,
    Meeting,
    MeetingRequest,
    PlatformAdapter,
)
from s3events.provision import meeting_rows, state_secret
from s3events.store import open_store
from s3events.web.security import redact_path
from tests.test_dispatch_support import add_person, make_series, provision

UTC = timezone.utc
S1_START = datetime(2021, 10, 28, 15, 0, tzinfo=UTC)
S1_END = datetime(2021, 10, 28, 17, 30, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return S1_START + timedelta(minutes=minutes)


def stay(a: int, b: int) -> AttendanceInterval:
    return AttendanceInterval(joined=at(a), left=at(b))


class _Base(PlatformAdapter):
    requests: ClassVar[list[MeetingRequest]] = []

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        type(self).requests.append(request)
        return Meeting(platform=self.name, meeting_id=f"m-{request.session_id}",
                       join_url=f"https://{self.name}.example/{request.session_id}",
                       marker=request.marker)

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        return meeting

    def delete_meeting(self, meeting: Meeting) -> None:
        return None

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        return Meeting(platform=self.name, meeting_id=meeting_id,
                       join_url=f"https://{self.name}.example/{meeting_id[2:]}")


class Roll(_Base):
    """Reports attendance of ended meetings (as Zoom, Webex, Teams and Meet do)."""

    name = "rollcall"
    supports_attendance = True
    reports: ClassVar[dict[str, Any]] = {}
    asked: ClassVar[list[str]] = []

    def get_attendance(self, meeting: Meeting) -> list[AttendanceRecord]:
        type(self).asked.append(meeting.meeting_id)
        found = self.reports.get(meeting.meeting_id)
        if isinstance(found, Exception):
            raise found
        if found is None:
            raise NotFound("no report yet", service=self.name)
        return list(found)


class Poller(_Base):
    """Says who is in a meeting now, and posts a report at a callback (as BigBlueButton)."""

    name = "pollcall"
    polls_attendance = True
    present: ClassVar[list[AttendanceRecord]] = []

    def attendance_now(self, meeting: Meeting) -> list[AttendanceRecord]:
        return list(self.present)

    def attendance_from_callback(self, body: bytes, content_type: str
                                 ) -> list[AttendanceRecord]:
        try:
            data = json.loads(body)
        except ValueError:
            raise InvalidRequest("not JSON", service=self.name) from None
        return [AttendanceRecord(name=p["name"], identity=p["id"],
                                 intervals=(stay(p["from"], p["to"]),)) for p in data]


class _Plugin:
    @hookimpl
    def s3events_register_platforms(self) -> list[type[PlatformAdapter]]:
        return [Roll, Poller]


@pytest.fixture(autouse=True)
def platforms(register_plugin):
    register_plugin(_Plugin(), name="attendance-test-platforms")
    for cls in (Roll, Poller):
        cls.requests = []
    Roll.reports, Roll.asked, Poller.present = {}, [], []


def setup_series(write_series, store, platform: str, **top: Any):
    series = make_series(write_series, platform={"name": platform}, **top)
    provision(store, series)
    ids = {email: add_person(store, series, email, name=name) for email, name in [
        ("jose@example.org", "José Peña"), ("ana@example.org", "Ana Souza")]}
    return series, ids


def test_ended_sessions_are_fetched_once_and_matched(state_url, write_series):
    with open_store(state_url) as store:
        series, _ids = setup_series(write_series, store, "rollcall")
        Roll.reports["m-s1"] = [
            AttendanceRecord(name="J. Peña", email="Jose@Example.org",
                             intervals=(stay(0, 50), stay(45, 120))),
            AttendanceRecord(name="Ana Souza", intervals=(stay(10, 15),)),
            AttendanceRecord(name="Host", email="host@example.org", intervals=(stay(-5, 151),)),
        ]
        early = fetch_attendance(store, series, now=S1_END + timedelta(minutes=5))
        assert early.outcomes == [] and Roll.asked == []
        done = fetch_attendance(store, series, now=S1_END + timedelta(minutes=20))
        assert [(o.session_id, o.status, o.participants) for o in done.outcomes] == [
            ("s1", "fetched", 3)]
        again = fetch_attendance(store, series, now=S1_END + timedelta(minutes=40))
        assert again.outcomes == [] and Roll.asked == ["m-s1"]
        data = attendance_report(store, series).as_json()
    by_email = {p["email"]: p["sessions"]["s1"] for p in data["people"]}
    assert by_email["jose@example.org"]["minutes"] == 120
    assert by_email["jose@example.org"]["matched_by"] == "email"
    assert by_email["ana@example.org"] | {"attended": False, "matched_by": "name"} == \
        by_email["ana@example.org"]
    assert data["sessions"][0]["unmatched"][0]["email"] == "host@example.org"


def test_a_report_not_ready_is_asked_for_again_and_failures_are_said(state_url, write_series):
    with open_store(state_url) as store:
        series, _ = setup_series(write_series, store, "rollcall")
        later = datetime(2021, 11, 5, tzinfo=UTC)
        Roll.reports["m-s2"] = InvalidRequest("refused", service="rollcall")
        first = fetch_attendance(store, series, now=later)
        assert [(o.session_id, o.status) for o in first.outcomes] == [
            ("s1", "waiting"), ("s2", "failed")]
        assert first.failed and session_states(store, series.id) == {}
        Roll.reports["m-s1"] = []
        second = fetch_attendance(store, series, now=later)
        assert [o.status for o in second.outcomes] == ["fetched", "failed"]
        assert session_states(store, series.id)["s1"].known


def test_a_named_session_is_fetched_again_and_one_not_ended_says_so(state_url, write_series):
    with open_store(state_url) as store:
        series, _ = setup_series(write_series, store, "rollcall")
        Roll.reports["m-s1"] = [AttendanceRecord(name="Ana Souza", intervals=(stay(0, 60),))]
        fetch_attendance(store, series, now=at(300))
        Roll.reports["m-s1"] = []
        redo = fetch_attendance(store, series, now=at(400), session_id="s1")
        assert redo.outcomes[0].status == "fetched" and redo.outcomes[0].participants == 0
        pending = fetch_attendance(store, series, now=at(400), session_id="s2")
        assert pending.outcomes[0].status == "not-ended"


def test_a_platform_without_attendance_is_named_with_the_import_hint(state_url, write_series):
    series = make_series(write_series)
    runner = CliRunner()
    args = ["attendance", "fetch", str(series.source), "--state",
            state_url, "--now", "2021-10-28T18:00:00Z"]
    with open_store(state_url) as store:
        provision(store, series)
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert ("session s1: unsupported: platform 'jitsi' does not report attendance; import "
            "the participant report: s3events attendance import SERIES FILE --session s1"
            ) in result.output
    assert "s2" not in result.output and "Traceback" not in result.output


def test_polling_builds_stays_from_consecutive_sightings(state_url, write_series):
    jose = AttendanceRecord(name="José Peña", identity="")
    ana = AttendanceRecord(name="Ana Souza")
    with open_store(state_url) as store:
        series, ids = setup_series(write_series, store, "pollcall")
        jose = jose.model_copy(update={"identity": ids["jose@example.org"]})
        plan = {0: [jose], 5: [jose, ana], 10: [jose], 15: [jose, ana], 20: [jose, ana],
                40: [jose, ana], 45: [jose]}
        for minute in (0, 5, 10, 15, 20, 40, 45):
            Poller.present = plan[minute]
            out = fetch_attendance(store, series, now=at(minute))
            assert [o.status for o in out.outcomes] == ["polled"]
        fetch_attendance(store, series, now=at(45))  # a poll at the same time changes nothing
        assert not session_states(store, series.id)["s1"].known
        Poller.present = []
        closed = fetch_attendance(store, series, now=S1_END + timedelta(minutes=16))
        assert [(o.session_id, o.status) for o in closed.outcomes] == [("s1", "closed")]
        assert session_states(store, series.id)["s1"].known
        data = attendance_report(store, series).as_json()
    by_email = {p["email"]: p["sessions"]["s1"] for p in data["people"]}
    # jose: seen at every poll, but 20 → 40 is more than the 10-minute gap: 0–20 and 40–45
    assert by_email["jose@example.org"]["minutes"] == 25
    assert by_email["jose@example.org"]["matched_by"] == "identity"
    # ana: 5 (alone), 15–20, 40: only 15–20 counts
    assert by_email["ana@example.org"]["minutes"] == 5


def test_a_session_never_polled_asks_for_an_import(state_url, write_series):
    with open_store(state_url) as store:
        series, _ = setup_series(write_series, store, "pollcall")
        out = fetch_attendance(store, series, now=S1_END + timedelta(hours=1))
    assert [(o.session_id, o.status) for o in out.outcomes] == [("s1", "not-polled")]
    assert "attendance import" in out.outcomes[0].message


def test_provisioning_gives_the_platform_a_signed_callback_address(state_url, write_series):
    with open_store(state_url) as store:
        _series, _ = setup_series(write_series, store, "pollcall",
                                 dispatch={"base_url": "https://events.example.org/s3"})
        secret = state_secret(store)
        assert secret is not None
    urls = [r.attendance_callback_url.get_secret_value() for r in Poller.requests
            if r.attendance_callback_url is not None]
    assert urls == [callback_url("https://events.example.org/s3", secret, "demo", s, 0)
                    for s in ("s1", "s2")]
    assert urls[0].startswith("https://events.example.org/s3/callbacks/attendance/s1/")
    assert urls[0] != urls[1] and "callbacks" not in repr(Poller.requests[0])


def test_without_an_event_page_there_is_no_callback_address(state_url, write_series):
    with open_store(state_url) as store:
        setup_series(write_series, store, "pollcall")
    assert all(r.attendance_callback_url is None for r in Poller.requests)


def test_the_event_page_stores_a_posted_report_and_refuses_replays_and_forgeries(
        state_url, write_series, caplog):
    pytest.importorskip("flask")
    from s3events.web import create_app

    base = "https://events.example.org/s3"
    with open_store(state_url) as store:
        series, ids = setup_series(write_series, store, "pollcall",
                                   dispatch={"base_url": base})
        Poller.present = [AttendanceRecord(name="Ana Souza")]
        fetch_attendance(store, series, now=at(30))  # polling saw Ana: the report replaces it
        url = Poller.requests[0].attendance_callback_url.get_secret_value()
        path = url.removeprefix(base)
        signature = path.rsplit("/", 1)[1]
        app = create_app(series, store=store, base_url=base, dispatch=False,
                         clock=lambda: at(200))
        client = app.test_client()
        body = json.dumps([{"name": "José Peña", "id": ids["jose@example.org"], "from": 0,
                            "to": 90}])
        forged = client.post(path[:-3] + "AAA", data=body, content_type="application/json")
        assert forged.status_code == 403
        unknown = client.post(f"/callbacks/attendance/s9/{signature}", data=body)
        assert unknown.status_code == 404
        other = client.post(path.replace("/s1/", "/s2/"), data=body)
        assert other.status_code == 403  # a signature is good for its own session only
        garbled = client.post(path, data=b"<xml/>", content_type="text/xml")
        assert garbled.status_code == 400
        with caplog.at_level("INFO", logger="s3events.web"):
            good = client.post(path, data=body, content_type="application/json")
        assert good.status_code == 200
        replay = client.post(path, data=body, content_type="application/json")
        assert replay.status_code == 409
        data = attendance_report(store, series).as_json()
        state = session_states(store, series.id)["s1"]
    assert state.known and state.source == "callback"
    by_email = {p["email"]: p["sessions"]["s1"] for p in data["people"]}
    assert by_email["jose@example.org"]["minutes"] == 90
    assert by_email["jose@example.org"]["matched_by"] == "identity"
    assert by_email["ana@example.org"]["minutes"] == 0  # what polling saw was replaced
    assert signature not in caplog.text
    assert redact_path(path) == "/callbacks/attendance/s1/…"
    assert meeting_rows(store, series.id)["s1"].generation == 0
