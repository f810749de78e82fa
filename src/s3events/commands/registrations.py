"""``s3events registrations``: import, list, cancel, export and erase registrations.

``import`` keeps the good rows of a file and reports each bad one as ``FILE:LINE: field:
reason``; when any row was not imported it exits with status 2 (after keeping the others),
so scripts notice. A state database the import created and then stored nothing in (the
file was refused whole, or every row) is removed again, so no empty state is left for a
later ``dispatch`` to find "nothing to send" in. ``list`` and ``export`` print personal
data, on purpose and only to standard output; nothing here logs it. ``erase`` asks before
erasing unless ``--yes`` is given, and without a terminal to ask on it erases nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ..cli import now_option, parse_now, series_argument, state_option
from ..errors import InputError
from ..loading import load_series
from ..registrations import (
    Registration,
    cancel_registration,
    erase_person,
    export_person,
    import_registrations,
    list_registrations,
)
from ..store import Store, open_store
from ..terminal import clean, json_text, safe

__all__ = ["registrations"]

STATUSES = ("pending", "confirmed", "waitlisted", "cancelled")


@contextmanager
def _opened(state: str | None, *, create: bool = False) -> Iterator[Store]:
    """The state database; only ``import`` creates a missing one."""
    store = open_store(state, create=create)
    try:
        yield store
    finally:
        store.close()


def _echo_json(value: Any) -> None:
    click.echo(json_text(json.dumps(value, indent=2, ensure_ascii=False)))


@click.group()
def registrations() -> None:
    """Import, list, cancel, export and erase the registrations of a series."""


def _presets_help() -> str:
    from ..registrations.presets import PRESETS

    return "\b\n" + "\n".join(f"{p.name:<16} {p.title}: {p.formats}" for p in PRESETS)


def _parse_maps(values: Sequence[str]) -> dict[str, str]:
    """``--map "SOURCE COLUMN=field"`` options as a mapping (the last ``=`` splits)."""
    mapping: dict[str, str] = {}
    for value in values:
        source, sep, target = value.rpartition("=")
        if not sep or not source.strip() or not target.strip():
            raise click.BadParameter(f"'{value}' is not SOURCE COLUMN=field, such as "
                                     "\"Correo institucional=email\"", param_hint="--map")
        mapping[source.strip()] = target.strip()
    return mapping


def _preset_names() -> list[str]:
    from ..registrations.presets import PRESETS

    return [p.name for p in PRESETS]


@registrations.command("import", epilog="Exports recognised by their headers (--preset "
                       "forces one):\n\n" + _presets_help())
@series_argument
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--map", "maps", multiple=True, metavar="'SOURCE COLUMN=field'",
              help="Read a column as a field (name, first_name, last_name, email, language, "
                   "timezone, city, country, organisation, sector, sessions, whatsapp, "
                   "telegram, slack, matrix, apprise, consent, consent_<flag>) or drop it "
                   "with =ignore; repeatable.")
@click.option("--preset", type=click.Choice(_preset_names()), default=None,
              help="Read the file as this tool's export (normally recognised by its "
                   "headers).")
@click.option("--on-duplicate", "on_duplicate", type=click.Choice(["latest", "first", "error"]),
              default="latest", show_default=True,
              help="The same person again (in the file or from an earlier import): the "
                   "later answer updates the registration, the first stays, or it is a bad "
                   "row.")
@click.option("--require-consent", "required", multiple=True, metavar="FLAG",
              help="Refuse rows without this consent (e.g. data_processing); repeatable.")
@state_option
@now_option
def import_command(series_path: str, file: Path, maps: Sequence[str], preset: str | None,
                   on_duplicate: str, required: Sequence[str], state: str | None,
                   now: str | None) -> None:
    """Import a CSV or XLSX FILE of registrations, as a form or event tool exported it.

    The tool is recognised by its headers (in English, Spanish, Portuguese, French, German
    or Italian); other columns are matched by name, and --map (or the series file's
    import.columns) maps the rest. Bad rows are listed as FILE:LINE: field: reason and
    the good ones kept; importing the same file again changes nothing. Exit status 2
    when some rows were not imported.
    """
    series = load_series(series_path)
    moment = parse_now(now)
    columns = _parse_maps(maps)
    store = open_store(state, create=True)
    try:
        report = import_registrations(  # rows hold what people typed: printed cleaned
            store, series, file, now=moment, required_consent=required,
            on_duplicate=on_duplicate,  # type: ignore[arg-type]  # a click.Choice
            columns=columns, preset=preset,
            on_problem=lambda problem: click.echo(clean(problem), err=True))
    finally:  # a state made by this run that received nothing does not stay behind
        store.close_or_discard()
    for note in report.notes:
        click.echo(f"note: {clean(note)}", err=True)
    click.echo(clean(report.summary()))
    if report.errors:
        raise InputError(
            f"{report.rejected} row(s) of {file} were not imported (listed above); the other "
            "rows were kept. Fix those rows and import the file again.")


def _sessions(registration: Registration) -> str:
    return "all" if registration.sessions is None else " ".join(registration.sessions)


_ZONE_FROM = {"city": "from the city", "country": "from the country",
              "country-guess": "guessed from the country", "series": "the series' zone"}


def _zone(registration: Registration) -> str:
    source = _ZONE_FROM.get(registration.timezone_source)
    return registration.timezone + (f" ({source})" if source else "")



def _table(rows: list[Registration]) -> Table:
    table = Table(box=None, pad_edge=False)
    for title in ("#", "status", "name", "email", "lang", "time zone", "country", "sector",
                  "sessions", "channels"):
        table.add_column(title, no_wrap=title in ("email", "time zone"))
    for reg in rows:
        channels = " ".join(reg.channels)
        cells = (str(reg.position), reg.status, reg.name, reg.email, reg.language, _zone(reg),
                 reg.country or "", reg.sector or "", _sessions(reg), channels)
        table.add_row(*(safe(cell) for cell in cells))  # people's values: no markup
    return table


@registrations.command("list")
@series_argument
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--status", "status", multiple=True, type=click.Choice(STATUSES),
              help="Only registrations with this status; repeatable.")
@state_option
def list_command(series_path: str, as_json: bool, status: Sequence[str],
                 state: str | None) -> None:
    """List the registrations of a series, in registration order (personal data)."""
    series = load_series(series_path)
    with _opened(state) as store:
        rows = list_registrations(store, series.id, status=list(status) or None)
    if as_json:
        _echo_json([reg.to_json() for reg in rows])
        return
    console = Console(highlight=False, emoji=False)
    if not console.is_terminal:
        console = Console(highlight=False, emoji=False, width=1000)
    console.print(_table(rows))
    counts: Counter[str] = Counter(reg.status for reg in rows)
    click.echo(f"{len(rows)} registration(s): "
               + (", ".join(f"{counts[s]} {s}" for s in STATUSES if counts[s]) or "none"))


@registrations.command("cancel")
@series_argument
@click.argument("email")
@state_option
@now_option
def cancel_command(series_path: str, email: str, state: str | None, now: str | None) -> None:
    """Cancel the registration of EMAIL; the waiting list moves up in order."""
    series = load_series(series_path)
    with _opened(state) as store:
        done = cancel_registration(store, series, email, now=parse_now(now))
    who = clean(email)
    click.echo(f"Cancelled the registration of {who}." if done.changed
               else f"The registration of {who} was already cancelled.")
    if done.promoted:
        click.echo(f"{len(done.promoted)} person(s) moved up from the waiting list.")


@registrations.command("export")
@series_argument
@click.argument("email")
@state_option
def export_command(series_path: str, email: str, state: str | None) -> None:
    """Print as JSON all data held on EMAIL: the registration and the messages sent."""
    series = load_series(series_path)
    with _opened(state) as store:
        _echo_json(export_person(store, series.id, email))


@registrations.command("erase")
@series_argument
@click.argument("email")
@click.option("--yes", is_flag=True, help="Erase without asking.")
@click.option("--transport", "transport", metavar="URL", default=None,
              envvar="S3EVENTS_TRANSPORT",
              help="The email transport dispatch uses, as its --transport: with outbox:PATH "
                   "the person's .eml files are deleted from PATH (default: the series' "
                   "dispatch.transport, else ./outbox).")
@state_option
@now_option
def erase_command(series_path: str, email: str, yes: bool, transport: str | None,
                  state: str | None, now: str | None) -> None:
    """Erase EMAIL's personal data, unsent messages and outbox files (the right to erasure).

    Records of messages already sent stay, with only a random id that nothing links to the
    person any more. The person's .eml files are deleted from the outbox folder dispatch
    writes to. Asks first unless --yes is given.
    """
    series = load_series(series_path)
    if not yes:
        click.confirm(f"Erase every piece of data on {clean(email)} in {series.id}? "
                      "This cannot be undone", abort=True)
    with _opened(state) as store:
        report = erase_person(store, series, email, now=parse_now(now), transport=transport)
    click.echo(f"Erased {clean(email)}: {report}.")
