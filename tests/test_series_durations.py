"""Durations in a series file: an ISO 8601 duration is asked for, and absurd ones refused.

``dispatch.followup.after``, ``dispatch.retry_backoff`` and a session's ``duration`` are
durations: a value that is not one is reported as such (never as "not a time of day"), and
one too long for its purpose is refused with the bound and an example of what to write.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from s3events.errors import SeriesError
from s3events.loading import load_series
from s3events.timebounds import MAX_FOLLOWUP_DELAY, MAX_RETRY_BACKOFF, MAX_SESSION_LENGTH
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import run
from tests.test_series_hostile import refused

Writer = Callable[..., Path]

ISO = "not an ISO 8601 duration such as PT2H"


def with_dispatch(**dispatch: Any) -> dict[str, Any]:
    return minimal_series_data(dispatch=dispatch)


def only_problem(path: Path) -> Any:
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    [problem] = caught.value.problems
    return problem


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, 1) if needle in line)


@pytest.mark.parametrize(("value", "says"), [
    ("2 hours", ISO),
    ("two days", ISO),
    ("P99999999Y", ISO),
    ("PT99999999999H", ISO),
    ("P2Y", f"must be at most {MAX_FOLLOWUP_DELAY.days} days (P365D)"),
    ("P999999999D", f"must be at most {MAX_FOLLOWUP_DELAY.days} days"),
    (10**12, f"must be at most {MAX_FOLLOWUP_DELAY.days} days"),
    ("-PT1H", "must not be negative, such as PT2H"),
])
def test_followup_after_must_be_a_sensible_duration(write_series: Writer, value: Any,
                                                    says: str) -> None:
    path = write_series(with_dispatch(followup={"after": value}))
    problem = only_problem(path)
    assert problem.path == "dispatch.followup.after"
    assert problem.line == line_of(path, "after:")
    assert says in problem.message
    assert "time of day" not in problem.message
    if says != ISO and "negative" not in says:
        assert "such as PT2H" in problem.message


@pytest.mark.parametrize(("value", "expected"), [
    ("PT2H", timedelta(hours=2)), ("P1D", timedelta(days=1)), (0, timedelta(0)),
    ("P1Y", MAX_FOLLOWUP_DELAY), (3600, timedelta(hours=1))])
def test_followup_after_within_bounds_loads(write_series: Writer, value: Any,
                                            expected: timedelta) -> None:
    series = load_series(write_series(with_dispatch(followup={"after": value})))
    assert series.dispatch.followup is not None
    assert series.dispatch.followup.after == expected


def test_the_cli_says_a_duration_is_wanted_with_file_and_line(write_series: Writer) -> None:
    path = write_series(with_dispatch(followup={"after": "2 hours"}))
    out = refused(run("validate", str(path)), path, line_of(path, "after:"))
    assert f"dispatch.followup.after: {ISO}" in out


@pytest.mark.parametrize(("value", "says"), [
    ("a minute", ISO), ("P2D", f"at most {MAX_RETRY_BACKOFF.days} day (P1D)"),
    ("P999999999D", "at most 1 day"), ("-PT1M", "must not be negative")])
def test_retry_backoff_is_bounded(write_series: Writer, value: str, says: str) -> None:
    problem = only_problem(write_series(with_dispatch(retry_backoff=value)))
    assert problem.path == "dispatch.retry_backoff"
    assert says in problem.message


@pytest.mark.parametrize(("value", "says"), [
    ("2 hours", ISO), ("P8D", f"at most {MAX_SESSION_LENGTH.days} days (P7D)"),
    ("P999999999D", "at most 7 days"), ("-P999999999D", "'duration' must be positive"),
    ("PT0S", "'duration' must be positive")])
def test_a_session_duration_is_bounded(write_series: Writer, value: str, says: str) -> None:
    data = minimal_series_data()
    del data["sessions"][1]["end"]
    data["sessions"][1]["duration"] = value
    path = write_series(yaml.safe_dump(data, sort_keys=False))
    problem = only_problem(path)
    assert problem.path == "sessions.1.duration"
    assert problem.line == line_of(path, "duration:")
    assert says in problem.message


def test_a_session_of_a_week_given_as_a_duration_loads(write_series: Writer) -> None:
    data = minimal_series_data()
    del data["sessions"][1]["end"]
    data["sessions"][1]["duration"] = "P7D"
    session = load_series(write_series(data)).sessions[1]
    assert session.ends_at - session.start == MAX_SESSION_LENGTH


def test_an_unquoted_clock_time_is_never_read_as_seconds(tmp_path: Path) -> None:
    head = yaml.safe_dump(minimal_series_data(), sort_keys=False)
    path = tmp_path / "series.yaml"
    path.write_text(head + "dispatch:\n  followup:\n    after: 2:00\n", encoding="utf-8")
    problem = only_problem(path)  # YAML 1.1 would have read 120 seconds
    assert problem.path == "dispatch.followup.after" and ISO in problem.message
    path.write_text(head + "dispatch:\n  link:\n    local_time: 09:30\n"
                    "  followup:\n    after: PT2H\n", encoding="utf-8")
    series = load_series(path)
    assert series.dispatch.link.local_time.isoformat() == "09:30:00"
    assert series.dispatch.followup is not None
    assert series.dispatch.followup.after == timedelta(hours=2)
