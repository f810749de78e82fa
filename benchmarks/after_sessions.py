"""Benchmark: importing people once sessions have attendance, against the same import before.

Each scheduling pass also plans the messages after the sessions (follow-ups, certificates:
:mod:`s3events.followups`), and an import schedules a batch of people at a time. If that
planning read the whole series' attendance and rows for every batch, an import would cost
more the more people the series already has: quadratic over a series' life.

For each N (people already registered), on two SQLite state files that each hold the same
N people:

(a) day 1's attendance is known (half of the N attended), then ``import_registrations``
    of the same file of M new people (batches of 500: a scheduling pass each);
(b) the baseline: no attendance known yet (nothing after the sessions to plan), and the
    same import of the same M people.

It prints the seconds and CPU seconds of each import and the ratio a/b. The goal: a/b about
the same at every N (the planning reads only the batch's people), where reading the series
per batch would make it grow with N.

    python benchmarks/after_sessions.py                        # N = 2,000, 10,000, 40,000
    python benchmarks/after_sessions.py --people 1000 4000 --new 2000
"""

from __future__ import annotations

import argparse
import csv
import resource
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import yaml

UTC = timezone.utc
REGISTERED = datetime(2021, 10, 1, 12, tzinfo=UTC)
DAY_1_END = datetime(2021, 10, 28, 17, 30, tzinfo=UTC)
LATER = DAY_1_END + timedelta(hours=6)


def series_data() -> dict[str, Any]:
    """Three sessions; follow-ups and certificates after them."""
    sessions = [{"id": f"s{n}", "title": {"en": f"Session {n}"},
                 "start": f"2021-{month}T17:00:00", "end": f"2021-{month}T19:30:00"}
                for n, month in ((1, "10-28"), (2, "11-04"), (3, "11-11"))]
    return {"id": "bench", "title": {"en": "Benchmark series"},
            "organiser": {"name": "Bench", "email": "organiser@example.org"},
            "languages": ["en", "es"], "default_language": "en",
            "timezone": "Europe/Brussels", "sessions": sessions,
            "dispatch": {"followup": {"after": "PT2H"}, "certificates": {"min_sessions": 1}}}


def write_people(path: Path, count: int, prefix: str) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "email", "language", "timezone"])
        for n in range(count):
            out.writerow([f"Persona {prefix}{n}", f"{prefix}{n}@example-{n % 97}.org",
                          ("es", "en")[n % 2], "America/Lima"])


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def prepare(folder: Path, series: Any, people: Path, *, attendance: bool) -> Path:
    """A state file with the first people imported and, if asked, day 1's attendance."""
    from s3events.attendance.records import Attendee
    from s3events.attendance.storage import save_attendance
    from s3events.registrations import import_registrations, list_registrations
    from s3events.store import open_store

    state = folder / f"{'known' if attendance else 'unknown'}.db"
    with open_store(state) as store:
        import_registrations(store, series, people, now=REGISTERED)
        if attendance:
            stay = ((DAY_1_END - timedelta(minutes=90), DAY_1_END),)
            attendees = [Attendee(r.name, r.email, stays=stay, seconds=5400)
                         for i, r in enumerate(list_registrations(store, series.id))
                         if i % 2 == 0]
            save_attendance(store, series.id, "s1", attendees, source="import:csv",
                            now=DAY_1_END + timedelta(minutes=30))
    return state


def timed_import(state: Path, series: Any, people: Path) -> tuple[float, float]:
    from s3events.registrations import import_registrations
    from s3events.store import open_store

    with open_store(state) as store:
        start, cpu = time.perf_counter(), cpu_seconds()
        report = import_registrations(store, series, people, now=LATER)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    if report.rejected:
        raise SystemExit(f"{report.rejected} rows were not imported")
    return seconds, cpu


def measure(count: int, new: int) -> None:
    from s3events.loading import load_series

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        path = folder / "series.yaml"
        path.write_text(yaml.safe_dump(series_data()), encoding="utf-8")
        series = load_series(path)
        first, second = folder / "first.csv", folder / "second.csv"
        write_people(first, count, "p")
        write_people(second, new, "n")
        known = prepare(folder, series, first, attendance=True)
        unknown = prepare(folder, series, first, attendance=False)
        a, a_cpu = timed_import(known, series, second)
        b, b_cpu = timed_import(unknown, series, second)
    print(f"N={count:>7,}  (a) {new:,} after attendance: {a:6.2f} s ({a_cpu:6.2f} cpu)  "
          f"(b) before: {b:6.2f} s ({b_cpu:6.2f} cpu)  a/b = {a / b:4.2f} "
          f"(cpu {a_cpu / b_cpu:4.2f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, nargs="+", default=[2_000, 10_000, 40_000],
                        help="people already registered (N)")
    parser.add_argument("--new", type=int, default=5_000, help="people imported (M)")
    args = parser.parse_args()
    for count in args.people:
        measure(count, args.new)


if __name__ == "__main__":
    main()
