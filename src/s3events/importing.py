"""Importing registrations from the CSV or XLSX files that form tools export.

:func:`import_registrations` reads the file, maps its columns, cleans every row with
:func:`s3events.registrations.clean_fields`, keeps the good rows, reports every bad one
with its line number, and queues the messages. Importing the same file again changes
nothing: people are matched by email (case-insensitively) and rows whose details did not
change are left alone.

What is accepted:

- CSV in UTF-8 (with or without a byte-order mark), UTF-16 with a byte-order mark, or
  Windows-1252 (Latin-1); the encoding used is reported. Separated by commas, semicolons
  or tabs (the separator that splits the header into the most known columns wins).
- XLSX workbooks (the first sheet).
- Headers in English, Spanish or Portuguese, matched without regard to case, accents or
  punctuation (see :data:`HEADER_ALIASES`); the canonical header is
  ``name,email,language,timezone,country,organisation,sector,sessions`` plus the optional
  ``whatsapp``, ``telegram``, ``slack``, ``matrix``, ``apprise`` and ``consent``
  (and ``consent_<flag>``).
  Unknown columns are ignored and listed in the report.

Line numbers are physical lines of the file (the header is line 1; a quoted value spanning
lines counts all of them) or the sheet's row numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .countries import fold
from .errors import InputError, Problem
from .registrations import DETAIL_FIELDS, clean_fields, email_key, save_registrations

if TYPE_CHECKING:
    from .models import Series
    from .store import Store

__all__ = ["HEADER_ALIASES", "ImportReport", "Table", "import_registrations", "read_table"]

#: Canonical column → the headers that mean it (compared after :func:`~s3events.countries.fold`).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "full name", "participant", "nombre", "nombre completo",
             "nombre y apellido", "nombre y apellidos", "participante", "nome", "nome completo"),
    "first_name": ("first name", "given name", "nombres", "primer nombre", "primeiro nome"),
    "last_name": ("last name", "surname", "family name", "apellido", "apellidos", "sobrenome"),
    "email": ("email", "e mail", "email address", "e mail address", "mail", "correo",
              "correo electronico", "direccion de correo", "direccion de correo electronico",
              "correo e", "endereco de email", "endereco de e mail"),
    "language": ("language", "preferred language", "idioma", "idioma preferido", "lengua",
                 "lingua"),
    "timezone": ("timezone", "time zone", "tz", "zona horaria", "huso horario",
                 "fuso horario"),
    "country": ("country", "country region", "pais", "pais de residencia"),
    "organisation": ("organisation", "organization", "institution", "company", "affiliation",
                     "organizacion", "institucion", "entidad", "empresa", "organizacao",
                     "instituicao"),
    "sector": ("sector", "setor", "type of organisation", "type of organization",
               "tipo de organizacion", "tipo de institucion"),
    "sessions": ("sessions", "session", "sesiones", "sesion", "sessoes", "sessao"),
    "whatsapp": ("whatsapp", "whatsapp number", "numero de whatsapp"),
    "telegram": ("telegram", "telegram chat id", "telegram id"),
    "slack": ("slack", "slack id", "slack member id"),
    "matrix": ("matrix", "matrix room", "matrix room id"),
    "apprise": ("apprise", "apprise url", "notification url"),
    "consent": ("consent", "consentimiento", "consentimento", "acepto", "i agree"),
}
_HEADERS = {fold(alias): name for name, aliases in HEADER_ALIASES.items() for alias in aliases}
_REQUIRED = ("email",)
_DELIMITERS = (",", ";", "\t")


@dataclass
class Table:
    """A file's rows as text: the header and ``(line, cells)`` for every data row."""

    header: list[str]
    rows: list[tuple[int, list[str]]]
    encoding: str | None = None
    delimiter: str | None = None


@dataclass
class ImportReport:
    """What an import did: counts, the file's encoding, and every problem with its line."""

    file: str
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    promoted: int = 0
    problems: list[Problem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """The rows that were not imported."""
        return [p for p in self.problems if p.severity == "error"]

    @property
    def rejected(self) -> int:
        """How many rows were not imported."""
        return len({p.line for p in self.errors})

    def summary(self) -> str:
        """One paragraph for people."""
        how = ", ".join(filter(None, (self.encoding, _delimiter_name(self.delimiter))))
        text = (f"{self.file}{f' ({how})' if how else ''}: {self.rows} row(s) read; "
                f"{self.added} added ({self.confirmed} confirmed, {self.waitlisted} on the "
                f"waiting list), {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.rejected} not imported")
        if self.promoted:
            text += f"; {self.promoted} moved up from the waiting list"
        if self.ignored_columns:
            text += f"; ignored column(s): {', '.join(self.ignored_columns)}"
        return text


def _delimiter_name(delimiter: str | None) -> str | None:
    names = {",": "comma-separated", ";": "semicolon-separated", "\t": "tab-separated"}
    return names.get(delimiter or "")


# -- reading files ------------------------------------------------------------------------------


def decode(data: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with.

    UTF-16 and UTF-8 byte-order marks are honoured; otherwise strict UTF-8, then
    Windows-1252, then Latin-1 (which reads any byte).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8):].decode("utf-8"), "utf-8 with BOM"
        except UnicodeDecodeError as exc:
            line = data[:exc.start].count(b"\n") + 1
            raise InputError(f"line {line}: the file starts as UTF-8 but has bytes that are "
                             "not UTF-8; save it again as CSV UTF-8") from exc
    for encoding in ("utf-8", "windows-1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _pick_delimiter(first_line: str) -> str:
    """The separator that splits the header into the most known columns (then most columns)."""
    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([first_line], delimiter=delimiter), [])
        return sum(_column(c) is not None for c in cells), len(cells)

    return max(_DELIMITERS, key=score)


def read_csv(data: bytes) -> Table:
    """A CSV file's rows with their physical line numbers."""
    text, encoding = decode(data)
    first = text.split("\n", 1)[0]
    delimiter = _pick_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for cells in reader:
            rows.append((start, cells))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"line {start}: cannot read this CSV row: {exc}") from exc
    header = rows.pop(0)[1] if rows else []
    return Table(header, [(n, c) for n, c in rows if any(x.strip() for x in c)],
                 encoding, delimiter)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def read_xlsx(path: Path) -> Table:
    """The first sheet of a workbook, with the sheet's row numbers."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read this file as an Excel workbook ({exc}); "
                         "save it as .xlsx or CSV") from exc
    try:
        sheet = book.worksheets[0]
        rows = [(number, [_cell(v) for v in values]) for number, values
                in enumerate(sheet.iter_rows(values_only=True), start=1)]
    finally:
        book.close()
    header = rows.pop(0)[1] if rows else []
    return Table(header, [(n, c) for n, c in rows if any(x.strip() for x in c)])


def read_table(path: str | Path) -> Table:
    """Read a CSV or XLSX file (told apart by content, not by name)."""
    path = Path(path)
    data = path.read_bytes()
    if data.startswith(b"PK\x03\x04"):
        return read_xlsx(path)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path}: this is an old Excel .xls file; save it as .xlsx or CSV")
    try:
        return read_csv(data)
    except InputError as exc:
        raise InputError(f"{path}:{str(exc).removeprefix('line ')}") from exc


# -- columns ----------------------------------------------------------------------------------


def _column(header: str) -> str | None:
    """The canonical column a header names, or None."""
    candidates = [header, re.sub(r"\(.*?\)|\[.*?\]", "", header), *re.split(r"[/|]", header)]
    for candidate in candidates:
        key = fold(candidate)
        if key in _HEADERS:
            return _HEADERS[key]
        if key.startswith("consent ") and re.fullmatch(r"consent [a-z0-9 ]+", key):
            return "consent_" + key.removeprefix("consent ").replace(" ", "_")
    return None


def map_columns(header: Sequence[str], file: str) -> tuple[dict[str, int], list[str]]:
    """Canonical column → index, and the ignored headers; :class:`InputError` when unusable."""
    columns: dict[str, int] = {}
    ignored = []
    for index, title in enumerate(header):
        name = _column(title)
        if name is None:
            if title.strip():
                ignored.append(title.strip())
            continue
        if name in columns:
            raise InputError(f"{file}:1: columns '{header[columns[name]]}' and '{title}' both "
                             f"give the {name}; keep one")
        columns[name] = index
    missing = [name for name in _REQUIRED if name not in columns]
    if "name" not in columns and "first_name" not in columns:
        missing.insert(0, "name")
    if missing:
        expected = "; ".join(f"{m}: {', '.join(HEADER_ALIASES[m][:4])}" for m in missing)
        raise InputError(f"{file}:1: no column for {' and '.join(missing)} (headers such as "
                         f"{expected}); the canonical header is "
                         "name,email,language,timezone,country,organisation,sector,sessions")
    return columns, ignored


def _raw_row(columns: dict[str, int], cells: list[str]) -> dict[str, str]:
    raw = {name: cells[i].strip() if i < len(cells) else "" for name, i in columns.items()}
    parts = [raw.pop("first_name", ""), raw.get("name", ""), raw.pop("last_name", "")]
    if "first_name" in columns:
        parts.pop(1)
    raw["name"] = " ".join(p for p in parts if p)
    return raw


# -- the import ---------------------------------------------------------------------------------


def _clean_rows(series: Series, table: Table, columns: dict[str, int], report: ImportReport,
                required_consent: Collection[str]) -> Iterator[dict[str, Any]]:
    """The good rows, cleaned; problems (with lines) go to the report."""
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    for line, cells in table.rows:
        report.rows += 1
        fields, problems = clean_fields(series, _raw_row(columns, cells),
                                        required_consent=required_consent)
        if problems:
            report.problems += [Problem(message, file=report.file, line=line, path=name)
                                for name, message in problems]
            continue
        key = email_key(fields["email"])
        if key in seen:
            first, kept = seen[key]
            same = all(kept[f] == fields[f] for f in DETAIL_FIELDS)
            report.problems.append(Problem(
                f"the same email as line {first}" + (
                    "; ignored" if same else f", with different details; line {first} was "
                    "kept and this row was not imported"),
                file=report.file, line=line, path="email",
                severity="warning" if same else "error"))
            continue
        seen[key] = (line, fields)
        yield fields


def import_registrations(store: Store, series: Series, path: str | Path, *, now: datetime,
                         required_consent: Collection[str] = ()) -> ImportReport:
    """Import a CSV or XLSX file of registrations; keep the good rows, report the bad ones.

    New people get a seat or a place on the waiting list in file order; known people (by
    email, any case) have their details updated from the file and keep their status, so a
    cancelled person stays cancelled. ``now`` is the registration time recorded. Rows
    lacking a consent named in ``required_consent`` are refused. Raises
    :class:`~s3events.errors.InputError` only when the file as a whole cannot be used.
    """
    path = Path(path)
    report = ImportReport(file=str(path))
    table = read_table(path)
    report.encoding, report.delimiter = table.encoding, table.delimiter
    columns, report.ignored_columns = map_columns(table.header, str(path))
    entries = list(_clean_rows(series, table, columns, report, required_consent))
    counts = save_registrations(store, series, entries, now=now, source=f"import:{path.name}")
    for name in ("added", "updated", "unchanged", "confirmed", "waitlisted", "promoted"):
        setattr(report, name, getattr(counts, name))
    if counts.added or counts.updated or counts.promoted:
        from .scheduler import schedule_messages

        schedule_messages(store, series, now=now)
    return report
