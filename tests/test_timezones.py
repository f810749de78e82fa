"""Time zones: conversions across the 2021 and 2022 clock changes, timetables, zone names.

Expected values come from the tz database in the test (wall times and utcoffset
comparisons), never from offsets written down here.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from s3events.loading import parse_series_data
from s3events.models import Series
from s3events.timezones import (
    ZoneNameError,
    check_zone_name,
    classify_local_time,
    country_zones,
    localize_wall_time,
    main_zone,
    suggest_zones,
    timetable,
    to_utc,
    to_zone,
)
from tests.fixtures.series import minimal_series_data

BRUSSELS = ZoneInfo("Europe/Brussels")
LATAM = [
    "America/Mexico_City",
    "America/Santiago",
    "America/Lima",
    "America/Bogota",
    "America/Argentina/Buenos_Aires",
    "America/Sao_Paulo",
]
ZONES = ["Europe/Brussels", *LATAM]
ROOT = Path(__file__).resolve().parents[1]


def weekly_series(first: date, weeks: int, zone: str = "Europe/Brussels") -> Series:
    """A series with a 17:00–19:30 session (wall time in ``zone``) every week."""
    sessions = []
    for week in range(weeks):
        day = first + timedelta(weeks=week)
        sessions.append({"id": f"w{week}", "title": f"Week {week}",
                         "start": f"{day}T17:00:00", "end": f"{day}T19:30:00"})
    series, _ = parse_series_data(minimal_series_data(timezone=zone, sessions=sessions))
    return series


def offset_changes(zone: ZoneInfo, first: date, last: date) -> list[date]:
    """Days on which the zone's UTC offset at noon differs from the day before."""
    changes = []
    day = first
    while day < last:
        following = day + timedelta(days=1)
        if (datetime.combine(day, datetime.min.time().replace(hour=12), zone).utcoffset()
                != datetime.combine(following, datetime.min.time().replace(hour=12),
                                    zone).utcoffset()):
            changes.append(following)
        day = following
    return changes


@pytest.fixture(scope="module")
def two_years() -> Series:
    """Weekly sessions from September 2021 to the end of 2022, 17:00 in Brussels."""
    return weekly_series(date(2021, 9, 2), 70)


@pytest.mark.parametrize("zone", ZONES)
def test_each_session_is_the_brussels_wall_time_in_every_zone(two_years: Series, zone: str) -> None:
    for row in timetable(two_years, [zone]):
        wall = datetime.combine(row.start_utc.astimezone(BRUSSELS).date(),
                                datetime.min.time().replace(hour=17))
        expected = wall.replace(tzinfo=BRUSSELS).astimezone(ZoneInfo(zone))
        start, end = row.local[zone]
        assert start == expected
        assert (start.date(), start.hour, start.minute) == (
            expected.date(), expected.hour, expected.minute)
        assert start.utcoffset() == ZoneInfo(zone).utcoffset(expected.replace(tzinfo=None))
        assert end - start == timedelta(hours=2, minutes=30)
        assert row.start_utc.astimezone(BRUSSELS).hour == 17


@pytest.mark.parametrize("zone", LATAM)
def test_local_hour_changes_exactly_when_either_zone_changes_its_clocks(
    two_years: Series, zone: str
) -> None:
    tz = ZoneInfo(zone)
    first, last = date(2021, 9, 1), date(2023, 1, 1)
    changes = sorted({*offset_changes(BRUSSELS, first, last), *offset_changes(tz, first, last)})
    rows = timetable(two_years, [zone])
    for before, after in itertools.pairwise(rows):
        hour_before = before.local[zone][0].hour
        hour_after = after.local[zone][0].hour
        crossed = [d for d in changes
                   if before.start_utc.date() < d <= after.start_utc.date()]
        offsets_differ = (
            (tz.utcoffset(before.local[zone][0].replace(tzinfo=None))
             - BRUSSELS.utcoffset(before.start_utc.astimezone(BRUSSELS).replace(tzinfo=None)))
            != (tz.utcoffset(after.local[zone][0].replace(tzinfo=None))
                - BRUSSELS.utcoffset(after.start_utc.astimezone(BRUSSELS).replace(tzinfo=None)))
        )
        assert (hour_before != hour_after) == offsets_differ
        if hour_before != hour_after:
            assert crossed, f"{zone}: hour changed without a clock change"


def test_the_2021_series_day_1_and_days_2_to_5_in_lima(reference_series: Series) -> None:
    rows = timetable(reference_series, ["America/Lima", "Asia/Tokyo"])
    lima = [row.local["America/Lima"][0] for row in rows]
    assert [(t.date().isoformat(), t.strftime("%H:%M")) for t in lima] == [
        ("2021-10-28", "10:00"), ("2021-11-04", "11:00"), ("2021-11-09", "11:00"),
        ("2021-11-16", "11:00"), ("2021-11-23", "11:00"),
    ]
    tokyo = rows[0].local["Asia/Tokyo"][0]
    assert (tokyo.date(), tokyo.strftime("%H:%M")) == (date(2021, 10, 29), "00:00")


def test_europe_and_latin_america_change_clocks_on_different_dates_in_2021() -> None:
    first, last = date(2021, 8, 1), date(2021, 12, 31)
    brussels = offset_changes(BRUSSELS, first, last)
    santiago = offset_changes(ZoneInfo("America/Santiago"), first, last)
    mexico = offset_changes(ZoneInfo("America/Mexico_City"), first, last)
    assert brussels == [date(2021, 10, 31)]
    assert santiago and santiago[0] < date(2021, 10, 1)  # Chile's spring, in September
    assert mexico == brussels  # both ended summer time on the last Sunday of October
    for zone in ("America/Lima", "America/Bogota", "America/Argentina/Buenos_Aires",
                 "America/Sao_Paulo"):
        assert offset_changes(ZoneInfo(zone), first, last) == []


def test_mexico_city_stopped_summer_time_after_october_2022() -> None:
    mexico = ZoneInfo("America/Mexico_City")
    winter, summer = datetime(2022, 1, 15, 12), datetime(2022, 7, 15, 12)
    assert mexico.utcoffset(summer) != mexico.utcoffset(winter)
    winter, summer = datetime(2023, 1, 15, 12), datetime(2023, 7, 15, 12)
    assert mexico.utcoffset(summer) == mexico.utcoffset(winter)
    # So a 17:00 Brussels session in June is an hour earlier in Mexico City in 2023 than 2022.
    rows = timetable(weekly_series(date(2022, 6, 16), 1), ["America/Mexico_City"])
    rows += timetable(weekly_series(date(2023, 6, 15), 1), ["America/Mexico_City"])
    hours = [row.local["America/Mexico_City"][0].hour for row in rows]
    assert hours[0] - hours[1] == 1


def test_a_series_anchored_in_mexico_city_keeps_its_wall_time_across_2022() -> None:
    series = weekly_series(date(2022, 10, 20), 3, zone="America/Mexico_City")
    for row in timetable(series, ["America/Mexico_City", "Europe/Brussels"]):
        assert row.local["America/Mexico_City"][0].strftime("%H:%M") == "17:00"
    offsets = {row.start_utc.astimezone(ZoneInfo("America/Mexico_City")).utcoffset()
               for row in timetable(series, [])}
    assert len(offsets) == 2  # summer time ended on 30 October 2022


def test_timetable_gives_every_zone_at_once_in_session_order(reference_series: Series) -> None:
    rows = timetable(reference_series, ZONES, lang="es")
    assert [row.session for row in rows] == [s.id for s in reference_series.sessions]
    assert rows[3].title == "La gobernanza de la Especialización Inteligente"
    for row, session in zip(rows, reference_series.sessions, strict=True):
        assert list(row.local) == ZONES
        for start, end in row.local.values():
            assert to_utc(start) == session.start
            assert to_utc(end) == session.ends_at


def test_timetable_row_json_has_utc_z_and_local_iso_with_offset(reference_series: Series) -> None:
    row = timetable(reference_series, ["America/Santiago"])[0].to_json()
    assert row["start_utc"] == to_utc(reference_series.sessions[0].start).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    local = row["local"]
    assert isinstance(local, dict)
    start = datetime.fromisoformat(local["America/Santiago"]["start"])
    assert start.utcoffset() == ZoneInfo("America/Santiago").utcoffset(start.replace(tzinfo=None))
    assert start == reference_series.sessions[0].start


def test_to_zone_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        to_zone(datetime(2021, 10, 28, 15), "America/Lima")
    moment = datetime(2021, 10, 28, 15, tzinfo=timezone.utc)
    assert to_zone(moment, "America/Lima") == moment


@pytest.mark.parametrize(
    ("zone", "wall", "kind"),
    [
        ("Europe/Brussels", datetime(2021, 3, 28, 2, 30), "gap"),
        ("Europe/Brussels", datetime(2021, 10, 31, 2, 30), "ambiguous"),
        ("Europe/Brussels", datetime(2021, 10, 31, 3, 30), "ok"),
        ("America/Santiago", datetime(2021, 9, 5, 0, 30), "gap"),
        ("America/Santiago", datetime(2021, 4, 3, 23, 30), "ambiguous"),
        ("America/Mexico_City", datetime(2022, 10, 30, 1, 30), "ambiguous"),
        ("America/Mexico_City", datetime(2023, 4, 2, 2, 30), "ok"),  # no more summer time
        ("America/Lima", datetime(2021, 10, 31, 2, 30), "ok"),
    ],
)
def test_classify_local_time_finds_gaps_and_overlaps(zone: str, wall: datetime, kind: str) -> None:
    assert classify_local_time(wall, ZoneInfo(zone)) == kind


def test_localize_wall_time_refuses_a_gap() -> None:
    with pytest.raises(ValueError, match="does not exist"):
        localize_wall_time(datetime(2021, 3, 28, 2, 30), BRUSSELS)
    assert localize_wall_time(datetime(2021, 3, 28, 3, 30), BRUSSELS).tzinfo is BRUSSELS


@pytest.mark.parametrize(
    ("name", "first"),
    [("Mexico City", "America/Mexico_City"), ("america/lima", "America/Lima"),
     ("Sao Paulo", "America/Sao_Paulo"), ("Buenos_Aires", "America/Argentina/Buenos_Aires"),
     ("Europe/Bruxelles", "Europe/Brussels")],
)
def test_suggest_zones_puts_the_intended_zone_first(name: str, first: str) -> None:
    assert suggest_zones(name)[0] == first


@pytest.mark.parametrize("name", ["CET", "EST", "CST", "cst", "PST8PDT", "EET"])
def test_abbreviations_are_refused_with_location_based_suggestions(name: str) -> None:
    with pytest.raises(ZoneNameError) as caught:
        check_zone_name(name)
    assert "abbreviation" in str(caught.value)
    assert caught.value.suggestions
    assert all("/" in s for s in caught.value.suggestions)


def test_utc_and_location_names_are_accepted() -> None:
    assert check_zone_name("UTC") == "UTC"
    assert check_zone_name("America/Argentina/Buenos_Aires") == "America/Argentina/Buenos_Aires"


def test_main_zone_of_focus_countries_comes_from_the_zone_table() -> None:
    assert [main_zone(c) for c in ("MX", "CL", "PE", "CO", "AR", "BR")] == [
        "America/Mexico_City", "America/Santiago", "America/Lima", "America/Bogota",
        "America/Argentina/Buenos_Aires", "America/Sao_Paulo",
    ]
    assert "America/Noronha" in country_zones("br")
    assert main_zone("ZZ") is None


def test_no_fixed_utc_offset_is_written_for_a_named_zone() -> None:
    pattern = re.compile(r"\b(UTC|GMT)\s?[+\-−]\s?\d|[+\-−]\d\d:\d\d\b")
    files = [ROOT / "docs" / "time-zones.md",
             *(ROOT / "src" / "s3events" / name for name in
               ("timezones.py", "calendar.py", "agenda.py", "loading.py", "i18n.py"))]
    found: list[Any] = []
    for path in files:
        if path.exists():
            found += [(path.name, m.group(0)) for m in pattern.finditer(path.read_text())]
    assert found == []
