"""The examples run as a new user runs them: the script as a program, the plugins installed.

``examples/provision_series.py`` runs as a subprocess in a temporary folder, twice. The two
plugin packages are built and installed (``pip install --target``) into a fresh folder that
only the subprocesses see, then ``s3events plugins`` must list them and their own tests,
run from their folders against the installed copies, must pass.
"""

from __future__ import annotations

import email
import json
import os
import subprocess
import sys
from collections import Counter
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from s3events.loading import load_series
from s3events.provision import stored_meetings
from s3events.registrations import list_registrations
from s3events.store import open_store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPT = EXAMPLES / "provision_series.py"
SERIES = EXAMPLES / "s3-latam-2021" / "series.yaml"
TIMEOUT = 240


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a new user's shell: no s3events settings, no PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("S3EVENTS_", "PYTHON"))}
    env.update(PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def run(args: list[str], *, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=clean_env(**extra),
                          capture_output=True, text=True, timeout=TIMEOUT, check=False)


# -- examples/provision_series.py -------------------------------------------------------------

class Runs(NamedTuple):
    folder: Path
    first: subprocess.CompletedProcess[str]
    second: subprocess.CompletedProcess[str]
    outbox_after_first: dict[str, bytes]


def outbox_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "outbox").glob("*.eml"))}


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """The example run twice on one folder, from a working directory outside the checkout."""
    cwd = tmp_path_factory.mktemp("user")
    folder = cwd / "state"
    first = run([str(SCRIPT), "--dir", str(folder)], cwd=cwd)
    after_first = outbox_files(folder)
    second = run([str(SCRIPT), "--dir", str(folder)], cwd=cwd)
    return Runs(folder, first, second, after_first)


def parse_name(name: str) -> tuple[str, str, str]:
    """(registration id, session id or '-', kind) from an outbox file name (the ledger key)."""
    registration, session, kind, _revision, _channel = name.removesuffix(".eml").rsplit("_", 4)
    return registration, session, kind


def plain_text(data: bytes) -> str:
    message = email.message_from_bytes(data, policy=default_policy)
    assert isinstance(message, EmailMessage)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def test_provision_example_runs_and_succeeds(runs: Runs) -> None:
    assert runs.first.returncode == 0, runs.first.stderr
    assert runs.second.returncode == 0, runs.second.stderr
    assert "Traceback" not in runs.first.stderr + runs.second.stderr


def test_provision_example_makes_a_meeting_for_each_of_the_five_sessions(runs: Runs) -> None:
    series = load_series(SERIES)
    with open_store(runs.folder / "state.sqlite", create=False) as store:
        meetings = stored_meetings(store, series.id)
    assert sorted(meetings) == ["day-1", "day-2", "day-3", "day-4", "day-5"]
    for meeting in meetings.values():
        assert meeting.platform == "jitsi" and meeting.host_url is None
        assert meeting.join_url.startswith("https://meet.jit.si/s3-latam-2021-")
        assert meeting.join_url in runs.first.stdout
    assert "Provisioning on jitsi: 5 create" in runs.first.stdout


def test_provision_example_confirms_everyone_and_sends_one_link_per_attended_session(
    runs: Runs,
) -> None:
    series = load_series(SERIES)
    with open_store(runs.folder / "state.sqlite", create=False) as store:
        people = list_registrations(store, series.id)
        links = {s: m.join_url for s, m in stored_meetings(store, series.id).items()}
    sent = Counter(parse_name(name) for name in runs.outbox_after_first)
    assert len(people) == 30
    assert {reg for reg, _, kind in sent if kind == "confirmation"} == {p.id for p in people}
    expected = {(p.id, s.id, "link") for p in people for s in series.sessions if p.wants(s.id)}
    assert {key for key in sent if key[2] == "link"} == expected
    assert set(sent.values()) == {1}
    for name, data in runs.outbox_after_first.items():
        _, session_id, kind = parse_name(name)
        if kind == "link":
            assert links[session_id] in plain_text(data), name


def test_provision_example_second_run_sends_nothing_new_and_says_so(runs: Runs) -> None:
    assert outbox_files(runs.folder) == runs.outbox_after_first
    assert "Nothing new was sent" in runs.second.stdout
    assert "Provisioning on jitsi: 5 unchanged" in runs.second.stdout
    assert "30 unchanged" in runs.second.stdout


# -- examples/s3-latam-2021/demo.py: the whole series, after the sessions too --------------

DEMO = EXAMPLES / "s3-latam-2021" / "demo.py"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """``make demo``'s script run twice on one folder, from outside the checkout."""
    cwd = tmp_path_factory.mktemp("organiser")
    folder = cwd / "demo"
    first = run([str(DEMO), "--dir", str(folder)], cwd=cwd)
    after_first = outbox_files(folder)
    second = run([str(DEMO), "--dir", str(folder)], cwd=cwd)
    return Runs(folder, first, second, after_first)


def test_demo_runs_the_series_to_its_end_twice_without_sending_anything_twice(
        demo: Runs) -> None:
    assert demo.first.returncode == 0, demo.first.stdout[-3000:] + demo.first.stderr
    assert demo.second.returncode == 0, demo.second.stderr
    assert "Traceback" not in demo.first.stderr + demo.second.stderr
    assert outbox_files(demo.folder) == demo.outbox_after_first
    assert "second run: nothing new was sent." in demo.second.stdout


def test_demo_sends_follow_ups_after_each_session_and_certificates_at_the_end(
        demo: Runs) -> None:
    sent = Counter(parse_name(name) for name in demo.outbox_after_first)
    series = load_series(SERIES)
    for session in series.sessions:
        followups = [k for k in sent if k[1] == session.id and k[2] == "followup"]
        missed = [k for k in sent if k[1] == session.id and k[2] == "missed"]
        links = [k for k in sent if k[1] == session.id and k[2] == "link"]
        assert followups and missed and len(followups) + len(missed) == len(links)
    certificates = [k for k in sent if k[2] == "certificate"]
    assert certificates and set(sent.values()) == {1}
    _name, data = next((n, d) for n, d in demo.outbox_after_first.items()
                      if parse_name(n)[2] == "followup")
    assert "https://example.org/s3-latam-2021/materials/" in plain_text(data)
    message = email.message_from_bytes(
        demo.outbox_after_first[next(n for n in demo.outbox_after_first
                                     if parse_name(n)[2] == "certificate")],
        policy=default_policy)
    assert any(p.get_content_type() == "application/pdf" for p in message.walk())


def test_demo_imports_attendance_with_a_rejoin_an_unknown_participant_and_absences(
        demo: Runs) -> None:
    day1 = (demo.folder / "attendance" / "day-1.csv").read_text(encoding="utf-8")
    emails = [line.split(",")[1] for line in day1.splitlines()[1:]]
    assert len(emails) != len(set(emails))  # someone joined twice
    assert "guest.unregistered@example.net" in emails
    with open_store(demo.folder / "state.db", create=False) as store:
        from s3events.attendance import attendance_report

        report = attendance_report(store, load_series(SERIES))
    assert all(s.known and s.registered > s.attended > 0 and len(s.unmatched) == 1
               for s in report.sessions)


def test_demo_writes_a_certificate_for_everyone_who_came(demo: Runs) -> None:
    from pypdf import PdfReader

    files = sorted((demo.folder / "certificates").glob("*.pdf"))
    with open_store(demo.folder / "state.db", create=False) as store:
        from s3events.attendance import attendance_report

        report = attendance_report(store, load_series(SERIES))
    assert len(files) == sum(1 for p in report.people if p.attended())
    jose = next(f for f in files if f.name.startswith("jose-pena-"))
    text = PdfReader(jose).pages[0].extract_text()
    assert "José Peña" in text and "Certificado de asistencia" in text


# -- the plugin packages, installed ----------------------------------------------------------

class Plugin(NamedTuple):
    folder: str
    distribution: str
    package: str
    name: str
    provides: str  # "platforms" or "transports"


PLUGINS = [
    Plugin("custom_platform_plugin", "s3events-acme-rooms", "s3events_acme_rooms",
           "acme-rooms", "platforms"),
    Plugin("custom_transport_plugin", "s3events-acme-chat", "s3events_acme_chat",
           "acme-chat", "transports"),
]


def pip_install(target: Path, *, isolation: bool) -> subprocess.CompletedProcess[str]:
    args = ["-m", "pip", "install", "--quiet", "--no-deps", "--disable-pip-version-check",
            "--target", str(target)]
    if not isolation:
        args.append("--no-build-isolation")
    args += [str(EXAMPLES / plugin.folder) for plugin in PLUGINS]
    return run(args, cwd=target.parent)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both example plugins built and installed into a fresh folder (not the venv)."""
    target = tmp_path_factory.mktemp("install") / "site"
    done = pip_install(target, isolation=False)
    if done.returncode != 0:  # no hatchling in this environment: let pip fetch it
        done = pip_install(target, isolation=True)
    assert done.returncode == 0, done.stderr
    return target


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p.name for p in PLUGINS])
def test_installed_plugin_is_listed_by_s3events_plugins(
    installed: Path, plugin: Plugin
) -> None:
    done = run(["-m", "s3events", "plugins", "--json"], cwd=installed.parent,
               PYTHONPATH=str(installed))
    assert done.returncode == 0, done.stderr
    infos: list[dict[str, Any]] = json.loads(done.stdout)
    found = [info for info in infos if info["name"] == plugin.name]
    assert len(found) == 1, [info["name"] for info in infos]
    assert found[0]["distribution"] == plugin.distribution
    assert found[0][plugin.provides] == [plugin.name]


@pytest.mark.parametrize("plugin", PLUGINS, ids=[p.name for p in PLUGINS])
def test_installed_plugin_passes_its_own_tests(installed: Path, plugin: Plugin) -> None:
    folder = EXAMPLES / plugin.folder
    where = run(["-c", f"import {plugin.package}; print({plugin.package}.__file__)"],
                cwd=folder, PYTHONPATH=str(installed))
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout + where.stderr
    done = run(["-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=folder,
               PYTHONPATH=str(installed))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert " passed" in done.stdout and " failed" not in done.stdout
