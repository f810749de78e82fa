"""Reading CSV and XLSX files row by row, as form tools write them, in flat memory.

:func:`open_table` tells the kind of file by its content (not its name) and returns a
:class:`Table`: the header row, found among the first rows (Zoom writes lines of meeting
details before it), and an iterator of ``(line, cells)`` that reads the file as it goes.

CSV: UTF-16 and UTF-8 byte-order marks are honoured; otherwise the whole file is checked
as UTF-8 first (a file that is UTF-8 but for a few broken bytes stays UTF-8, and the rows
holding those bytes are reported), then Windows-1252, then Latin-1. Lines may end in
``\\r\\n``, ``\\n`` or a lone ``\\r`` (old Mac Excel). The separator (comma, semicolon or
tab) is the one that makes the header most recognisable. A row the CSV reader cannot read
is yielded as a :class:`RowError` at its line; the next rows are read as usual.

XLSX: the first sheet, through openpyxl's read-only mode (rows are parsed as they are
read). A workbook whose declared size or compressed parts are beyond :data:`LIMITS` is
refused before anything is read into memory.

Line numbers are physical lines of the file (a quoted value spanning lines counts all of
them) or the sheet's row numbers.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["LIMITS", "RowError", "Table", "decode", "open_table", "peek", "read_table"]

#: Refusal thresholds: columns of a sheet, rows of a sheet (Excel's own maximum), and the
#: uncompressed size of one part of a workbook (a "zip bomb" is refused, not unpacked).
LIMITS = {"columns": 1024, "rows": 1_048_576, "part_bytes": 1 << 30, "shared_strings": 256 << 20}
#: How many rows may come before the header (a tool's preamble).
HEADER_SEARCH_ROWS = 30
_CHUNK = 1 << 20
_DELIMITERS = (",", ";", "\t")
_BINARY_BYTES = bytes(range(0, 9)) + bytes([11, 12]) + bytes(range(14, 32))
_BROKEN = re.compile("[\udc80-\udcff]")

Row = tuple[int, "list[str] | RowError"]
Scorer = Callable[[list[str]], int]


@dataclass(frozen=True)
class RowError:
    """A row the file reader could not read, and why."""

    message: str


@dataclass
class Table:
    """A file being read: its header, then its rows one by one."""

    header: list[str]
    rows: Iterator[Row]
    kind: str
    header_line: int = 1
    encoding: str | None = None
    delimiter: str | None = None
    _close: Callable[[], None] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Release the file."""
        if self._close is not None:
            self._close()
            self._close = None


def open_table(path: str | Path, *, score: Scorer) -> Table:
    """Open a CSV or XLSX file; ``score`` rates a row as a header (higher is likelier)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(64 * 1024)
    except OSError as exc:
        raise InputError(f"{path}: cannot read this file ({exc.strerror})") from exc
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, score)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(f"{path}: this is an old Excel .xls file; save it as .xlsx or CSV")
    if _looks_binary(head):
        raise InputError(f"{path}: this is not a CSV file or an Excel workbook (it holds "
                         "binary data); export the registrations as CSV or XLSX")
    return _open_csv(path, head, score)


# -- CSV -------------------------------------------------------------------------------------


def _looks_binary(head: bytes) -> bool:
    """True for data no text export produces: many control bytes (UTF-16 has a BOM)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or not head:
        return False
    controls = sum(head.count(b) for b in _BINARY_BYTES)
    return controls > max(8, len(head) // 20)


def _decodes(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes strictly as ``encoding`` (read in chunks)."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _mostly_utf8(path: Path) -> bool:
    """Whether a file that is not clean UTF-8 is still UTF-8 but for a few broken bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    bad = wide = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            text = decoder.decode(chunk)
            broken = len(_BROKEN.findall(text))
            bad += broken
            wide += len(text) - len(text.encode("ascii", "ignore")) - broken
    return wide >= 10 * bad


def _encoding(path: Path, head: bytes) -> tuple[str, str, str]:
    """(codec, errors, name for people) for a CSV file."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "surrogateescape", "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "surrogateescape", "utf-8 with BOM"
    if _decodes(path, "utf-8") or _mostly_utf8(path):
        return "utf-8", "surrogateescape", "utf-8"
    if _decodes(path, "cp1252"):
        return "cp1252", "strict", "windows-1252"
    return "latin-1", "strict", "latin-1"


def _sample_rows(text: str, delimiter: str) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        for cells in reader:
            rows.append(cells)
            if len(rows) >= HEADER_SEARCH_ROWS:
                break
    except csv.Error:
        pass
    return rows


def _find_header(text: str, score: Scorer) -> tuple[str, int]:
    """The separator and the index of the header row among the first rows.

    The best-scoring row wins; on a tie the earlier row, then the row split into more
    cells, then the separator listed first.
    """
    candidates = [((score(cells), -index, len(cells), -rank), delimiter, index)
                  for rank, delimiter in enumerate(_DELIMITERS)
                  for index, cells in enumerate(_sample_rows(text, delimiter))]
    if not candidates:
        return ",", 0
    _, delimiter, index = max(candidates)
    return delimiter, index


def decode(data: bytes) -> tuple[str, str]:
    """The text of a whole CSV file's bytes and the encoding read, as :func:`open_table` reads.

    For small files read at once (a participant report): byte-order marks first, then
    strict UTF-8, Windows-1252, Latin-1 (which reads any byte).
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8", errors="replace"), "utf-8 with BOM"
    for encoding, name in (("utf-8", "utf-8"), ("cp1252", "windows-1252")):
        try:
            return data.decode(encoding), name
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _open_csv(path: Path, head: bytes, score: Scorer) -> Table:
    codec, errors, name = _encoding(path, head)
    sample = head.decode(codec, errors="replace")
    if "\n" in sample or "\r" in sample:  # a cut last line would be a wrong sample row
        sample = sample[:max(sample.rfind("\n"), sample.rfind("\r")) + 1]
    delimiter, index = _find_header(sample, score)
    handle = path.open("rb")
    stream = io.TextIOWrapper(handle, encoding=codec, errors=errors, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    rows = _csv_rows(reader)
    header: list[str] = []
    header_line = 1
    for line, cells in rows:
        if isinstance(cells, RowError):
            continue
        header, header_line = cells, line
        if index == 0:
            break
        index -= 1
    return Table(header, rows, "csv", header_line, name, delimiter, stream.close)


def _csv_rows(reader: Any) -> Iterator[Row]:
    """``(first physical line, cells)`` of every row; unreadable rows as RowError."""
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield start, RowError(f"cannot read this CSV row: {exc}")
        except UnicodeDecodeError as exc:
            yield start, RowError(f"cannot decode this row: {exc.reason}")
            return
        else:
            yield start, cells
        start = reader.line_num + 1


# -- XLSX ------------------------------------------------------------------------------------


def _check_parts(path: Path) -> None:
    """Refuse workbooks whose parts would unpack to more than :data:`LIMITS` allow."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"{path}: cannot read this file as an Excel workbook ({exc}); "
                         "save it as .xlsx or CSV") from exc
    for info in infos:
        limit = (LIMITS["shared_strings"] if info.filename.endswith("sharedStrings.xml")
                 else LIMITS["part_bytes"])
        if info.file_size > limit:
            raise InputError(f"{path}: the workbook part {info.filename} unpacks to "
                             f"{info.file_size:,} bytes (at most {limit:,} are read); "
                             "save the sheet as CSV")


def _check_size(path: Path, sheet: Any) -> tuple[int | None, int | None]:
    """The declared (rows, columns), refused when beyond :data:`LIMITS`."""
    rows, columns = sheet.max_row, sheet.max_column
    if columns is not None and columns > LIMITS["columns"]:
        raise InputError(f"{path}: the sheet declares {columns:,} columns (at most "
                         f"{LIMITS['columns']:,} are read); delete the empty columns or "
                         "save it as CSV")
    if rows is not None and rows > LIMITS["rows"]:
        raise InputError(f"{path}: the sheet declares {rows:,} rows, more than a workbook "
                         f"can hold ({LIMITS['rows']:,}); the file is damaged")
    return rows, columns


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _load_workbook(path: Path) -> tuple[Any, Callable[[], None]]:
    """The workbook (read-only) and what closes it and its file.

    openpyxl is given the open file rather than the path: given a path it refuses any name
    that does not end in .xlsx, and a workbook is told from CSV by its content here.
    """
    import openpyxl

    _check_parts(path)
    handle = path.open("rb")
    try:
        book = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as exc:
        handle.close()
        raise InputError(f"{path}: cannot read this file as an Excel workbook ({exc}); "
                         "save it as .xlsx or CSV") from exc
    except BaseException:
        handle.close()
        raise

    def close() -> None:
        try:
            book.close()
        finally:
            handle.close()

    return book, close


def _best_header(first: list[Row], score: Scorer) -> tuple[int, list[str]]:
    """The line and cells of the best-scoring row (the first of equals), or row 1."""
    rows = [(line, cells) for line, cells in first if not isinstance(cells, RowError)]
    if not rows:
        return 1, []
    return max(rows, key=lambda row: (score(row[1]), -row[0]))


def _open_xlsx(path: Path, score: Scorer) -> Table:
    book, close = _load_workbook(path)
    try:
        sheet = book.worksheets[0]
        max_row, max_col = _check_size(path, sheet)
        rows = _xlsx_rows(sheet.iter_rows(values_only=True, max_row=max_row,
                                          max_col=max_col), path)
        first, rows = peek(rows, HEADER_SEARCH_ROWS)
    except BaseException:
        close()
        raise
    header_line, header = _best_header(first, score)
    data = (row for row in rows if row[0] > header_line)
    return Table(header, data, "xlsx", header_line, _close=close)


def _chain(first: Iterator[Row], then: Iterator[Row]) -> Iterator[Row]:
    yield from first
    yield from then


def _xlsx_rows(values: Iterator[tuple[Any, ...]], path: Path) -> Iterator[Row]:
    try:
        for number, cells in enumerate(values, start=1):
            if cells and any(v is not None for v in cells):
                yield number, [_cell(v) for v in cells]
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as exc:
        raise InputError(f"{path}: the workbook is damaged ({exc}); save it again as "
                         ".xlsx or CSV") from exc


def peek(rows: Iterator[Row], count: int) -> tuple[list[Row], Iterator[Row]]:
    """The first ``count`` rows, and an iterator over all of them (those included)."""
    first = list(itertools.islice(rows, count))
    return first, _chain(iter(first), rows)


def read_table(path: str | Path) -> Table:
    """A whole CSV or XLSX file read at once, its header found by the registration columns.

    For small files and tests; an import reads with :func:`open_table` as it goes.
    """
    from .registrations.columns import header_score  # the registration headers it knows

    table = open_table(path, score=header_score)
    try:
        rows = list(table.rows)
    finally:
        table.close()
    table.rows = iter(rows)
    return table
