"""validate on settings only the installed code can judge: fonts, transport names, and
certificates nobody could qualify for."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import run


def test_validate_checks_fonts_transport_names_and_min_sessions(tmp_path: Path) -> None:
    data = minimal_series_data()
    data["fonts"] = ["fonts/missing.ttf", "notes.txt"]
    data["dispatch"] = {"transports": {"smpt": {"rate_limit": 5}},
                        "certificates": {"min_sessions": 9}}
    (tmp_path / "notes.txt").write_text("not a font", encoding="utf-8")
    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    result = run("validate", str(path))
    assert result.code == 2 and "Traceback" not in result.stderr
    assert "fonts.0: no font file at" in result.stderr
    assert "fonts.1: font" in result.stderr and "cannot be read" in result.stderr
    assert "no transport named 'smpt'" in result.stderr and "smtp" in result.stderr
    assert "min_sessions is 9 but the series holds 2 session(s)" in result.stderr
