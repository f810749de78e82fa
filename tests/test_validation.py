"""Each validation rule of a series file, with one bad file per rule and the message checked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3events.errors import Problem, SeriesError
from s3events.loading import load_series_with_warnings
from tests.fixtures.series import minimal_series_data

Writer = Callable[..., Path]


def problems_of(write_series: Writer, data: dict[str, Any] | str) -> list[Problem]:
    """The problems a series file has; fails the test if it loads cleanly."""
    path = write_series(data)
    with pytest.raises(SeriesError) as caught:
        load_series_with_warnings(path)
    assert caught.value.file == str(path)
    return caught.value.problems


def line_of(path: Path, start: str) -> int:
    """The number of the first line of ``path`` that starts with ``start``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if line.startswith(start))


def one_problem(write_series: Writer, data: dict[str, Any] | str) -> Problem:
    problems = problems_of(write_series, data)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def session(id_: str, start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"id": id_, "title": id_, "start": start, "end": end, **more}


def test_minimal_series_loads_without_problems(write_series: Writer) -> None:
    series, warnings = load_series_with_warnings(write_series(minimal_series_data()))
    assert [s.id for s in series.sessions] == ["s1", "s2"]
    assert warnings == []


def test_unknown_zone_suggests_the_closest_iana_name(write_series: Writer) -> None:
    problem = one_problem(write_series, minimal_series_data(timezone="Mexico City"))
    assert problem.path == "timezone"
    assert problem.line == line_of(Path(str(problem.file)), "timezone:")
    assert "unknown time zone 'Mexico City'" in problem.message
    assert "did you mean America/Mexico_City" in problem.message


@pytest.mark.parametrize(
    ("abbreviation", "suggestion"),
    [("CET", "Europe/Brussels"), ("EST", "America/New_York"), ("CST", "America/Mexico_City")],
)
def test_zone_abbreviation_is_rejected_with_suggestions(
    write_series: Writer, abbreviation: str, suggestion: str
) -> None:
    problem = one_problem(write_series, minimal_series_data(timezone=abbreviation))
    assert problem.path == "timezone"
    assert f"'{abbreviation}' is an abbreviation" in problem.message
    assert suggestion in problem.message


def test_end_not_after_start_is_an_error(write_series: Writer) -> None:
    data = minimal_series_data(sessions=[
        session("s1", "2021-10-28T17:00:00", "2021-10-28T17:00:00"),
    ])
    problem = one_problem(write_series, data)
    assert problem.path == "sessions.0.end"
    assert problem.message == "'end' must be after 'start'"
    assert problem.line is not None


def test_overlapping_sessions_are_an_error(write_series: Writer) -> None:
    data = minimal_series_data(sessions=[
        session("s1", "2021-10-28T17:00:00", "2021-10-28T19:30:00"),
        session("s2", "2021-10-28T19:00:00", "2021-10-28T20:00:00"),
    ])
    problem = one_problem(write_series, data)
    assert problem.path == "sessions.1.start"
    assert "session 's2' starts before session 's1' (sessions.0) ends" in problem.message


def test_a_cancelled_session_may_overlap_another(write_series: Writer) -> None:
    data = minimal_series_data(sessions=[
        session("s1", "2021-10-28T17:00:00", "2021-10-28T19:30:00", status="cancelled"),
        session("s2", "2021-10-28T17:00:00", "2021-10-28T19:30:00"),
    ])
    series, _ = load_series_with_warnings(write_series(data))
    assert series.sessions[0].cancelled


def test_duplicate_session_ids_are_an_error(write_series: Writer) -> None:
    data = minimal_series_data(sessions=[
        session("s1", "2021-10-28T17:00:00", "2021-10-28T19:30:00"),
        session("s1", "2021-11-04T17:00:00", "2021-11-04T19:30:00"),
    ])
    problem = one_problem(write_series, data)
    assert problem.path == "sessions.1.id"
    assert "duplicate session id 's1' (also sessions.0)" in problem.message


def test_start_in_the_spring_forward_gap_is_an_error(write_series: Writer) -> None:
    # Europe/Brussels skipped from 02:00 to 03:00 on 28 March 2021.
    data = minimal_series_data(sessions=[
        session("s1", "2021-03-28T02:30:00", "2021-03-28T04:00:00"),
    ])
    problem = one_problem(write_series, data)
    assert problem.path == "sessions.0.start"
    assert "2021-03-28 02:30 does not exist in Europe/Brussels" in problem.message


def test_start_in_the_fall_back_overlap_is_an_error(write_series: Writer) -> None:
    # Europe/Brussels went through 02:00–03:00 twice on 31 October 2021.
    data = minimal_series_data(sessions=[
        session("s1", "2021-10-31T02:30:00", "2021-10-31T04:00:00"),
    ])
    problem = one_problem(write_series, data)
    assert problem.path == "sessions.0.start"
    assert "2021-10-31 02:30 happens twice in Europe/Brussels" in problem.message


def test_a_time_with_an_explicit_offset_in_the_overlap_is_accepted(write_series: Writer) -> None:
    data = minimal_series_data(sessions=[
        session("s1", "2021-10-31T02:30:00+01:00", "2021-10-31T04:00:00+01:00"),
    ])
    series, _ = load_series_with_warnings(write_series(data))
    assert series.sessions[0].start.isoformat() == "2021-10-31T01:30:00+00:00"


def test_session_outside_the_window_is_only_a_warning(write_series: Writer) -> None:
    data = minimal_series_data(window={"start": "2021-10-28", "end": "2021-10-31"})
    series, warnings = load_series_with_warnings(write_series(data))
    assert len(series.sessions) == 2
    assert [w.severity for w in warnings] == ["warning"]
    assert warnings[0].path == "sessions.1.start"
    assert "outside the series window 2021-10-28 to 2021-10-31" in warnings[0].message
    assert "warning:" in str(warnings[0])


def test_text_in_an_undeclared_language_is_an_error(write_series: Writer) -> None:
    data = minimal_series_data(title={"en": "Demo", "fr": "Démo"})
    problem = one_problem(write_series, data)
    assert problem.path == "title"
    assert problem.line == line_of(Path(str(problem.file)), "title:")
    assert "text in language 'fr'" in problem.message
    assert "add 'fr' to languages" in problem.message


def test_default_language_must_be_declared(write_series: Writer) -> None:
    problem = one_problem(write_series, minimal_series_data(default_language="pt"))
    assert problem.path == "default_language"
    assert "'pt' is not in languages" in problem.message


def test_organiser_email_error_says_not_an_email_address(write_series: Writer) -> None:
    data = minimal_series_data(organiser={"name": "Demo", "email": "organiser.example.org"})
    problem = one_problem(write_series, data)
    assert problem.path == "organiser.email"
    assert "'organiser.example.org' is not an email address" in problem.message
    assert "pattern" not in problem.message


def test_missing_field_and_unknown_field_are_named(write_series: Writer) -> None:
    data = minimal_series_data(titel="typo")
    del data["title"]
    problems = {p.path: p.message for p in problems_of(write_series, data)}
    assert problems["title"] == "this field is required"
    assert problems["titel"].startswith("unknown field")


def test_bad_language_key_in_a_text_names_the_key(write_series: Writer) -> None:
    data = minimal_series_data(title={"en": "Demo", "Spanish": "Demo"})
    problem = problems_of(write_series, data)[0]
    assert problem.path == "title"
    assert "'Spanish' is not a language code" in problem.message


def test_bad_datetime_says_what_a_good_one_looks_like(write_series: Writer) -> None:
    data = minimal_series_data(sessions=[
        session("s1", "2021-13-28T17:00:00", "2021-10-28T19:30:00"),
    ])
    problem = one_problem(write_series, data)
    assert problem.path == "sessions.0.start"
    assert "not a date and time such as 2021-10-28T17:00:00" in problem.message


def test_every_kind_of_problem_is_reported_in_one_run(write_series: Writer) -> None:
    data = minimal_series_data(
        organiser={"name": "Demo", "email": "nobody"},
        title={"en": "Demo", "fr": "Démo"},
        sessions=[
            session("s1", "2021-10-28T17:00:00", "2021-10-28T19:30:00"),
            session("s1", "2021-10-28T18:00:00", "2021-10-28T18:30:00"),
            session("s3", "2021-03-28T02:30:00", "2021-03-28T04:00:00"),
            session("s4", "2021-10-31T02:30:00", "2021-10-31T01:00:00"),
            session("s5", "2021-11-05T17:00:00", "soon"),
        ],
    )
    problems = problems_of(write_series, data)
    text = "\n".join(str(p) for p in problems)
    assert "not an email address" in text
    assert "duplicate session id 's1'" in text
    assert "starts before session 's1'" in text
    assert "does not exist in Europe/Brussels" in text
    assert "happens twice in Europe/Brussels" in text
    assert "sessions.3.end: 'end' must be after 'start'" in text
    assert "sessions.4.end: not a date and time" in text
    assert "text in language 'fr'" in text
    assert all(p.line is not None for p in problems)
    assert [p.line for p in problems] == sorted(p.line or 0 for p in problems)


def test_problems_of_a_session_that_does_not_parse_keep_its_position(
    write_series: Writer,
) -> None:
    data = minimal_series_data(sessions=[
        session("s1", "2021-10-28T17:00:00", "2021-10-28T19:30:00", topics=[3]),
        session("s2", "2021-11-04T17:00:00", "2021-11-04T19:30:00"),
        session("s2", "2021-11-09T17:00:00", "2021-11-09T19:30:00"),
    ])
    paths = [p.path for p in problems_of(write_series, data)]
    assert paths == ["sessions.0.topics.0", "sessions.2.id"]


def test_unreadable_yaml_reports_its_line(write_series: Writer) -> None:
    problem = one_problem(write_series, "id: demo\ntitle: [unclosed\nsessions: []\n")
    assert problem.message.startswith("not valid YAML")
    assert problem.line == 3


def test_top_level_must_be_a_mapping(write_series: Writer) -> None:
    problem = one_problem(write_series, "- just\n- a list\n")
    assert "must hold a mapping" in problem.message


def test_missing_file_is_a_series_error(tmp_path: Path) -> None:
    with pytest.raises(SeriesError, match="file not found"):
        load_series_with_warnings(tmp_path / "absent.yaml")


def test_other_pydantic_errors_read_as_must_be(write_series: Writer) -> None:
    data = minimal_series_data(registration={"capacity": 0})
    data["sessions"][0]["status"] = "postponed"
    problems = {p.path: p.message for p in problems_of(write_series, data)}
    assert problems["registration.capacity"] == "must be greater than or equal to 1"
    assert problems["sessions.0.status"] == "must be 'scheduled' or 'cancelled'"
