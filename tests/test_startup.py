"""Fast start: ``--help`` and ``validate`` import only what they need.

Each case runs ``python -X importtime -m s3events …`` in a fresh interpreter and reads the
list of imported modules from its report. No timing is asserted here; see
benchmarks/startup.py for the wall-clock ratio.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "s3-latam-2021" / "series.yaml"

#: Never needed to print help or to check a series file.
HEAVY = ("sqlalchemy", "requests", "urllib3", "jinja2", "pluggy", "rich", "icalendar", "babel",
         "flask", "openpyxl", "jwt", "cryptography", "psycopg")
#: Plugin and adapter code: only commands that talk to a platform or transport load it.
VENDOR_PREFIXES = ("s3events_", "s3events.platforms", "s3events.transports", "s3events.store",
                   "s3events.plugins", "s3events.http")


def imported_modules(*args: str) -> set[str]:
    """Every module a fresh ``python -m s3events ARGS`` imports."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "s3events", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            name = line.rsplit("|", 1)[1].strip()
            if name != "imported package":
                modules.add(name)
    assert "s3events.cli" in modules, "the import report was not read"
    return modules


def offenders(modules: set[str], banned: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in banned)


def vendor_code(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith(VENDOR_PREFIXES))


def test_help_imports_no_heavy_module_and_no_model() -> None:
    modules = imported_modules("--help")
    assert offenders(modules, (*HEAVY, "pydantic", "yaml")) == []
    assert vendor_code(modules) == []
    assert "s3events.commands.core" not in modules


def test_validate_imports_no_heavy_module() -> None:
    modules = imported_modules("validate", str(REFERENCE))
    assert offenders(modules, HEAVY) == []
    assert vendor_code(modules) == []
    assert "s3events.loading" in modules


@pytest.mark.parametrize("command", ["times", "calendar", "agenda"])
def test_other_core_commands_import_no_database_or_http(command: str) -> None:
    modules = imported_modules(command, "--help")
    assert offenders(modules, ("sqlalchemy", "requests", "pluggy", "flask")) == []
    assert vendor_code(modules) == []
