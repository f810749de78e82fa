"""Property tests: whatever a registrations file holds, the import ends in a report or a clean
InputError, and whatever it stores is clean text."""

from __future__ import annotations

import csv
import io
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3events import load_series
from s3events.errors import InputError
from s3events.registrations import import_registrations, list_registrations
from s3events.store import open_store
from tests.fixtures.series import REFERENCE

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)
SERIES = load_series(REFERENCE)
HEADERS = ["name", "email", "timezone", "city", "country", "language", "sessions", "sector",
           "organisation", "whatsapp", "consent", "Timestamp", "Start time", "Completion time",
           "Registration state", "Email Address", "Full name", "Which sessions?"]
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

cells = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["ana@example.org", "ANA@example.org", "user@münchen.de", "Perú",
                     "America/Lima", "Ciudad de México", "Día 1; Day 9", "todas", "Completed",
                     "Withdrawn", "\x00", "x" * 400, "", "josé@example.org"]),
)


def _import(data: bytes, suffix: str = ".csv") -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"people{suffix}"
        path.write_bytes(data)
        with open_store(Path(folder) / "state.db") as store:
            try:
                report = import_registrations(store, SERIES, path, now=NOW)
            except InputError as exc:
                assert str(exc)
                return
            people = list_registrations(store, SERIES.id)
    assert report.rows >= report.added + report.rejected - report.updated
    for person in people:
        for text in (person.name, person.email, person.organisation or ""):
            assert not CONTROL.search(text) and len(text) <= 256
        assert person.email == person.email.strip() and "@" in person.email


@SETTINGS
@given(st.binary(max_size=3000))
def test_any_bytes_end_in_a_report_or_a_clean_error(data: bytes) -> None:
    _import(data)


@SETTINGS
@given(st.binary(max_size=1500))
def test_any_bytes_after_a_zip_signature_end_in_a_clean_error(data: bytes) -> None:
    _import(b"PK\x03\x04" + data, ".xlsx")


@SETTINGS
@given(header=st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8),
       rows=st.lists(st.lists(cells, max_size=9), max_size=12),
       delimiter=st.sampled_from([",", ";", "\t"]),
       newline=st.sampled_from(["\n", "\r\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_any_table_ends_in_a_report_or_a_clean_error(header: list[str], rows: list[list[str]],
                                                     delimiter: str, newline: str,
                                                     encoding: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    _import(buffer.getvalue().encode(encoding, errors="replace"))


@pytest.mark.parametrize("size", [0, 1, 2])
def test_tiny_files(size: int) -> None:
    _import(b"n" * size)
