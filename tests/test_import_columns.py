"""Columns: --map, the series file's import.columns, questions as headers, columns known by
their answers, and session choices by label, title or date in the series' languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from s3events import load_series
from s3events.cli import main
from s3events.errors import InputError, SeriesError
from s3events.models import Series
from s3events.registrations import (
    clean_fields,
    get_registration,
    import_registrations,
    list_registrations,
)
from s3events.store import Store, open_store
from tests.fixtures.series import minimal_series_data

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)


def series_data(**extra: Any) -> dict[str, Any]:
    data = minimal_series_data(languages=["en", "es", "fr"], **extra)
    data["sessions"][0]["label"] = {"en": "Day 1", "es": "Día 1", "fr": "Jour 1"}
    data["sessions"][1]["label"] = {"en": "Day 2", "es": "Día 2", "fr": "Jour 2"}
    return data


@pytest.fixture
def series(write_series: Callable[..., Path]) -> Series:
    return load_series(write_series(series_data()))


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = open_store(tmp_path / "state.db")
    yield opened  # type: ignore[misc]
    opened.close()


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def write_file(content: str, name: str = "people.csv") -> Path:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return path

    return write_file


def only(store: Store, series: Series) -> Any:
    (person,) = list_registrations(store, series.id)
    return person


def test_map_reads_a_column_as_a_field(store: Store, series: Series,
                                       write: Callable[..., Path]) -> None:
    path = write("Participante,Correo institucional,Residencia\n"
                 "Ana Díaz,ana@example.org,Santiago\n")
    report = import_registrations(store, series, path, now=NOW)
    assert (report.ignored_columns, only(store, series).timezone_source) == (
        ["Residencia"], "series")
    report = import_registrations(store, series, path, now=NOW,
                                  columns={"residencia": "city"})
    assert (report.updated, report.ignored_columns) == (1, [])
    ana = only(store, series)
    assert (ana.email, ana.timezone, ana.timezone_source) == (
        "ana@example.org", "America/Santiago", "city")


def test_a_file_whose_email_column_cannot_be_found_names_its_columns(
        store: Store, series: Series, write: Callable[..., Path]) -> None:
    path = write("Participante,Identificador\nAna Díaz,A-17\n")
    with pytest.raises(InputError, match=r"no column for the email.*--map \"COLUMN=email\".*"
                                         r"'Participante', 'Identificador'"):
        import_registrations(store, series, path, now=NOW)


def test_the_series_file_maps_columns_and_map_wins(write_series: Callable[..., Path],
                                                   store: Store,
                                                   write: Callable[..., Path]) -> None:
    series = load_series(write_series(series_data(**{"import": {"columns": {
        "Correo institucional": "email", "Comentarios": "ignore", "Apodo": "name"}}})))
    path = write("Apodo,Nombre completo,Correo institucional,Comentarios\n"
                 "Anita,Ana Díaz,ana@example.org,hola\n")
    report = import_registrations(store, series, path, now=NOW)
    assert (report.added, report.ignored_columns) == (1, [])
    assert only(store, series).name == "Anita"  # the series file beats the header
    import_registrations(store, series, path, now=NOW,
                         columns={"Nombre completo": "name", "Apodo": "ignore"})
    assert only(store, series).name == "Ana Díaz"  # --map beats the series file


def test_an_unknown_field_in_the_series_file_is_a_series_error(
        write_series: Callable[..., Path]) -> None:
    with pytest.raises(SeriesError, match="unknown field"):
        load_series(write_series(series_data(**{"import": {"columns": {"X": "mail"}}})))


def test_map_naming_a_missing_column_or_an_unknown_field(
        capsys: pytest.CaptureFixture[str], write_series: Callable[..., Path],
        write: Callable[..., Path], tmp_path: Path) -> None:
    path = write("name,email\nAna,ana@example.org\n")
    with pytest.raises(SystemExit) as done:
        main(["registrations", "import", str(write_series(series_data())), str(path),
              "--state", str(tmp_path / "s.db"), "--map", "Correo=email",
              "--map", "name=nombre", "--map", "no equals sign"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "no equals sign" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as done:
        main(["registrations", "import", str(write_series(series_data())), str(path),
              "--state", str(tmp_path / "s.db"), "--map", "Correo=email",
              "--map", "name=nombre"])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "the file has no column 'Correo'" in err and "unknown field 'nombre'" in err


@pytest.mark.parametrize("header", [
    "What is your full name?,What is your email address?,In which country do you live?",
    "¿Cuál es tu nombre?,¿Cuál es tu correo electrónico?,¿En qué país vives?",
    "Quel est votre nom ?,Votre adresse courriel,Dans quel pays habitez-vous ?",
    "Wie ist Ihr Name?,Ihre E-Mail,In welchem Land wohnen Sie?",
])
def test_questions_that_name_a_field_are_read_as_it(store: Store, series: Series,
                                                    write: Callable[..., Path],
                                                    header: str) -> None:
    report = import_registrations(store, series, write(f"{header}\nAna,ana@example.org,Chile\n"),
                                  now=NOW)
    assert (report.added, report.problems) == (1, [])
    assert only(store, series).country == "CL"


def test_a_question_mentioning_email_that_holds_no_addresses_is_not_the_email(
        store: Store, series: Series, write: Callable[..., Path]) -> None:
    path = write("Name,Email,Email me about future events\n"
                 "Ana,ana@example.org,Yes\nBea,bea@example.org,No\n")
    report = import_registrations(store, series, path, now=NOW)
    assert (report.added, report.problems) == (2, [])
    assert any("does not hold email answers" in note for note in report.notes)


def test_columns_known_by_their_answers(store: Store, series: Series,
                                        write: Callable[..., Path]) -> None:
    path = write("Nom,Contact,Quand ?\n"
                 "Ana,ana@example.org,Jour 1\nBea,bea@example.org,Jour 1; Jour 2\n"
                 "Cem,cem@example.org,\n")
    report = import_registrations(store, series, path, now=NOW)
    assert (report.added, report.problems) == (3, [])
    assert "'Contact' read as email (from its answers)" in report.notes
    assert "'Quand ?' read as sessions (from its answers)" in report.notes
    sessions = {r.email: r.sessions for r in list_registrations(store, series.id)}
    assert sessions == {"ana@example.org": ["s1"], "bea@example.org": ["s1", "s2"],
                        "cem@example.org": None}


@pytest.mark.parametrize(("answer", "chosen"), [
    ("Day 1; Day 2", ["s1", "s2"]),                         # Microsoft Forms
    ("Día 1, Día 2", ["s1", "s2"]),                         # Google Forms
    ("Jour 2\nJour 1", ["s1", "s2"]),                       # Jotform
    ("Día 1;Día 2;", ["s1", "s2"]),                         # a trailing separator
    ("Primera, Segunda", ["s1", "s2"]),                     # titles in Spanish
    ("2021-11-04", ["s2"]),                                 # an ISO date
    ("jeudi 28 octobre", ["s1"]),                           # a date in French
    ("jueves, 4 de noviembre de 2021", ["s2"]),             # a full date in Spanish
    ("Thursday, October 28, 2021", ["s1"]),                 # a full date in English
    ("Thursday 28 October; 4 November 2021", ["s1", "s2"]),  # day first, as in the UK
    ("Day 1 – Thursday 28 October: First", ["s1"]),         # label, date and title at once
    ("Day 1 – Thursday, 28 October, Day 2", ["s1", "s2"]),  # a choice holding a comma
    ("Thursday, 28 October: First, Day 2", ["s1", "s2"]),
    ("s1 s2", ["s1", "s2"]),
    ("Todas", None),
    ("toutes les séances", None),
])
def test_session_choices(series: Series, answer: str, chosen: list[str] | None) -> None:
    fields, problems = clean_fields(series, {"name": "Ana", "email": "ana@example.org",
                                             "sessions": answer})
    assert problems == []
    assert fields["sessions"] == chosen


def test_choices_naming_no_session_are_reported(series: Series) -> None:
    _, problems = clean_fields(series, {"name": "Ana", "email": "ana@example.org",
                                        "sessions": "Day 1; Day 9; Lunch"})
    (where, message), = problems
    assert where == "sessions" and "'Day 9'" in message and "'Lunch'" in message


@pytest.mark.parametrize(("answer", "unknown"), [
    ("Day 1, Nonsense", "'Nonsense'"),     # a form's "Other" answer beside a choice
    ("Nonsense, Day 2", "'Nonsense'"),
    ("Jour 1, Jour 7", "'Jour 7'"),
])
def test_comma_separated_choices_naming_no_session_are_reported(
        series: Series, answer: str, unknown: str) -> None:
    _, problems = clean_fields(series, {"name": "Ana", "email": "ana@example.org",
                                        "sessions": answer})
    (where, message), = problems
    assert where == "sessions" and unknown in message


def test_two_sessions_on_one_day_are_not_chosen_by_that_date(
        write_series: Callable[..., Path]) -> None:
    data = series_data()
    data["sessions"][1].update(start="2021-10-28T20:00:00", end="2021-10-28T21:00:00")
    series = load_series(write_series(data))
    _, problems = clean_fields(series, {"name": "Ana", "email": "ana@example.org",
                                        "sessions": "28/10/2021"})
    assert [p for p, _ in problems] == ["sessions"]


def test_an_account_column_fills_in_an_empty_question(store: Store, series: Series,
                                                      write: Callable[..., Path]) -> None:
    path = write("ID,Start time,Completion time,Email,Name,Your email,Your name\n"
                 "1,2021-10-01,2021-10-01,ana@contoso.example,Ana Account,,Ana Díaz\n"
                 "2,2021-10-01,2021-10-01,anonymous,,bea@example.org,Bea Ruiz\n")
    report = import_registrations(store, series, path, now=NOW)
    assert (report.preset, report.added, report.problems) == ("microsoft-forms", 2, [])
    assert get_registration(store, series.id, "ana@contoso.example").name == "Ana Díaz"
    assert get_registration(store, series.id, "bea@example.org").name == "Bea Ruiz"


@pytest.mark.parametrize(("header", "row", "expected"), [
    ("Nom,Prénom,E-mail", "Dupont,Jean,jean@example.org", "Jean Dupont"),
    ("Name,Vorname,E-Mail", "Müller,Hans,hans@example.org", "Hans Müller"),
    ("First name,Name,Email", "Kim,Lee,kim@example.org", "Kim Lee"),
    ("Nome,Cognome,Email", "Lucia,Bianchi,lucia@example.org", "Lucia Bianchi"),
    ("Nombre,Apellidos,Correo", "Ana,García López,ana@example.org", "Ana García López"),
    ("Full name,First name,Email", "Ana Lima,Ana,ana@example.org", "Ana Lima"),
    ("Prénom,Nom,Nom complet,Courriel", "Jean,Dupont,Jean-Marc Dupont,j@example.org",
     "Jean-Marc Dupont"),
])
def test_a_surname_column_is_never_dropped(series, store, write, header, row, expected):
    report = import_registrations(store, series, write(f"{header}\n{row}\n"), now=NOW)
    assert report.added == 1 and not report.errors, report.errors
    assert only(store, series).name == expected
    if "First name" in header or "Prénom" in header or "Vorname" in header:
        assert report.notes  # says which column was read how


def test_a_column_outranked_by_a_plain_header_is_named_in_the_notes(series, store, write):
    report = import_registrations(store, series, write(
        "Name,Email,City,Dans quelle ville habitez-vous ?\n"
        "Ana,ana@example.org,,Lyon\n"), now=NOW)
    assert report.added == 1
    (note,) = [n for n in report.notes if "Dans quelle ville" in n]
    assert "not used: 'City' gives the city" in note
    assert '--map "Dans quelle ville habitez-vous ?=city"' in note
