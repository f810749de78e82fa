"""What people typed reaches the terminal as text: no markup, no control sequences.

Hostile names, emails and organisations are planted in the state database as they would
arrive from a form or a spreadsheet, then every command that prints them runs: the output
shows the markup as text, and carries no ESC, CSI, OSC 8 hyperlink, BEL, CR or bidi
override. ``s3events times`` fits an 80-column terminal with five zones, no cell cut.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_skeleton
from rich.cells import cell_len
from sqlalchemy import update

from s3events.loading import load_series
from s3events.store import meetings, open_store, registrations
from s3events.terminal import clean, json_text, safe, shown
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import Run, run

REFERENCE = Path(__file__).resolve().parents[1] / "examples" / "s3-latam-2021"
SERIES = str(REFERENCE / "series.yaml")
CSV = str(REFERENCE / "registrations.csv")
VICTIM = "jose.pena@example.org"  # the first row of the reference registrations

MARKUP = "[/bold] [link=https://evil.example]click[/link] [blink]x[/blink]"
CONTROLS = ("\x1b[31mred\x1b[0m \x1b]8;;https://evil.example\x07hyper\x1b]8;;\x07 "
            "\x07bell over\rwrite \u202eevil\u202c \x9b2J \u2028next")
HOSTILE_NAME = f"Ana {MARKUP} {CONTROLS}"
HOSTILE_ORG = f"[bold red]Org[/] {CONTROLS}"
FORBIDDEN = ["\x1b", "\x07", "\r", "\u202e", "\u202c", "\x9b", "\u2028"]


def assert_inert(result: Run) -> None:
    """No traceback and no control character in anything the command printed."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output and "MarkupError" not in output, output
    found = [repr(char) for char in FORBIDDEN if char in output]
    assert not found, f"{found} reached the terminal:\n{output}"


@pytest.fixture
def hostile_state(tmp_path: Path) -> str:
    """A state with the reference registrations, one of them renamed by a hostile hand."""
    state = str(tmp_path / "state.db")
    imported = run("registrations", "import", SERIES, CSV, "--state", state,
                   "--now", "2021-10-01T00:00:00Z")
    assert imported.code == 0, imported.stderr
    with open_store(state) as store, store.begin() as conn:
        conn.execute(update(registrations).where(registrations.c.email_key == VICTIM)
                     .values(name=HOSTILE_NAME, organisation=HOSTILE_ORG,
                             email=f"{VICTIM}\x1b[8m"))
    return state


def test_registrations_list_shows_markup_as_text_and_no_control_characters(
        hostile_state: str) -> None:
    result = run("registrations", "list", SERIES, "--state", hostile_state)
    assert result.code == 0
    assert_inert(result)
    assert "[/bold]" in result.stdout and "[link=https://evil.example]" in result.stdout
    assert "\\x1b[31mred" in result.stdout  # shown, visibly, as an escape


def test_registrations_list_json_escapes_what_json_leaves_raw(hostile_state: str) -> None:
    result = run("registrations", "list", SERIES, "--state", hostile_state, "--json")
    assert_inert(result)
    people = {row["email"].split("\x1b")[0]: row for row in json.loads(result.stdout)}
    assert people[VICTIM]["name"] == HOSTILE_NAME  # the data itself is unchanged


def test_export_cancel_and_erase_print_nothing_raw(hostile_state: str) -> None:
    exported = run("registrations", "export", SERIES, VICTIM, "--state", hostile_state)
    assert_inert(exported)
    assert json.loads(exported.stdout)["registration"]["name"] == HOSTILE_NAME
    for args in (["cancel", SERIES, f"{VICTIM}\x1b[2J"], ["cancel", SERIES, VICTIM],
                 ["erase", SERIES, VICTIM, "--yes"]):
        assert_inert(run("registrations", *args, "--state", hostile_state,
                         "--now", "2021-10-02T00:00:00Z"))


@pytest.mark.parametrize("fmt", ["text", "html", "eml", "ics"])
def test_preview_of_a_hostile_name_prints_no_control_characters(hostile_state: str,
                                                                fmt: str) -> None:
    result = run("preview", SERIES, "--state", hostile_state, "--registration", VICTIM,
                 "--kind", "confirmation", "--format", fmt, "--now", "2021-10-02T00:00:00Z")
    assert result.code == 0, result.stderr
    if fmt in ("eml", "ics"):  # the formats' own CRLF line ends stay
        result.stdout = result.stdout.replace("\r\n", "\n")
    assert_inert(result)


def test_status_and_meetings_escape_what_the_database_holds(hostile_state: str) -> None:
    now = datetime(2021, 10, 1, tzinfo=timezone.utc)
    with open_store(hostile_state) as store, store.begin() as conn:
        conn.execute(meetings.insert().values(
            series_id="s3-latam-2021", session_id="day-1", platform="jitsi", state="active",
            marker="m", meeting_id=f"[/bold]{CONTROLS}",
            join_url=f"https://meet.example/[link=https://evil.example]x{CONTROLS}",
            created_at=now, updated_at=now))
    for args in (["status", SERIES], ["meetings", SERIES], ["meetings", SERIES, "--json"]):
        result = run(*args, "--state", hostile_state)
        assert result.code == 0, result.stderr
        assert_inert(result)


def test_an_import_report_quotes_bad_values_without_control_characters(
        tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,email,timezone,sector,consent\n"
                   "Eve,eve\x1b[2J@example.org,Europe/Paris,public-administration,yes\n"
                   "Mal,mal@example.org,\x1b]8;;https://evil.example\x07Lima,other,yes\n"
                   "Bob,bob@example.org,America/Lima,\x07\u202eweird,yes\n",
                   encoding="utf-8")
    result = run("registrations", "import", SERIES, str(bad), "--state",
                 str(tmp_path / "state.db"), "--now", "2021-10-01T00:00:00Z")
    assert result.code == 2
    assert_inert(result)


def test_error_messages_carry_no_control_characters(tmp_path: Path) -> None:
    result = run("times", SERIES, "--tz", "\x1b]8;;https://evil.example\x07Lima\x1b]8;;\x07")
    assert result.code == 2
    assert_inert(result)


# -- the helpers themselves -----------------------------------------------------------------


@pytest.mark.parametrize("value", [HOSTILE_NAME, HOSTILE_ORG, "\x00\x7f\x85", "a\\[bold]"])
def test_the_helpers_leave_no_control_character_and_no_live_markup(value: str) -> None:
    from rich.console import Console

    for text in (clean(value), safe(value), shown(value)):
        assert not [c for c in FORBIDDEN if c in text]
    console = Console(file=None, record=True, width=200, emoji=False)
    with console.capture() as captured:
        console.print(safe(value))
    assert not [c for c in FORBIDDEN if c in captured.get()]


def test_plain_text_and_accents_are_left_alone() -> None:
    for text in ("José Peña", "São Paulo", "東京", "Zoë 👩‍💻"):
        assert clean(text) == text
    assert clean("line\nnext", keep_newlines=True) == "line\nnext"
    assert clean("line\nnext") == "line\\x0anext"
    assert json.loads(json_text(json.dumps({"a": "\u202e\x9b"}, ensure_ascii=False))) == {
        "a": "\u202e\x9b"}


# -- `times` in 80 columns ------------------------------------------------------------------

FIVE = ["Europe/Brussels", "America/Mexico_City", "America/Argentina/Buenos_Aires",
        "America/Santiago", "Asia/Kolkata"]


def expected_cells(path: str, zones: list[str], lang: str) -> list[str]:
    series = load_series(path)
    found = []
    for session in series.sessions:
        for zone in zones:
            start = session.start.astimezone(ZoneInfo(zone))
            end = session.ends_at.astimezone(ZoneInfo(zone))
            later = (end.date() - start.date()).days
            span = (f"{format_skeleton('Hm', start, locale=lang)}–"
                    f"{format_skeleton('Hm', end, locale=lang)}")
            found += [format_skeleton("MMMEd", start, locale=lang),
                      span + (f" +{later}" if later else "")]
    return found


def assert_fits(result: Run, width: int) -> None:
    assert result.code == 0, result.stderr
    too_wide = [line for line in result.stdout.splitlines() if cell_len(line) > width]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in result.stdout


@pytest.mark.parametrize("lang", ["en", "es"])
def test_times_with_five_zones_fits_80_columns_without_cutting_a_cell(
        monkeypatch: pytest.MonkeyPatch, lang: str) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    result = run("times", SERIES, *(f"--tz={zone}" for zone in FIVE), "--lang", lang)
    assert_fits(result, 80)
    for cell in expected_cells(SERIES, FIVE, lang):
        assert cell in result.stdout, f"{cell!r} is missing or cut"
    for zone in FIVE:
        for part in zone.split("/"):
            assert part in result.stdout


def test_times_on_a_wide_terminal_adds_the_titles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    result = run("times", SERIES, *(f"--tz={zone}" for zone in FIVE))
    assert_fits(result, 160)
    assert "Title" in result.stdout


@pytest.mark.parametrize("columns", [40, 60, 80])
def test_times_falls_back_to_blocks_when_no_table_fits(
        monkeypatch: pytest.MonkeyPatch, write_series: Callable[..., Path],
        columns: int) -> None:
    data = minimal_series_data()
    data["sessions"][0]["id"] = "a-session-id-that-pushes-tables-wide"
    data["sessions"][0]["title"] = {"en": f"Hostile {MARKUP}", "es": "Primera"}
    path = write_series(data)
    monkeypatch.setenv("COLUMNS", str(columns))
    zones = [*FIVE, "Pacific/Auckland"]
    result = run("times", str(path), *(f"--tz={zone}" for zone in zones))
    assert_fits(result, columns)
    assert_inert(result)
    assert "a-session-id-that-pushes-tables-wide" in result.stdout
    assert "[/bold]" in result.stdout
    for cell in expected_cells(str(path), zones, "en"):
        assert cell in result.stdout
