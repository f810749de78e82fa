"""An over-long value is refused with its row, never cut, and the message says so.

Each free-text field of a registration has a limit (its column's length); a longer value
refuses the whole row of an import (or the whole registration), and the message gives the
length, the limit and what was refused, in the file's language-neutral form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from s3events import load_series
from s3events.cli import main
from s3events.errors import InputError
from s3events.models import Series
from s3events.registrations import clean_fields, import_registrations, list_registrations
from s3events.registrations.fields import LIMITS
from s3events.store import open_store
from tests.fixtures.series import minimal_series_data

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def series(write_series: Callable[..., Path]) -> Series:
    data = minimal_series_data(timezone="America/Lima", languages=["es", "en"],
                               default_language="es")
    return load_series(write_series(data))


@pytest.mark.parametrize(("column", "value", "field"), [
    ("name", "Ñ" * (LIMITS["name"] + 1), "name"),
    ("organisation", "Universidad Nacional " * 40, "organisation"),
    ("city", "San Juan de Miraflores " * 20, "timezone"),  # the city gives the zone
    ("sessions", "s1;" * 2000, "sessions"),
])
def test_an_over_long_value_refuses_its_row_and_says_so(
        series: Series, tmp_path: Path, column: str, value: str, field: str) -> None:
    path = tmp_path / "inscripciones.csv"
    path.write_text(f"name,email,country,{column}\n"
                    "Ana Quispe,ana@example.pe,PE,\n"
                    f'Largo,largo@example.pe,PE,"{value}"\n', encoding="utf-8")
    if column == "name":
        path.write_text("name,email,country\nAna Quispe,ana@example.pe,PE\n"
                        f"{value},largo@example.pe,PE\n", encoding="utf-8")
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, path, now=NOW)
        assert [p.line for p in report.errors] == [3]
        problem = report.errors[0]
        assert problem.path == field
        limit = LIMITS.get(column, 4000)
        length = len(" ".join(value.split()))
        assert f"is {length} characters long; the limit is {limit}" in problem.message
        assert "the row was refused" in problem.message
        assert "kept" not in problem.message
        assert [r.email for r in list_registrations(store, series.id)] == ["ana@example.pe"]


def test_the_cli_reports_the_refused_row_with_file_and_line(
        capsys: pytest.CaptureFixture[str], write_series: Callable[..., Path],
        tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,email\nZoë,zoe@example.org\n" + "N" * 300 + ",n@example.org\n",
                    encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["registrations", "import", str(write_series(minimal_series_data())), str(path),
              "--state", str(tmp_path / "state.db"), "--now", "2021-10-01T12:00Z"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and "Traceback" not in err
    assert (f"{path}:3: name: is 300 characters long; the limit is {LIMITS['name']} and a "
            "longer value is not cut, so the row was refused") in err


def test_a_registration_says_the_registration_was_refused(series: Series) -> None:
    _, problems = clean_fields(series, {"name": "Ana", "email": "ana@example.pe",
                                        "organisation": "x" * 2000, "country": "PE"})
    assert problems == [("organisation", (
        f"is 2000 characters long; the limit is {LIMITS['organisation']} and a longer value "
        "is not cut, so the registration was refused: shorten it"))]
    assert "row" not in problems[0][1]


def test_register_refuses_an_over_long_name_with_the_same_words(series: Series,
                                                              tmp_path: Path) -> None:
    from s3events.registrations import register

    with open_store(tmp_path / "state.db") as store, pytest.raises(InputError) as caught:
        register(store, series, {"name": "A" * 300, "email": "a@example.pe", "consent": "yes"},
                 now=NOW)
    assert "the registration was refused" in str(caught.value)
