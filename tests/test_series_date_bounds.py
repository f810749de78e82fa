"""Dates near the ends of the calendar: a series file's dates must lie in 1900–2999.

Python's datetimes end at the years 1 and 9999, so a session on 9999-12-31 cannot be shown
in a zone east of UTC and one in the year 1 cannot be shown west of it. Such dates are
refused while the file is loaded (exit 2, file:line: field), so every command refuses them
the same way; dates at the edges of the range work in every command and every zone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from s3events.calendar import series_calendar, to_ics
from s3events.errors import SeriesError
from s3events.loading import load_series, parse_series_data
from s3events.timebounds import FIRST_YEAR, LAST_YEAR, MAX_SESSION_LENGTH
from s3events.timezones import timetable
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import run
from tests.test_series_hostile import refused

Writer = Callable[..., Path]

#: The zones furthest east and west of UTC (UTC+14 and UTC−11), and the series' own.
EXTREME_ZONES = ("Pacific/Kiritimati", "Pacific/Pago_Pago", "Pacific/Auckland")
RANGE = f"outside the years {FIRST_YEAR} to {LAST_YEAR}"


def series_text(start: str, end: str, *, window: tuple[str, str] | None = None,
                zone: str = "Pacific/Auckland") -> str:
    """A series with one ordinary session and one from ``start`` to ``end``, as YAML."""
    data = minimal_series_data(timezone=zone)
    data["sessions"][1].update(start=start, end=end)
    if window is not None:
        data["window"] = {"start": window[0], "end": window[1]}
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- refused: every command, with file, line and field ------------------------------------

OUTSIDE = [
    ("9999-12-31T21:00:00", "9999-12-31T23:30:00"),
    ("0001-01-01T01:00:00", "0001-01-01T03:00:00"),
    ("1899-12-31T22:00:00", "1899-12-31T23:30:00"),
    ("3000-01-01T09:00:00", "3000-01-01T10:00:00"),
    ("9999-12-31T21:00:00+14:00", "9999-12-31T23:30:00+14:00"),
    ("0001-01-01T00:00:00-11:00", "0001-01-01T02:00:00-11:00"),
]


@pytest.mark.parametrize(("start", "end"), OUTSIDE)
@pytest.mark.parametrize("command", [
    ["validate"], ["times", "--tz", "Pacific/Kiritimati"], ["agenda"], ["calendar"], ["site"]])
def test_sessions_outside_the_years_are_refused_by_every_command(
        write_series: Writer, tmp_path: Path, start: str, end: str, command: list[str]) -> None:
    text = series_text(start, end)
    path = write_series(text)
    output = tmp_path / "out"
    writes = command[0] in {"agenda", "calendar", "site"}
    out = refused(run(*command, str(path), *(["-o", str(output)] if writes else [])), path)
    for field, value in (("start", start), ("end", end)):
        line = line_of(text, f"{field}: '{value}'")
        assert f"{path}:{line}: sessions.1.{field}: " in out
    assert RANGE in out
    assert "Overflow" not in out
    assert not output.exists()


@pytest.mark.parametrize(("window", "field"), [
    (("2021-10-01", "9999-12-31"), "end"), (("0001-01-01", "2021-12-31"), "start")])
def test_a_window_outside_the_years_is_refused_with_its_field(
        write_series: Writer, window: tuple[str, str], field: str) -> None:
    text = series_text("2021-11-04T17:00:00", "2021-11-04T19:30:00", window=window)
    path = write_series(text)
    out = refused(run("validate", str(path)), path)
    assert f"window.{field}: " in out and RANGE in out


# -- accepted: the edges of the range work everywhere -----------------------------------

INSIDE = [
    ("2999-12-31T21:00:00", "2999-12-31T23:30:00", ("2999-12-01", "2999-12-31")),
    ("1900-01-01T00:30:00", "1900-01-01T03:00:00", ("1900-01-01", "1900-01-31")),
    ("2999-12-31T23:00:00-11:00", "2999-12-31T23:59:00-11:00", None),
    ("1900-01-01T00:00:00+14:00", "1900-01-01T01:00:00+14:00", None),
]


@pytest.mark.parametrize(("start", "end", "window"), INSIDE)
def test_sessions_at_the_edges_of_the_years_work_in_every_command(
        write_series: Writer, tmp_path: Path, start: str, end: str,
        window: tuple[str, str] | None) -> None:
    data = minimal_series_data(timezone="Pacific/Auckland")
    data["sessions"] = [{"id": "edge", "title": "Edge", "start": start, "end": end}]
    if window is not None:
        data["window"] = {"start": window[0], "end": window[1]}
    path = write_series(data)
    zones = [a for zone in EXTREME_ZONES for a in ("--tz", zone)]
    assert run("validate", str(path)).code == 0
    times = run("times", str(path), "--json", *zones)
    assert times.code == 0, times.stderr
    for command in ("agenda", "calendar", "site"):
        result = run(command, str(path), "-o", str(tmp_path / command))
        assert result.code == 0, (command, result.stderr)
        assert (tmp_path / command).exists()


# -- a property across every year: refused outside the range, working inside --------------

moments = st.builds(
    datetime, year=st.integers(min_value=1, max_value=9999), month=st.integers(1, 12),
    day=st.integers(1, 28), hour=st.integers(0, 21), minute=st.sampled_from([0, 30, 59]))
edge_years = st.sampled_from([1, 2, 1899, FIRST_YEAR, FIRST_YEAR + 1, LAST_YEAR - 1,
                              LAST_YEAR, LAST_YEAR + 1, 9998, 9999])


@settings(max_examples=80, deadline=None)
@given(moment=st.one_of(moments, st.builds(
    lambda m, y: m.replace(year=y), moments, edge_years)),
    zone=st.sampled_from((*EXTREME_ZONES, "Europe/Brussels", "America/Santiago")),
    offset=st.sampled_from([None, "+14:00", "-12:00", "Z"]))
def test_any_year_is_refused_or_works(moment: datetime, zone: str, offset: str | None) -> None:
    start = moment.isoformat() + (offset or "")
    end = (moment + timedelta(hours=2)).isoformat() + (offset or "")
    data: dict[str, Any] = minimal_series_data(timezone=zone)
    data["sessions"] = [{"id": "s", "title": "S", "start": start, "end": end}]
    inside = FIRST_YEAR <= moment.year <= LAST_YEAR and FIRST_YEAR <= (
        moment + timedelta(hours=2)).year <= LAST_YEAR
    try:
        series, _ = parse_series_data(data)
    except SeriesError as exc:
        messages = [(p.path, p.message) for p in exc.problems]
        assert not inside or all("DST" in m or "clocks" in m for _, m in messages), messages
        if not inside:
            assert any(RANGE in m for _, m in messages), messages
        return
    assert inside
    rows = timetable(series, EXTREME_ZONES)
    assert rows[0].end_utc - rows[0].start_utc == timedelta(hours=2)
    assert b"BEGIN:VEVENT" in to_ics(series_calendar(series, lang="en"))


def test_an_explicit_end_more_than_a_week_after_the_start_is_refused(
        write_series: Writer) -> None:
    text = series_text("2021-11-04T17:00:00", "2999-11-04T19:30:00")
    path = write_series(text)
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    [problem] = caught.value.problems
    assert problem.path == "sessions.1.end"
    assert problem.line == line_of(text, "end: '2999-11-04")
    assert f"more than {MAX_SESSION_LENGTH.days} days" in problem.message


def test_a_session_of_exactly_the_longest_length_loads(write_series: Writer) -> None:
    start = datetime(2021, 11, 4, 9, 0)
    text = series_text(start.isoformat(), (start + MAX_SESSION_LENGTH).isoformat())
    series = load_series(write_series(text))
    assert series.sessions[1].ends_at - series.sessions[1].start == MAX_SESSION_LENGTH
