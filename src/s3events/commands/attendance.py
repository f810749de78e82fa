"""``s3events attendance``: who attended each session — fetched, imported, reported.

``s3events attendance SERIES`` is short for ``s3events attendance report SERIES``. The
report shows names and emails (the organiser asks for them); ``fetch`` and ``import``
print counts and session ids only.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import click

from ..cli import now_option, parse_now, series_argument, state_option
from .dispatch import _opened
from .grouping import ShortcutGroup

if TYPE_CHECKING:
    from ..attendance import AttendanceReport
    from ..models import Series
    from ..store import Store

__all__ = ["attendance"]


@click.group(cls=ShortcutGroup, default="report")
def attendance() -> None:
    """Who attended each session: fetch it from the platform, import a report, show it.

    `s3events attendance SERIES [--json|--csv]` is short for
    `s3events attendance report SERIES`.
    """


@attendance.command("report")
@series_argument
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print one CSV row per person and session, then the unmatched "
                   "participants.")
def report(series_path: str, state: str | None, as_json: bool, as_csv: bool) -> None:
    """Per person and session: attended or not, minutes, first join, last leave, and how
    they were matched (identity, email or name); unmatched participants apart.

    A person counts as attended from the series' attendance.min_minutes (default 10).
    """
    from ..attendance import attendance_report
    from ..errors import InputError
    from ..loading import load_series
    from ..terminal import json_text

    if as_json and as_csv:
        raise InputError("give --json or --csv, not both")
    series = load_series(series_path)
    with _opened(state) as store:
        found = attendance_report(store, series)
    if as_json:
        click.echo(json_text(json.dumps(found.as_json(), indent=2, ensure_ascii=False)))
    elif as_csv:
        click.echo(found.as_csv(), nl=False)
    else:
        _print_report(found)


@attendance.command("import")
@series_argument
@click.argument("file", metavar="FILE", type=click.Path(exists=True, dir_okay=False))
@click.option("--session", "session_id", metavar="ID", required=True,
              help="The session the report is of.")
@click.option("--timezone", "zone", metavar="ZONE", default=None,
              help="Zone of times written without an offset (Zoom, Webex, Teams and "
                   "BigBlueButton reports; default: the series' zone).")
@state_option
@now_option
def import_(series_path: str, file: str, session_id: str, zone: str | None,
            state: str | None, now: str | None) -> None:
    """Import a participant report as a session's attendance (replacing what it had).

    Reads the exports of Zoom, Webex, Teams and BigBlueButton, and a plain CSV with the
    columns name,email,join_time,leave_time (ISO 8601 times with an offset or Z; one row
    per join). Every row that cannot be read is reported with its line; the others are
    kept, and the exit status is 2.
    """
    from ..attendance import import_attendance
    from ..loading import load_series

    series = load_series(series_path)
    with _opened(state) as store:
        done = import_attendance(store, series, file, session_id=session_id,
                                 now=parse_now(now), timezone=zone)
    for problem in done.problems:
        click.echo(str(problem), err=True)
    click.echo(done.summary())
    if done.errors:
        raise click.exceptions.Exit(2)


@attendance.command("fetch")
@series_argument
@click.option("--session", "session_id", metavar="ID", default=None,
              help="Fetch this session only (again, if its attendance is known).")
@click.option("--grace", "grace", metavar="MINUTES", default=15, show_default=True,
              type=click.IntRange(0), help="Minutes after a session's end before its "
              "report is asked for.")
@click.option("--watch", is_flag=True,
              help="Keep polling and fetching until every session's attendance is known.")
@click.option("--interval", metavar="SECONDS", default=60, show_default=True,
              type=click.IntRange(5), help="Seconds between two rounds with --watch.")
@state_option
@now_option
def fetch(series_path: str, session_id: str | None, grace: int, watch: bool, interval: int,
          state: str | None, now: str | None) -> None:
    """Ask the platform who attended each session that has ended and has no attendance yet.

    Safe to run from cron every few minutes: sessions already known are left alone. On
    platforms that can only say who is in a meeting now, sessions are polled while they
    run; the next run after their end closes them.
    """
    from ..loading import load_series

    series = load_series(series_path)
    with _opened(state) as store:
        while True:
            code = _fetch_round(store, series, session_id, grace, parse_now(now))
            if not watch or now is not None or _all_known(store, series):
                break
            time.sleep(interval)
    if code:
        raise click.exceptions.Exit(code)


def _fetch_round(store: Store, series: Series, session_id: str | None, grace: int,
                 moment: datetime) -> int:
    from ..attendance.fetching import fetch_attendance

    done = fetch_attendance(store, series, now=moment, session_id=session_id,
                            grace=timedelta(minutes=grace))
    if not done.outcomes:
        click.echo("nothing to fetch: no session has ended without known attendance")
    for outcome in done.outcomes:
        line = f"session {outcome.session_id}: {outcome.status}: {outcome.message}"
        click.echo(line, err=outcome.status in ("failed", "unsupported", "no-meeting",
                                                "not-polled"))
    if done.needs_import:
        return 2
    return 1 if done.failed else 0


def _all_known(store: Store, series: Series) -> bool:
    from ..attendance import session_states

    states = session_states(store, series.id)
    return all(s.cancelled or (s.id in states and states[s.id].known)
               for s in series.sessions)


def _print_report(found: AttendanceReport) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..terminal import safe  # names and emails come from platforms' reports and forms

    console = Console(width=max(100, Console().width))
    sessions = Table(title=f"Attendance of {found.series_id} (from "
                           f"{found.min_minutes} minutes)")
    for name in ("session", "known", "registered", "attended", "unmatched"):
        sessions.add_column(name, justify="left" if name == "session" else "right")
    for s in found.sessions:
        sessions.add_row(s.id, "yes" if s.known else "not yet", str(s.registered),
                         str(s.attended) if s.known else "", str(len(s.unmatched)) if s.known
                         else "")
    console.print(sessions)
    known = [s.id for s in found.sessions if s.known]
    if not known:
        console.print("no attendance yet: run `s3events attendance fetch` or "
                      "`s3events attendance import`")
        return
    people = Table(title="People (minutes; ✓ attended)")
    people.add_column("name")
    people.add_column("email")
    for session_id in known:
        people.add_column(session_id, justify="right")
    for person in found.people:
        if not person.sessions:
            continue
        cells = []
        for session_id in known:
            entry = person.sessions.get(session_id)
            cells.append("" if entry is None else
                         f"{'✓ ' if entry.attended else ''}{entry.presence.minutes}")
        people.add_row(safe(person.name), safe(person.email), *cells)
    console.print(people)
    for s in found.sessions:
        for u in s.unmatched:
            console.print(f"{s.id}: unmatched participant {safe(u.name)}"
                          f"{f' <{safe(u.email)}>' if u.email else ''}, "
                          f"{u.presence.minutes} min")
