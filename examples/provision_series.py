"""The reference seminar series end to end through the Python API: no CLI, no subprocess.

What it shows, step by step, on the five JRC seminars of ``examples/s3-latam-2021``:

1. load and validate the series file (:func:`s3events.loading.load_series`);
2. open a state database in ``--dir`` (:func:`s3events.store.open_store`);
3. provision one Jitsi meeting per session with plan and apply
   (:mod:`s3events.provision`) — Jitsi needs no account, so this runs offline;
4. import the registrations that a form tool exported (:mod:`s3events.importing`);
5. move a simulated clock through the moment the registrations arrive (confirmations go
   out) and through each session's link release time — 09:00 the day before, in *each
   participant's* time zone — and run the dispatcher (:func:`s3events.dispatch.dispatch`)
   at every step, writing every email as an ``.eml`` file into ``--dir``/outbox;
6. print what there is: the sessions, their meetings with join links (never a host link),
   and the messages per kind and state.

The clock is an argument of every call (``now=``), never read inside the library, which is
how a test, a cron job or this example replays the autumn of 2021. Everything is idempotent:
run the example again with the same ``--dir`` and nothing new is provisioned, imported or
sent, and it says so. Delete the folder to start over.

Run it from a checkout::

    python examples/provision_series.py --dir build/provision-example
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from s3events.dispatch import dispatch
from s3events.errors import InputError, S3EventsError
from s3events.importing import ImportReport, import_registrations
from s3events.ledger import status_counts
from s3events.loading import load_series
from s3events.models import Series
from s3events.provision import PlanItem, apply, load_adapter, stored_meetings
from s3events.registrations import list_registrations
from s3events.scheduler import release_time
from s3events.store import Store, open_store
from s3events.timezones import get_zone

HERE = Path(__file__).resolve().parent
SERIES_FILE = HERE / "s3-latam-2021" / "series.yaml"
REGISTRATIONS_FILE = HERE / "s3-latam-2021" / "registrations.csv"
DEFAULT_DIR = Path("build/provision-example")
#: Where the simulated clock starts: a week before the first seminar, when people register.
CLOCK_START = datetime(2021, 10, 20, 12, 0, tzinfo=timezone.utc)


@dataclass
class Step:
    """One tick of the simulated clock and why the example stops there."""

    now: datetime
    session_id: str | None  # None: the registrations arrive (confirmations)


@dataclass
class Outcome:
    """What one run did: provisioning, import and messages sent per (session, kind)."""

    provisioned: list[PlanItem]
    imported: ImportReport
    sent: Counter[tuple[str, str]] = field(default_factory=Counter)
    steps: dict[str, list[datetime]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line: only ``--dir``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help=f"folder for the state database and the outbox "
                             f"(default: {DEFAULT_DIR})")
    return parser.parse_args(argv)


def provision(store: Store, series: Series, *, now: datetime) -> list[PlanItem]:
    """Create (or check) one meeting per session on the series' platform, Jitsi."""
    adapter = load_adapter(series)
    try:
        return apply(series, adapter, store, now=now)
    finally:
        adapter.close()


def link_steps(store: Store, series: Series) -> list[Step]:
    """Every moment a session's link is due for someone: 09:00 the day before, their time."""
    people = list_registrations(store, series.id, status="confirmed")
    steps: set[tuple[datetime, str]] = set()
    for session in series.sessions:
        for person in people:
            if person.wants(session.id):
                moment = release_time(series.dispatch.link, session.start,
                                      get_zone(person.timezone))
                steps.add((moment, session.id))
    return [Step(moment, session_id) for moment, session_id in sorted(steps)]


def run_clock(store: Store, series: Series, steps: list[Step], *, outbox: Path,
              outcome: Outcome) -> None:
    """Dispatch at every step; count what was sent and note any problem."""
    for step in steps:
        report = dispatch(store, series, now=step.now, transport=f"outbox:{outbox}")
        for (session_id, kind, _channel), count in report.sent.items():
            outcome.sent[(session_id, kind)] += count
        outcome.problems += report.problems
        outcome.steps.setdefault(step.session_id or "-", []).append(step.now)


def run(series: Series, folder: Path) -> Outcome:
    """The whole scenario against the state database and outbox in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    with open_store(folder / "state.sqlite") as store:
        items = provision(store, series, now=CLOCK_START)
        imported = import_registrations(store, series, REGISTRATIONS_FILE, now=CLOCK_START)
        outcome = Outcome(items, imported)
        steps = [Step(CLOCK_START, None), *link_steps(store, series)]
        run_clock(store, series, steps, outbox=folder / "outbox", outcome=outcome)
    return outcome


def utc(moment: datetime) -> str:
    """``2021-10-27 07:00 UTC``."""
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def print_run(series: Series, outcome: Outcome) -> None:
    """What this run did: provisioning, import, and the clock's steps."""
    actions = Counter(item.action for item in outcome.provisioned)
    print(f"Provisioning on {series.platform.name}: "
          + ", ".join(f"{n} {action}" for action, n in sorted(actions.items())))
    print(f"Import: {outcome.imported.summary()}")
    print("Clock:")
    for session_id, moments in outcome.steps.items():
        what = "registrations arrive" if session_id == "-" else f"{session_id} links"
        kinds = sorted(kind for (sid, kind) in outcome.sent if sid == session_id)
        sent = ", ".join(f"{outcome.sent[(session_id, k)]} {k}" for k in kinds) or "nothing"
        span = utc(moments[0]) if len(moments) == 1 else (
            f"{utc(moments[0])} … {utc(moments[-1])} ({len(moments)} steps)")
        print(f"  {span}  {what}: sent {sent}")


def print_sessions(store: Store, series: Series) -> None:
    """Each session with its local start and its meeting's join link (no host link)."""
    meetings = stored_meetings(store, series.id)
    print(f"Sessions of {series.id} ({series.timezone}):")
    for session in series.sessions:
        start = session.start.astimezone(series.zone)
        title = series.text(session.title, series.default_language)
        meeting = meetings.get(session.id)
        link = meeting.join_url if meeting is not None else "(no meeting)"
        print(f"  {session.id}  {start:%Y-%m-%d %H:%M}  {title}")
        print(f"         join: {link}")


def print_messages(store: Store, series: Series) -> None:
    """Messages in the delivery ledger, per kind and state."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in status_counts(store, series.id):
        counts[(row.kind, row.state)] += row.count
    print("Messages (kind, state, count):")
    for (kind, state), count in counts.items():
        print(f"  {kind:<13} {state:<9} {count}")


def print_summary(series: Series, folder: Path, outcome: Outcome) -> None:
    """The run, then the state of the series as the database has it."""
    print_run(series, outcome)
    with open_store(folder / "state.sqlite", create=False) as store:
        print_sessions(store, series)
        print_messages(store, series)
    total = sum(outcome.sent.values())
    if total:
        print(f"Sent {total} message(s) in this run; the emails are in {folder / 'outbox'}")
    else:
        print("Nothing new was sent: every message due was already sent by an earlier run "
              f"(state in {folder}).")
    for problem in outcome.problems:
        print(f"problem: {problem}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the example; exit 0, or 2 for bad input, 1 for other failures (one message)."""
    args = parse_args(argv)
    try:
        series = load_series(SERIES_FILE)
        outcome = run(series, args.dir)
        print_summary(series, args.dir, outcome)
    except S3EventsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, InputError) else 1
    return 1 if outcome.problems else 0


if __name__ == "__main__":
    sys.exit(main())
