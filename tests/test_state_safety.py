"""The state database: a missing one is an error, never a silent new one, and no error shows
a password or a person's data.

Commands that only read the state (dispatch, status, preview, meetings, registrations
list/export/cancel/erase) refuse a missing database with exit 2 and one sentence, and
create no file; provision, registrations import and serve create it; plan plans as for a
first run. URLs with passwords holding ``# / ? @`` and malformed IPv6 hosts give clean
errors without the password, and database errors carry no parameter values or row data.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import SQLAlchemyError

from s3events.errors import MissingStateError, StoreError
from s3events.store import open_store, registrations
from s3events.transports.smtp import parse_smtp_url
from s3events.urls import redact_url
from tests.test_cli_core import Run, run

REFERENCE = Path(__file__).resolve().parents[1] / "examples" / "s3-latam-2021"
SERIES = str(REFERENCE / "series.yaml")
CSV = str(REFERENCE / "registrations.csv")

READERS = {
    "dispatch": ["dispatch", SERIES, "--now", "2021-10-27T07:00:00Z"],
    "status": ["status", SERIES],
    "preview": ["preview", SERIES, "--registration", "ana@example.org", "--kind",
                "confirmation"],
    "meetings": ["meetings", SERIES],
    "registrations list": ["registrations", "list", SERIES],
    "registrations export": ["registrations", "export", SERIES, "ana@example.org"],
    "registrations cancel": ["registrations", "cancel", SERIES, "ana@example.org"],
    "registrations erase": ["registrations", "erase", SERIES, "ana@example.org", "--yes"],
}

#: A password with every character that breaks a naive URL parser; the pieces between them
#: must never appear in any output.
PASSWORD = "Qz7#Kx9/Vb4?Wm2@Yp5:Lr8%Hd3"
PIECES = ["Qz7", "Kx9", "Vb4", "Wm2", "Yp5", "Lr8", "Hd3"]


def message(where: str) -> str:
    return f"error: no state database at {where}: run provision or registrations import first\n"


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


@pytest.fixture
def empty_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("S3EVENTS_STATE", raising=False)
    return tmp_path


def assert_no_secret(result: Run) -> None:
    output = result.stdout + result.stderr
    assert not [piece for piece in PIECES if piece in output], output
    assert "Traceback" not in output


# -- a missing database ---------------------------------------------------------------------


@pytest.mark.parametrize("command", sorted(READERS))
def test_reading_commands_refuse_a_missing_database_and_create_nothing(
        empty_cwd: Path, command: str) -> None:
    result = run(*READERS[command], "--state", "missing.db")
    assert (result.code, result.stderr) == (2, message("missing.db"))
    assert files_under(empty_cwd) == []


@pytest.mark.parametrize("command", ["dispatch", "status", "registrations list"])
def test_s3events_state_pointing_nowhere_is_refused(empty_cwd: Path, command: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    nowhere = empty_cwd / "typo" / "state.db"
    monkeypatch.setenv("S3EVENTS_STATE", str(nowhere))
    result = run(*READERS[command])
    assert (result.code, result.stderr) == (2, message(str(nowhere)))
    assert files_under(empty_cwd) == []


def test_the_default_state_is_not_created_by_a_reading_command(empty_cwd: Path) -> None:
    result = run(*READERS["dispatch"])
    assert (result.code, result.stderr) == (2, message(".s3events/state.db"))
    assert files_under(empty_cwd) == []


def test_an_empty_file_or_a_sqlite_url_to_nowhere_counts_as_missing(empty_cwd: Path) -> None:
    (empty_cwd / "empty.db").touch()
    assert run(*READERS["status"], "--state", "empty.db").stderr == message("empty.db")
    url = f"sqlite:///{empty_cwd}/none/state.db"
    assert run(*READERS["status"], "--state", url).stderr == message(url)
    assert files_under(empty_cwd) == [empty_cwd / "empty.db"]


def test_import_creates_the_database_and_then_the_readers_use_it(empty_cwd: Path) -> None:
    imported = run("registrations", "import", SERIES, CSV, "--state", "state.db",
                   "--now", "2021-10-01T00:00:00Z")
    assert imported.code == 0, imported.stderr
    assert (empty_cwd / "state.db").is_file()
    listed = run("registrations", "list", SERIES, "--state", "state.db", "--json")
    assert listed.code == 0 and "@" in listed.stdout


def test_plan_without_a_database_plans_a_first_provision_and_creates_nothing(
        empty_cwd: Path) -> None:
    result = run("plan", SERIES, "--state", "missing.db", "--json",
                 "--now", "2021-10-01T00:00:00Z")
    assert result.code == 0, result.stderr
    assert "planning as for a first provision" in result.stderr
    assert '"create"' in result.stdout
    assert files_under(empty_cwd) == []


def test_provision_creates_the_database(empty_cwd: Path) -> None:
    result = run("provision", SERIES, "--state", "new/state.db", "--now",
                 "2021-10-01T00:00:00Z", "--json")
    assert result.code == 0, result.stderr
    assert (empty_cwd / "new" / "state.db").is_file()


def test_open_store_without_create_raises_missing_state(tmp_path: Path) -> None:
    with pytest.raises(MissingStateError) as caught:
        open_store(tmp_path / "x.db", create=False)
    assert caught.value.where == str(tmp_path / "x.db")
    assert not (tmp_path / "x.db").exists()


@pytest.mark.postgres
def test_a_postgresql_database_without_tables_or_absent_is_missing(
        postgres_database: str, empty_cwd: Path) -> None:
    with_password = postgres_database.replace("postgres@", f"postgres:{PASSWORD}@", 1)
    for url in (postgres_database, with_password, with_password.rsplit("/", 1)[0] + "/nodb"):
        result = run(*READERS["status"], "--state", url)
        assert (result.code, result.stderr) == (2, message(redact_url(url)))
        assert_no_secret(result)
    with pytest.raises(MissingStateError):  # the readers created no tables
        open_store(postgres_database, create=False)
    open_store(postgres_database).close()  # as provision or import would
    assert run(*READERS["status"], "--state", with_password).code == 0


# -- URLs and passwords ---------------------------------------------------------------------


@pytest.mark.parametrize("state", [
    "postgresql://bob:s3cr3t@[::1/x", "postgresql://bob:s3cr3t@[zz]/x",
    "postgresql://bob:s3cr3t@host:port/x", f"postgresql://bob:{PASSWORD}@[::1/x",
])
def test_a_malformed_state_url_is_bad_input_without_the_password(empty_cwd: Path,
                                                                 state: str) -> None:
    for args in (READERS["status"], ["registrations", "import", SERIES, CSV]):
        result = run(*args, "--state", state)
        assert result.code == 2, result.stderr
        assert "s3cr3t" not in result.stderr
        assert_no_secret(result)
        assert "bob:***@" in result.stderr
    assert files_under(empty_cwd) == []


def test_a_password_with_url_characters_never_appears_when_the_server_is_down(
        empty_cwd: Path) -> None:
    state = f"postgresql://bob:{PASSWORD}@127.0.0.1:1/s3?connect_timeout=2"
    result = run("registrations", "import", SERIES, CSV, "--state", state)
    assert result.code == 1
    assert "cannot open state database postgresql://bob:***@127.0.0.1:1/s3" in result.stderr
    assert_no_secret(result)


@pytest.mark.parametrize("char", ["#", "/", "?", "@", ":", "%"])
def test_an_smtp_password_with_url_characters_is_read_whole(char: str) -> None:
    password = f"Qz7{char}Kx9"
    target = parse_smtp_url(f"smtp://bob:{password}@mail.example.org:587")
    assert target.password is not None
    assert (target.host, target.port, target.username) == ("mail.example.org", 587, "bob")
    assert target.password.get_secret_value() == password


@pytest.mark.parametrize("url", [
    f"smtp://bob:{PASSWORD}@[::1:25", f"smtp://bob:{PASSWORD}@[zz]:25",
    f"smtp://bob:{PASSWORD}@mail.example.org:port", f"smtps://bob:{PASSWORD}@[::1",
])
def test_a_malformed_smtp_url_is_a_clean_error_without_the_password(url: str) -> None:
    from s3events.errors import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        parse_smtp_url(url)
    assert "bob:***@" in str(caught.value)
    assert not [piece for piece in PIECES if piece in str(caught.value)]


def test_a_malformed_transport_url_in_dispatch_is_a_clean_error(empty_cwd: Path) -> None:
    run("registrations", "import", SERIES, CSV, "--state", "state.db",
        "--now", "2021-10-01T00:00:00Z")
    result = run("dispatch", SERIES, "--state", "state.db", "--now", "2021-10-02T00:00:00Z",
                 "--transport", f"smtp://bob:{PASSWORD}@[::1:25")
    assert result.code != 0
    assert "cannot read the host and port of smtp://bob:***@[::1:25" in result.stderr
    assert_no_secret(result)


# -- database errors carry no parameters or row data ----------------------------------------

PERSON = {"name": "Aiyana Quispe-Secret", "email": "aiyana.secret@example.org",
          "token": "tok-9f8e7d6c5b4a"}


def person_row(**changes: Any) -> dict[str, Any]:
    now = datetime(2021, 10, 1, tzinfo=timezone.utc)
    row = {"id": "r1", "series_id": "demo", "email_key": PERSON["email"],
           "email": PERSON["email"], "name": PERSON["name"], "language": "es",
           "timezone": "America/Lima", "status": "confirmed", "position": 1,
           "token": PERSON["token"], "registered_at": now, "updated_at": now}
    return {**row, **changes}


FAILURES = {
    "duplicate email": {"id": "r2", "token": "tok-other"},
    "NUL byte": {"id": "r3", "email_key": "x@example.org", "token": "t3",
                 "name": PERSON["name"] + "\x00"},
    "too long": {"id": "r4", "email_key": "y@example.org", "token": "t4",
                 "name": PERSON["name"] * 20},
    "missing column": {"id": "r5", "email_key": "z@example.org", "token": "t5",
                       "language": None},
}


def assert_no_personal_data(text: str) -> None:
    for value in PERSON.values():
        assert value not in text, text
    assert "DETAIL" not in text and "Failing row" not in text


@pytest.mark.postgres
@pytest.mark.parametrize("failure", sorted(FAILURES))
def test_postgresql_errors_hold_no_parameter_values_or_row_data(postgres_database: str,
                                                                failure: str) -> None:
    with open_store(postgres_database) as store:
        assert store.engine.hide_parameters
        with store.begin() as conn:
            conn.execute(registrations.insert().values(**person_row()))
        with pytest.raises(SQLAlchemyError) as raw, store.engine.begin() as conn:
            conn.execute(registrations.insert().values(**person_row(**FAILURES[failure])))
        assert "parameters hidden" in str(raw.value)
        assert_no_personal_data(str(raw.value))
        assert_no_personal_data(str(raw.value.orig))
        with pytest.raises(StoreError) as wrapped, store.begin() as conn:
            conn.execute(registrations.insert().values(**person_row(**FAILURES[failure])))
        assert_no_personal_data(str(wrapped.value))
        assert_no_personal_data(str(wrapped.value.__cause__))


def test_sqlite_errors_hold_no_parameter_values(tmp_path: Path) -> None:
    with open_store(tmp_path / "state.db") as store:
        with store.begin() as conn:
            conn.execute(registrations.insert().values(**person_row()))
        with pytest.raises(StoreError) as caught, store.begin() as conn:
            conn.execute(registrations.insert().values(**person_row(id="r2", token="t2")))
        assert_no_personal_data(str(caught.value))
        assert_no_personal_data(str(caught.value.__cause__))
