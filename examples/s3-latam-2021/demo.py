"""The reference scenario end to end, as an organiser runs it with the command line.

1. provisions the five JRC seminars on ``jitsi`` (no account needed), before the series;
2. imports ``registrations.csv`` (fictional participants in Mexico, Chile, Peru and
   elsewhere, in Spanish and English);
3. sends the confirmations;
4. steps a simulated clock through each session's link release times — 09:00 the day
   before in each participant's own zone, computed here with the Python API — running
   ``s3events dispatch --now …`` at each, with every email written to the outbox folder;
5. after each session, imports its attendance — a fictional participant report in
   ``attendance/day-N.csv``: some people miss sessions, one leaves and joins again, one
   participant matches no registration — and two hours later sends the follow-ups
   (recording and slides to those who came, a word to those who missed it);
6. after the last session, shows ``s3events attendance``, sends each person who attended
   three days or more their certificate, and writes everyone's certificate (from one
   session) to ``certificates/``;
7. ends with ``s3events status``: every message, per session, kind and state.

Everything lives under ``--dir`` (default ``build/demo``): the state database, the
``outbox`` of ``.eml`` files, the attendance reports and the certificates. Running the
demo again sends nothing new — the ledger knows what went out — and the demo says so.

    python examples/s3-latam-2021/demo.py [--dir build/demo]
"""

from __future__ import annotations

import argparse
import csv
import shlex
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

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


def session_ends() -> list[tuple[str, datetime]]:
    """Each session's id and end (UTC)."""
    from s3events.loading import load_series

    return [(s.id, s.ends_at) for s in load_series(SERIES).sessions if not s.cancelled]


def attendance_rows(state: Path, session_id: str, number: int) -> list[list[str]]:
    """A fictional participant report of one session: who came, and when.

    Every confirmed participant of the session comes, except a few who miss it (a
    different few each day); one leaves after 40 minutes and joins again; one person who
    never registered joins with a colleague's link. Times are in UTC.
    """
    from s3events.loading import load_series
    from s3events.scheduler import attends, stream_registrations
    from s3events.store import open_store

    series = load_series(SERIES)
    session = series.session(session_id)
    people: list[Any] = []
    with open_store(state) as store:
        for batch in stream_registrations(store, series.id):
            people += [p for p in batch if p.status == "confirmed" and attends(p, session_id)]
    rows = []
    for index, person in enumerate(sorted(people, key=lambda p: p.email)):
        if (index + number) % 5 == 0:
            continue  # missed this one
        joined = session.start + timedelta(minutes=(index * 7) % 12 - 3)
        left = session.ends_at - timedelta(minutes=(index * 5) % 9)
        if index == number:  # a dropped connection: back after ten minutes
            rows.append([person.name, person.email, iso(joined),
                         iso(joined + timedelta(minutes=40))])
            joined += timedelta(minutes=50)
        rows.append([person.name, person.email, iso(joined), iso(left)])
    rows.append(["Invitado Sin Registro", "guest.unregistered@example.net",
                 iso(session.start + timedelta(minutes=20)), iso(session.ends_at)])
    return rows


def write_report(folder: Path, state: Path, session_id: str, number: int) -> Path:
    """Write the session's fictional participant report as the plain CSV format."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{session_id}.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["name", "email", "join_time", "leave_time"])
        writer.writerows(attendance_rows(state, session_id, number))
    return path


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
    ends = session_ends()
    timeline = [(moment, "release", "") for moment in release_times(state)]
    timeline += [(end, "ended", session) for session, end in ends]
    for moment, what, session in sorted(timeline):
        if what == "release":
            run("dispatch", str(SERIES), *common, *transport, "--now", iso(moment))
            continue
        number = [s for s, _ in ends].index(session) + 1
        report = write_report(folder / "attendance", state, session, number)
        run("attendance", "import", str(SERIES), str(report), "--session", session, *common,
            "--now", iso(moment + timedelta(minutes=30)))
        run("dispatch", str(SERIES), *common, *transport,
            "--now", iso(moment + timedelta(hours=2)))
    run("attendance", str(SERIES), *common)
    run("certificates", str(SERIES), "-o", str(folder / "certificates"), "--min-sessions",
        "1", *common)
    run("status", str(SERIES), *common)
    after = count_files(outbox)
    print(f"\noutbox: {outbox} holds {after} message(s); certificates are in "
          f"{folder / 'certificates'}.")
    if again:
        print("second run: nothing new was sent." if after == before else
              f"second run: {after - before} new message(s) were written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
