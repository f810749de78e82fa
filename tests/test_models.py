"""The series model as a Python API: aware UTC times, localized texts, whole-series checks."""

from __future__ import annotations

import warnings
from datetime import datetime, time, timedelta, timezone

import pytest
from pydantic import ValidationError

from s3events import Series, Session, load_series, localize
from s3events.models import ReleaseRule, check_whole_series
from tests.fixtures.series import minimal_series_data


def build(**overrides: object) -> Series:
    return Series.model_validate(minimal_series_data(**overrides))


def test_public_api_exports_the_models_and_loader() -> None:
    assert Series.__name__ == "Series"
    assert Session.__name__ == "Session"
    assert callable(load_series)


def test_wall_times_become_aware_utc_instants_in_the_series_zone() -> None:
    series = build()
    first, second = series.sessions
    assert first.start == datetime(2021, 10, 28, 17, tzinfo=series.zone)
    assert first.start.tzinfo is timezone.utc
    assert second.start == datetime(2021, 11, 4, 17, tzinfo=series.zone)
    # Brussels left summer time between the two sessions: same wall time, other UTC hour.
    assert first.start.hour != second.start.hour


def test_duration_gives_the_end() -> None:
    series = build(sessions=[{"id": "s1", "title": "One", "start": "2021-10-28T17:00:00",
                              "duration": "PT2H30M"}])
    session = series.sessions[0]
    assert session.end == session.start + timedelta(hours=2, minutes=30)
    assert session.ends_at == session.end


@pytest.mark.parametrize(
    ("extra", "message"),
    [({}, "give either 'end' or 'duration'"),
     ({"end": "2021-10-28T19:00:00", "duration": "PT1H"}, "'end' and 'duration' disagree"),
     ({"duration": "-PT1H"}, "'duration' must be positive")],
)
def test_end_and_duration_rules(extra: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Session.model_validate({"id": "s1", "title": "One", "start": "2021-10-28T17:00:00",
                                **extra})


def test_localize_falls_back_from_region_to_default_to_first() -> None:
    text = {"en": "Day", "es": "Día"}
    assert localize(text, "es-MX", "en") == "Día"
    assert localize(text, "pt", "en") == "Day"
    assert localize({"es": "Día", "pt": "Dia"}, "fr", "en") == "Día"
    assert localize("Same", "es") == "Same"
    assert localize(None, "es") == ""


def test_series_text_uses_the_series_default_language() -> None:
    series = build(default_language="es")
    assert series.text(series.title) == "Serie de prueba"
    assert series.text(series.title, "en") == "Demo series"
    assert series.session("s2").id == "s2"
    with pytest.raises(KeyError):
        series.session("s9")


def test_models_are_frozen_and_hide_passcodes() -> None:
    series = build(sessions=[{"id": "s1", "title": "One", "start": "2021-10-28T17:00:00",
                              "end": "2021-10-28T18:00:00", "passcode": "hunter2"}])
    with pytest.raises(ValidationError):
        series.sessions[0].title = "Changed"  # type: ignore[misc]
    assert "hunter2" not in repr(series)


def test_validation_without_a_problem_list_raises_and_warns() -> None:
    data = minimal_series_data(window={"start": "2021-10-28", "end": "2021-10-30"})
    with pytest.warns(UserWarning, match="outside the series window"):
        Series.model_validate(data)
    data["sessions"][1]["id"] = "s1"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValidationError, match="duplicate session id 's1'"):
            Series.model_validate(data)


def test_whole_series_checks_keep_the_positions_they_are_given() -> None:
    series = build()
    later = series.sessions[1]
    duplicate = series.sessions[0].model_copy(update={"start": later.start, "end": later.end})
    sparse = series.model_copy(update={"sessions": [series.sessions[0], duplicate]})
    _, problems = check_whole_series(sparse, positions=[2, 7])
    assert [p.path for p in problems] == ["sessions.7.id"]
    assert "(also sessions.2)" in problems[0].message


def test_release_rule_reads_yaml_sexagesimal_minutes_as_a_time() -> None:
    assert ReleaseRule.model_validate({"local_time": 540}).local_time == time(9, 0)
    assert ReleaseRule.model_validate({"local_time": "17:30"}).local_time == time(17, 30)
