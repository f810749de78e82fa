"""The skip gate: in CI, a test that skips for a reason other than a design skip fails the run.

Some tests need programs outside Python (Chromium, PostgreSQL's server binaries, Node.js
with ical.js) and skip, saying why, when one is missing. On a laptop that is a convenience;
in CI it would let a run pass with whole layers of the suite switched off. So:

- with the ``CI`` environment variable set (``.ci/run`` exports ``CI=true``; GitHub Actions
  and most CI services set it too; ``0``, ``false`` and ``no`` count as unset), the run fails
  when any test skips for a reason that is not in :data:`DESIGN_SKIPS`, and the summary
  names each such skip and what to install;
- without it, the run passes and the summary lists those skips, with what to install.

:data:`DESIGN_SKIPS` is the short list of skips that are right everywhere: contract checks
that do not apply to one adapter. Each entry says why; keep it small.

The root ``conftest.py`` loads this module as a pytest plugin.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import pytest

__all__ = ["DESIGN_SKIPS", "INSTALL_HINTS", "DesignSkip", "in_ci"]


@dataclass(frozen=True)
class DesignSkip:
    """A skip reason that is allowed everywhere: ``text`` occurs in it; ``why`` says why."""

    text: str
    why: str


#: The skips CI accepts: a skip whose reason contains one of these texts.
DESIGN_SKIPS: tuple[DesignSkip, ...] = (
    DesignSkip("the vendor has no idempotency key",
               "TransportContract: only a vendor with an idempotency key (Matrix's "
               "transaction ids) can show that a retried send is the same request"),
    DesignSkip("does not call the platform",
               "PlatformContract: an operation that makes no vendor call (BigBlueButton's "
               "get_meeting) has no vendor answer to map"),
    DesignSkip("no operation calls the platform",
               "PlatformContract: an adapter without vendor calls has no Retry-After to honour"),
    DesignSkip("does not mock find_meeting",
               "PlatformContract: an adapter whose create is idempotent (Teams' createOrGet, "
               "an Idempotency-Key header) never needs to find a meeting after a crash"),
    DesignSkip("does not report attendance",
               "attendance contract: an adapter without attendance reports has none to "
               "check"),
    DesignSkip("the adapter reports attendance",
               "attendance contract: the refusal that names the import command is only for "
               "platforms without attendance reports"),
    DesignSkip("is not polled for attendance",
               "attendance contract: only a platform polled while its report is "
               "pending has the polling checks"),
    DesignSkip("Apprise does not pass a service's 429",
               "TransportContract: Apprise hides the service's answer, so a rate limit "
               "cannot reach s3events; the dispatcher retries the send later"),
)

#: What to install, by a word in the skip reason (lower case): (word, hint).
INSTALL_HINTS: tuple[tuple[str, str], ...] = (
    ("chromium", "apt-get install chromium (Debian)"),
    ("playwright", "pip install -e '.[dev]' (Playwright; it drives the installed chromium)"),
    ("psycopg", "pip install -e '.[postgresql]'"),
    ("postgres", "apt-get install postgresql (Debian: the server binaries)"),
    ("node_modules", "make tests/js/node_modules (npm ci in tests/js)"),
    ("node", "apt-get install nodejs npm (Debian), then make tests/js/node_modules"),
    ("flask", "pip install -e '.[web]'"),
    ("mkdocs", "pip install -e '.[dev]'"),
)


def in_ci() -> bool:
    """Whether the run is a CI run: ``CI`` is set to something other than 0/false/no."""
    value = os.environ.get("CI", "").strip().lower()
    return value not in ("", "0", "false", "no")


def design_skip(reason: str) -> DesignSkip | None:
    """The design skip ``reason`` is, if any."""
    return next((skip for skip in DESIGN_SKIPS if skip.text in reason), None)


def install_hint(reason: str) -> str:
    """What to install so the test skipping for ``reason`` runs."""
    text = reason.lower()
    return next((hint for word, hint in INSTALL_HINTS if word in text), "see the reason")


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr  # (path, line, reason) for a skip
    text = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else longrepr
    return str(text).removeprefix("Skipped: ")


class SkipGate:
    """Collects the skips of a run and fails it in CI when one is not a design skip."""

    def __init__(self) -> None:
        self.other: Counter[str] = Counter()
        self.designed: Counter[str] = Counter()

    def record(self, report: pytest.TestReport | pytest.CollectReport) -> None:
        """Count a skipped test (or module) under its reason."""
        if not report.skipped or hasattr(report, "wasxfail"):
            return
        reason = _reason(report)
        (self.designed if design_skip(reason) else self.other)[reason] += 1

    @pytest.hookimpl
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record(report)

    @pytest.hookimpl
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.record(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.other and in_ci() and exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.other:
            return
        write = terminalreporter.write_line
        count = sum(self.other.values())
        if in_ci():
            terminalreporter.section("skips CI does not allow", sep="=", red=True, bold=True)
        else:
            terminalreporter.section("skipped: something is not installed here", sep="=",
                                     yellow=True)
        for reason, times in sorted(self.other.items()):
            write(f"{times:4d} × {reason}")
            write(f"       install: {install_hint(reason)}")
        if in_ci():
            write(f"CI is set: {count} test(s) skipped for a reason that is not a design skip "
                  "(tests/skip_gate.py: DESIGN_SKIPS), so the run fails. Install what is "
                  "missing, or make the skip a design skip if it is one.", red=True, bold=True)
        else:
            write(f"{count} test(s) skipped; with CI=true (as in .ci/run) the run would fail.")


def pytest_configure(config: pytest.Config) -> None:
    """Register the gate (once, even when both the conftest and ``-p`` load this module)."""
    if not config.pluginmanager.has_plugin("s3events-skip-gate"):
        config.pluginmanager.register(SkipGate(), "s3events-skip-gate")
