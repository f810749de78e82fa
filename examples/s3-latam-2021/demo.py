"""The reference scenario end to end, as an organiser runs it with the command line.

1. provisions the five JRC seminars on ``jitsi`` (no account needed), before the series;
2. imports ``registrations.csv`` (fictional participants in Mexico, Chile, Peru and
   elsewhere, in Spanish and English);
3. sends the confirmations;
4. steps a simulated clock through each session's link release times — 09:00 the day
   before in each participant's own zone, computed here with the Python API — running
   ``s3events dispatch --now …`` at each, with every email written to the outbox folder;
5. ends with ``s3events status``: every message, per session, kind and state.

Everything lives under ``--dir`` (default ``build/demo``): the state database and the
``outbox`` of ``.eml`` files. Running the demo again sends nothing new — the ledger knows
what went out — and the demo says so.

    python examples/s3-latam-2021/demo.py [--dir build/demo]
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERIES = HERE / "series.yaml"
REGISTRATIONS = HERE / "registrations.csv"
EXE = str(Path(sys.executable).parent / "s3events")
UTC = timezone.utc
BEFORE_SERIES = datetime(2021, 10, 1, 8, 0, tzinfo=UTC)
REGISTERED = datetime(2021, 10, 20, 12, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    """``2021-10-27T14:00:00Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def run(*args: str) -> str:
    """Run one ``s3events`` command, printing it and its output; stop on failure."""
    shown = ["s3events", *(shlex.quote(a) for a in args)]
    print(f"\n$ {' '.join(shown)}", flush=True)
    result = subprocess.run([EXE, *args], capture_output=True, text=True, check=False)
    output = (result.stdout + result.stderr).rstrip()
    if output:
        print(output, flush=True)
    if result.returncode != 0:
        raise SystemExit(f"command failed with exit status {result.returncode}")
    return result.stdout


def release_times(state: Path) -> list[datetime]:
    """Every distinct link release time of the registered participants, in order."""
    from s3events.loading import load_series
    from s3events.scheduler import attends, release_time, stream_registrations
    from s3events.store import open_store

    series = load_series(SERIES)
    times = set()
    with open_store(state) as store:
        for batch in stream_registrations(store, series.id):
            for person in batch:
                if person.status != "confirmed":
                    continue
                zone = person.zone(series.zone)
                times.update(release_time(series.dispatch.link, session.start, zone)
                             for session in series.sessions
                             if not session.cancelled and attends(person, session.id))
    return sorted(t for t in times if t > REGISTERED)


def count_files(outbox: Path) -> int:
    """How many messages the outbox holds."""
    return len(list(outbox.glob("*.eml"))) if outbox.is_dir() else 0


def main(argv: list[str] | None = None) -> int:
    """Run the scenario."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", default="build/demo", help="where state and outbox go")
    args = parser.parse_args(argv)
    folder = Path(args.dir).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    state, outbox = folder / "state.db", folder / "outbox"
    again = state.exists()
    before = count_files(outbox)
    if again:
        print(f"{state} exists: running the scenario again; the ledger knows what was sent, "
              "so nothing new should go out.")
    common = ("--state", str(state))
    transport = ("--transport", f"outbox:{outbox}")
    run("provision", str(SERIES), *common, "--now", iso(BEFORE_SERIES))
    run("registrations", "import", str(SERIES), str(REGISTRATIONS), *common,
        "--now", iso(REGISTERED))
    confirmations = iso(REGISTERED + timedelta(minutes=5))
    run("dispatch", str(SERIES), *common, *transport, "--now", confirmations)
    for moment in release_times(state):
        run("dispatch", str(SERIES), *common, *transport, "--now", iso(moment))
    run("status", str(SERIES), *common)
    after = count_files(outbox)
    print(f"\noutbox: {outbox} holds {after} message(s).")
    if again:
        print("second run: nothing new was sent." if after == before else
              f"second run: {after - before} new message(s) were written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
