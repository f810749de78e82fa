"""`s3events registrations import|list|cancel|export|erase`, run as people run them."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from s3events.cli import main
from s3events.registrations import get_registration
from s3events.store import open_store
from tests.fixtures.series import minimal_series_data

HEADER = "name,email,language,timezone,country,organisation,sector,sessions\n"
ROWS = ("José Peña,jose@example.org,es,,Perú,Gobierno Regional,ONG,all\n"
        "Ana Díaz,ana@example.org,en,America/Santiago,CL,,academia,s1\n"
        "Bea Ruiz,bea@example.org,es,America/Lima,PE,,,\n")


@pytest.fixture
def env(tmp_path: Path, write_series: Callable[..., Path]) -> dict[str, Path]:
    series = write_series(minimal_series_data(registration={"capacity": 2}))
    people = tmp_path / "people.csv"
    people.write_text(HEADER + ROWS, encoding="utf-8")
    return {"series": series, "people": people, "state": tmp_path / "state.db"}


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def cli(capsys: pytest.CaptureFixture[str], env: dict[str, Path], command: str,
        *args: str | Path) -> tuple[int, str, str]:
    return run(capsys, "registrations", command, env["series"], *args,
               "--state", env["state"])


def imported(capsys: pytest.CaptureFixture[str], env: dict[str, Path]) -> None:
    code, _out, err = cli(capsys, env, "import", env["people"], "--now", "2021-10-01T12:00Z")
    assert code == 0, err


def test_import_prints_a_summary_and_exits_zero(capsys, env) -> None:
    code, out, err = cli(capsys, env, "import", env["people"], "--now", "2021-10-01T12:00Z")
    assert (code, err) == (0, "")
    assert "3 row(s) read; 3 added (2 confirmed, 1 on the waiting list)" in out
    code, out, _ = cli(capsys, env, "import", env["people"])
    assert code == 0 and "0 added" in out and "3 unchanged" in out


def test_import_keeps_good_rows_lists_bad_ones_and_exits_two(capsys, env, tmp_path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + ROWS + "Sin Correo,sin-correo,es,,PE,,,\n"
                   "Zona Mala,zona@example.org,es,Europe/Brusels,BE,,,\n", encoding="utf-8")
    code, out, err = cli(capsys, env, "import", bad)
    assert code == 2
    assert f"{bad}:5: email: 'sin-correo' is not an email address" in err
    assert f"{bad}:6: timezone: unknown time zone 'Europe/Brusels'; did you mean " \
           "Europe/Brussels" in err
    assert "2 row(s) of" in err and "the other rows were kept" in err
    assert "3 added" in out and "Traceback" not in err
    with open_store(env["state"]) as store:
        assert get_registration(store, "demo", "jose@example.org") is not None


def test_list_as_table_json_and_by_status(capsys, env) -> None:
    imported(capsys, env)
    code, out, _ = cli(capsys, env, "list")
    assert code == 0
    assert "José Peña" in out and "America/Lima (from the country)" in out
    assert "3 registration(s): 2 confirmed, 1 waitlisted" in out
    _, out, _ = cli(capsys, env, "list", "--json")
    people = json.loads(out)
    assert [p["email"] for p in people] == ["jose@example.org", "ana@example.org",
                                             "bea@example.org"]
    assert people[0]["sector"] == "ngo" and "token" not in people[0]
    assert [(p["timezone_source"], p["zone_guessed"]) for p in people] == [
        ("country", False), ("given", False), ("given", False)]
    _, out, _ = cli(capsys, env, "list", "--json", "--status", "waitlisted")
    assert [p["email"] for p in json.loads(out)] == ["bea@example.org"]


def test_cancel_moves_the_waiting_list_up(capsys, env) -> None:
    imported(capsys, env)
    code, out, _ = cli(capsys, env, "cancel", "ANA@example.org", "--now", "2021-10-02T00:00Z")
    assert code == 0
    assert "Cancelled the registration of ANA@example.org." in out
    assert "1 person(s) moved up from the waiting list." in out
    with open_store(env["state"]) as store:
        bea = get_registration(store, "demo", "bea@example.org")
        assert bea is not None and bea.status == "confirmed"


def test_cancel_of_an_unknown_email_is_a_clear_error(capsys, env) -> None:
    imported(capsys, env)
    code, _out, err = cli(capsys, env, "cancel", "nobody@example.org")
    assert code == 2
    assert err.strip() == "error: no registration for nobody@example.org in demo"


def test_export_prints_the_persons_data_as_json(capsys, env) -> None:
    imported(capsys, env)
    code, out, _ = cli(capsys, env, "export", "jose@example.org")
    assert code == 0
    data = json.loads(out)
    assert data["registration"]["name"] == "José Peña"
    assert {m["kind"] for m in data["messages"]} == {"confirmation"}
    assert "ana@example.org" not in out


@pytest.mark.parametrize("answer", ["n\n", ""])
def test_erase_without_yes_asks_and_a_no_keeps_everything(capsys, env, monkeypatch,
                                                           answer: str) -> None:
    imported(capsys, env)
    monkeypatch.setattr("sys.stdin", io.StringIO(answer))
    code, out, err = cli(capsys, env, "erase", "jose@example.org")
    assert code == 1
    assert "Erase every piece of data on jose@example.org" in out
    assert "Aborted." in err
    with open_store(env["state"]) as store:
        assert get_registration(store, "demo", "jose@example.org") is not None


def test_erase_after_a_yes(capsys, env, monkeypatch) -> None:
    imported(capsys, env)
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))
    code, out, _ = cli(capsys, env, "erase", "jose@example.org")
    assert code == 0
    assert "1 unsent message(s) deleted" in out
    with open_store(env["state"]) as store:
        assert get_registration(store, "demo", "jose@example.org") is None


def test_a_bad_now_is_refused_before_anything_is_imported(capsys, env) -> None:
    code, _out, err = cli(capsys, env, "import", env["people"], "--now", "yesterday")
    assert code == 2 and "--now" in err
    assert not env["state"].exists()


def test_list_shows_names_as_text_never_as_markup_or_terminal_codes(capsys, env,
                                                                    tmp_path) -> None:
    people = tmp_path / "hostile.csv"
    people.write_text(HEADER + "[bold]Ana[/bold] [/red],ana@example.org,es,,PE,,,\n"
                      "[link=https://evil.example]Bea[/link],bea@example.org,es,,PE,,,\n",
                      encoding="utf-8")
    assert cli(capsys, env, "import", people)[0] == 0
    code, out, err = cli(capsys, env, "list")
    assert code == 0 and "Traceback" not in err
    assert "[bold]Ana[/bold] [/red]" in out and "[link=https://evil.example]Bea" in out
    assert "\x1b]8" not in out


def test_on_duplicate_from_the_command_line(capsys, env, tmp_path) -> None:
    imported(capsys, env)
    again = tmp_path / "again.csv"
    again.write_text(HEADER + "José Peña,JOSE@example.org,en,,Perú,,,s2\n", encoding="utf-8")
    code, out, err = cli(capsys, env, "import", again, "--on-duplicate", "error")
    assert code == 2 and "--on-duplicate error" in err
    code, out, err = cli(capsys, env, "import", again, "--on-duplicate", "first")
    assert code == 0 and "0 updated, 1 unchanged" in out
    code, out, err = cli(capsys, env, "import", again)
    assert code == 0 and "1 updated" in out
    with open_store(env["state"]) as store:
        jose = get_registration(store, "demo", "jose@example.org")
    assert (jose.language, jose.sessions) == ("en", ["s2"])
