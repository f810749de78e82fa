"""``s3events plan``, ``provision``, ``meetings`` and ``plugins``: thin layers over the API.

``plan`` shows what :func:`s3events.provision.apply` would do; ``provision`` does it with a
progress bar and never prompts; ``meetings`` lists each session's meeting (never a host
URL); ``plugins`` lists installed plugins with their platforms and transports.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from ..cli import now_option, parse_now, series_argument, state_option
from ..loading import load_series
from ..models import Series
from ..plugins import plugin_infos
from ..provision import MeetingRow, PlanItem, apply, load_adapter, meeting_rows
from ..provision import plan as make_plan
from ..store import Store, open_store, open_store_or_empty
from ..terminal import json_text, safe

__all__ = ["meetings", "plan_command", "plugins", "provision"]

_STYLE = {"create": "green", "update": "yellow", "delete": "red", "unchanged": "dim",
          "skip": "dim"}


def _console(*, stderr: bool = False) -> Console:
    """A console; when not a terminal, wide enough that links are never cut or wrapped."""
    console = Console(stderr=stderr, highlight=False, emoji=False)
    if not console.is_terminal:
        console = Console(stderr=stderr, highlight=False, emoji=False, width=1000)
    return console


def _echo_json(value: Any) -> None:
    click.echo(json_text(json.dumps(value, indent=2, ensure_ascii=False)))


@contextmanager
def _opened(state: str | None, *, create: bool = False) -> Iterator[Store]:
    """The state database; only ``provision`` creates a missing one."""
    store = open_store(state, create=create)
    try:
        yield store
    finally:
        store.close()


def platform_option(func: Any) -> Any:
    """``--platform NAME``: use this platform instead of the series file's."""
    return click.option(
        "--platform", "platform", metavar="NAME", default=None,
        help="Platform to use instead of the series file's (the file's options then apply "
             "only if they are for this platform).",
    )(func)


def _summary(items: Sequence[PlanItem], *, done: bool) -> str:
    counts = Counter(item.action for item in items)
    verbs = ("created", "updated", "deleted") if done else ("to create", "to update",
                                                            "to delete")
    parts = [f"{counts['create']} {verbs[0]}", f"{counts['update']} {verbs[1]}",
             f"{counts['delete']} {verbs[2]}", f"{counts['unchanged']} unchanged",
             f"{counts['skip']} skipped"]
    return ("Done: " if done else "Plan: ") + ", ".join(parts) + "."


def _plan_table(items: Sequence[PlanItem], title: str) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("Session", no_wrap=True)
    table.add_column("Action", no_wrap=True)
    table.add_column("Reason")
    for item in items:
        style = _STYLE[item.action]
        table.add_row(safe(item.session), f"[{style}]{safe(item.action)}[/{style}]",
                      safe(item.reason))
    return table


@click.command("plan")
@series_argument
@click.option("--json", "as_json", is_flag=True,
              help='Print a JSON list of {"session", "action", "reason"}.')
@platform_option
@state_option
@now_option
def plan_command(series_path: str, as_json: bool, platform: str | None, state: str | None,
                 now: str | None) -> None:
    """Show what provisioning would create, update or delete, and why.

    Changes nothing: no write call to the platform (it may be read, to find meetings
    deleted there by hand), and no meeting recorded or changed in the state.
    """
    moment = parse_now(now)
    series = load_series(series_path)
    adapter = load_adapter(series, platform=platform)
    store, found = open_store_or_empty(state)
    if not found:
        click.echo("no state database yet: planning as for a first provision", err=True)
    with store:
        items = make_plan(series, adapter, store, now=moment)
    if as_json:
        _echo_json([item.as_dict() for item in items])
        return
    console = _console()
    console.print(_plan_table(items, f"{safe(series.id)} on {safe(adapter.name)}"))
    console.print(_summary(items, done=False))


@click.command("provision")
@series_argument
@click.option("--json", "as_json", is_flag=True,
              help='Print a JSON list of {"session", "action", "reason"} of what was done.')
@platform_option
@state_option
@now_option
def provision(series_path: str, as_json: bool, platform: str | None, state: str | None,
              now: str | None) -> None:
    """Create, update or delete the sessions' meetings so they match the series file.

    Safe to run again at any time (also after an interruption): a second run changes
    nothing. Never prompts.
    """
    moment = parse_now(now)
    series = load_series(series_path)
    adapter = load_adapter(series, platform=platform)
    try:
        with _opened(state, create=True) as store, _progress() as advance:
            items = apply(series, adapter, store, now=moment, progress=advance)
    finally:
        adapter.close()
    if as_json:
        _echo_json([item.as_dict() for item in items])
        return
    console = _console()
    console.print(_plan_table(items, f"{safe(series.id)} on {safe(adapter.name)}"))
    console.print(_summary(items, done=True))


@contextmanager
def _progress() -> Iterator[Any]:
    columns = (TextColumn("Provisioning"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.description}"))
    console = _console(stderr=True)
    with Progress(*columns, console=console, transient=True,
                  disable=not console.is_terminal) as bar:
        task = bar.add_task("", total=None)

        def advance(item: PlanItem, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total,
                       description=f"{item.session}: {item.action}")

        yield advance


def _meeting_record(series: Series, session_id: str, row: MeetingRow | None) -> dict[str, Any]:
    meeting = row.meeting if row is not None else None
    start = _session_start(series, session_id, row)
    return {
        "session": session_id,
        "start": start.isoformat().replace("+00:00", "Z") if start else None,
        "platform": row.platform if row is not None else None,
        "state": row.state if row is not None else "none",
        "meeting_id": meeting.meeting_id if meeting else None,
        "join_url": meeting.join_url if meeting else None,
        "per_participant_links": meeting.per_participant_links if meeting else False,
        "sequence": row.sequence if row is not None else 0,
    }


@click.command("meetings")
@series_argument
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per "
              "session: session, start, platform, state, meeting_id, join_url, sequence.")
@state_option
def meetings(series_path: str, as_json: bool, state: str | None) -> None:
    """List each session's platform, meeting id and join link (never a host link)."""
    series = load_series(series_path)
    with _opened(state) as store:
        rows = meeting_rows(store, series.id)
    ids = [s.id for s in series.sessions] + sorted(set(rows) - {s.id for s in series.sessions})
    records = [_meeting_record(series, sid, rows.get(sid)) for sid in ids]
    if as_json:
        _echo_json(records)
        return
    _print_meetings(series, records)


def _session_start(series: Series, session_id: str, row: MeetingRow | None) -> datetime | None:
    try:
        return series.session(session_id).start
    except KeyError:  # only in the state: the series file no longer has it
        return row.start if row is not None else None


def _print_meetings(series: Series, records: list[dict[str, Any]]) -> None:
    """One block per session; the link on a line of its own, so it is never cut."""
    console = _console()
    console.print(f"[bold]{safe(series.id)}[/bold]: meetings")
    for rec in records:
        if rec["meeting_id"] is None:
            console.print(f"{safe(rec['session'])}  -  no meeting ({safe(rec['state'])})",
                          soft_wrap=True)
            continue
        start = datetime.fromisoformat(rec["start"].replace("Z", "+00:00"))
        when = f"{start.astimezone(series.zone):%Y-%m-%d %H:%M} {series.timezone}"
        console.print(f"{safe(rec['session'])}  {when}  {safe(rec['platform'])}  meeting "
                      f"{safe(rec['meeting_id'])}", soft_wrap=True)
        note = "  (each participant gets their own link)" if rec["per_participant_links"] else ""
        console.print(f"    {safe(rec['join_url'])}{note}", overflow="ignore", crop=False,
                      soft_wrap=True)


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list: name, version, distribution, platforms, transports.")
def plugins(as_json: bool) -> None:
    """List installed plugins (built-in ones first), with their platforms and transports."""
    infos = plugin_infos()
    if as_json:
        _echo_json([info.as_dict() for info in infos])
        return
    table = Table(title="s3events plugins", title_justify="left")
    for name in ("Plugin", "Version", "Distribution", "Platforms", "Transports"):
        table.add_column(name)
    for info in infos:
        cells = (info.name, info.version, info.distribution or "-",
                 ", ".join(info.platforms) or "-", ", ".join(info.transports) or "-")
        table.add_row(*(safe(cell) for cell in cells))
    _console().print(table)


#: The name cli.COMMANDS points at for ``s3events plan``.
plan = plan_command
