"""The dispatch benchmark runs to the end on a small count and prints its three rates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "dispatch.py"


@pytest.mark.slow
def test_dispatch_benchmark_completes_and_prints_three_rates():
    result = subprocess.run(
        [sys.executable, str(BENCHMARK), "--count", "200", "--apprise-count", "10"],
        capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    rates = re.findall(r"^\((a|b|c)\) .*?([\d.]+) msg/s", result.stdout, re.M)
    assert [name for name, _ in rates] == ["a", "b", "c"]
    assert all(float(rate) > 0 for _, rate in rates)
    assert "ratio s3events / raw" in result.stdout
