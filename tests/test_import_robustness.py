"""Hostile and damaged files: every bad row reported by line, good rows kept, exit 2, no
traceback — on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest

from s3events import load_series
from s3events.cli import main
from s3events.errors import InputError
from s3events.models import Series
from s3events.registrations import (
    clean_fields,
    import_registrations,
    list_registrations,
    register,
)
from s3events.store import open_store
from tests.fixtures.imports import workbooks
from tests.fixtures.series import minimal_series_data

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)
HEADER = "name,email,country\n"


@pytest.fixture
def series(write_series: Callable[..., Path]) -> Series:
    return load_series(write_series(minimal_series_data()))


def lines(report: object) -> list[tuple[int | None, str]]:
    return [(p.line, p.path) for p in report.problems]  # type: ignore[attr-defined]


def cli(capsys: pytest.CaptureFixture[str], series_path: Path, path: Path,
        state: Path) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(["registrations", "import", str(series_path), str(path), "--state", str(state),
              "--now", "2021-10-01T12:00Z"])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_nul_bytes_and_over_long_values_are_bad_rows_on_both_backends(
        state_url: str, series: Series, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        HEADER
        + "Ana,ana@example.org,PE\n"
        + "Nul\x00Name,nul@example.org,PE\n"                       # line 3
        + f"{'L' * 300},long@example.org,PE\n"                    # line 4
        + f"Org,org@example.org,PE,{'x' * 10}\n"                  # extra cell: ignored
        + f"Email,{'e' * 250}@example.org,PE\n"                   # line 6
        + "Bea,bea@example.org,PE\n", encoding="utf-8")
    with open_store(state_url) as store:
        report = import_registrations(store, series, path, now=NOW)
        assert lines(report) == [(3, "name"), (4, "name"), (6, "email")]
        assert "NUL" in report.problems[0].message
        assert "300 characters" in report.problems[1].message
        assert {r.email for r in list_registrations(store, series.id)} == {
            "ana@example.org", "org@example.org", "bea@example.org"}


def test_a_hostile_form_post_is_refused_before_the_store_on_both_backends(
        state_url: str, series: Series) -> None:
    with open_store(state_url) as store:
        for name, email in (("Ana\x00", "ana@example.org"), ("A" * 300, "a@example.org"),
                            ("Ana", "ana\x00@example.org"), ("Ana", "\x1b[31m@example.org")):
            with pytest.raises(InputError):
                register(store, series, {"name": name, "email": email}, now=NOW)
        register(store, series, {"name": "Ana", "email": "ana@example.org"}, now=NOW)
        assert len(list_registrations(store, series.id)) == 1


def test_control_characters_are_refused_and_never_echoed(series: Series) -> None:
    _, problems = clean_fields(series, {"name": "Ana \x1b[2J", "email": "a@example.org",
                                        "organisation": "Org\x07", "sector": "\x1b]8;;x"})
    reported = dict(problems)
    assert set(reported) == {"name", "organisation", "sector"}
    assert all("\x1b" not in m and "\x07" not in m for m in reported.values())


def test_cr_only_line_endings_from_old_mac_excel(series: Series, tmp_path: Path) -> None:
    path = tmp_path / "mac.csv"
    path.write_bytes("name,email\rJosé,jose@example.org\rBad,bad@\rBea,bea@example.org\r"
                     .encode("cp1252"))
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, path, now=NOW)
        assert (report.encoding, lines(report), report.added) == ("windows-1252",
                                                                  [(3, "email")], 2)
        names = {r.name for r in list_registrations(store, series.id)}
    assert names == {"José", "Bea"}


def test_binary_garbage_is_refused_as_a_whole_with_exit_two(
        capsys: pytest.CaptureFixture[str], write_series: Callable[..., Path],
        tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(os.urandom(64 * 1024))
    state = tmp_path / "state.db"
    code, _, err = cli(capsys, write_series(minimal_series_data()), path, state)
    assert code == 2 and "Traceback" not in err
    assert "not a CSV file or an Excel workbook" in err


def test_a_few_broken_bytes_in_a_utf8_file_fail_only_their_rows(series: Series,
                                                                tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(("name,email\n" + "".join(f"Jos\u00e9 {n},p{n}@example.org\n"
                                             for n in range(30))).encode()
                     + b"Broken \xff\xfe,broken@example.org\nZo\xc3\xab,zoe@example.org\n")
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, path, now=NOW)
        assert report.encoding == "utf-8"
        assert lines(report) == [(32, "name")]
        assert "not valid in the file's encoding" in report.problems[0].message
        assert report.added == 31  # "Zoë" kept, read as UTF-8


def test_a_stray_quote_or_a_huge_cell_fails_its_row_and_reading_goes_on(
        series: Series, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text(HEADER + "Ana,ana@example.org,PE\n"
                    + f'Huge,"{"x" * 200_000}",PE\n'
                    + "Bea,bea@example.org,PE\n", encoding="utf-8")
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, path, now=NOW)
        assert lines(report)[0] == (3, "")
        assert "cannot read this CSV row" in report.problems[0].message
        assert {r.email for r in list_registrations(store, series.id)} == {
            "ana@example.org", "bea@example.org"}


@pytest.mark.parametrize(("ref", "words"), [
    ("A1:XFD1048576", "16,384 columns"),
    ("A1:B9000000", "more than a workbook can hold"),
])
def test_a_workbook_declaring_a_huge_size_is_refused_before_reading(
        capsys: pytest.CaptureFixture[str], write_series: Callable[..., Path], tmp_path: Path,
        ref: str, words: str) -> None:
    path = workbooks.oversized(tmp_path / "huge.xlsx", ref)
    code, _, err = cli(capsys, write_series(minimal_series_data()), path,
                       tmp_path / "state.db")
    assert code == 2 and "Traceback" not in err
    assert words in err


def test_a_damaged_workbook_is_refused_with_exit_two(capsys: pytest.CaptureFixture[str],
                                                     write_series: Callable[..., Path],
                                                     tmp_path: Path) -> None:
    path = tmp_path / "damaged.xlsx"
    path.write_bytes(b"PK\x03\x04" + os.urandom(2000))
    code, _, err = cli(capsys, write_series(minimal_series_data()), path,
                       tmp_path / "state.db")
    assert code == 2 and "Traceback" not in err and "Excel workbook" in err


def test_a_workbook_with_rows_far_apart_and_cells_far_right(series: Series,
                                                            tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Name", "Email"])
    sheet.append(["Ana", "ana@example.org"])
    sheet.cell(row=60_000, column=1, value="Bea")
    sheet.cell(row=60_000, column=2, value="bea@example.org")
    sheet.cell(row=60_000, column=900, value="far right")
    path = tmp_path / "sparse.xlsx"
    book.save(path)
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, path, now=NOW)
    assert (report.added, report.problems) == (2, [])


def test_an_empty_file_has_no_columns(series: Series, tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with open_store(tmp_path / "state.db") as store, pytest.raises(
            InputError, match="no column for the name"):
        import_registrations(store, series, path, now=NOW)
