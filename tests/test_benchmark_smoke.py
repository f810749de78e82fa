"""The dispatch benchmark runs to the end on a small count and prints its three rates."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
BENCHMARK = BENCHMARKS / "dispatch.py"


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


@pytest.mark.slow
def test_import_benchmark_completes_and_prints_its_ratio_and_peak_memory():
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "importing.py"), "--rows", "300", "600"],
        capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr
    lines = re.findall(r"^\s*([\d,]+) rows .*ratio a/b ([\d.]+)", result.stdout, re.M)
    assert [rows for rows, _ in lines] == ["300", "600"]
    assert all(float(ratio) > 0 for _, ratio in lines)
    assert re.search(r"peak memory of s3events: \d+ MB, \d+ MB", result.stdout)
