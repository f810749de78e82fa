"""``s3events attendance import``: a participant report file becomes a session's attendance.

:func:`import_attendance` reads the file (see :mod:`s3events.attendance.readers`), keeps
every row it can read, reports each one it cannot with its line, and stores the
participants as the session's attendance, replacing what was there: importing the same
file twice changes nothing. A file whose every row is bad replaces nothing. When joins
fall more than an hour outside the session's time, the report warns: when most do, the file
may be of another session, or its times in another zone than the one they were read in
(``--timezone``); when a few do, their times are worth a look.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from ..errors import InputError, Problem
from ..models import Series
from ..store import Store
from ..timezones import ZoneNameError, get_zone
from .readers import ReadContext, read_report
from .records import Attendee
from .storage import save_attendance

__all__ = ["AttendanceImport", "import_attendance"]

_SLACK = timedelta(hours=1)


@dataclass
class AttendanceImport:
    """What an import did: the format, counts, and every problem with its line."""

    file: str
    session_id: str
    format: str = ""
    zone: str | None = None
    rows: int = 0
    participants: int = 0
    matched: int = 0
    stored: bool = False
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        """The rows that were not imported."""
        return [p for p in self.problems if p.severity == "error"]

    def summary(self) -> str:
        """One sentence for people."""
        read_in = f", times read in {self.zone}" if self.zone else ""
        text = (f"{self.file} ({self.format}{read_in}): {self.rows} row(s), "
                f"{self.participants} participant(s) for session {self.session_id}, "
                f"{self.matched} matched to a registration, "
                f"{self.participants - self.matched} unmatched")
        if self.errors:
            text += f"; {len({p.line for p in self.errors})} row(s) not imported"
        if not self.stored:
            text += "; nothing was stored"
        return text


def import_attendance(store: Store, series: Series, path: str | Path, *, session_id: str,
                      now: datetime, timezone: str | None = None) -> AttendanceImport:
    """Store the participants of ``path`` as the attendance of ``session_id``.

    ``timezone`` reads times written without an offset (default: the series' zone).
    Raises :class:`~s3events.errors.InputError` for an unknown session, zone or format.
    """
    session = series.require_session(session_id, option="--session", held=True)
    zone_name = timezone or series.timezone
    try:
        zone = get_zone(zone_name)
    except ZoneNameError as exc:
        raise InputError(f"--timezone: {exc}") from None
    path = Path(path)
    assert session.end is not None
    context = ReadContext(zone, session.start, session.end, str(path))
    result = read_report(path.read_bytes(), context)
    report = AttendanceImport(str(path), session_id, result.format,
                              zone_name if result.naive_times else None, result.rows,
                              len(result.attendees), problems=list(result.problems))
    if result.attendees or not result.problems:
        report.matched = save_attendance(store, series.id, session_id, result.attendees,
                                         source=f"import:{result.format}", now=now)
        report.stored = True
    _check_times(report, result.attendees, session.start, session.end)
    return report


def _check_times(report: AttendanceImport, attendees: list[Attendee], start: datetime,
                 end: datetime) -> None:
    joins = [a.first_join for a in attendees if a.first_join is not None]
    outside = [j for j in joins if not start - _SLACK <= j <= end + _SLACK]
    if not outside:
        return
    if len(outside) * 2 > len(joins):
        hint = (f"were they written in another zone than {report.zone}? give it with "
                "--timezone" if report.zone else "is it the report of another session?")
    else:  # a few: their minutes count as the report gives them, so say so
        hint = ("their minutes count as the report gives them: check those rows' times "
                "and offsets")
    report.problems.append(Problem(
        f"{len(outside)} of {len(joins)} joins fall outside session {report.session_id} "
        f"({start:%Y-%m-%d %H:%M}–{end:%H:%M} UTC): {hint}",
        file=report.file, severity="warning"))
