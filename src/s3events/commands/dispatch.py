"""Message commands: ``dispatch``, ``status`` and ``preview``.

Each is a thin layer over :mod:`s3events.dispatch` and :mod:`s3events.ledger`. Output
holds counts, session ids and kinds — never names or addresses — except ``preview``,
which shows the one message asked for.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from ..cli import now_option, parse_now, series_argument, state_option, web_address
from ..terminal import clean, json_text, safe

if TYPE_CHECKING:
    from ..dispatch import DispatchReport
    from ..store import Store

__all__ = ["dispatch", "preview", "status"]

base_url_option = click.option(
    "--base-url", "base_url", metavar="URL", default=None, envvar="S3EVENTS_BASE_URL",
    callback=web_address,
    help="The event page (s3events serve); cancel and opt-in links start with it "
         "(default: $S3EVENTS_BASE_URL, else the series' dispatch.base_url).")


@contextmanager
def _opened(state: str | None) -> Iterator[Store]:
    """The state database; a missing one is an error (these commands never create it)."""
    from ..store import open_store

    store = open_store(state, create=False)
    try:
        yield store
    finally:
        store.close()


@contextmanager
def _progress(enabled: bool) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """(start(total), advance(n)) callbacks driving a rich progress bar on a terminal."""
    if not enabled:
        yield (lambda _total: None), (lambda _n: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("sending", total=None)
        yield (lambda total: bar.update(task, total=total)), (
            lambda n: bar.advance(task, n))


def _summary(report: DispatchReport, *, dry_run: bool) -> list[str]:
    s = report.scheduled
    lines = [f"scheduled {s.inserted} new message(s) for {s.registrations} registration(s)"
             + (f", cancelled {s.cancelled}" if s.cancelled else "")
             + (f", re-timed {s.rescheduled}" if s.rescheduled else "")]
    for session in sorted(s.waiting_for_meeting):
        lines.append(f"session {session}: no meeting yet, its links wait for "
                     "`s3events provision`")
    if dry_run:
        lines.append(f"dry run: {report.due} message(s) due now would be sent "
                     f"(+ {s.inserted} not yet in the ledger, some of them due)"
                     + (f", {s.expired} would expire as too late" if s.expired else "")
                     + "; nothing was written or sent")
        return lines
    if not report.total_sent and not report.failed and not report.retrying:
        lines.append("nothing to send" if not report.due else "sent nothing")
    for (session, kind, channel), count in sorted(report.sent.items()):
        lines.append(f"sent {count} {kind} message(s) for {session} by {channel}")
    if report.retrying:
        lines.append(f"{report.retrying} message(s) failed and will be retried later")
    if report.failed:
        lines.append(f"{report.failed} message(s) failed for good (see `s3events status`)")
    if report.paused:
        lines.append(f"paused {report.paused} time(s) when a service asked to slow down")
    expired = report.expired + s.expired
    if expired:
        lines.append(f"{expired} message(s) expired: their session had ended (links, "
                     "updates) or started (reminders) before they could go; they are never "
                     "sent late (see `s3events status`)")
    if report.lost:
        lines.append(f"{report.lost} message(s) went out after this worker's claim on them "
                     "had run out (--lease): another worker owns them now, and they may "
                     "arrive twice")
    return lines


@click.command()
@series_argument
@now_option
@state_option
@click.option("--transport", "transport", metavar="URL", default=None,
              envvar="S3EVENTS_TRANSPORT",
              help="Email transport: smtp://user:pass@host:port, smtps://…, outbox:PATH or "
                   "console (default: the series' dispatch.transport, else outbox).")
@click.option("--dry-run", is_flag=True, help="Say what is due; write and send nothing.")
@click.option("--worker-id", "worker", metavar="ID", default=None,
              help="Name of this worker in the ledger (default: host:pid:random).")
@click.option("--batch-size", default=50, show_default=True, type=click.IntRange(1, 10000),
              help="Messages claimed at a time.")
@click.option("--concurrency", "concurrency", default=None, type=click.IntRange(1, 256),
              metavar="N",
              help="Messages in flight at once on each channel (default: the series' "
                   "dispatch.concurrency, else 4 for smtp and chat APIs, 1 for outbox and "
                   "console). The channel's rate_limit holds whatever N is.")
@click.option("--lease", "lease", default=900, show_default=True, type=click.IntRange(1),
              metavar="SECONDS",
              help="Real seconds after which another worker takes over a dead worker's "
                   "claimed messages.")
@base_url_option
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: when standard error is a terminal).")
def dispatch(series_path: str, now: str | None, state: str | None, transport: str | None,
             dry_run: bool, worker: str | None, batch_size: int, concurrency: int | None,
             lease: int, base_url: str | None, progress: bool | None) -> None:
    """Send every message that is due, exactly once (safe to run from cron).

    Schedules what each participant is owed (confirmations, links the day before, updates,
    cancellations), then sends what is due at --now. Running it again sends nothing that
    was sent; after a crash it sends at most the messages that were in flight. A link or
    reminder whose moment has passed is never sent late: it becomes expired.

    Exit status: 0 when every message due was sent, or nothing was due (a message a
    server refused for now, to be tried again on a later run, counts as neither); 1 when
    a message failed for good or a channel could not be used (`s3events status` says
    why, `s3events retry` puts failed messages back); 2 for bad input: the series file, a
    malformed --transport, a missing state database.
    """
    from ..dispatch import dispatch as run
    from ..loading import load_series

    series = load_series(series_path)
    moment = parse_now(now)
    show = sys.stderr.isatty() if progress is None else progress
    with _opened(state) as store, _progress(show and not dry_run) as (start, advance):
        report = run(store, series, now=moment, transport=transport, dry_run=dry_run,
                     worker=worker, batch_size=batch_size, lease=timedelta(seconds=lease),
                     base_url=base_url, concurrency=concurrency, progress=advance,
                     on_start=start)
    for line in _summary(report, dry_run=dry_run):
        click.echo(line)
    _exit_status(report, series_path)


def _exit_status(report: DispatchReport, series_path: str) -> None:
    """Say what went wrong on standard error and exit 1, when anything did."""
    for problem in report.problems:
        click.echo(f"error: {clean(problem)}", err=True)
    if report.problems:
        click.echo("error: some messages could not be sent in this run; they stay pending "
                   "and go out on the next run once the problem is fixed", err=True)
    if report.failed:
        click.echo(f"error: {report.failed} message(s) failed for good; `s3events status "
                   f"{clean(series_path)}` says why, and `s3events retry` puts them back once "
                   "the cause is fixed", err=True)
    if report.problems or report.failed:
        click.get_current_context().exit(1)


def _status_rows(store: Store, series_id: str) -> list[dict[str, Any]]:
    from ..ledger import status_counts

    return [{"session": c.session_id or "-", "kind": c.kind, "state": c.state,
             "count": c.count} for c in status_counts(store, series_id)]


def _failure_rows(store: Store, series_id: str) -> list[dict[str, Any]]:
    from ..unsent import failure_counts

    return [{"session": f.session_id or "-", "kind": f.kind, "channel": f.channel,
             "reason": f.reason, "count": f.count} for f in failure_counts(store, series_id)]


@click.command()
@series_argument
@state_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(series_path: str, state: str | None, as_json: bool) -> None:
    """Count messages per session, kind and state (pending, sending, sent, failed, expired …),
    and say why messages failed.

    Each reason is the last error stored with the failed messages (without addresses or
    names), with how many failed that way. JSON: {"series", "counts": [{"session", "kind",
    "state", "count"}], "failures": [{"session", "kind", "channel", "reason", "count"}]}.
    """
    from ..loading import load_series

    series = load_series(series_path)
    with _opened(state) as store:
        rows = _status_rows(store, series.id)
        failures = _failure_rows(store, series.id)
    if as_json:
        click.echo(json_text(json.dumps({"series": series.id, "counts": rows,
                                         "failures": failures}, indent=2,
                                        ensure_ascii=False)))
        return
    _status_table(series.id, rows)
    for failure in failures:
        click.echo(clean(f"failed: {failure['count']} {failure['kind']} message(s) for "
                         f"{failure['session']} by {failure['channel']}: "
                         f"{failure['reason']}"))


def _status_table(series_id: str, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from ..ledger import STATES

    table = Table(title=f"Messages of {safe(series_id)}")
    table.add_column("session")
    table.add_column("kind")
    for state in STATES:
        table.add_column(state, justify="right")
    grouped: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for row in rows:
        grouped[(row["session"], row["kind"])][row["state"]] = row["count"]
    for (session, kind), counts in grouped.items():
        table.add_row(safe(session), safe(kind), *(str(counts.get(s, "")) for s in STATES))
    console = Console(width=max(100, Console().width))
    if not rows:
        console.print(f"no messages yet for {safe(series_id)}")
        return
    console.print(table)


@click.command()
@series_argument
@state_option
@now_option
@click.option("--registration", "email", metavar="EMAIL", required=True,
              help="The participant, by email.")
@click.option("--session", "session_id", metavar="ID", default=None,
              help="The session (needed for link, reminder, update, cancellation, followup "
                   "and missed).")
@click.option("--kind", type=click.Choice(["confirmation", "waitlisted", "optin", "link",
                                           "reminder", "update", "cancellation", "followup",
                                           "missed", "certificate"]),
              default="link", show_default=True)
@click.option("--channel", default="email", show_default=True,
              help="Render as for this channel (email, or a messaging channel's short text).")
@click.option("--format", "fmt", type=click.Choice(["text", "html", "eml", "ics"]),
              default="text", show_default=True)
@base_url_option
def preview(series_path: str, state: str | None, now: str | None, email: str,
            session_id: str | None, kind: str, channel: str, fmt: str,
            base_url: str | None) -> None:
    """Render one message without sending it (the ledger is not changed)."""
    from ..dispatch import preview as render
    from ..email import build_email
    from ..errors import InputError
    from ..loading import load_series

    series = load_series(series_path)
    if kind in ("link", "reminder", "update", "cancellation", "followup", "missed") \
            and session_id is None:
        raise InputError(f"--session is needed to preview a {kind} message")
    with _opened(state) as store:
        message = render(store, series, email=email, session_id=session_id, kind=kind,
                         now=parse_now(now), base_url=base_url, channel=channel)
    if fmt == "eml":
        click.echo(_for_terminal(build_email(message).decode("utf-8")), nl=False)
    elif fmt == "html":
        click.echo(clean(message.html or "", keep_newlines=True))
    elif fmt == "ics":
        click.echo(_for_terminal(message.calendar or ""), nl=False)
    else:
        if message.subject:
            click.echo(f"Subject: {clean(message.subject)}\n")
        click.echo(clean(message.text, keep_newlines=True))


def _for_terminal(text: str) -> str:
    """An email or calendar as it is, CRLF line ends included, but with any control character
    a participant's value brought in shown as an escape (valid files hold none)."""
    return "\r\n".join(clean(part, keep_newlines=True) for part in text.split("\r\n"))
