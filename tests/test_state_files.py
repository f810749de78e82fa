"""What ``--state`` names is checked before anything is written to it.

A file that is not a database, an empty file, a SQLite or PostgreSQL database holding
another application's tables: every command that reads the state refuses them with exit 2
and one sentence, and leaves them byte for byte as they were (no tables, no journal mode,
no ``-wal`` or ``-shm`` beside them). The commands that create the state refuse a file
that is not a database the same way. An import whose file is refused whole removes the
database it had just created, so a later ``dispatch`` cannot find "nothing to send" in it.
A state that is neither a SQLite path nor a PostgreSQL URL, or a port out of range, is bad
input; a server that cannot be reached is a clean one-line failure without the password.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, inspect, text

from s3events.store import open_store, registrations
from s3events.urls import redact_url
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import Run, run

REFERENCE = Path(__file__).resolve().parents[1] / "examples" / "s3-latam-2021"
SERIES = str(REFERENCE / "series.yaml")
NOW = "2021-10-01T00:00:00Z"

#: Every command that reads the state, as a person would type it (state appended).
READERS = {
    "dispatch": ["dispatch", SERIES, "--now", "2021-10-27T07:00:00Z"],
    "status": ["status", SERIES],
    "preview": ["preview", SERIES, "--registration", "ana@example.org", "--kind",
                "confirmation"],
    "meetings": ["meetings", SERIES],
    "retry": ["retry", SERIES],
    "registrations list": ["registrations", "list", SERIES],
    "registrations export": ["registrations", "export", SERIES, "ana@example.org"],
    "registrations cancel": ["registrations", "cancel", SERIES, "ana@example.org"],
    "registrations erase": ["registrations", "erase", SERIES, "ana@example.org", "--yes"],
    "attendance report": ["attendance", "report", SERIES],
    "certificates verify": ["certificates", "verify", SERIES, "YSW1-G8SQ-5V9C-R4M9"],
}

#: The commands that create the state when there is none.
CREATORS = {
    "provision": ["provision", SERIES, "--now", NOW],
    "registrations import": ["registrations", "import", SERIES, str(REFERENCE /
                                                                    "registrations.csv")],
    "plan": ["plan", SERIES, "--now", NOW],
}

PASSWORD = "Tq8#Nw3/Zx6?Jb1@Uc4"
PIECES = ["Tq8", "Nw3", "Zx6", "Jb1", "Uc4"]


def not_state(where: str, reason: str) -> str:
    return (f"error: {where} is not an s3events state database ({reason}): give the right "
            "--state or S3EVENTS_STATE\n")


def missing(where: str) -> str:
    return f"error: no state database at {where}: run provision or registrations import first\n"


def clean(result: Run) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "sqlalchemy" not in output.lower(), output
    assert not [piece for piece in PIECES if piece in output], output


def snapshot(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("S3EVENTS_STATE", raising=False)
    return tmp_path


def foreign_sqlite(path: Path, *, wal: bool) -> None:
    """A SQLite database of another application: one table with a row."""
    conn = sqlite3.connect(path)
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()


# -- a file that is not a database --------------------------------------------------------


@pytest.mark.parametrize("command", sorted({**READERS, **CREATORS}))
def test_a_file_that_is_not_a_database_is_refused_and_left_untouched(cwd: Path,
                                                                    command: str) -> None:
    (cwd / "g.db").write_bytes(b"garbage\n")
    before = snapshot(cwd)
    result = run(*{**READERS, **CREATORS}[command], "--state", "g.db")
    assert (result.code, result.stderr) == (2, not_state("g.db", "file is not a database"))
    clean(result)
    assert snapshot(cwd) == before


def test_serve_refuses_a_file_that_is_not_a_database(cwd: Path) -> None:
    pytest.importorskip("flask", reason="the web app needs Flask (pip install -e '.[web]')")
    (cwd / "g.db").write_bytes(b"\x00" * 100 + b"not sqlite")
    before = snapshot(cwd)
    result = run("serve", SERIES, "--port", "0", "--state", "g.db")
    assert result.code == 2
    assert result.stderr.endswith(not_state("g.db", "file is not a database"))
    clean(result)
    assert snapshot(cwd) == before


def test_the_variable_naming_a_text_file_is_refused_like_the_option(
        cwd: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = cwd / "notes.txt"
    notes.write_text("SQLite format 2, not really\n", encoding="utf-8")
    monkeypatch.setenv("S3EVENTS_STATE", str(notes))
    result = run(*READERS["dispatch"])
    assert (result.code, result.stderr) == (2, not_state(str(notes), "file is not a database"))
    assert notes.read_text(encoding="utf-8") == "SQLite format 2, not really\n"


def test_a_damaged_state_database_is_refused_without_a_traceback(cwd: Path) -> None:
    imported = run(*CREATORS["registrations import"], "--state", "state.db", "--now", NOW)
    assert imported.code == 0, imported.stderr
    with open_store("state.db") as store:  # folds the write-ahead log into the file
        store.purge_deleted()
    data = bytearray((cwd / "state.db").read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the first page's b-tree: the schema's root
    (cwd / "state.db").write_bytes(bytes(data))
    result = run(*READERS["status"], "--state", "state.db")
    assert result.code == 2
    assert result.stderr.startswith("error: state.db is not an s3events state database (")
    clean(result)


# -- an empty file, or another application's database --------------------------------------


@pytest.mark.parametrize("command", sorted(READERS))
def test_an_empty_file_is_missing_and_stays_empty(cwd: Path, command: str) -> None:
    (cwd / "empty.db").touch()
    result = run(*READERS[command], "--state", "empty.db")
    assert (result.code, result.stderr) == (2, missing("empty.db"))
    assert snapshot(cwd) == {"empty.db": b""}


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
@pytest.mark.parametrize("command", sorted(READERS))
def test_another_applications_sqlite_database_is_refused_and_not_written(
        cwd: Path, command: str, wal: bool) -> None:
    foreign_sqlite(cwd / "app.db", wal=wal)
    before = snapshot(cwd)
    result = run(*READERS[command], "--state", "app.db")
    assert (result.code, result.stderr) == (2, not_state(
        "app.db", "it holds other tables, none of s3events'"))
    assert snapshot(cwd) == before  # not a byte: no tables, no journal mode, no -wal/-shm


def test_a_sqlite_database_without_tables_is_missing(cwd: Path) -> None:
    conn = sqlite3.connect(cwd / "bare.db")
    conn.execute("PRAGMA user_version = 7")  # writes the header, and no table
    conn.commit()
    conn.close()
    before = snapshot(cwd)
    result = run(*READERS["status"], "--state", "bare.db")
    assert (result.code, result.stderr) == (2, missing("bare.db"))
    assert snapshot(cwd) == before


def _tables(url: str) -> list[str]:
    target = url if "://" in url else f"sqlite:///{url}"
    engine = create_engine(target.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return sorted(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def _add_foreign_table(url: str) -> None:
    if "://" not in url:
        foreign_sqlite(Path(url), wal=False)
        return
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE invoices (id SERIAL PRIMARY KEY, total REAL)"))
    engine.dispose()


@pytest.mark.parametrize("command", ["dispatch", "status", "registrations list", "retry",
                                     "attendance report"])
def test_readers_create_no_table_in_another_applications_database(state_url: str,
                                                                  command: str) -> None:
    _add_foreign_table(state_url)
    result = run(*READERS[command], "--state", state_url)
    assert (result.code, result.stderr) == (2, not_state(
        redact_url(state_url), "it holds other tables, none of s3events'"))
    clean(result)
    assert _tables(state_url) == ["invoices"]


def test_provision_adds_its_tables_beside_another_applications(state_url: str) -> None:
    _add_foreign_table(state_url)
    result = run(*CREATORS["provision"], "--state", state_url)
    assert result.code == 0, result.stderr
    assert "invoices" in _tables(state_url) and "s3e_meetings" in _tables(state_url)
    assert run(*READERS["status"], "--state", state_url).code == 0


# -- an import that stores nothing leaves no database behind -------------------------------


@pytest.fixture
def series_pt(cwd: Path) -> str:
    """A series in Portuguese and Spanish, in São Paulo's zone."""
    data = minimal_series_data(
        id="ciclo-pt", languages=["pt", "es"], default_language="pt",
        timezone="America/Sao_Paulo", title={"pt": "Ciclo de seminários", "es": "Ciclo"})
    for session in data["sessions"]:
        session["title"] = {"pt": "Sessão", "es": "Sesión"}
    path = cwd / "ciclo.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return str(path)


def _people(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Nome completo", "E-mail", "Idioma", "Fuso horário"])
        writer.writerows(rows)
    return path


def test_an_import_refused_whole_removes_the_database_it_created(cwd: Path,
                                                                  series_pt: str) -> None:
    broken = cwd / "inscricoes.xlsx"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 40 + "não é uma planilha".encode())
    result = run("registrations", "import", series_pt, str(broken), "--state", "new.db",
                 "--now", NOW)
    assert result.code == 2, result.stderr
    clean(result)
    assert sorted(snapshot(cwd)) == ["ciclo.yaml", "inscricoes.xlsx"]
    after = run("dispatch", series_pt, "--now", NOW, "--state", "new.db")
    assert (after.code, after.stderr) == (2, missing("new.db"))  # not "nothing to send"


def test_an_import_of_only_bad_rows_removes_the_default_state_and_its_folder(
        cwd: Path, series_pt: str) -> None:
    people = _people(cwd / "pessoas.csv", [["Iara Tupinambá", "sem-arroba", "pt",
                                            "America/Manaus"],
                                           ["Kaique Souza", "", "pt", "America/Belem"]])
    result = run("registrations", "import", series_pt, str(people), "--now", NOW)
    assert result.code == 2
    assert "2 row(s) of" in result.stderr
    assert sorted(p.name for p in cwd.iterdir()) == ["ciclo.yaml", "pessoas.csv"]


def test_an_import_that_keeps_some_rows_keeps_the_database(cwd: Path,
                                                           series_pt: str) -> None:
    people = _people(cwd / "pessoas.csv", [["Iara Tupinambá", "iara@example.com.br", "pt",
                                            "America/Manaus"],
                                           ["Kaique Souza", "sem-arroba", "pt",
                                            "America/Belem"]])
    result = run("registrations", "import", series_pt, str(people), "--state", "kept.db",
                 "--now", NOW)
    assert result.code == 2 and "1 row(s) of" in result.stderr
    listed = run("registrations", "list", series_pt, "--state", "kept.db", "--json")
    assert listed.code == 0 and "iara@example.com.br" in listed.stdout


def test_a_refused_import_into_an_existing_state_keeps_it_and_its_data(
        cwd: Path, series_pt: str) -> None:
    good = _people(cwd / "pessoas.csv", [["Iara Tupinambá", "iara@example.com.br", "pt",
                                          "America/Manaus"]])
    assert run("registrations", "import", series_pt, str(good), "--state", "s.db",
               "--now", NOW).code == 0
    (cwd / "vazio.xlsx").write_bytes(b"")
    refused = run("registrations", "import", series_pt, str(cwd / "vazio.xlsx"), "--state",
                  "s.db", "--now", NOW)
    assert refused.code == 2
    with open_store("s.db", create=False) as store, store.connect() as conn:
        assert conn.execute(registrations.select()).first() is not None


def test_an_import_into_an_empty_file_given_on_purpose_keeps_the_file(
        cwd: Path, series_pt: str) -> None:
    (cwd / "prepared.db").touch()  # made by the person (mktemp, a mounted volume …)
    (cwd / "vazio.xlsx").write_bytes(b"")
    refused = run("registrations", "import", series_pt, str(cwd / "vazio.xlsx"), "--state",
                  "prepared.db", "--now", NOW)
    assert refused.code == 2
    assert (cwd / "prepared.db").exists()


# -- state URLs that are bad input, and a server that is down ------------------------------


@pytest.mark.parametrize(("state", "says"), [
    ("mysql://ana@db.example.org/s3", "mysql is not supported"),
    (f"mssql+pyodbc://ana:{PASSWORD}@db.example.org/s3", "mssql is not supported"),
    ("oracle://ana@db.example.org:1521/s3", "oracle is not supported"),
    ("postgresql://ana@db.example.org:99999/s3", "port 99999 is out of range (1 to 65535)"),
    (f"postgresql://ana:{PASSWORD}@127.0.0.1:0/s3", "port 0 is out of range (1 to 65535)"),
])
@pytest.mark.parametrize("command", ["status", "dispatch", "registrations import",
                                     "provision"])
def test_an_unsupported_or_out_of_range_state_url_is_bad_input(cwd: Path, state: str,
                                                               says: str, command: str) -> None:
    result = run(*{**READERS, **CREATORS}[command], "--state", state)
    assert (result.code, result.stderr) == (2, f"error: state database {redact_url(state)}: "
                                               f"{says}" + (
        "; give a SQLite file path or a postgresql://user:password@host:port/database URL\n"
        if "supported" in says else "\n"))
    clean(result)
    assert list(cwd.iterdir()) == []


@pytest.mark.parametrize("command", ["status", "dispatch", "meetings", "provision"])
def test_a_server_that_cannot_be_reached_is_one_line_exit_1_without_the_password(
        cwd: Path, command: str) -> None:
    state = f"postgresql://ana:{PASSWORD}@127.0.0.1:1/s3?connect_timeout=2"
    result = run(*{**READERS, **CREATORS}[command], "--state", state)
    assert result.code == 1
    assert result.stderr.startswith(
        f"error: cannot open state database {redact_url(state)}: connection failed")
    assert result.stderr.count("\n") == 1
    clean(result)
