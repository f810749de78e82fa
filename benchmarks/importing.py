"""Benchmark: importing a registrations file into SQLite, against a bare baseline.

Writes a CSV of N registrations as a form tool exports them (names with accents, mixed-case
emails, languages and countries by name, some zones given, some cities, session choices),
then, for each N, in a fresh process each (so peak memory is that run's own):

(a) s3events: ``import_registrations`` into a new state database — reading, cleaning,
    validating every address with email-validator, zones from cities and countries,
    session choices, seats, the registrations saved a batch at a time, and each
    person's confirmation queued in the ledger;
(b) the baseline: ``csv.reader`` and ``executemany`` of the same rows, as they are,
    into the same registrations table of a new state database, one transaction.

It prints rows per second, the ratio a/b, and the peak resident memory of each run (the
interpreter and its libraries included). The ratio by CPU time is printed too: on a
machine shared with other work, wall-clock time depends on what else runs. The goal: (a)
at least a tenth of (b)'s speed, and (a)'s peak memory under 300 MB and no higher at the
largest N than at the smallest.

    python benchmarks/importing.py                      # 100,000 and 1,000,000 rows
    python benchmarks/importing.py --rows 2000 5000     # quick
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import secrets
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERIES = ROOT / "examples" / "s3-latam-2021" / "series.yaml"
HEADER = ["Nombre completo", "Correo electrónico", "Idioma", "Zona horaria", "Ciudad", "País",
          "Institución", "Sector", "Sesiones"]
FIRST = ["José", "María Fernanda", "Ana", "Kim", "Luc", "Ñusta", "João", "Zoë", "Björn"]
LAST = ["Peña", "Gutiérrez", "Souza", "Lee", "Martin", "Quispe", "Müller", "O'Brien"]
PLACES = [("es", "", "", "México"), ("es", "America/Santiago", "", "Chile"),
          ("es", "", "Lima", "Perú"), ("en", "", "", "United States"),
          ("", "", "São Paulo", "Brasil"), ("es", "", "Bogotá", "Colombia"),
          ("en", "Europe/Brussels", "", "Belgium"), ("es", "", "", "Argentina")]
SESSIONS = ["", "Día 1; Día 3", "Day 2", "todas", "Día 4, Día 5"]
SECTORS = ["Academia", "Administración pública", "ONG", "Consultoría privada", ""]
COLUMNS = ("id", "series_id", "email_key", "email", "name", "language", "timezone",
           "timezone_source", "country", "organisation", "sector", "channels", "sessions",
           "consent", "status", "position", "token", "source", "registered_at",
           "confirmed_at", "cancelled_at", "updated_at")


def write_file(path: Path, rows: int, seed: int = 7) -> None:
    """A CSV of ``rows`` registrations, all different people."""
    pick = random.Random(seed).choice
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for n in range(rows):
            lang, zone, city, country = pick(PLACES)
            name = f"{pick(FIRST)} {pick(LAST)} {n}"
            email = f"Persona.{n}@Example-{n % 997}.org"
            out.writerow([name, email, lang, zone, city, country, f"Universidad {n % 50}",
                          pick(SECTORS), pick(SESSIONS)])


def peak_mb() -> float:
    """This process's peak resident memory, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    """CPU time this process has used (user and system), whatever else the machine runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_s3events(csv_path: Path, state: Path) -> dict[str, float]:
    from s3events.loading import load_series
    from s3events.registrations import import_registrations
    from s3events.store import open_store

    series = load_series(SERIES)
    now = datetime(2021, 10, 1, 12, tzinfo=timezone.utc)
    with open_store(state) as store:
        start, cpu = time.perf_counter(), cpu_seconds()
        report = import_registrations(store, series, csv_path, now=now)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu
    if report.rejected:
        raise SystemExit(f"{report.rejected} rows were not imported: {report.problems[:3]}")
    return {"seconds": seconds, "cpu": cpu, "rows": report.added, "peak_mb": peak_mb()}


def run_baseline(csv_path: Path, state: Path) -> dict[str, float]:
    from s3events.store import open_store

    open_store(state).close()  # the same schema, indexes included
    now = datetime(2021, 10, 1, 12).isoformat(" ")
    start, cpu = time.perf_counter(), cpu_seconds()
    conn = sqlite3.connect(state)
    with csv_path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        rows = ((secrets.token_hex(12), "s3-latam-2021", r[1].lower(), r[1], r[0], r[2],
                 r[3] or "Europe/Brussels", "given", None, r[6], r[7], "{}", None, "{}",
                 "confirmed", n, secrets.token_urlsafe(32), "baseline", now, now, None, now)
                for n, r in enumerate(reader))
        with conn:
            conn.executemany(f"INSERT INTO s3e_registrations ({', '.join(COLUMNS)}) VALUES "
                             f"({', '.join('?' * len(COLUMNS))})", rows)
    count = conn.execute("SELECT count(*) FROM s3e_registrations").fetchone()[0]
    conn.close()
    return {"seconds": time.perf_counter() - start, "cpu": cpu_seconds() - cpu, "rows": count,
            "peak_mb": peak_mb()}


def child(kind: str, csv_path: Path, state: Path) -> None:
    result = (run_s3events if kind == "s3events" else run_baseline)(csv_path, state)
    print(json.dumps(result))


def measure(kind: str, csv_path: Path, folder: Path) -> dict[str, float]:
    state = folder / f"{kind}-{secrets.token_hex(4)}.db"
    done = subprocess.run([sys.executable, __file__, "--child", kind, str(csv_path), str(state)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{done.stderr}")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{state}{suffix}").unlink(missing_ok=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return
    peaks = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for rows in args.rows:
            csv_path = folder / f"registrations-{rows}.csv"
            write_file(csv_path, rows)
            ours = measure("s3events", csv_path, folder)
            base = measure("baseline", csv_path, folder)
            csv_path.unlink()
            rate_a, rate_b = rows / ours["seconds"], rows / base["seconds"]
            peaks.append(ours["peak_mb"])
            print(f"{rows:>9,} rows  (a) s3events {rate_a:>9,.0f} rows/s "
                  f"({ours['seconds']:.1f} s, {ours['cpu']:.1f} s CPU, peak "
                  f"{ours['peak_mb']:.0f} MB)   (b) csv+executemany {rate_b:>9,.0f} rows/s "
                  f"({base['seconds']:.1f} s, {base['cpu']:.1f} s CPU, peak "
                  f"{base['peak_mb']:.0f} MB)   ratio a/b {rate_a / rate_b:.3f} "
                  f"(by CPU time {base['cpu'] / ours['cpu']:.3f})", flush=True)
    print(f"peak memory of s3events: {', '.join(f'{p:.0f} MB' for p in peaks)} "
          f"(goal: under 300 MB, no higher at {args.rows[-1]:,} rows than at "
          f"{args.rows[0]:,})")


if __name__ == "__main__":
    main()
