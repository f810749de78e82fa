"""Attendance rows are personal data: a person's copy includes them, erasure removes them."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from s3events.attendance import attendance_report, import_attendance
from s3events.privacy import erase_person, export_person
from s3events.store import attendance, open_store
from tests.test_dispatch_support import add_person, make_series

NOW = datetime(2021, 10, 28, 19, tzinfo=timezone.utc)
FIXTURES = Path(__file__).parent / "fixtures" / "attendance"


def test_export_includes_attendance_and_erasure_removes_it(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        add_person(store, series, "jose@example.org", name="José Peña")
        add_person(store, series, "kim@example.org", name="Kim Lee")
        import_attendance(store, series, FIXTURES / "day1.csv", session_id="s1", now=NOW)
        # a second session where José appears under his name only
        import_attendance(store, series, FIXTURES / "teams-attendance.csv", session_id="s2",
                          now=NOW, timezone="Europe/Brussels")
        copy = export_person(store, series.id, "jose@example.org")
        assert {(a["session_id"], a["matched_by"]) for a in copy["attendance"]} == {
            ("s1", "email"), ("s2", "name")}
        assert copy["attendance"][0]["stays"] and "Kim" not in repr(copy["attendance"])
        erase_person(store, series, "JOSE@example.org")
        with store.connect() as conn:
            left = repr(conn.execute(select(attendance)).all())
        assert "Peña" not in left and "PEÑA" not in left and "jose@" not in left.lower()
        assert "Kim Lee" in left
        people = attendance_report(store, series).as_json()["people"]
    assert [p["email"] for p in people] == ["kim@example.org"]


def test_erased_attendance_leaves_no_trace_in_the_sqlite_files(tmp_path, write_series):
    series = make_series(write_series)
    state = tmp_path / "state.db"
    with open_store(state) as store:
        add_person(store, series, "jose@example.org", name="José Peña")
        import_attendance(store, series, FIXTURES / "zoom-participants.csv", session_id="s1",
                          now=NOW)
        files = lambda: b"".join(p.read_bytes() for p in tmp_path.glob("state.db*"))  # noqa: E731
        assert "José Peña".encode() in files()
        erase_person(store, series, "jose@example.org")
    assert "José Peña".encode() not in files() and b"Pepe" not in files()
