"""The dispatch, status and preview commands, run as a person runs them: the real executable.

Includes the crash tests (SIGKILL at random points, then run again; one message at a time
and several in flight, on SMTP and on a chat API) and two workers on one PostgreSQL database
that provably both send.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from s3events.store import open_store
from tests.fixtures.series import minimal_series_data
from tests.test_dispatch_support import add_person, provision, rows

EXE = str(Path(sys.executable).parent / "s3events")
#: Both sessions' links released (eight days before), the first session not yet started.
AFTER_ALL = "2021-10-28T12:00:00Z"


def _series_file(write_series) -> Path:
    data = minimal_series_data()
    data["languages"] = ["en", "es", "pt"]
    data["dispatch"] = {"link": {"days_before": 8, "local_time": "09:00"}}
    return write_series(data)


def _populate(state: str, path: Path, people: int) -> int:
    from s3events.loading import load_series

    series = load_series(path)
    with open_store(state) as store:
        provision(store, series)
        for i in range(people):
            add_person(store, series, f"p{i:04d}@example.org", name=f"Person {i}",
                       language=("es", "en", "pt")[i % 3])
    return people * 3  # a confirmation and two links each


def _run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def test_dispatch_then_again_sends_nothing(tmp_path, write_series, smtp_server):
    path, state = _series_file(write_series), str(tmp_path / "state.db")
    expected = _populate(state, path, 4)
    first = _run("dispatch", str(path), "--state", state, "--now", AFTER_ALL,
                 "--transport", smtp_server.url)
    assert "sent 4 confirmation message(s)" in first.stdout
    assert len(smtp_server.messages) == expected
    second = _run("dispatch", str(path), "--state", state, "--now", AFTER_ALL,
                  "--transport", smtp_server.url)
    assert "nothing to send" in second.stdout and len(smtp_server.messages) == expected
    assert "@example.org" not in first.stdout + first.stderr  # no personal data printed


def test_status_counts_per_session_kind_and_state(tmp_path, write_series):
    path, state = _series_file(write_series), str(tmp_path / "state.db")
    _populate(state, path, 2)
    _run("dispatch", str(path), "--state", state, "--now", "2021-10-02T00:00:00Z",
         "--transport", f"outbox:{tmp_path / 'out'}")
    counts = json.loads(_run("status", str(path), "--state", state, "--json").stdout)["counts"]
    assert {"session": "-", "kind": "confirmation", "state": "sent", "count": 2} in counts
    assert {"session": "s1", "kind": "link", "state": "pending", "count": 2} in counts
    table = _run("status", str(path), "--state", state).stdout
    assert "confirmation" in table and "pending" in table
    assert len(list((tmp_path / "out").glob("*.eml"))) == 2


def test_preview_changes_nothing(tmp_path, write_series):
    path, state = _series_file(write_series), str(tmp_path / "state.db")
    _populate(state, path, 1)
    before = _run("status", str(path), "--state", state, "--json").stdout
    text = _run("preview", str(path), "--state", state, "--registration", "P0000@example.org",
                "--session", "s1", "--kind", "link").stdout
    assert text.startswith("Subject: Su enlace para Primera")
    eml = _run("preview", str(path), "--state", state, "--registration", "p0000@example.org",
               "--session", "s1", "--format", "eml").stdout
    assert "method=REQUEST" in eml and "Message-ID: <" in eml
    assert _run("status", str(path), "--state", state, "--json").stdout == before
    missing = _run("preview", str(path), "--state", state, "--registration", "x@example.org",
                   "--session", "s1", check=False)
    assert missing.returncode == 2 and "no registration" in missing.stderr


def test_preview_of_an_opt_in_message_needs_the_page_address(tmp_path, write_series):
    path, state = _series_file(write_series), str(tmp_path / "state.db")
    _populate(state, path, 1)
    args = ["preview", str(path), "--state", state, "--registration", "p0000@example.org",
            "--kind", "optin"]
    text = _run(*args, "--base-url", "https://events.example.org").stdout
    assert "https://events.example.org/confirm/" in text
    missing = _run(*args, check=False)
    assert missing.returncode == 2 and "--base-url" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_base_url_comes_from_the_option_then_the_environment_then_the_series(
        tmp_path, write_series):
    from click.testing import CliRunner

    from s3events.cli import cli

    data = minimal_series_data(dispatch={"base_url": "https://series.example.org/s3"})
    path, state = write_series(data), str(tmp_path / "state.db")
    _populate(state, path, 1)
    args = ["preview", str(path), "--state", state, "--registration", "p0000@example.org",
            "--kind", "optin"]

    def confirm_link(env: dict[str, str | None], *extra: str) -> str:
        result = CliRunner().invoke(cli, [*args, *extra], env=env)
        assert result.exit_code == 0, result.output
        found = re.search(r"(https://\S+)/confirm/", result.output)
        assert found is not None, result.output
        return found.group(1)

    assert confirm_link({"S3EVENTS_BASE_URL": None}) == "https://series.example.org/s3"
    env = {"S3EVENTS_BASE_URL": "https://env.example.org"}
    assert confirm_link(env) == "https://env.example.org"
    assert confirm_link(env, "--base-url", "https://cli.example.org") == (
        "https://cli.example.org")


def test_dry_run_sends_and_writes_nothing(tmp_path, write_series, smtp_server):
    path, state = _series_file(write_series), str(tmp_path / "state.db")
    _populate(state, path, 2)
    out = _run("dispatch", str(path), "--state", state, "--now", AFTER_ALL, "--dry-run",
               "--transport", smtp_server.url).stdout
    assert "dry run" in out and smtp_server.messages == []
    with open_store(state) as store:
        assert rows(store) == []


def test_unreachable_server_exits_1_and_loses_nothing(tmp_path, write_series):
    path, state = _series_file(write_series), str(tmp_path / "state.db")
    _populate(state, path, 1)
    result = _run("dispatch", str(path), "--state", state, "--now", AFTER_ALL,
                  "--transport", "smtp://127.0.0.1:9?timeout=2", check=False)
    assert result.returncode == 1 and "cannot reach SMTP server" in result.stderr
    with open_store(state) as store:
        assert {r.state for r in rows(store)} == {"pending"}


def _kill_at_random_points(command: list[str], received: Callable[[], int], expected: int,
                           seed: int) -> int:
    """Run ``command`` again and again, SIGKILLing it after a random number of messages."""
    rng = random.Random(seed)
    kills = 0
    while received() < expected and kills < 4:
        target = received() + rng.randint(5, 40)
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        while proc.poll() is None and received() < target:
            time.sleep(0.002)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 2, "the runs finished before they could be killed"
    return kills


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", [1, 4])
def test_sigkill_at_random_points_loses_nothing_and_doubles_only_in_flight(
        state_url, write_series, smtp_server, concurrency):
    path = _series_file(write_series)
    expected = _populate(state_url, path, 40)
    smtp_server.delay = 0.02
    command = [EXE, "dispatch", str(path), "--state", state_url, "--now", AFTER_ALL,
               "--transport", smtp_server.url, "--batch-size", "7",
               "--concurrency", str(concurrency)]
    kills = _kill_at_random_points(command, lambda: len(smtp_server.messages), expected,
                                   seed=20211028 + concurrency)
    _run(*command[1:])
    copies = Counter(smtp_server.message_ids())
    assert len(copies) == expected  # every message arrived
    doubled = sum(n - 1 for n in copies.values())
    assert doubled <= kills * concurrency  # at most the ones in flight at each kill
    with open_store(state_url) as store:
        assert {r.state for r in rows(store)} == {"sent"}


@pytest.mark.slow
def test_sigkill_of_a_chat_channel_doubles_only_what_was_in_flight(
        tmp_path, write_series, chat_server):
    from tests.fixtures.chat import TOKEN

    data = minimal_series_data(dispatch={"channels": ["telegram"], "transports": {
        "telegram": {"bot_token": TOKEN, "api_base_url": chat_server.url, "concurrency": 4}},
        "link": {"days_before": 8, "local_time": "09:00"}})
    path, state = write_series(data), str(tmp_path / "state.db")
    from s3events.loading import load_series

    series = load_series(path)
    with open_store(state) as store:
        provision(store, series)
        for i in range(40):
            add_person(store, series, f"c{i:03d}@example.org", name=f"Chat {i}",
                       channels={"telegram": str(700000000 + i)})
    expected = 40 * 3
    chat_server.delay = 0.02
    command = [EXE, "dispatch", str(path), "--state", state, "--now", AFTER_ALL,
               "--batch-size", "7"]
    kills = _kill_at_random_points(command, lambda: len(chat_server.received), expected,
                                   seed=31)
    _run(*command[1:])
    copies = Counter(chat_server.keys())
    assert len(copies) == expected
    assert sum(n - 1 for n in copies.values()) <= kills * 4
    with open_store(state) as store:
        assert {r.state for r in rows(store)} == {"sent"}


@pytest.mark.postgres
@pytest.mark.slow
def test_two_workers_on_postgresql_both_send_and_each_message_goes_once(
        postgres_database, write_series, smtp_server):
    path = _series_file(write_series)
    expected = _populate(postgres_database, path, 60)
    # No reply until two messages are in flight at once: with one message at a time per
    # worker, the first worker waits for the second to claim and send, however late it
    # starts. A worker alone could not get past its first message.
    smtp_server.hold_until = 2
    smtp_server.hold_timeout = 120
    procs = [subprocess.Popen([EXE, "dispatch", str(path), "--state", postgres_database,
                               "--now", AFTER_ALL, "--transport", smtp_server.url,
                               "--batch-size", "5", "--concurrency", "1"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    assert not smtp_server.held_out and smtp_server.peak_in_flight == 2
    copies = Counter(smtp_server.message_ids())
    assert len(copies) == expected and set(copies.values()) == {1}
    assert all(re.search(r"^sent \d+ ", out, re.M) for out, _ in outputs)  # both took part


def test_concurrency_flag_sets_the_messages_in_flight(tmp_path, write_series, smtp_server):
    path, state = _series_file(write_series), str(tmp_path / "state.db")
    expected = _populate(state, path, 4)
    smtp_server.hold_until = 3
    _run("dispatch", str(path), "--state", state, "--now", AFTER_ALL, "--transport",
         smtp_server.url, "--concurrency", "3")
    assert not smtp_server.held_out and smtp_server.peak_in_flight == 3
    assert len(smtp_server.messages) == expected
    refused = _run("dispatch", str(path), "--state", state, "--concurrency", "0", check=False)
    assert refused.returncode == 2 and "--concurrency" in refused.stderr
