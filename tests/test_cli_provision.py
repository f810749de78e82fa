"""The ``plan``, ``provision`` and ``meetings`` commands, end to end through ``main``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from s3events.cli import main
from s3events.errors import RateLimited
from s3events.provision import meeting_rows
from s3events.store import open_store
from tests.test_provision_fakes import HOST_SECRET, FakePlatform, series_data, shifted

# Fixtures (a redundant alias marks them as used here):
from tests.test_provision_fakes import fake_platform as fake_platform
from tests.test_provision_fakes import registered_fake as registered_fake

NOW = "2021-10-01T00:00:00Z"
REFERENCE = Path(__file__).resolve().parents[1] / "examples" / "s3-latam-2021" / "series.yaml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


@pytest.fixture
def series_file(tmp_path: Path) -> Path:
    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(series_data(), sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def state(tmp_path: Path) -> str:
    return str(tmp_path / "state" / "state.db")


def database_text(state: str) -> str:
    """Everything in the state database, as SQL text, plus its raw bytes decoded."""
    with sqlite3.connect(state) as conn:
        dump = "\n".join(conn.iterdump())
    raw = b"".join(p.read_bytes() for p in Path(state).parent.glob("state.db*"))
    return dump + raw.decode("latin-1")


def test_plan_json_is_exactly_a_list_of_session_action_reason(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    code, out, _ = run(capsys, "plan", str(series_file), "--json", "--now", NOW,
                       "--state", state)
    assert code == 0
    assert json.loads(out) == [
        {"session": "s1", "action": "create", "reason": "new session"},
        {"session": "s2", "action": "create", "reason": "new session"},
        {"session": "s3", "action": "create", "reason": "new session"},
    ]
    assert registered_fake.writes() == []


def test_plan_changes_nothing_and_provision_then_has_nothing_left(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    code, out, _ = run(capsys, "plan", str(series_file), "--now", NOW, "--state", state)
    assert code == 0
    assert "Plan: 3 to create, 0 to update, 0 to delete, 0 unchanged, 0 skipped." in out
    with open_store(state) as store:
        assert meeting_rows(store, "demo") == {}
    code, out, _ = run(capsys, "provision", str(series_file), "--now", NOW, "--state", state)
    assert code == 0
    assert "Done: 3 created, 0 updated, 0 deleted, 0 unchanged, 0 skipped." in out
    writes = len(registered_fake.writes())
    code, out, _ = run(capsys, "provision", str(series_file), "--now", NOW, "--state", state)
    assert "Done: 0 created, 0 updated, 0 deleted, 3 unchanged, 0 skipped." in out
    assert len(registered_fake.writes()) == writes == 3


def test_plan_shows_moves_and_cancellations_with_reasons(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    run(capsys, "provision", str(series_file), "--now", NOW, "--state", state)
    data = shifted(series_data(), "s2", start="2021-11-04T18:00:00", end="2021-11-04T20:30:00")
    data = shifted(data, "s3", status="cancelled")
    series_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    _, out, _ = run(capsys, "plan", str(series_file), "--json", "--now", NOW, "--state", state)
    assert json.loads(out) == [
        {"session": "s1", "action": "unchanged", "reason": "meeting up to date"},
        {"session": "s2", "action": "update", "reason": "moved from 2021-11-04 17:00 "
         "Europe/Brussels to 2021-11-04 18:00 Europe/Brussels"},
        {"session": "s3", "action": "delete", "reason": "session cancelled"},
    ]


def test_sessions_ended_at_now_are_skipped(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    code, out, _ = run(capsys, "provision", str(series_file), "--json",
                       "--now", "2021-11-05T00:00:00+01:00", "--state", state)
    assert code == 0
    assert [item["action"] for item in json.loads(out)] == ["skip", "skip", "create"]
    assert registered_fake.sessions() == ["s3"]


def test_host_url_appears_in_no_output_and_not_in_the_state(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    outputs = []
    for argv in (["plan"], ["provision"], ["plan", "--json"], ["provision", "--json"],
                 ["meetings"], ["meetings", "--json"]):
        code, out, err = run(capsys, argv[0], str(series_file), *argv[1:], "--state", state,
                             *(["--now", NOW] if argv[0] != "meetings" else []))
        assert code == 0, err
        outputs.append(out + err)
    text = "\n".join(outputs)
    assert "https://video.example.org/j/" in text
    assert HOST_SECRET not in text and "video.example.org/s/" not in text
    db = database_text(state)
    assert "video.example.org/j/" in db
    assert HOST_SECRET not in db and "video.example.org/s/" not in db


def test_meetings_lists_platform_meeting_id_and_join_link(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    run(capsys, "provision", str(series_file), "--now", NOW, "--state", state)
    code, out, _ = run(capsys, "meetings", str(series_file), "--json", "--state", state)
    assert code == 0
    listed = json.loads(out)
    assert [m["session"] for m in listed] == ["s1", "s2", "s3"]
    first = listed[0]
    assert first["platform"] == "fakevendor" and first["state"] == "active"
    assert first["join_url"] == f"https://video.example.org/j/{first['meeting_id']}"
    _, out, _ = run(capsys, "meetings", str(series_file), "--state", state)
    lines = out.splitlines()
    assert lines[0] == "demo: meetings"
    assert listed[1]["start"] == "2021-11-04T16:00:00Z"
    assert lines[3:5] == [f"s2  2021-11-04 17:00 Europe/Brussels  fakevendor  meeting "
                          f"{listed[1]['meeting_id']}",
                          f"    {listed[1]['join_url']}"]


def test_platform_option_overrides_the_series_file(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    code, _, err = run(capsys, "provision", str(series_file), "--platform", "jitsi",
                       "--now", NOW, "--state", state)
    assert code == 0, err
    assert registered_fake.calls == []
    _, out, _ = run(capsys, "meetings", str(series_file), "--json", "--state", state)
    assert {m["platform"] for m in json.loads(out)} == {"jitsi"}


def test_unknown_platform_is_a_clear_input_error(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str
) -> None:
    code, out, err = run(capsys, "plan", str(series_file), "--platform", "teamspeak",
                         "--state", state)
    assert code == 2
    assert err.startswith("error: unknown platform 'teamspeak'; installed: ")
    assert "Traceback" not in out + err


def test_vendor_failure_names_the_session_without_a_traceback(
    capsys: pytest.CaptureFixture[str], series_file: Path, state: str,
    registered_fake: FakePlatform,
) -> None:
    def limited(*args: object) -> None:
        raise RateLimited("fakevendor is rate limiting (HTTP 429) POST /meetings",
                          service="fakevendor", status=429)

    registered_fake.step = limited  # type: ignore[method-assign]
    code, out, err = run(capsys, "provision", str(series_file), "--now", NOW, "--state", state)
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: fakevendor is rate limiting (HTTP 429) POST /meetings [session s1]")
    assert "Traceback" not in out + err


def test_reference_example_provisions_on_jitsi_and_lists_its_links(
    capsys: pytest.CaptureFixture[str], state: str
) -> None:
    code, out, err = run(capsys, "provision", str(REFERENCE), "--now", NOW, "--state", state)
    assert code == 0, err
    assert "Done: 5 created" in out
    code, out, _ = run(capsys, "meetings", str(REFERENCE), "--state", state)
    assert code == 0
    links = [w for w in out.split() if w.startswith("https://meet.jit.si/s3-latam-2021-day-")]
    assert len(links) == 5 and len(set(links)) == 5
    code, out, _ = run(capsys, "plan", str(REFERENCE), "--json", "--now", NOW, "--state", state)
    assert {item["action"] for item in json.loads(out)} == {"unchanged"}
