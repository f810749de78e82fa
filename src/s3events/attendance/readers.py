"""Reading participant reports: Zoom, Webex, Teams, BigBlueButton, and a plain CSV.

:func:`read_report` tells the format from the file's headers (never from its name), reads
every row, and returns the participants with the problems of the rows it could not read,
each with its line number. The formats (headers in English, as the platforms write them):

``zoom``
    Zoom's *Usage reports → Participants* export, with or without the meeting block above
    it: ``Name (Original Name), User Email, Join Time, Leave Time, Duration (Minutes), …``
    — one row per join.
``webex``
    Webex's attendance export (tab-separated UTF-16): ``Meeting Name, …, Display Name,
    First Name, Last Name, Role, Attendee Email, Join Time, Leave Time, Attendance
    Duration, …`` — one row per join.
``teams``
    The attendance report Teams lets organisers download (tab-separated UTF-16, sections
    ``1. Summary``, ``2. Participants``, ``3. In-Meeting activities``): each join from
    section 3, else first join, last leave and time spent from section 2; also the older
    ``Full Name, User Action, Timestamp`` list of joins and leaves.
``bigbluebutton``
    The learning dashboard's *Download session data*: ``Name, Moderator, Activity Score,
    …, Join, Left, Duration`` — first join, last leave and time spent.
``csv``
    ``name,email,join_time,leave_time``, times in ISO 8601 with an offset or ``Z``, one
    row per join (a person may have several).

Times without an offset are read in the zone given (see
:mod:`s3events.attendance.timeparse`).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from ..countries import fold
from ..errors import InputError, Problem
from ..tables import decode
from .matching import email_key, name_key
from .records import Attendee, Stay
from .timeparse import DateOrder, TimeFormatError, parse_duration, parse_time, pick_order

__all__ = ["FORMATS", "ReadContext", "ReadResult", "read_report"]

#: The formats :func:`read_report` knows.
FORMATS = ("zoom", "webex", "teams", "bigbluebutton", "csv")


@dataclass(frozen=True)
class ReadContext:
    """What reading needs besides the file: the zone of offset-less times, the session."""

    zone: ZoneInfo
    start: datetime
    end: datetime
    file: str = "file"


@dataclass
class ReadResult:
    """The participants of a report, and the rows that could not be read."""

    format: str
    attendees: list[Attendee] = field(default_factory=list)
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    naive_times: bool = False


@dataclass(frozen=True)
class _Layout:
    """A table format: the headers that identify it and the column of each field."""

    format: str
    needs: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]
    exact: bool = True
    section: str | None = None  # the folded title line the header follows
    priority: int = 0
    offsets: bool = False  # times must carry their offset


_LAYOUTS = (
    _Layout("teams", ("name", "join time", "leave time", "email"),
            {"name": ("name",), "email": ("email",), "join": ("join time",),
             "leave": ("leave time",)}, section="in meeting activities", priority=3),
    _Layout("teams", ("name", "first join", "last leave", "email"),
            {"name": ("name",), "email": ("email",), "join": ("first join",),
             "leave": ("last leave",), "duration": ("in meeting duration", "duration")},
            exact=False, priority=2),
    _Layout("zoom", ("name original name", "join time", "leave time"),
            {"name": ("name original name",), "email": ("user email",),
             "join": ("join time",), "leave": ("leave time",)}, priority=1),
    _Layout("webex", ("attendee email", "join time", "leave time"),
            {"name": ("display name",), "first": ("first name",), "last": ("last name",),
             "email": ("attendee email",), "join": ("join time",),
             "leave": ("leave time",)}, priority=1),
    _Layout("bigbluebutton", ("name", "moderator", "join", "left", "duration"),
            {"name": ("name",), "join": ("join",), "leave": ("left",),
             "duration": ("duration",)}, exact=False, priority=1),
    _Layout("csv", ("name", "email", "join time", "leave time"),
            {"name": ("name",), "email": ("email",), "join": ("join time",),
             "leave": ("leave time",)}, offsets=True),
)
_TEAMS_EVENTS = ("full name", "user action", "timestamp")


def _delimiter(line: str) -> str:
    return "\t" if "\t" in line else (";" if line.count(";") > line.count(",") else ",")


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter), [])


@dataclass(frozen=True)
class _Found:
    layout: _Layout | None
    line: int  # 0-based index of the header line
    header: list[str]
    delimiter: str


def _find_header(lines: Sequence[str]) -> _Found | None:
    found: list[_Found] = []
    previous = ""
    for index, line in enumerate(lines[:500]):
        if not line.strip():
            continue
        delimiter = _delimiter(line)
        header = [fold(c) for c in _cells(line, delimiter)]
        if tuple(header[:3]) == _TEAMS_EVENTS:
            found.append(_Found(None, index, header, delimiter))
        for layout in _LAYOUTS:
            if all(n in header for n in layout.needs) and (
                    layout.section is None or fold(previous).endswith(layout.section)):
                found.append(_Found(layout, index, header, delimiter))
                break
        previous = line
    if not found:
        return None
    return max(found, key=lambda f: (f.layout.priority if f.layout else 2, -f.line))


def _rows(lines: Sequence[str], found: _Found) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of the table under the header, to its first empty line."""
    text = "\n".join(lines[found.line + 1:])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=found.delimiter)
    while True:
        first = found.line + 2 + reader.line_num
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InputError(f"line {first}: cannot read this row: {exc}") from exc
        if not any(c.strip() for c in cells):
            return
        yield first, cells


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    for name in names:
        if name in header:  # the last one: Zoom's block repeats "User Email" for the host
            return len(header) - 1 - header[::-1].index(name)
    return None


def read_report(data: bytes, context: ReadContext) -> ReadResult:
    """The participants in a report file's bytes (see the module doc)."""
    text, _encoding = decode(data)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    found = _find_header(lines)
    if found is None:
        raise InputError(
            f"{context.file}: not a participant report s3events knows: expected the export "
            "of Zoom, Webex, Teams or BigBlueButton, or a CSV with the columns "
            "name,email,join_time,leave_time")
    rows = list(_rows(lines, found))
    if found.layout is None:
        return _teams_events(rows, context)
    return _table(found.layout, found.header, rows, context)


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _table(layout: _Layout, header: list[str], rows: list[tuple[int, list[str]]],
           context: ReadContext) -> ReadResult:
    col = {k: _column(header, v) for k, v in layout.columns.items()}
    result = ReadResult(layout.format, rows=len(rows), naive_times=not layout.offsets)
    zone = None if layout.offsets else context.zone
    order = pick_order((_cell(c, col["join"]) for _, c in rows), context.start.date())
    people: dict[str, list[tuple[str, str | None, Stay, int | None]]] = defaultdict(list)
    for line, cells in rows:
        name = _cell(cells, col["name"]) or " ".join(
            filter(None, (_cell(cells, col.get("first")), _cell(cells, col.get("last")))))
        email = _cell(cells, col.get("email")) or None
        if not name and not email:
            result.problems.append(_problem(context, line, "name", "no name and no email"))
            continue
        stay = _stay(cells, col, zone, order, context, line, result)
        if stay is None:
            continue
        seconds = parse_duration(_cell(cells, col.get("duration")))
        people[email_key(email) or name_key(name) or name].append((name, email, stay, seconds))
    result.attendees = [_attendee(entries, layout.exact) for entries in people.values()]
    return result


def _stay(cells: list[str], col: dict[str, int | None], zone: ZoneInfo | None,
          order: DateOrder, context: ReadContext, line: int, result: ReadResult
          ) -> Stay | None:
    try:
        joined = parse_time(_cell(cells, col["join"]), zone=zone, order=order)
    except TimeFormatError as exc:
        result.problems.append(_problem(context, line, "join_time", str(exc)))
        return None
    leave_text = _cell(cells, col["leave"])
    try:
        left = context.end if leave_text in ("", "-") else parse_time(
            leave_text, zone=zone, order=order)
    except TimeFormatError as exc:
        result.problems.append(_problem(context, line, "leave_time", str(exc)))
        return None
    if left < joined:
        result.problems.append(_problem(context, line, "leave_time",
                                        "the leave time is before the join time"))
        return None
    return joined, max(left, joined)


def _attendee(entries: list[tuple[str, str | None, Stay, int | None]], exact: bool
              ) -> Attendee:
    name = entries[0][0] or (entries[0][1] or "")
    email = next((e for _, e, _, _ in entries if e), None)
    stays = tuple(sorted(s for _, _, s, _ in entries))
    spent = [s for _, _, _, s in entries if s is not None]
    seconds = sum(spent) if spent and not exact else sum(
        int((b - a).total_seconds()) for a, b in stays)
    return Attendee(name, email, None, stays, seconds, exact)


def _teams_events(rows: list[tuple[int, list[str]]], context: ReadContext) -> ReadResult:
    """The older Teams list: ``Full Name, User Action, Timestamp`` (joins and leaves)."""
    result = ReadResult("teams", rows=len(rows), naive_times=True)
    order = pick_order((_cell(c, 2) for _, c in rows), context.start.date())
    events: dict[str, list[tuple[datetime, bool, str]]] = defaultdict(list)
    for line, cells in rows:
        name, action = _cell(cells, 0), fold(_cell(cells, 1))
        try:
            moment = parse_time(_cell(cells, 2), zone=context.zone, order=order)
        except TimeFormatError as exc:
            result.problems.append(_problem(context, line, "timestamp", str(exc)))
            continue
        if not name or not action.startswith(("joined", "left")):
            result.problems.append(_problem(context, line, "user action",
                                            "expected a name and Joined or Left"))
            continue
        events[name_key(name) or name].append((moment, action.startswith("joined"), name))
    result.attendees = [_from_events(sorted(e), context.end) for e in events.values()]
    return result


def _from_events(events: list[tuple[datetime, bool, str]], end: datetime) -> Attendee:
    stays: list[Stay] = []
    opened: datetime | None = None
    for moment, joined, _name in events:
        if joined and opened is None:
            opened = moment
        elif not joined and opened is not None:
            stays.append((opened, moment))
            opened = None
    if opened is not None:
        stays.append((opened, max(opened, end)))
    seconds = sum(int((b - a).total_seconds()) for a, b in stays)
    return Attendee(events[0][2], None, None, tuple(stays), seconds, True)


def _problem(context: ReadContext, line: int, field_name: str, message: str) -> Problem:
    return Problem(message, file=context.file, line=line, path=field_name)

