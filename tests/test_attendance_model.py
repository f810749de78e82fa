"""The attendance records platforms report: aware UTC intervals, totals, the default refusal."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr, ValidationError

from s3events import AttendanceInterval, AttendanceRecord, ConfigurationError
from s3events.platforms.jitsi import JitsiAdapter
from s3events.testing.helpers import reference_request


def test_intervals_are_kept_in_utc_whatever_zone_they_come_in():
    auckland = ZoneInfo("Pacific/Auckland")
    stay = AttendanceInterval(joined=datetime(2026, 4, 5, 2, 30, tzinfo=auckland),
                              left=datetime(2026, 4, 5, 2, 45, fold=1, tzinfo=auckland))
    assert stay.joined.tzinfo is timezone.utc
    # 02:30 is before the end of daylight time there (fold 0), 02:45 the second time (fold 1)
    assert stay.seconds == int(timedelta(hours=1, minutes=15).total_seconds())


def test_a_leave_before_the_join_and_naive_times_are_refused():
    start = datetime(2026, 3, 1, 16, tzinfo=timezone.utc)
    with pytest.raises(ValidationError, match="leave before joining"):
        AttendanceInterval(joined=start, left=start - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="aware"):
        AttendanceInterval(joined=datetime(2026, 3, 1, 16), left=start)


def test_a_record_knows_its_first_join_and_last_leave():
    t = datetime(2026, 3, 1, 16, tzinfo=timezone.utc)
    record = AttendanceRecord(name="Zoë Ñúñez", intervals=(
        AttendanceInterval(joined=t + timedelta(minutes=40), left=t + timedelta(minutes=90)),
        AttendanceInterval(joined=t, left=t + timedelta(minutes=30))), seconds=80 * 60)
    assert record.first_join == t
    assert record.last_leave == t + timedelta(minutes=90)
    assert AttendanceRecord(name="x").first_join is None


def test_a_platform_without_an_attendance_api_names_the_import_command():
    adapter = JitsiAdapter()
    assert adapter.supports_attendance is False
    with pytest.raises(ConfigurationError, match="attendance import"):
        adapter.get_attendance(None)  # type: ignore[arg-type]


def test_the_callback_address_is_secret_and_not_part_of_the_fingerprint():
    plain = reference_request()
    signed = plain.model_copy(update={"attendance_callback_url": SecretStr(
        "https://events.example.org/callbacks/attendance/abc.sig")})
    assert signed.fingerprint() == plain.fingerprint()
    assert "sig" not in repr(signed)


def test_polling_and_callbacks_are_refused_by_default():
    adapter = JitsiAdapter()
    assert adapter.polls_attendance is False
    with pytest.raises(ConfigurationError, match="polled"):
        adapter.attendance_now(None)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="posts no attendance"):
        adapter.attendance_from_callback(b"{}", "application/json")
