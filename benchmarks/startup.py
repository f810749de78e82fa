"""How long ``s3events --help`` takes, as a ratio to an empty Python start in the same run.

Runs ``python -c pass``, ``python -m s3events --help`` and ``python -m s3events validate``
on the reference series N times each, interleaved so both see the same machine load, and
prints the medians and the ratios. The aim is a ``--help`` ratio under 6 (click alone costs
about 4). Exits non-zero only if a command fails, never because of a time.

Usage: python benchmarks/startup.py [N]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "examples" / "s3-latam-2021" / "series.yaml"
AIM = 6.0

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "s3events --help": [sys.executable, "-m", "s3events", "--help"],
    "s3events validate": [sys.executable, "-m", "s3events", "validate", str(REFERENCE)],
}


def once(command: list[str]) -> float:
    """Wall time of one run, in seconds; raises if the command fails."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   cwd=ROOT)
    return time.perf_counter() - start


def main(repetitions: int) -> int:
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for command in CASES.values():  # warm the file cache once
        once(command)
    for _ in range(repetitions):
        for name, command in CASES.items():
            times[name].append(once(command))
    baseline = statistics.median(times["python -c pass"])
    print(f"median of {repetitions} runs each")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<20} {median * 1000:7.1f} ms   {median / baseline:5.2f} x python -c pass")
    ratio = statistics.median(times["s3events --help"]) / baseline
    verdict = "within" if ratio < AIM else "above"
    print(f"--help ratio {ratio:.2f} ({verdict} the aim of {AIM:g} x)")
    return 0


if __name__ == "__main__":
    try:
        count = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    except ValueError:
        sys.exit("usage: python benchmarks/startup.py [N]")
    try:
        sys.exit(main(count))
    except subprocess.CalledProcessError as exc:
        detail = exc.stderr.decode(errors="replace").strip() if exc.stderr else ""
        sys.exit(f"failed: {' '.join(map(str, exc.cmd))}\n{detail}")
