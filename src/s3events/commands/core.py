"""Core commands: ``validate``, ``times``, ``calendar``, ``agenda`` and ``schema``.

Each is a few lines over the library. Heavy modules (rich, icalendar, Babel, Jinja2) are
imported inside the command that needs them, so ``s3events validate`` stays quick.
Bad input raises :class:`~s3events.errors.InputError` (or a click usage error): exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..cli import series_argument
from ..errors import InputError
from ..terminal import clean, safe

if TYPE_CHECKING:
    from ..models import Series
    from ..timezones import TimetableRow

__all__ = ["agenda", "calendar", "schema", "times", "validate"]


def _load(path: str) -> Series:
    """Load a series, printing its warnings to stderr."""
    from ..loading import load_series_with_warnings

    series, warnings = load_series_with_warnings(path)
    for warning in warnings:
        click.echo(clean(warning), err=True)
    return series


def _language(series: Series, lang: str | None) -> str:
    """``--lang`` checked against the series' languages (default: its default language)."""
    from ..i18n import base_language

    if lang is None:
        return series.default_language
    if lang in series.languages or base_language(lang) in series.languages:
        return lang
    raise InputError(
        f"--lang {lang!r} is not a language of this series; use one of "
        f"{', '.join(series.languages)}"
    )


def _write(data: bytes, output: str | None) -> None:
    if output is None:
        click.echo(data, nl=False)  # bytes go to the binary stream as they are
        return
    Path(output).write_bytes(data)
    click.echo(f"wrote {output}", err=True)


lang_option = click.option(
    "--lang", "lang", metavar="LANG", default=None,
    help="Language of the texts (default: the series' default language).",
)
output_option = click.option(
    "-o", "--output", "output", metavar="FILE", default=None,
    type=click.Path(dir_okay=False, writable=True),
    help="Write to FILE instead of standard output.",
)


@click.command()
@series_argument
def validate(series_path: str) -> None:
    """Check a series file and report every problem (exit 2 when there are errors).

    Problems are listed with file, line and field. Warnings (a session outside the
    series window, a catalog that lacks some messages, options for a transport that is
    not installed, a min_sessions nobody can reach) are printed but do not fail the
    check; a `fonts` file that is not a font does. Every declared language needs a
    catalog of s3events' phrases (see `s3events translations`).
    """
    from ..checks import check_language_support, check_settings, missing_catalogs_in_file
    from ..errors import SeriesError

    try:
        series = _load(series_path)
    except SeriesError as exc:  # say every problem at once: a missing catalog too
        more = [p for p in missing_catalogs_in_file(Path(series_path))
                if p.message not in {q.message for q in exc.problems}]
        if not more:
            raise
        raise SeriesError([*exc.problems, *more], file=exc.file) from None
    problems = check_language_support(series) + check_settings(series)
    if any(p.severity == "error" for p in problems):
        raise SeriesError(problems, file=series_path)
    for problem in problems:
        click.echo(str(problem), err=True)
    first = series.sessions[0].start.astimezone(series.zone).date()
    last = series.sessions[-1].start.astimezone(series.zone).date()
    cancelled = sum(1 for s in series.sessions if s.cancelled)
    extra = f", {cancelled} cancelled" if cancelled else ""
    click.echo(
        f"ok: {len(series.sessions)} sessions{extra}, {first} to {last} ({series.timezone}), "
        f"languages {', '.join(series.languages)}"
    )


def _zones(values: Sequence[str]) -> list[str]:
    from ..timezones import ZoneNameError, check_zone_name

    names = []
    for value in values:
        try:
            names.append(check_zone_name(value))
        except ZoneNameError as exc:
            raise click.BadParameter(str(exc), param_hint="--tz") from None
    return names


@click.command()
@series_argument
@click.option("--tz", "zones", metavar="ZONE", multiple=True,
              help="An IANA time zone such as America/Lima; repeat for more "
                   "(default: the series' zone).")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON list, one object per session, instead of a table.")
@lang_option
def times(series_path: str, zones: tuple[str, ...], as_json: bool, lang: str | None) -> None:
    """Show each session's start and end in several time zones.

    Conversions come from the tz database for each instant, so daylight-saving changes
    on different dates in different countries come out right.
    """
    from ..timezones import timetable

    names = _zones(zones)
    series = _load(series_path)
    rows = timetable(series, names or [series.timezone], lang=_language(series, lang))
    if as_json:
        click.echo(json.dumps([row.to_json() for row in rows], ensure_ascii=False, indent=2))
    else:
        _print_table(rows, _language(series, lang))


def _print_table(rows: list[TimetableRow], lang: str) -> None:
    """The timetable in the widest layout that fits the terminal, never a cut cell.

    A boxed table with titles, then without titles, then a table without box lines; when
    none fits (many zones, a long session id, a narrow terminal), one block per session
    with a line per zone.
    """
    from rich.console import Console

    from ..i18n import babel_locale

    locale = babel_locale(lang)
    console = Console(highlight=False, emoji=False)
    zones = list(rows[0].local) if rows else []
    cells = [[_when(*row.local[zone], locale) for zone in zones] for row in rows]
    boxed = _table(rows, zones, cells, titles=False, boxed=True)
    width = _natural_width(boxed)
    if width + _TITLE_ROOM <= console.width:
        console.print(_table(rows, zones, cells, titles=True, boxed=True))
    elif width <= console.width:
        console.print(boxed)
    elif _natural_width(plain := _table(rows, zones, cells, titles=False,
                                        boxed=False)) <= console.width:
        console.print(plain)
    else:
        _print_blocks(console, rows, zones, cells)


#: What a title column needs beside the others: its border, padding and 20 characters.
_TITLE_ROOM = 23


def _natural_width(table: Any) -> int:
    """The width ``table`` takes when nothing is wrapped or cut."""
    import io

    from rich.cells import cell_len
    from rich.console import Console

    out = io.StringIO()
    Console(width=10_000, file=out, highlight=False, emoji=False).print(table)
    return max((cell_len(line.rstrip()) for line in out.getvalue().splitlines()), default=0)


def _when(start: datetime, end: datetime, locale: Any) -> tuple[str, str]:
    """A session in one zone as (date, "17:00–19:30"), "+1" when it ends the next day."""
    from babel.dates import format_skeleton

    later = (end.date() - start.date()).days
    hours = [format_skeleton("Hm", moment, locale=locale) for moment in (start, end)]
    span = "–".join(hours) + (f" +{later}" if later else "")
    return format_skeleton("MMMEd", start, locale=locale), span


def _table(rows: list[TimetableRow], zones: list[str], cells: list[list[tuple[str, str]]], *,
           titles: bool, boxed: bool) -> Any:
    from rich import box
    from rich.table import Table

    table = (Table(show_lines=True) if boxed
             else Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, leading=1))
    table.add_column("Session", no_wrap=True)
    if titles:
        table.add_column("Title", min_width=20, overflow="fold")
    for zone in zones:
        table.add_column(zone.replace("/", "/\n"), no_wrap=True)
    for row, row_cells in zip(rows, cells, strict=True):
        title = [safe(row.title)] if titles else []
        times = ("\n".join(safe(line) for line in cell) for cell in row_cells)
        table.add_row(safe(row.session), *title, *times)
    return table


def _print_blocks(console: Any, rows: list[TimetableRow], zones: list[str],
                  cells: list[list[tuple[str, str]]]) -> None:
    """One block per session: its id and title (wrapped), then each zone with its time,
    on one line when it fits, else the time on the line below the zone."""
    from rich.cells import cell_len

    width = max(len(zone) for zone in zones)
    for row, row_cells in zip(rows, cells, strict=True):
        console.print(f"[bold]{safe(row.session)}[/bold]  {safe(row.title)}")
        days = max(cell_len(day) for day, _ in row_cells)
        spans = max(cell_len(span) for _, span in row_cells)
        one_line = 2 + width + 2 + days + 2 + spans <= console.width
        for zone, (day, span) in zip(zones, row_cells, strict=True):
            when = f"{safe(day)}{' ' * (days - cell_len(day))}  {safe(span)}"
            if one_line:
                console.print(f"  {zone:<{width}}  {when}")
            else:
                console.print(f"  {zone}\n    {when}")
        console.print()


@click.command()
@series_argument
@lang_option
@output_option
def calendar(series_path: str, lang: str | None, output: str | None) -> None:
    """Write the series as an iCalendar feed (METHOD:PUBLISH) with one event per session.

    Events carry the series' time zone with its VTIMEZONE, stable UIDs, and titles and
    descriptions in the chosen language. Join links are not included.
    """
    from ..calendar import series_calendar, to_ics

    series = _load(series_path)
    _write(to_ics(series_calendar(series, lang=_language(series, lang))), output)


@click.command()
@series_argument
@lang_option
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md",
              show_default=True, help="Markdown or a standalone HTML page.")
@output_option
def agenda(series_path: str, lang: str | None, fmt: str, output: str | None) -> None:
    """Write the full agenda of a series (all sessions, topics and exercises) in one language.

    Dates and times are formatted for the language, in the series' zone and in the main
    zone of each focus country.
    """
    from ..agenda import render_agenda

    series = _load(series_path)
    chosen = _language(series, lang)
    text = render_agenda(series, lang=chosen, fmt="html" if fmt == "html" else "md")
    _write(text.encode("utf-8"), output)


@click.command()
def schema() -> None:
    """Print the JSON Schema of series files, for editors that check YAML or JSON."""
    from ..models import Series

    document = Series.model_json_schema()
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **document,
    }
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))
