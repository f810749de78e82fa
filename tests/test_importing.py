"""Importing the CSV and XLSX files form tools export: encodings, separators, headers, rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from s3events import load_series
from s3events.errors import InputError
from s3events.importing import import_registrations
from s3events.models import Series
from s3events.registrations import cancel_registration, get_registration, list_registrations
from s3events.store import Store, ledger, open_store
from tests.fixtures.series import minimal_series_data

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)
ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "s3-latam-2021" / "registrations.csv"
HEADER = "name,email,language,timezone,country,organisation,sector,sessions\n"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "state.db") as opened:
        yield opened


@pytest.fixture
def make_series(write_series: Callable[..., Path]) -> Callable[..., Series]:
    def make(**registration: Any) -> Series:
        return load_series(write_series(minimal_series_data(registration=registration or {})))

    return make


@pytest.fixture
def series(make_series: Callable[..., Series]) -> Series:
    return make_series()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def write_file(content: str | bytes, name: str = "people.csv",
                   encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return write_file


def ledger_count(store: Store) -> int:
    with store.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger)).scalar_one())


def problems(report: Any) -> list[tuple[int | None, str, str]]:
    return [(p.line, p.path, p.severity) for p in report.problems]


# -- files ----------------------------------------------------------------------------------------


def test_the_example_file_imports_every_participant(store: Store, reference_series: Series) -> None:
    report = import_registrations(store, reference_series, EXAMPLE, now=NOW)
    assert report.problems == []
    assert (report.rows, report.added) == (30, 30)
    people = {r.email: r for r in list_registrations(store, reference_series.id)}
    assert len(people) == 30
    assert all(email.rsplit(".", 1)[0].endswith("@example") for email in people)
    rosa = people["rosa.quispe@example.org"]
    assert (rosa.timezone, rosa.timezone_source) == ("America/Lima", "country")
    tomas = people["tomas.sepulveda@example.net"]  # Chile has several zones
    assert (tomas.timezone, tomas.timezone_source) == ("America/Santiago", "country-guess")
    assert {r.language for r in people.values()} == {"es", "en"}
    assert {r.country for r in people.values()} >= {"MX", "CL", "PE", "CO", "AR", "BR", "ES",
                                                     "BE"}
    assert any(r.sessions is not None for r in people.values())
    assert any(r.channels.whatsapp for r in people.values())


def test_utf8_with_byte_order_mark(store: Store, series: Series,
                                   write: Callable[..., Path]) -> None:
    path = write("\ufeff" + HEADER + "José Peña,jose@example.org,es,America/Lima,PE,,,\n")
    report = import_registrations(store, series, path, now=NOW)
    assert report.encoding == "utf-8 with BOM" and report.added == 1
    assert get_registration(store, series.id, "jose@example.org").name == "José Peña"


def test_windows_1252_names_survive(store: Store, series: Series,
                                    write: Callable[..., Path]) -> None:
    path = write(HEADER + "José Peña,jose@example.org,es,America/Lima,Perú,Año Nuevo S.A.,,\n",
                 encoding="cp1252")
    report = import_registrations(store, series, path, now=NOW)
    assert report.encoding == "windows-1252"
    jose = get_registration(store, series.id, "jose@example.org")
    assert (jose.name, jose.country, jose.organisation) == ("José Peña", "PE", "Año Nuevo S.A.")


def test_semicolons_and_spanish_headers(store: Store, series: Series,
                                        write: Callable[..., Path]) -> None:
    path = write(
        "Nombre;Correo electrónico;Idioma;Zona horaria;País;Institución;Sector;Sesiones;"
        "WhatsApp;Consentimiento\n"
        "Ñusta Quispe;NUSTA@example.org;Español;;Perú;Gobierno Regional;Administración "
        "pública;todas;+51 984 555 0101;Sí\n"
        "Ana Díaz;ana@example.org;Inglés;America/Santiago;Chile;Universidad;Academia;s2;;sí\n")
    report = import_registrations(store, series, path, now=NOW)
    assert (report.delimiter, report.added, report.problems) == (";", 2, [])
    nusta = get_registration(store, series.id, "nusta@example.org")
    assert (nusta.language, nusta.timezone, nusta.country) == ("es", "America/Lima", "PE")
    assert (nusta.sector, nusta.sessions) == ("public-administration", None)
    assert nusta.channels.whatsapp == "+519845550101"
    assert nusta.consent == {"data_processing": True}
    ana = get_registration(store, series.id, "ana@example.org")
    assert (ana.language, ana.sector, ana.sessions) == ("en", "academia", ["s2"])


def test_tabs_and_first_and_last_name_columns(store: Store, series: Series,
                                              write: Callable[..., Path]) -> None:
    path = write("Nombres\tApellidos\tE-mail\tMarca temporal\n"
                 "María José\tGarcía López\tmj@example.org\t2021/10/01\n")
    report = import_registrations(store, series, path, now=NOW)
    # "Marca temporal" is Google Forms' timestamp in Spanish: the export is recognised
    assert (report.delimiter, report.preset, report.ignored_columns) == ("\t", "google-forms", [])
    assert get_registration(store, series.id, "mj@example.org").name == "María José García López"


def test_utf16_and_decorated_or_bilingual_headers(store: Store, series: Series,
                                                  write: Callable[..., Path]) -> None:
    path = write("Nombre completo (obligatorio)\tCorreo electrónico / Email\tPaís *\n"
                 "Joaquín Núñez\tjoaquin@example.org\tChile\n", encoding="utf-16")
    report = import_registrations(store, series, path, now=NOW)
    assert (report.encoding, report.added, report.ignored_columns) == ("utf-16", 1, [])
    joaquin = get_registration(store, series.id, "joaquin@example.org")
    assert (joaquin.name, joaquin.country) == ("Joaquín Núñez", "CL")


def test_xlsx_workbooks(store: Store, series: Series, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Nombre", "Correo electrónico", "País", "WhatsApp", "Telegram"])
    sheet.append(["José Peña", "jose@example.org", "México", "+52 55 5555 0101", 123456789])
    sheet.append(["Sin Correo", "", "Chile", None, None])
    path = tmp_path / "Respuestas.xlsx"
    book.save(path)
    report = import_registrations(store, series, path, now=NOW)
    assert report.added == 1
    assert problems(report) == [(3, "email", "error")]
    jose = get_registration(store, series.id, "jose@example.org")
    assert (jose.country, jose.channels.telegram) == ("MX", "123456789")


def test_a_file_without_an_email_column_is_refused(store: Store, series: Series,
                                                   write: Callable[..., Path]) -> None:
    path = write("Nombre,Teléfono\nJosé,123\n")
    with pytest.raises(InputError, match=r"people\.csv:1: no column for the email"):
        import_registrations(store, series, path, now=NOW)


# -- rows -----------------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_their_physical_line(store: Store, series: Series,
                                                        write: Callable[..., Path]) -> None:
    path = write(
        HEADER
        + 'Ana,ana@example.org,es,America/Lima,PE,"Two-line\norganisation",,\n'   # lines 2-3
        + "Bad Email,bad@,es,America/Lima,PE,,,\n"                                 # line 4
        + "Bad Zone,zone@example.org,es,America/Limaa,PE,,,\n"                     # line 5
        + "\n"                                                                      # line 6
        + "Bad Session,session@example.org,es,,PE,,,s9\n"                          # line 7
        + "Bad Country,country@example.org,es,,Atlantis,,,\n"                      # line 8
        + "Bad Sector,sector@example.org,es,,PE,,astronauts,\n"                    # line 9
        + "Good,good@example.org,en,Europe/Brussels,BE,,ngo,s1\n")                 # line 10
    report = import_registrations(store, series, path, now=NOW)
    assert problems(report) == [(4, "email", "error"), (5, "timezone", "error"),
                                (7, "sessions", "error"), (8, "country", "error"),
                                (9, "sector", "error")]
    assert "America/Lima" in str(report.problems[1])  # the suggestion
    assert str(report.problems[0]).startswith(f"{path}:4: email:")
    assert (report.added, report.rejected) == (2, 5)
    assert {r.email for r in list_registrations(store, series.id)} == {
        "ana@example.org", "good@example.org"}


DUPLICATES = (HEADER
              + "Ana,ana@example.org,es,America/Lima,PE,,,\n"
              + "Ana,ANA@example.org,es,America/Lima,PE,,,\n"
              + "Ana B,ana@example.org,en,America/Lima,PE,,,\n")


def test_a_later_answer_in_the_file_replaces_the_earlier_by_default(
        store: Store, series: Series, write: Callable[..., Path]) -> None:
    report = import_registrations(store, series, write(DUPLICATES), now=NOW)
    assert problems(report) == [(3, "email", "warning"), (4, "email", "warning")]
    assert "line 2" in report.problems[1].message
    assert (report.added, report.updated, report.rejected) == (1, 1, 0)
    ana = get_registration(store, series.id, "ana@example.org")
    assert (ana.name, ana.language, ana.source) == ("Ana B", "en", "import:people.csv:4")


def test_on_duplicate_first_keeps_the_first_answer(store: Store, series: Series,
                                                   write: Callable[..., Path]) -> None:
    report = import_registrations(store, series, write(DUPLICATES), now=NOW,
                                  on_duplicate="first")
    assert problems(report) == [(3, "email", "warning"), (4, "email", "warning")]
    assert (report.added, report.updated, report.rejected) == (1, 0, 0)
    assert get_registration(store, series.id, "ana@example.org").name == "Ana"


def test_on_duplicate_error_refuses_a_later_answer_that_differs(
        store: Store, series: Series, write: Callable[..., Path]) -> None:
    report = import_registrations(store, series, write(DUPLICATES), now=NOW,
                                  on_duplicate="error")
    assert problems(report) == [(3, "email", "warning"), (4, "email", "error")]
    assert "line 2" in report.problems[1].message
    assert (report.added, report.rejected) == (1, 1)
    assert get_registration(store, series.id, "ana@example.org").name == "Ana"


def test_missing_consent_is_refused_when_required(store: Store, series: Series,
                                                  write: Callable[..., Path]) -> None:
    path = write("name,email,consent\nAna,ana@example.org,yes\nBea,bea@example.org,no\n"
                 "Cam,cam@example.org,\n")
    report = import_registrations(store, series, path, now=NOW,
                                  required_consent=["data_processing"])
    assert problems(report) == [(3, "consent", "error"), (4, "consent", "error")]
    assert report.added == 1


# -- importing again ------------------------------------------------------------------------------


def test_importing_the_same_file_again_changes_nothing(store: Store,
                                                       reference_series: Series) -> None:
    import_registrations(store, reference_series, EXAMPLE, now=NOW)
    before = (list_registrations(store, reference_series.id), ledger_count(store))
    assert before[1] > 0  # the confirmations were queued
    again = import_registrations(store, reference_series, EXAMPLE, now=NOW + timedelta(days=1))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 30)
    assert (list_registrations(store, reference_series.id), ledger_count(store)) == before
    same_clock = import_registrations(store, reference_series, EXAMPLE, now=NOW)  # a replay
    assert (same_clock.unchanged, same_clock.problems) == (30, [])  # no "same as line N"


def test_emails_match_across_imports_whatever_their_case(store: Store, series: Series,
                                                         write: Callable[..., Path]) -> None:
    import_registrations(store, series, write(HEADER + "Ana,ana@example.org,es,,PE,,,\n"),
                         now=NOW)
    report = import_registrations(
        store, series, write(HEADER + "Ana María, Ana@Example.ORG ,es,,PE,,,\n", "2.csv"),
        now=NOW + timedelta(days=1))
    assert (report.added, report.updated) == (0, 1)
    people = list_registrations(store, series.id)
    assert [(r.name, r.registered_at) for r in people] == [("Ana María", NOW)]


def test_a_cancelled_person_stays_cancelled_on_reimport(store: Store, series: Series,
                                                        write: Callable[..., Path]) -> None:
    path = write(HEADER + "Ana,ana@example.org,es,,PE,,,\n")
    import_registrations(store, series, path, now=NOW)
    cancel_registration(store, series, "ana@example.org", now=NOW + timedelta(hours=1))
    report = import_registrations(store, series, path, now=NOW + timedelta(hours=2))
    assert report.unchanged == 1
    assert get_registration(store, series.id, "ana@example.org").status == "cancelled"


def test_imports_fill_seats_in_file_order(store: Store, make_series: Callable[..., Series],
                                          write: Callable[..., Path]) -> None:
    series = make_series(capacity=2)
    rows = "".join(f"P{n},p{n}@example.org,es,,PE,,,\n" for n in range(1, 5))
    report = import_registrations(store, series, write(HEADER + rows), now=NOW)
    assert (report.confirmed, report.waitlisted) == (2, 2)
    assert [r.status for r in list_registrations(store, series.id)] == [
        "confirmed", "confirmed", "waitlisted", "waitlisted"]


def test_apprise_column_is_kept_as_the_participants_apprise_address(
    tmp_path: Path, reference_series: Series
) -> None:
    csv_file = tmp_path / "reg.csv"
    csv_file.write_text(
        "name,email,language,timezone,country,organisation,sector,sessions,apprise\n"
        "Ana Díaz,ana@example.org,es,America/Lima,PE,Gob,academia,all,ntfy://example.org/ana\n",
        encoding="utf-8")
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, reference_series, csv_file,
                                      now=datetime(2021, 10, 1, tzinfo=timezone.utc))
        assert not report.problems
        person = get_registration(store, reference_series.id, "ana@example.org")
        assert person is not None
        assert person.channels.apprise == "ntfy://example.org/ana"
