"""Property tests (Hypothesis) for importing registrations: any bytes, any CSV, no traceback.

Whatever file an organiser hands over, importing it ends in one of two ways: an
:class:`~s3events.errors.InputError` that says what is wrong with the file as a whole, or a
report of the rows kept and the rows refused. Never another exception.
"""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import s3events
from s3events.errors import InputError
from s3events.importing import read_table
from s3events.loading import parse_series_data
from s3events.store import open_store
from s3events.tables import RowError
from tests.fixtures.series import minimal_series_data

PROPERTY = settings(max_examples=100, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2021, 10, 20, 12, 0, tzinfo=timezone.utc)

#: Headers a form tool writes, known to s3events or not, in several languages.
HEADERS = ["Email", "Correo electrónico", "E-mail address", "Nombre", "Full name", "Name",
           "Idioma", "Language", "Country", "País", "Time zone", "Sessions", "Sesiones",
           "WhatsApp", "Telegram", "Consent", "I agree", "Organización", "Sector",
           "Timestamp", "Marca temporal", "Comments", "", "email"]
cells = st.one_of(
    st.text(max_size=30),
    st.emails(),
    st.sampled_from(["es", "pt-BR", "en", "klingon", "Chile", "MX", "America/Lima", "CET",
                     "s1", "s1; s2", "day-1", "yes", "Sí", "no", "+56 9 1234 5678",
                     "=cmd|' /C calc'!A0", "\u202eevil", "ana@@example.org"]))


@st.composite
def csv_files(draw: st.DrawFn) -> bytes:
    """A CSV as a form tool might export it: any delimiter, quoting, encoding and rows."""
    header = draw(st.lists(st.sampled_from(HEADERS), max_size=6))
    if draw(st.integers(0, 9)):  # mostly with the columns needed, so that rows get read
        header = [draw(st.sampled_from(["Email", "Correo electrónico", "E-mail"])),
                  draw(st.sampled_from(["Name", "Nombre completo", "Nome"])),
                  *(h for h in header if h.lower() not in ("email", "name", "nombre"))]
    width = len(header)
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = draw(st.lists(cells, min_size=0, max_size=width + 2))
        if row and draw(st.booleans()):
            row[0] = draw(st.emails())
        rows.append(row)
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting,
                        lineterminator=draw(st.sampled_from(["\r\n", "\n", "\r"])))
    writer.writerows([header, *rows])
    text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 4)) == 0:  # a file cut short, or a byte flipped on the way
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=3)) + data[cut + 1:]
    return data


#: Any file: random bytes, CSVs, things that look like a workbook or carry a byte-order mark.
files = st.one_of(
    st.binary(max_size=300),
    csv_files(),
    st.binary(max_size=200).map(lambda b: b"PK\x03\x04" + b),  # looks like XLSX, is not
    st.binary(max_size=200).map(lambda b: codecs.BOM_UTF16_LE + b),
    st.text(max_size=100).map(lambda t: t.encode("utf-16")),
    st.binary(max_size=200).map(lambda b: codecs.BOM_UTF8 + b),
)


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    """A series, a state and a folder for the files, shared by every example."""
    series, _ = parse_series_data(minimal_series_data())
    with tempfile.TemporaryDirectory(prefix="s3e-prop-") as folder:
        store = open_store(Path(folder) / "state.db")
        try:
            yield {"series": series, "store": store, "folder": Path(folder)}
        finally:
            store.close()


def _write(world: dict[str, Any], data: bytes) -> Path:
    path: Path = world["folder"] / "registrations.csv"  # workbooks are told by their content
    path.write_bytes(data)
    return path


@PROPERTY
@given(data=files)
def test_reading_any_file_gives_a_table_or_an_input_error(world: dict[str, Any],
                                                          data: bytes) -> None:
    path = _write(world, data)
    try:
        table = read_table(path)
    except InputError as exc:
        assert str(path) in str(exc), exc
        return
    rows = list(table.rows)
    # A row the reader could not read is a RowError, reported by line by the import.
    assert all(isinstance(cell, str) for _, row in rows if not isinstance(row, RowError)
               for cell in row)
    assert [line for line, _ in rows] == sorted(line for line, _ in rows)


@PROPERTY
@given(data=files)
def test_importing_any_file_gives_a_report_or_an_input_error(world: dict[str, Any],
                                                             data: bytes) -> None:
    path = _write(world, data)
    try:
        report = s3events.import_registrations(world["store"], world["series"], path, now=NOW)
    except InputError as exc:
        assert str(exc).strip() and "Traceback" not in str(exc)
        return
    assert report.rows >= report.added + report.updated + report.unchanged
    assert report.rejected == len({p.line for p in report.errors})
    assert all(p.line is None or p.line >= 1 for p in report.problems)
    assert report.summary()


# -- files that once ended in a traceback, and one that still does ----------------------------


@pytest.mark.parametrize("data", [codecs.BOM_UTF16_BE + b"\x00\x00\x00",
                                  codecs.BOM_UTF16_LE + "Email\n".encode("utf-16-le")[:-1],
                                  codecs.BOM_UTF16_LE + b"\x00\xd8a\x00"],
                         ids=["odd-length", "cut-short", "lone-surrogate"])
def test_a_broken_utf16_file_is_read_or_refused_without_a_traceback(
        tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "registrations.csv"
    path.write_bytes(data)
    try:
        table = read_table(path)
    except InputError:
        return
    assert all(isinstance(cell, str) for _, row in table.rows if not isinstance(row, RowError)
               for cell in row)


@pytest.mark.parametrize("name", ["registrations.csv", "export"])
def test_a_workbook_is_read_whatever_its_name(tmp_path: Path, name: str) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Correo electrónico", "Nombre"])
    book.active.append(["ana@example.org", "Ana Pérez"])
    book.save(tmp_path / name)
    table = read_table(tmp_path / name)
    assert list(table.rows) == [(2, ["ana@example.org", "Ana Pérez"])]


def test_a_csv_with_mac_line_endings_is_read(tmp_path: Path) -> None:
    path = tmp_path / "registrations.csv"
    path.write_bytes(b"Email,Nombre\rana@example.org,Ana\r")
    table = read_table(path)
    assert list(table.rows) == [(2, ["ana@example.org", "Ana"])]
