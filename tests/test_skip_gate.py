"""The skip gate, run on a tiny test folder in a pytest subprocess, with and without CI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.skip_gate import DESIGN_SKIPS, design_skip, in_ci, install_hint

ROOT = Path(__file__).resolve().parents[1]

MISSING_BROWSER = """
import pytest

def test_runs():
    assert True

def test_needs_the_browser():
    pytest.skip("/usr/bin/chromium is not installed (Debian package 'chromium')")
"""

MISSING_IN_FIXTURE = """
import pytest

@pytest.fixture
def cluster():
    pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found")

def test_uses_the_cluster(cluster):
    pass
"""

MISSING_MODULE = """
import pytest

pytest.importorskip("no_such_module_s3e", reason="node is not installed: ical.js needs it")

def test_never_collected():
    pass
"""

DESIGN_ONLY = """
import pytest

def test_contract_check_that_does_not_apply():
    pytest.skip("the vendor has no idempotency key (idempotent_sends = False)")

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False
"""


def run_pytest(folder: Path, files: dict[str, str], *, ci: str | None) -> tuple[int, str]:
    """Run pytest with the gate on ``files`` written into ``folder``: (exit status, output)."""
    for name, text in files.items():
        (folder / name).write_text(text)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        env["CI"] = ci
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.skip_gate", "-p", "no:cacheprovider",
         "-q", str(folder)],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr


def test_in_ci_a_missing_browser_fails_the_run_and_says_what_to_install(tmp_path: Path) -> None:
    status, out = run_pytest(tmp_path, {"test_a.py": MISSING_BROWSER}, ci="true")
    assert status == pytest.ExitCode.TESTS_FAILED, out
    assert "1 passed, 1 skipped" in out
    assert "skips CI does not allow" in out
    assert "/usr/bin/chromium is not installed" in out
    assert "install: apt-get install chromium" in out
    assert "CI is set: 1 test(s) skipped" in out


def test_without_ci_the_run_passes_and_lists_what_to_install(tmp_path: Path) -> None:
    status, out = run_pytest(tmp_path, {"test_a.py": MISSING_BROWSER}, ci=None)
    assert status == pytest.ExitCode.OK, out
    assert "skipped: something is not installed here" in out
    assert "install: apt-get install chromium" in out
    assert "with CI=true (as in .ci/run) the run would fail" in out


@pytest.mark.parametrize("ci", ["", "0", "false"])
def test_ci_set_to_nothing_or_false_is_not_ci(tmp_path: Path, ci: str) -> None:
    status, out = run_pytest(tmp_path, {"test_a.py": MISSING_BROWSER}, ci=ci)
    assert status == pytest.ExitCode.OK, out


def test_skips_in_fixtures_and_at_import_count_too(tmp_path: Path) -> None:
    files = {"test_cluster.py": MISSING_IN_FIXTURE, "test_calendar.py": MISSING_MODULE}
    status, out = run_pytest(tmp_path, files, ci="1")
    assert status == pytest.ExitCode.TESTS_FAILED, out
    assert "install: apt-get install postgresql" in out
    assert "install: apt-get install nodejs npm" in out
    assert "CI is set: 2 test(s) skipped" in out


def test_design_skips_and_xfails_pass_in_ci(tmp_path: Path) -> None:
    status, out = run_pytest(tmp_path, {"test_a.py": DESIGN_ONLY}, ci="true")
    assert status == pytest.ExitCode.OK, out
    assert "1 skipped, 1 xfailed" in out
    assert "CI does not allow" not in out and "not installed" not in out


def test_a_failing_run_keeps_its_own_exit_status(tmp_path: Path) -> None:
    failing = MISSING_BROWSER + "\ndef test_fails():\n    assert False\n"
    status, out = run_pytest(tmp_path, {"test_a.py": failing}, ci="true")
    assert status == pytest.ExitCode.TESTS_FAILED, out
    assert "1 failed" in out and "skips CI does not allow" in out


def test_design_skips_are_few_and_each_says_why() -> None:
    assert len(DESIGN_SKIPS) <= 10
    assert all(len(skip.why) > 30 for skip in DESIGN_SKIPS)
    assert design_skip("TestTeamsContract does not mock find_meeting") is not None
    assert design_skip("node is not installed") is None


@pytest.mark.parametrize(("reason", "hint"), [
    ("Playwright's Python package is not installed", "pip install -e '.[dev]'"),
    ("psycopg (the PostgreSQL driver) is not installed", "'.[postgresql]'"),
    ("tests/js/node_modules is missing: run `cd tests/js && npm ci`", "make tests/js/"),
    ("the web app needs Flask (pip install 's3events[web]')", "'.[web]'"),
    ("something else entirely", "see the reason"),
])
def test_install_hints_follow_the_reason(reason: str, hint: str) -> None:
    assert hint in install_hint(reason)


def test_ci_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("true", True), ("1", True), ("yes", True), ("", False),
                            ("false", False), ("No", False)):
        monkeypatch.setenv("CI", value)
        assert in_ci() is expected
    monkeypatch.delenv("CI")
    assert in_ci() is False


def test_every_design_skip_is_documented_with_its_reason() -> None:
    page = (ROOT / "docs" / "contributing.md").read_text(encoding="utf-8").replace("`", "")
    for skip in DESIGN_SKIPS:
        assert f"| {skip.text} | {skip.why.split(': ', 1)[-1]} |" in page, skip.text
