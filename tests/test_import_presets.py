"""Exports read as the tools write them: Google Forms, Microsoft Forms, Eventbrite, Zoom,
Indico, Typeform and Jotform, each from a file under tests/fixtures/imports/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path

import openpyxl
import pytest

from s3events.cli import main
from s3events.models import Series
from s3events.registrations import import_registrations, list_registrations
from s3events.registrations.presets import PRESETS, detect
from s3events.store import Store, open_store
from tests.fixtures.imports import workbooks

NOW = datetime(2021, 10, 7, 12, 0, tzinfo=timezone.utc)
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "imports"
SERIES = Path(__file__).resolve().parents[1] / "examples" / "s3-latam-2021" / "series.yaml"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with open_store(tmp_path / "state.db") as opened:
        yield opened


def people(store: Store, series: Series) -> dict[str, object]:
    return {r.email: r for r in list_registrations(store, series.id)}


def where(report: object) -> list[tuple[int | None, str, str]]:
    return [(p.line, p.path, p.severity) for p in report.problems]  # type: ignore[attr-defined]


def run_cli(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


# -- Google Forms ---------------------------------------------------------------------------


def test_google_forms_csv_imports_unedited(store: Store, reference_series: Series) -> None:
    report = import_registrations(store, reference_series, FIXTURES / "google-forms.csv",
                                  now=NOW)
    assert report.preset == "google-forms"
    assert where(report) == [(7, "email", "error"), (8, "email", "warning")]
    assert (report.added, report.updated, report.rejected) == (5, 1, 1)
    found = people(store, reference_series)
    ana = found["Ana.Diaz@example.org"]  # the resubmission's spelling (domain lowercased)
    # the resubmission (line 8, the address in other case) corrected her sessions
    assert (ana.sessions, ana.organisation) == (
        ["day-1", "day-2", "day-3"], "Universidad Nacional Autónoma de México")
    assert (ana.timezone, ana.timezone_source) == ("America/Mexico_City", "city")
    joao = found["joao.souza@example.com.br"]
    assert (joao.timezone, joao.timezone_source, joao.language) == (
        "America/Sao_Paulo", "city", "en")
    kim = found["kim.lee@example.com"]
    assert (kim.timezone, kim.timezone_source) == ("America/New_York", "country-guess")
    assert kim.sessions == ["day-2", "day-4", "day-5"]
    aroha = found["aroha.ngata@example.nz"]
    assert (aroha.timezone, aroha.timezone_source) == ("Pacific/Auckland", "country-guess")
    tomas = found["tomas.sepulveda@example.cl"]
    assert (tomas.timezone, tomas.timezone_source) == ("America/Santiago", "country-guess")
    assert report.zones == {"city": 3, "country-guess": 3}


@pytest.mark.parametrize(("timestamp", "email"), [
    ("Timestamp", "Email Address"),
    ("Marca temporal", "Dirección de correo electrónico"),
    ("Carimbo de data/hora", "Endereço de e-mail"),
    ("Horodateur", "Adresse e-mail"),
    ("Zeitstempel", "E-Mail-Adresse"),
    ("Informazioni cronologiche", "Indirizzo email"),
])
def test_google_forms_fixed_headers_in_six_languages(store: Store, reference_series: Series,
                                                     tmp_path: Path, timestamp: str,
                                                     email: str) -> None:
    path = tmp_path / "respuestas.csv"
    path.write_text(f"{timestamp},{email},Nombre\n2021/10/05 10:14:07,ana@example.org,Ana\n",
                    encoding="utf-8")
    report = import_registrations(store, reference_series, path, now=NOW)
    assert (report.preset, report.added, report.ignored_columns) == ("google-forms", 1, [])


# -- Microsoft Forms ------------------------------------------------------------------------


def test_microsoft_forms_workbook_imports_unedited(store: Store, reference_series: Series,
                                                   tmp_path: Path) -> None:
    path = workbooks.microsoft_forms(tmp_path / "S3 registration(1-5).xlsx")
    report = import_registrations(store, reference_series, path, now=NOW)
    assert report.preset == "microsoft-forms"
    assert where(report) == [(5, "email", "error")]  # the bad address, by its sheet row
    assert (report.added, report.rejected) == (4, 1)
    found = people(store, reference_series)
    # the question's address wins over the account's; the account fills in an empty one
    assert set(found) == {"mf.gutierrez@example.mx", "kim.lee@example.com",
                          "lukas.meier@contoso.example", "aroha.ngata@example.nz"}
    maria = found["mf.gutierrez@example.mx"]
    assert (maria.name, maria.sessions) == ("María Fernanda Gutiérrez", ["day-1", "day-3"])
    lukas = found["lukas.meier@contoso.example"]
    assert (lukas.country, lukas.timezone, lukas.timezone_source) == (
        "CH", "Europe/Zurich", "city")  # "Zúrich", CLDR's Spanish name
    assert found["kim.lee@example.com"].sessions == ["day-2", "day-4", "day-5"]


@pytest.mark.parametrize("header", [
    ["ID", "Start time", "Completion time", "Email", "Name"],
    ["Id.", "Hora de inicio", "Hora de finalización", "Correo electrónico", "Nombre"],
    ["ID", "Hora de início", "Hora de conclusão", "Email", "Nome"],
    ["ID", "Heure de début", "Heure de fin", "Adresse de messagerie", "Nom"],
    ["ID", "Startzeit", "Fertigstellungszeit", "E-Mail", "Name"],
    ["ID", "Ora di inizio", "Ora di completamento", "Posta elettronica", "Nome"],
])
def test_microsoft_forms_fixed_headers_in_six_languages(store: Store, reference_series: Series,
                                                        tmp_path: Path,
                                                        header: list[str]) -> None:
    book = openpyxl.Workbook()
    book.active.append([*header, "Full name", "Email address", "Sessions"])
    book.active.append([1, datetime(2021, 10, 4, 9), datetime(2021, 10, 4, 9, 5),
                        "account@contoso.example", "Account Name", "Ana Díaz",
                        "ana@example.org", "Day 2;"])
    path = tmp_path / "forms.xlsx"
    book.save(path)
    report = import_registrations(store, reference_series, path, now=NOW)
    assert (report.preset, report.added, report.ignored_columns) == ("microsoft-forms", 1, [])
    (ana,) = list_registrations(store, reference_series.id)
    assert (ana.name, ana.email, ana.sessions) == ("Ana Díaz", "ana@example.org", ["day-2"])


# -- Eventbrite -----------------------------------------------------------------------------


def test_eventbrite_attendee_report_imports_unedited(store: Store,
                                                     reference_series: Series) -> None:
    report = import_registrations(store, reference_series, FIXTURES / "eventbrite.csv",
                                  now=NOW)
    assert report.preset == "eventbrite"
    assert where(report) == [(8, "email", "error")]
    assert (report.added, report.rejected) == (5, 1)
    assert report.skipped == {"Not Attending": 1, "Refunded": 1}  # never confirmed
    found = people(store, reference_series)
    assert "diego.hernandez@example.mx" not in found and "rosa.quispe@example.pe" not in found
    assert (found["kim.lee@example.com"].timezone,
            found["kim.lee@example.com"].timezone_source) == ("America/New_York",
                                                               "country-guess")
    assert found["aroha.ngata@example.nz"].timezone == "Pacific/Auckland"  # "Checked In"
    lea = found["lea.wamytan@example.nc"]
    assert (lea.country, lea.timezone, lea.timezone_source) == ("NC", "Pacific/Noumea", "city")
    lukas = found["lukas.meier@example.ch"]  # no Home Country: the city alone
    assert (lukas.timezone, lukas.timezone_source, lukas.organisation) == (
        "Europe/Zurich", "city", "ETH")


def test_a_later_eventbrite_report_cancels_an_attendee_who_withdrew(
        store: Store, reference_series: Series, tmp_path: Path) -> None:
    import_registrations(store, reference_series, FIXTURES / "eventbrite.csv", now=NOW)
    later = tmp_path / "report-2.csv"
    later.write_text((FIXTURES / "eventbrite.csv").read_text(encoding="utf-8").replace(
        "Free Order,USD,0.00,0.00,0.00,0.00,Attending,100 Main St",
        "Free Order,USD,0.00,0.00,0.00,0.00,Refunded,100 Main St"), encoding="utf-8")
    report = import_registrations(store, reference_series, later, now=NOW)
    assert report.cancelled == 1
    assert people(store, reference_series)["kim.lee@example.com"].status == "cancelled"


# -- Zoom, Indico, Typeform, Jotform -------------------------------------------------------


def test_zoom_registration_report_with_its_preamble(store: Store,
                                                    reference_series: Series) -> None:
    report = import_registrations(store, reference_series, FIXTURES / "zoom.csv", now=NOW)
    assert (report.preset, report.header_line, report.problems) == ("zoom", 6, [])
    assert (report.added, report.skipped) == (3, {"pending": 1, "denied": 1})
    found = people(store, reference_series)
    assert set(found) == {"mf.gutierrez@example.mx", "joao.souza@example.com.br",
                          "jean.dupont@example.fr"}
    assert found["joao.souza@example.com.br"].timezone == "America/Manaus"  # its city
    assert found["jean.dupont@example.fr"].timezone_source == "country"  # one zone
    assert found["mf.gutierrez@example.mx"].name == "María Fernanda Gutiérrez"


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_indico_export_confirms_only_completed_registrations(
        store: Store, reference_series: Series, tmp_path: Path, kind: str) -> None:
    path = (FIXTURES / "indico.csv" if kind == "csv"
            else workbooks.indico(tmp_path / "registrations.xlsx"))
    report = import_registrations(store, reference_series, path, now=NOW)
    assert (report.preset, report.problems, report.added) == ("indico", [], 3)
    assert report.skipped == {"Pending": 1, "Withdrawn": 1, "Rejected": 1,
                              "Awaiting payment": 1}
    found = people(store, reference_series)
    assert set(found) == {"ana.diaz@example.org", "kim.lee@example.com",
                          "aroha.ngata@example.nz"}
    ana = found["ana.diaz@example.org"]
    assert (ana.name, ana.organisation, ana.sessions) == (
        "Ana Díaz", "Universidad Nacional", ["day-1", "day-3"])


def test_typeform_partial_answers_are_not_registrations(store: Store,
                                                        reference_series: Series) -> None:
    report = import_registrations(store, reference_series, FIXTURES / "typeform.csv", now=NOW)
    assert (report.preset, report.problems, report.added) == ("typeform", [], 3)
    assert report.skipped == {"partial": 1}
    assert people(store, reference_series)["ana.diaz@example.org"].sessions == [
        "day-1", "day-3"]


def test_jotform_choices_on_separate_lines(store: Store, reference_series: Series) -> None:
    report = import_registrations(store, reference_series, FIXTURES / "jotform.csv", now=NOW)
    assert report.preset == "jotform"
    assert where(report) == [(8, "sessions", "error")]  # "Day 9", on its physical line
    assert "Day 9" in report.problems[0].message
    found = people(store, reference_series)
    assert found["kim.lee@example.com"].sessions == ["day-2", "day-4", "day-5"]
    assert found["lea.wamytan@example.nc"].timezone == "Pacific/Noumea"


# -- detection and the command line ----------------------------------------------------------


def test_every_preset_is_recognised_by_its_own_signature() -> None:
    for preset in PRESETS:
        header = [group[0] for group in preset.signature] + ["Full name", "Email"]
        assert detect(header) is preset, preset.name
    assert detect(["name", "email", "country"]) is None


def test_the_three_new_user_exports_import_unedited_from_the_command_line(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    workbook = workbooks.microsoft_forms(tmp_path / "forms.xlsx")
    for path, bad_line in ((FIXTURES / "google-forms.csv", 7), (workbook, 5),
                           (FIXTURES / "eventbrite.csv", 8)):
        code, out, err = run_cli(capsys, "registrations", "import", SERIES, path,
                                 "--state", state, "--now", "2021-10-07T12:00:00Z")
        assert code == 2, err
        assert f"{path}:{bad_line}: email:" in err and "Traceback" not in err
        assert "not imported" in err and "row(s) read" in out
    with open_store(state) as store:
        emails = {r.email for r in list_registrations(store, "s3-latam-2021")}
    assert len(emails) == 9  # five, two more, two more: the same people match across files


def test_help_lists_the_presets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "registrations", "import", "--help")
    assert code == 0
    for preset in PRESETS:
        assert preset.name in out and preset.title in out


def test_conflicting_columns_are_all_named_with_their_fix(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    args = ["registrations", "import", SERIES, FIXTURES / "conflicts.csv",
            "--state", tmp_path / "state.db"]
    code, _, err = run_cli(capsys, *args)
    assert code == 2 and "Traceback" not in err
    assert "'Name' and 'Full name' both give the name" in err
    assert "'Email' and 'E-mail' both give the email" in err
    assert '--map "Name=ignore"' in err and '--map "E-mail=ignore"' in err
    code, out, err = run_cli(capsys, *args, "--map", "Name=ignore", "--map", "E-mail=ignore")
    assert code == 0, err
    assert "1 added" in out
    with open_store(tmp_path / "state.db") as store:
        (ana,) = list_registrations(store, "s3-latam-2021")
    assert (ana.name, ana.email) == ("Ana Díaz López", "ana.diaz@example.org")


def test_preset_forces_a_reading(store: Store, reference_series: Series,
                                 write: Callable[..., Path]) -> None:
    path = write("Submission Date,Name,E-mail\n2021-10-04,Ana,ana@example.org\n")
    assert import_registrations(store, reference_series, path, now=NOW).preset == "jotform"
    forced = import_registrations(store, reference_series, path, now=NOW,
                                  preset="google-forms")
    assert forced.preset == "google-forms" and forced.ignored_columns == ["Submission Date"]


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def write_file(content: str, name: str = "people.csv") -> Path:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        return path

    return write_file
