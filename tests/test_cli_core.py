"""The core commands through the real entry point: output, files and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from s3events.calendar import event_uid
from s3events.cli import main
from s3events.models import Series
from tests.fixtures.series import minimal_series_data


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    raw: bytes


def run(*args: str) -> Run:
    """Run ``s3events ARGS`` in-process through ``main`` (which maps errors to exit codes)."""
    runner = CliRunner()
    with runner.isolation() as (out, err, _):
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        raw = out.getvalue()
        return Run(code, raw.decode("utf-8"), err.getvalue().decode("utf-8"), raw)


@pytest.fixture
def series_file(reference_series_path: Path) -> str:
    return str(reference_series_path)


# -- validate -------------------------------------------------------------------------------


def test_validate_reports_ok_with_the_session_count(series_file: str) -> None:
    result = run("validate", series_file)
    assert result.code == 0
    assert result.stdout.startswith("ok: 5 sessions, 2021-10-28 to 2021-11-23 (Europe/Brussels)")
    assert result.stderr == ""


def test_validate_lists_every_problem_and_exits_2(write_series: Callable[..., Path]) -> None:
    data = minimal_series_data(timezone="CST")
    data["sessions"][1]["id"] = "s1"
    path = write_series(data)
    result = run("validate", str(path))
    assert result.code == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert f"error: {path}: 2 problem(s)" in result.stderr
    assert "timezone: 'CST' is an abbreviation" in result.stderr
    assert "sessions.1.id: duplicate session id 's1'" in result.stderr


def test_validate_prints_warnings_and_exits_0(write_series: Callable[..., Path]) -> None:
    path = write_series(minimal_series_data(window={"start": "2021-10-28", "end": "2021-10-30"}))
    result = run("validate", str(path))
    assert result.code == 0
    assert result.stdout.startswith("ok: 2 sessions")
    assert "warning: session 's2' on 2021-11-04 is outside the series window" in result.stderr


def test_validate_missing_file_exits_2(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "nope.yaml"))
    assert result.code == 2
    assert "file not found" in result.stderr


# -- times ----------------------------------------------------------------------------------


def test_times_json_is_exactly_a_list_of_sessions(series_file: str,
                                                  reference_series: Series) -> None:
    result = run("times", series_file, "--tz", "America/Lima", "--tz", "Asia/Tokyo", "--json")
    assert result.code == 0
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    assert [r["session"] for r in rows] == [s.id for s in reference_series.sessions]
    first = rows[0]
    assert set(first) == {"session", "title", "start_utc", "end_utc", "local"}
    assert first["title"] == "Introduction: what is S3? How is it adaptable to Latin America?"
    assert first["start_utc"] == reference_series.sessions[0].start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert first["end_utc"].endswith("Z")
    assert list(first["local"]) == ["America/Lima", "Asia/Tokyo"]
    assert first["local"]["America/Lima"]["start"].startswith("2021-10-28T10:00:00")
    assert first["local"]["Asia/Tokyo"]["start"].startswith("2021-10-29T00:00:00")
    assert rows[1]["local"]["America/Lima"]["start"].startswith("2021-11-04T11:00:00")
    for row, session in zip(rows, reference_series.sessions, strict=True):
        for local in row["local"].values():
            start = datetime.fromisoformat(local["start"])
            assert start.utcoffset() is not None
            assert start.astimezone(timezone.utc) == session.start


def test_times_table_shows_each_zone(series_file: str) -> None:
    result = run("times", series_file, "--tz", "Europe/Brussels", "--tz", "America/Lima")
    assert result.code == 0
    assert "America/" in result.stdout and "Lima" in result.stdout
    assert "day-5" in result.stdout
    assert "11:00" in result.stdout


def test_times_unknown_zone_exits_2_with_suggestions(series_file: str) -> None:
    result = run("times", series_file, "--tz", "Mexico City", "--json")
    assert result.code == 2
    assert result.stdout == ""
    assert "did you mean America/Mexico_City" in result.stderr
    assert "Traceback" not in result.stderr


def test_times_abbreviation_exits_2(series_file: str) -> None:
    result = run("times", series_file, "--tz", "EST")
    assert result.code == 2
    assert "'EST' is an abbreviation" in result.stderr


# -- calendar and agenda --------------------------------------------------------------------


def test_calendar_to_stdout_is_an_ics_feed(series_file: str) -> None:
    result = run("calendar", series_file, "--lang", "es")
    assert result.code == 0
    assert result.raw.startswith(b"BEGIN:VCALENDAR\r\n")
    cal = Calendar.from_ical(result.raw)
    summaries = [str(e["SUMMARY"]) for e in cal.walk("VEVENT")]
    assert summaries[3] == "Día 4: La gobernanza de la Especialización Inteligente"
    assert str(cal.walk("VEVENT")[0]["UID"]) == event_uid("s3-latam-2021", "day-1")


def test_calendar_writes_a_file_with_o(series_file: str, tmp_path: Path) -> None:
    target = tmp_path / "feed.ics"
    result = run("calendar", series_file, "-o", str(target))
    assert result.code == 0
    assert result.stdout == ""
    assert len(Calendar.from_ical(target.read_bytes()).walk("VEVENT")) == 5


def test_undeclared_language_exits_2(series_file: str) -> None:
    result = run("calendar", series_file, "--lang", "fr")
    assert result.code == 2
    assert "--lang 'fr' is not a language of this series; use one of en, es" in result.stderr


def test_agenda_in_spanish_markdown(series_file: str) -> None:
    result = run("agenda", series_file, "--lang", "es")
    assert result.code == 0
    assert "**jueves, 28 de octubre de 2021**, 17:00–19:30" in result.stdout


def test_agenda_html_to_a_file(series_file: str, tmp_path: Path) -> None:
    target = tmp_path / "agenda.html"
    result = run("agenda", series_file, "--format", "html", "-o", str(target))
    assert result.code == 0
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_agenda_unknown_format_exits_2(series_file: str) -> None:
    result = run("agenda", series_file, "--format", "pdf")
    assert result.code == 2
    assert "'pdf' is not one of 'md', 'html'" in result.stderr


# -- schema ---------------------------------------------------------------------------------


def test_schema_is_json_schema_with_descriptions_that_accepts_the_reference(
    reference_series_path: Path,
) -> None:
    import jsonschema
    import yaml

    result = run("schema")
    assert result.code == 0
    schema: dict[str, Any] = json.loads(result.stdout)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert schema["properties"]["timezone"]["description"].startswith("Reference IANA time zone")
    assert "sessions" in schema["required"]
    data = json.loads(json.dumps(yaml.safe_load(reference_series_path.read_text("utf-8")),
                                 default=lambda v: v.isoformat()))
    jsonschema.validate(data, schema)
    data["sessions"][0]["colour"] = "blue"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


def test_help_lists_the_core_commands() -> None:
    result = run("--help")
    assert result.code == 0
    for name in ("validate", "times", "calendar", "agenda", "schema"):
        assert name in result.stdout
