"""The benchmarks run to the end on small counts and print what they measure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _run(*args: str) -> str:
    result = subprocess.run([sys.executable, *args], capture_output=True, text=True,
                            timeout=900, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_dispatch_benchmark_completes_and_prints_three_rates():
    out = _run(str(BENCHMARKS / "dispatch.py"), "--count", "200", "--apprise-count", "10")
    rates = re.findall(r"^\((a|b|c)\) .*?([\d.]+) msg/s", out, re.M)
    assert [name for name, _ in rates] == ["a", "b", "c"]
    assert all(float(rate) > 0 for _, rate in rates)
    assert "ratio s3events / raw" in out


@pytest.mark.slow
def test_import_benchmark_completes_and_prints_its_ratio_and_peak_memory():
    out = _run(str(BENCHMARKS / "importing.py"), "--rows", "300", "600")
    lines = re.findall(r"^\s*([\d,]+) rows .*ratio a/b ([\d.]+)", out, re.M)
    assert [rows for rows, _ in lines] == ["300", "600"]
    assert all(float(ratio) > 0 for _, ratio in lines)
    assert re.search(r"peak memory of s3events: \d+ MB, \d+ MB", out)


@pytest.mark.slow
def test_scheduling_benchmark_compares_both_passes_with_plain_sql():
    out = _run(str(BENCHMARKS / "dispatch.py"), "--schedule-only", "--count", "300")
    assert "300 registrations, 1800 ledger rows created" in out
    assert re.search(r"first pass .* ratio [\d.]+", out)
    assert re.search(r"second pass .* ratio [\d.]+", out)
    assert "memory at most" in out


@pytest.mark.slow
def test_latency_benchmark_measures_concurrency_the_rate_limit_and_the_raw_loops():
    out = _run(str(BENCHMARKS / "latency.py"), "--quick")
    for channel in ("email", "telegram"):
        for n in (1, 4, 16):
            assert re.search(rf"{channel} +concurrency +{n}: .* ratio [\d.]+", out)
        assert re.search(rf"{channel} +rate_limit 20, .* at most \d+ in any one second", out)
        assert re.search(rf"{channel} +80 messages: .* each message received once", out)


@pytest.mark.slow
def test_after_sessions_benchmark_completes_and_prints_its_ratios():
    out = _run(str(BENCHMARKS / "after_sessions.py"), "--people", "200", "400", "--new", "300")
    ratios = re.findall(r"^N=\s*([\d,]+) .* a/b = ([\d.]+)", out, re.M)
    assert [n for n, _ in ratios] == ["200", "400"]
    assert all(float(ratio) > 0 for _, ratio in ratios)
