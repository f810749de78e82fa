"""Attendance: who was in each session, for how long, matched to registrations.

Attendance comes from the platform (``s3events attendance fetch``: its report of an ended
meeting, what it posts to the event page, or what polling saw while the session ran) or
from a participant report file (``s3events attendance import``). It is stored per session
in the state database (personal data, in its own table), each participant matched to a
registration by platform identity, email or name. :func:`attendance_report` says per
person and session whether they attended (``attendance.min_minutes``, default 10) and for
how long, with overlapping stays merged.

Modules: :mod:`~.records` (participants and stays), :mod:`~.matching`,
:mod:`~.storage`, :mod:`~.readers` and :mod:`~.timeparse` (report files),
:mod:`~.importing`, :mod:`~.fetching` and :mod:`~.polling` (from the platforms),
:mod:`~.callback` (reports posted to the event page), :mod:`~.report`.
"""

from __future__ import annotations

from .importing import AttendanceImport, import_attendance
from .records import Attendee, Presence, merge_stays
from .report import AttendanceReport, attendance_report
from .storage import SessionState, forget_person, person_rows, save_attendance, session_states

__all__ = [
    "AttendanceImport",
    "AttendanceReport",
    "Attendee",
    "Presence",
    "SessionState",
    "attendance_report",
    "forget_person",
    "import_attendance",
    "merge_stays",
    "person_rows",
    "save_attendance",
    "session_states",
]
