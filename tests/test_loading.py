"""Loading series files in YAML, JSON and TOML, with lines for every problem."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from s3events import load_series
from s3events.errors import SeriesError
from s3events.loading import load_series_with_warnings, toml_lines
from tests.fixtures.series import minimal_series_data

# -- converters used to write the other formats --------------------------------------------


def _toml_key(key: str) -> str:
    return key if key.replace("-", "").replace("_", "").isalnum() else json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    raise TypeError(value)


def _is_table_list(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def to_toml(data: dict[str, Any], path: tuple[str, ...] = ()) -> str:
    """A TOML document for ``data``: tables and arrays of tables, like a person writes it."""
    out = [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in data.items()
           if not isinstance(v, dict) and not _is_table_list(v)]
    for key, value in data.items():
        name = ".".join(_toml_key(p) for p in (*path, key))
        if isinstance(value, dict):
            out += ["", f"[{name}]", to_toml(value, (*path, key))]
        elif _is_table_list(value):
            for item in value:
                out += ["", f"[[{name}]]", to_toml(item, (*path, key))]
    return "\n".join(out)


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=lambda v: v.isoformat())


@pytest.fixture
def reference_data(reference_series_path: Path) -> dict[str, Any]:
    data = yaml.safe_load(reference_series_path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


# -- the reference series in every format -----------------------------------------------------


def test_reference_series_loads_with_five_sessions(reference_series_path: Path) -> None:
    series, warnings = load_series_with_warnings(reference_series_path)
    assert [s.id for s in series.sessions] == ["day-1", "day-2", "day-3", "day-4", "day-5"]
    assert warnings == []
    assert series.source == reference_series_path.resolve()


@pytest.mark.parametrize(("suffix", "convert"), [(".json", to_json), (".toml", to_toml)])
def test_reference_series_as_json_and_toml_loads_the_same(
    tmp_path: Path, reference_series_path: Path, reference_data: dict[str, Any],
    suffix: str, convert: Any,
) -> None:
    other = tmp_path / f"series{suffix}"
    other.write_text(convert(reference_data), encoding="utf-8")
    assert load_series(other).model_dump() == load_series(reference_series_path).model_dump()


# -- line numbers in each format --------------------------------------------------------------


def test_yaml_problem_has_the_line_of_the_field(write_series: Any) -> None:
    data = minimal_series_data()
    data["sessions"][1]["end"] = "2021-11-04T16:00:00"
    path = write_series(data)
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    (problem,) = caught.value.problems
    lines = path.read_text(encoding="utf-8").splitlines()
    assert problem.line is not None
    assert lines[problem.line - 1].strip() == "end: '2021-11-04T16:00:00'"


def test_json_problem_has_the_line_of_the_field(tmp_path: Path) -> None:
    data = minimal_series_data(organiser={"name": "Demo", "email": "nobody"})
    path = tmp_path / "series.json"
    path.write_text(to_json(data), encoding="utf-8")
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    (problem,) = caught.value.problems
    assert problem.path == "organiser.email"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert problem.line is not None
    assert lines[problem.line - 1].strip() == '"email": "nobody"'


TOML_SERIES = '''\
id = "demo"
title = {en = "Demo", es = "Prueba"}
languages = ["en", "es"]
timezone = "Europe/Brussels"
description = """
A long text.
id = "not a key"
"""

[organiser]
name = "Demo Centre"
email = "organiser@example.org"

[[sessions]]
id = "s1"
title = "First"
start = 2021-10-28T17:00:00
end = 2021-10-28T19:30:00

[[sessions]]
id = "s2"
title = "Second"
start = 2021-11-04T17:00:00
end = 2021-11-04T16:00:00
'''


def test_toml_problem_has_the_line_of_the_field_in_the_right_table(tmp_path: Path) -> None:
    path = tmp_path / "series.toml"
    path.write_text(TOML_SERIES, encoding="utf-8")
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    (problem,) = caught.value.problems
    assert problem.path == "sessions.1.end"
    assert problem.line == 24


def test_toml_lines_follow_arrays_of_tables_and_skip_multiline_strings() -> None:
    lines = toml_lines(TOML_SERIES)
    assert lines[("id",)] == 1
    assert lines[("description",)] == 5
    assert lines[("organiser", "email")] == 12
    assert lines[("sessions", 0)] == 14
    assert lines[("sessions", 1, "id")] == 21


def test_unreadable_json_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "series.json"
    path.write_text('{\n  "id": "demo",\n  "title": \n}\n', encoding="utf-8")
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    (problem,) = caught.value.problems
    assert problem.message.startswith("not valid JSON")
    assert problem.line == 4


def test_unreadable_toml_reports_line(tmp_path: Path) -> None:
    path = tmp_path / "series.toml"
    path.write_text('id = "demo"\ntitle = \n', encoding="utf-8")
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    (problem,) = caught.value.problems
    assert problem.message.startswith("not valid TOML")
    assert problem.line == 2


def test_load_series_logs_warnings(write_series: Any, caplog: pytest.LogCaptureFixture) -> None:
    path = write_series(minimal_series_data(window={"start": "2021-10-28", "end": "2021-10-30"}))
    with caplog.at_level(logging.WARNING, logger="s3events.loading"):
        series = load_series(path)
    assert len(series.sessions) == 2
    assert "outside the series window" in caplog.text


def test_series_error_message_lists_file_line_and_field(write_series: Any) -> None:
    path = write_series(minimal_series_data(timezone="Europe/Bruxelles"))
    with pytest.raises(SeriesError) as caught:
        load_series(path)
    message = str(caught.value)
    assert message.splitlines()[0] == f"{path}: 1 problem(s)"
    assert f"{path}:" in message.splitlines()[1]
    assert "timezone: unknown time zone 'Europe/Bruxelles'; did you mean Europe/Brussels" in message
