"""Importing registrations from the CSV or XLSX files form and event tools export.

:func:`import_registrations` reads the file as it goes (:mod:`s3events.tables`: encodings,
separators, line endings, a preamble before the header), recognises the tool that wrote
it (:mod:`.presets`), maps its columns (:mod:`.columns`, with ``--map`` and the series
file's ``import: {columns: …}``), cleans every row (:class:`.fields.FieldCleaner`), keeps
the good rows, reports every bad one with its line, and saves and schedules a batch at a
time (:class:`.saving.BatchWriter`): memory stays flat however long the file is.
Importing the same file again changes nothing.

Rows the export itself marks as not registered (Indico's Withdrawn or Pending, an
Eventbrite attendee not attending, a Zoom registrant not approved) are never confirmed:
they are skipped and counted, and a withdrawal cancels a registration imported before.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError, Problem
from ..tables import RowError, Table, open_table, peek
from .addresses import clean_email
from .columns import HEADER_ALIASES, ColumnMap, header_score, map_columns
from .fields import FieldCleaner
from .presets import Preset, detect, preset_named
from .saving import BatchWriter, Entry, OnDuplicate, SaveCounts
from .sessions import names_sessions

if TYPE_CHECKING:
    from ..models import Series
    from ..store import Store

__all__ = ["HEADER_ALIASES", "ImportReport", "import_registrations"]

#: Rows read ahead to recognise columns by their answers.
SAMPLE_ROWS = 200
#: People scheduled per call of the scheduler (one of its pages).
SCHEDULE_PAGE = 500
#: Problems kept on the report (every one still reaches ``on_problem``).
MAX_PROBLEMS = 10_000
_ZONE_SOURCES = ("given", "city", "country", "country-guess", "series")


@dataclass(kw_only=True)
class ImportReport(SaveCounts):
    """What an import did: the writer's counts (it counts into the report itself), how the
    file was read, and every problem with its line."""

    file: str
    preset: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    header_line: int = 1
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problems_omitted: int = 0
    error_lines: set[int] = field(default_factory=set)
    ignored_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """The problems that kept a row out."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def rejected(self) -> int:
        """How many rows were not imported."""
        return len(self.error_lines)

    def add_problem(self, problem: Problem) -> None:
        """Record a problem (the first :data:`MAX_PROBLEMS` are kept)."""
        if problem.severity == "error" and problem.line is not None:
            self.error_lines.add(problem.line)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)
        else:
            self.problems_omitted += 1

    def summary(self) -> str:
        """One paragraph for people."""
        how = ", ".join(filter(None, (self.preset, self.encoding,
                                      _delimiter_name(self.delimiter))))
        text = (f"{self.file}{f' ({how})' if how else ''}: {self.rows} row(s) read; "
                f"{self.added} added ({self.confirmed} confirmed, {self.waitlisted} on the "
                f"waiting list), {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.rejected} not imported")
        return "; ".join([text, *self._details()])

    def _details(self) -> list[str]:
        details = []
        if self.header_line > 1:
            details.append(f"header on line {self.header_line}")
        if self.skipped:
            details.append("skipped as not registered in the export: " + ", ".join(
                f"{n} {value}" for value, n in sorted(self.skipped.items())))
        if self.cancelled:
            details.append(f"{self.cancelled} cancelled (withdrawn in the export)")
        if self.promoted:
            details.append(f"{self.promoted} moved up from the waiting list")
        if self.zones:
            details.append("time zones: " + ", ".join(
                f"{self.zones[s]} {_ZONE_WORDS[s]}" for s in _ZONE_SOURCES if self.zones[s]))
        if self.ignored_columns:
            details.append(f"ignored column(s): {', '.join(self.ignored_columns)}")
        return details


_ZONE_WORDS = {"given": "given", "city": "from the city", "country": "from the country",
               "country-guess": "guessed from the country", "series": "the series' zone"}


def _delimiter_name(delimiter: str | None) -> str | None:
    names = {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated"}
    return names.get(delimiter or "")


@dataclass
class _Run:
    """One import: the file, how its columns read, and where rows go."""

    series: Series
    report: ImportReport
    columns: ColumnMap
    cleaner: FieldCleaner
    writer: BatchWriter
    on_problem: Callable[[Problem], None] | None
    batch_size: int
    schedule: Callable[[list[str]], None]

    def problem(self, message: str, line: int | None, path: str = "",
                severity: str = "error") -> None:
        problem = Problem(message, file=self.report.file, line=line, path=path,
                          severity="warning" if severity == "warning" else "error")
        self.report.add_problem(problem)
        if self.on_problem is not None:
            self.on_problem(problem)

    def entry(self, line: int, cells: list[str]) -> Entry | None:
        """The row as an entry to save, or None (blank, or bad: reported)."""
        verdict = self.columns.verdict(cells)
        raw = self.columns.raw(cells)
        if verdict != "registered":
            return self.unregistered(line, cells, raw, verdict)
        fields, problems = self.cleaner.clean(raw)
        for name, message in problems:
            self.problem(message, line, name)
        if problems:
            return None
        return Entry(line, fields["email"].lower(), fields)

    def unregistered(self, line: int, cells: list[str], raw: Mapping[str, str],
                     verdict: str) -> Entry | None:
        status = self.columns.status
        text = cells[status[0]].strip() if status and status[0] < len(cells) else verdict
        try:
            email = clean_email(raw.get("email", ""))
        except ValueError:
            self.report.skipped[text or verdict] += 1
            return None
        return Entry(line, email.lower(), {"email": email}, verdict, text or verdict)

    def flush(self, batch: list[Entry]) -> None:
        touched = self.writer.write(batch)
        for problem in self.writer.problems:
            self.problem(problem.message, problem.line, problem.path, problem.severity)
        self.writer.problems.clear()
        self.schedule(touched)
        batch.clear()

    def run(self, rows: Iterator[tuple[int, list[str] | RowError]]) -> None:
        batch: list[Entry] = []
        for line, cells in rows:
            if isinstance(cells, RowError):
                self.report.rows += 1
                self.problem(cells.message, line)
                continue
            if not any(c.strip() for c in cells):
                continue
            self.report.rows += 1
            entry = self.entry(line, cells)
            if entry is not None:
                batch.append(entry)
            if len(batch) >= self.batch_size:
                self.flush(batch)
        self.flush(batch)
        self.schedule(self.writer.finish())


def _score(cells: list[str]) -> int:
    preset = detect(cells)
    return header_score(cells) + (5 * len(preset.signature) if preset else 0)


def _preset(table: Table, name: str | None) -> Preset | None:
    if name is None:
        return detect(table.header)
    try:
        return preset_named(name)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None


def import_registrations(store: Store, series: Series, path: str | Path, *, now: datetime,
                         required_consent: Collection[str] = (),
                         on_duplicate: OnDuplicate = "latest",
                         columns: Mapping[str, str] | None = None,
                         preset: str | None = None,
                         on_problem: Callable[[Problem], None] | None = None,
                         batch_size: int = 5000) -> ImportReport:
    """Import a CSV or XLSX file of registrations; keep the good rows, report the bad ones.

    New people get a seat or a place on the waiting list in file order; a person already
    known (by email: any case, any form of an internationalised domain) follows
    ``on_duplicate`` (``latest``, ``first`` or ``error``; see :mod:`.saving`) and keeps
    their status, so a cancelled person stays cancelled. ``columns`` maps source columns
    to fields (``--map``; the series file's ``import.columns`` apply too), ``preset``
    forces a tool's preset by name. ``now`` is the registration time recorded. Rows
    lacking a consent named in ``required_consent`` are refused. ``on_problem`` sees each
    problem as it is found. The messages of everyone added or changed are queued a batch
    at a time. Raises :class:`~s3events.errors.InputError` only when the file as a whole
    cannot be used (every problem of its header is listed at once).
    """
    path = Path(path)
    report = ImportReport(file=str(path))
    table = open_table(path, score=_score)
    try:
        run = _prepare(store, series, table, report, now=now, columns=columns,
                       preset=preset, required_consent=required_consent,
                       on_duplicate=on_duplicate, on_problem=on_problem,
                       batch_size=batch_size)
        run.run(table.rows)
    finally:
        table.close()
    return report


def _prepare(store: Store, series: Series, table: Table, report: ImportReport, *,
             now: datetime, columns: Mapping[str, str] | None, preset: str | None,
             required_consent: Collection[str], on_duplicate: OnDuplicate,
             on_problem: Callable[[Problem], None] | None, batch_size: int) -> _Run:
    chosen = _preset(table, preset)
    first, table.rows = peek(table.rows, SAMPLE_ROWS)
    sample = [cells for _, cells in first if not isinstance(cells, RowError)]
    mapping = map_columns(
        table.header, file=report.file, preset=chosen, mapped=columns,
        configured=series.import_.columns, sample=sample,
        looks_like_sessions=lambda text: names_sessions(series, text))
    report.preset = chosen.name if chosen else None
    report.encoding, report.delimiter = table.encoding, table.delimiter
    report.header_line, report.ignored_columns = table.header_line, mapping.ignored
    report.notes = mapping.notes
    writer = BatchWriter(store, series, now=now, source=f"import:{Path(report.file).name}",
                         on_duplicate=on_duplicate, file=report.file, counts=report)
    return _Run(series, report, mapping, FieldCleaner(series, required_consent=required_consent),
                writer, on_problem, batch_size, _scheduler(store, series, now))


def _scheduler(store: Store, series: Series, now: datetime) -> Callable[[list[str]], None]:
    """Queue the messages of the people given, a scheduler page of them at a time.

    The scheduler reads people in pages of :data:`SCHEDULE_PAGE`; handing it no more than a
    page keeps each of its queries to one short list of ids.
    """
    from ..scheduler import schedule

    def queue(ids: list[str]) -> None:
        for start in range(0, len(ids), SCHEDULE_PAGE):
            schedule(store, series, now=now, registration_ids=ids[start:start + SCHEDULE_PAGE],
                     batch_size=SCHEDULE_PAGE)

    return queue
