"""Attendance: reports of every platform imported, matched to registrations, merged, reported."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from s3events.attendance import attendance_report, import_attendance, session_states
from s3events.attendance.matching import name_key
from s3events.attendance.records import Attendee, merge_stays, presence
from s3events.cli import cli
from s3events.errors import InputError
from s3events.store import open_store
from tests.test_dispatch_support import add_person, make_series

UTC = timezone.utc
FIXTURES = Path(__file__).parent / "fixtures" / "attendance"
NOW = datetime(2021, 10, 28, 19, 0, tzinfo=UTC)
PEOPLE = [
    ("jose@example.org", "José Peña", "es", "America/Mexico_City"),
    ("ana@example.org", "Ana Souza", "pt", "America/Sao_Paulo"),
    ("kim@example.org", "Kim Lee", "en", "America/Santiago"),
    ("eleni@example.org", "Ελένη Παπαδοπούλου", "en", "Europe/Athens"),
    ("dmitri@example.org", "Дмитрий Иванов", "en", "Europe/Riga"),
]


def t(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def setup(state_url, write_series):
    series = make_series(write_series)
    store = open_store(state_url)
    ids = {email: add_person(store, series, email, name=name, language=lang, zone=zone)
           for email, name, lang, zone in PEOPLE}
    yield series, store, ids
    store.close()


def people(report_json):
    return {p["email"]: p["sessions"] for p in report_json["people"]}


def test_a_plain_csv_of_joins_gives_merged_minutes_matches_and_the_unknown_apart(setup):
    series, store, _ = setup
    done = import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=NOW)
    assert done.errors == [] and done.participants == 4 and done.matched == 3
    data = attendance_report(store, series).as_json()
    s1 = next(s for s in data["sessions"] if s["id"] == "s1")
    assert s1 == {"id": "s1", "known": True, "registered": 5, "attended": 2, "unmatched": [
        {"name": "Visitor From Elsewhere", "email": "visitor@elsewhere.example",
         "minutes": 45}]}
    by_email = people(data)
    # 14:58–15:40 and 15:30–17:31 overlap: 153 minutes, not 42 + 121
    assert by_email["jose@example.org"]["s1"] == {
        "attended": True, "minutes": 153, "matched_by": "email",
        "first_join": "2021-10-28T14:58:00Z", "last_leave": "2021-10-28T17:31:00Z",
        "registered": True}
    assert by_email["kim@example.org"]["s1"]["minutes"] == 60  # 30 + 30 after a re-join
    ana = by_email["ana@example.org"]["s1"]
    assert ana["matched_by"] == "name" and ana["minutes"] == 7 and ana["attended"] is False
    assert by_email["eleni@example.org"]["s1"] == {
        "attended": False, "minutes": 0, "matched_by": None, "first_join": None,
        "last_leave": None, "registered": True}
    assert "s2" not in by_email["jose@example.org"]
    s2 = next(s for s in data["sessions"] if s["id"] == "s2")
    assert s2["known"] is False and s2["attended"] == 0


def test_importing_the_same_file_twice_changes_nothing(setup):
    series, store, _ = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=NOW)
    first = attendance_report(store, series).as_json()
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=NOW)
    assert attendance_report(store, series).as_json() == first


def test_min_minutes_decides_who_attended(state_url, write_series):
    series = make_series(write_series, attendance={"min_minutes": 5})
    with open_store(state_url) as store:
        add_person(store, series, "ana@example.org", name="Ana Souza")
        import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=NOW)
        ana = people(attendance_report(store, series).as_json())["ana@example.org"]["s1"]
    assert ana["attended"] is True and ana["minutes"] == 7


def test_zoom_report_with_its_meeting_block_and_original_names(setup):
    series, store, _ = setup
    done = import_attendance(store, series, FIXTURES / "zoom-participants.csv",
                             session_id="s1", now=NOW)
    assert done.format == "zoom" and done.zone == "Europe/Brussels" and done.errors == []
    data = attendance_report(store, series).as_json()
    by_email = people(data)
    jose = by_email["jose@example.org"]["s1"]
    assert jose["matched_by"] == "name"  # "Pepe (José Peña)": the original name matches
    assert jose["first_join"] == "2021-10-28T14:59:02Z"  # 16:59:02 in Brussels (CEST)
    assert jose["minutes"] == 49 + 99  # two stays, the gap between them not counted
    assert by_email["kim@example.org"]["s1"]["matched_by"] == "email"
    assert by_email["eleni@example.org"]["s1"]["minutes"] == 45
    s1 = data["sessions"][0]
    assert [u["email"] for u in s1["unmatched"]] == ["organiser@example.org"]


def test_webex_export_in_utf16_with_days_first(setup):
    series, store, _ = setup
    done = import_attendance(store, series, FIXTURES / "webex-attendance.csv",
                             session_id="s1", now=NOW)
    assert done.format == "webex" and done.errors == []
    by_email = people(attendance_report(store, series).as_json())
    jose = by_email["jose@example.org"]["s1"]
    assert jose["first_join"] == "2021-10-28T14:58:00Z" and jose["minutes"] == 152
    dmitri = by_email["dmitri@example.org"]["s1"]  # no display name: first and last name
    assert dmitri["matched_by"] == "email" and dmitri["minutes"] == 146


def test_teams_report_reads_each_join_and_guest_names_in_last_first_order(setup):
    series, store, _ = setup
    done = import_attendance(store, series, FIXTURES / "teams-attendance.csv",
                             session_id="s1", now=NOW)
    assert done.format == "teams" and done.errors == []
    by_email = people(attendance_report(store, series).as_json())
    jose = by_email["jose@example.org"]["s1"]
    assert jose["matched_by"] == "name"  # "PEÑA, José (Guest)"
    assert jose["minutes"] == 142 and jose["last_leave"] == "2021-10-28T17:30:12Z"
    assert by_email["kim@example.org"]["s1"]["attended"] is False


def test_bigbluebutton_dashboard_gives_time_spent_not_the_span(setup):
    series, store, _ = setup
    done = import_attendance(store, series, FIXTURES / "bigbluebutton-dashboard.csv",
                             session_id="s1", now=NOW)
    assert done.format == "bigbluebutton" and done.errors == []
    by_email = people(attendance_report(store, series).as_json())
    assert by_email["jose@example.org"]["s1"]["minutes"] == 140  # 02:20:02 spent
    assert by_email["ana@example.org"]["s1"]["attended"] is False


def test_bad_rows_are_reported_by_line_and_the_good_ones_kept(setup, tmp_path):
    series, store, _ = setup
    path = tmp_path / "joins.csv"
    path.write_text(
        "name,email,join_time,leave_time\n"
        "Kim Lee,kim@example.org,2021-10-28T15:10:00Z,2021-10-28T16:40:00Z\n"
        "José Peña,jose@example.org,2021-10-28 17:00,2021-10-28T19:00:00+02:00\n"
        "Ana Souza,ana@example.org,2021-10-28T15:10:00Z,yesterday\n"
        "Eleni,eleni@example.org,2021-10-28T16:10:00Z,2021-10-28T15:10:00Z\n", encoding="utf-8")
    done = import_attendance(store, series, path, session_id="s1", now=NOW)
    assert [(p.line, p.path) for p in done.errors] == [
        (3, "join_time"), (4, "leave_time"), (5, "leave_time")]
    assert "no UTC offset" in done.errors[0].message
    assert done.stored and done.participants == 1
    by_email = people(attendance_report(store, series).as_json())
    assert by_email["kim@example.org"]["s1"]["minutes"] == 90


def test_the_cli_imports_reports_problems_with_exit_2_and_no_traceback(setup, tmp_path):
    series, store, _ = setup
    path = tmp_path / "joins.csv"
    path.write_text("name,email,join_time,leave_time\n"
                    "Kim Lee,kim@example.org,2021-10-28T15:10:00Z,2021-10-28T16:40:00Z\n"
                    "Kim Lee,kim@example.org,not a time,2021-10-28T16:40:00Z\n",
                    encoding="utf-8")
    runner = CliRunner()
    state = str(store.engine.url) if store.dialect != "sqlite" else \
        store.engine.url.database
    result = runner.invoke(cli, ["attendance", "import", str(series.source), str(path),
                                 "--session", "s1", "--state", state])
    assert result.exit_code == 2, result.output
    assert f"{path}:3: join_time: 'not a time' is not a time" in result.output
    assert "Traceback" not in result.output
    listed = runner.invoke(cli, ["attendance", str(series.source), "--state", state, "--json"])
    assert listed.exit_code == 0, listed.output
    assert people(json.loads(listed.output))["kim@example.org"]["s1"]["minutes"] == 90
    same = runner.invoke(cli, ["attendance", "report", str(series.source), "--state", state,
                               "--json"])
    assert same.output == listed.output


def test_a_file_of_no_known_format_is_refused(setup, tmp_path):
    series, store, _ = setup
    path = tmp_path / "other.csv"
    path.write_text("who,when\nx,y\n", encoding="utf-8")
    with pytest.raises(InputError, match="name,email,join_time,leave_time"):
        import_attendance(store, series, path, session_id="s1", now=NOW)
    with pytest.raises(InputError, match="no session 's9'"):
        import_attendance(store, series, FIXTURES / "day1.csv", session_id="s9", now=NOW)
    assert session_states(store, series.id) == {}


def test_times_far_from_the_session_are_a_warning_about_the_zone(setup):
    series, store, _ = setup
    done = import_attendance(store, series, FIXTURES / "zoom-participants.csv",
                             session_id="s1", now=NOW, timezone="Asia/Tokyo")
    warnings = [p for p in done.problems if p.severity == "warning"]
    assert warnings and "--timezone" in warnings[0].message and done.errors == []


def test_a_name_that_fits_two_registrations_is_no_match(state_url, write_series, tmp_path):
    series = make_series(write_series)
    with open_store(state_url) as store:
        add_person(store, series, "maria1@example.org", name="María García")
        add_person(store, series, "maria2@example.org", name="Maria Garcia")
        path = tmp_path / "joins.csv"
        path.write_text("name,email,join_time,leave_time\n"
                        "MARIA GARCIA,,2021-10-28T15:00:00Z,2021-10-28T16:00:00Z\n",
                        encoding="utf-8")
        import_attendance(store, series, path, session_id="s1", now=NOW)
        data = attendance_report(store, series).as_json()
    assert data["sessions"][0]["unmatched"][0]["name"] == "MARIA GARCIA"
    assert all(p["sessions"]["s1"]["matched_by"] is None for p in data["people"])


def test_names_are_compared_without_case_accents_spacing_or_order():
    assert name_key("  PEÑA,   José ") == name_key("José Peña") == name_key("jose pena")
    assert name_key("Ελένη Παπαδοπούλου") == name_key("ΕΛΕΝΗ ΠΑΠΑΔΟΠΟΥΛΟΥ")
    assert name_key("Ana Lima") != name_key("Ana Limas")
    assert name_key("O'Brien Seán") == name_key("Sean OBrien") == name_key("Seán O’Brien")
    assert name_key("山田 太郎") == name_key("山田太郎")
    assert name_key("김 민수") == name_key("김민수")
    assert name_key("山田 太郎") != name_key("山田 花子")
    assert name_key("Ana Lima") != name_key("Analima")  # Latin names keep their word breaks


def test_overlapping_and_touching_stays_merge_and_totals_come_from_the_merge():
    stays = [(t("2021-10-28T15:00:00Z"), t("2021-10-28T15:30:00Z")),
             (t("2021-10-28T15:20:00Z"), t("2021-10-28T15:40:00Z")),
             (t("2021-10-28T15:40:00Z"), t("2021-10-28T15:50:00Z")),
             (t("2021-10-28T16:00:00Z"), t("2021-10-28T16:05:00Z"))]
    assert merge_stays(reversed(stays)) == [(stays[0][0], stays[2][1]), stays[3]]
    phone = Attendee("Kim", stays=tuple(stays[:2]))
    laptop = Attendee("Kim", stays=tuple(stays[2:]))
    assert presence([phone, laptop]).seconds == 55 * 60


def test_the_csv_output_has_one_row_per_person_and_session(setup):
    series, store, _ = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=NOW)
    lines = attendance_report(store, series).as_csv().splitlines()
    assert lines[0] == ("session,name,email,registered,attended,minutes,first_join,"
                        "last_leave,matched_by")
    assert ("s1,José Peña,jose@example.org,yes,yes,153,2021-10-28T14:58:00Z,"
            "2021-10-28T17:31:00Z,email") in lines
    assert lines[-1].startswith("s1,Visitor From Elsewhere,visitor@elsewhere.example,no,yes,45")


def test_the_csv_output_never_hands_a_spreadsheet_a_formula(setup, tmp_path):
    series, store, _ = setup
    path = tmp_path / "joins.csv"
    path.write_text(
        "name,email,join_time,leave_time\n"
        '"=HYPERLINK(""http://evil.example"",""click"")",x@evil.example,'
        "2021-10-28T15:00:00Z,2021-10-28T16:00:00Z\n"
        "@SUM(A1),+1@evil.example,2021-10-28T15:00:00Z,2021-10-28T16:00:00Z\n"
        "-Kim,kim@example.org,2021-10-28T15:00:00Z,2021-10-28T16:00:00Z\n",
        encoding="utf-8")
    import_attendance(store, series, path, session_id="s1", now=NOW)
    rows = list(csv.reader(attendance_report(store, series).as_csv().splitlines()))
    cells = [cell for row in rows for cell in row[1:3]]
    assert "'=HYPERLINK(\"http://evil.example\",\"click\")" in cells
    assert "'@SUM(A1)" in cells and "'+1@evil.example" in cells
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    # The JSON report keeps the values exactly as they came.
    names = {u["name"] for s in attendance_report(store, series).as_json()["sessions"]
             for u in s["unmatched"]}
    assert '=HYPERLINK("http://evil.example","click")' in names


def test_someone_who_registered_after_a_session_is_not_one_of_its_no_shows(setup):
    series, store, _ = setup
    import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=NOW)
    before = attendance_report(store, series).as_json()
    late = add_person(store, series, "late@example.org", name="Lena Späth", language="en",
                      zone="Europe/Berlin", at=NOW)  # s1 ended at 17:30 UTC
    report = attendance_report(store, series)
    after = report.as_json()
    s1 = {s["id"]: s for s in after["sessions"]}["s1"]
    assert s1["registered"] == {s["id"]: s for s in before["sessions"]}["s1"]["registered"]
    assert "s1" not in report.person(late).sessions
    assert [p["sessions"] for p in after["people"] if p["email"] == "late@example.org"] == [{}]


def test_a_few_joins_far_from_the_session_are_a_warning_too(setup, tmp_path):
    series, store, _ = setup
    path = tmp_path / "joins.csv"
    path.write_text("name,email,join_time,leave_time\n"
                    "Kim Lee,kim@example.org,2021-10-28T15:00:00Z,2021-10-28T16:00:00Z\n"
                    "Ana Souza,ana@example.org,2021-10-28T15:05:00Z,2021-10-28T16:00:00Z\n"
                    "José Peña,jose@example.org,2021-10-28T11:05:00Z,2021-10-28T16:55:00Z\n",
                    encoding="utf-8")
    done = import_attendance(store, series, path, session_id="s1", now=NOW)
    (warning,) = [p for p in done.problems if p.severity == "warning"]
    assert "1 of 3 joins fall outside session s1" in warning.message
    assert "check those rows' times" in warning.message
