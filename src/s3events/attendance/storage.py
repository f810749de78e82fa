"""The attendance tables: each session's participants, and whether its attendance is known.

A session's attendance is *known* once a report of it was stored: fetched from the
platform, posted by it, imported from a file, or polled while it ran and closed after it
ended. Storing a report **replaces** the session's rows (importing the same file again
changes nothing; a corrected file replaces the first). Each row is matched to a
registration when it is written (see :mod:`s3events.attendance.matching`).

Rows hold personal data: :func:`forget_person` deletes a person's rows (erasure) and
:func:`person_rows` lists them (a person's copy of their data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Connection

from ..store import Store, attendance, attendance_sessions, lock
from .matching import Matcher, email_key
from .records import Attendee, stays_from_json, stays_to_json

__all__ = [
    "SessionState",
    "StoredAttendee",
    "forget_person",
    "person_rows",
    "save_attendance",
    "session_rows",
    "session_states",
]


@dataclass(frozen=True)
class SessionState:
    """Whether a session's attendance is known (``complete``) or being polled."""

    session_id: str
    state: str
    source: str
    participants: int
    last_poll_at: datetime | None
    completed_at: datetime | None

    @property
    def known(self) -> bool:
        """True once the session's attendance is complete."""
        return self.state == "complete"


@dataclass(frozen=True)
class StoredAttendee:
    """A row of the attendance table: the participant and the registration they matched."""

    id: int
    session_id: str
    source: str
    attendee: Attendee
    registration_id: str | None
    matched_by: str | None


def session_states(store: Store, series_id: str) -> dict[str, SessionState]:
    """The attendance state of every session that has one, by session id."""
    t = attendance_sessions
    query = select(t).where(t.c.series_id == series_id)
    with store.connect() as conn:
        return {r.session_id: SessionState(r.session_id, r.state, r.source, r.participants,
                                           r.last_poll_at, r.completed_at)
                for r in conn.execute(query)}


def _row(record: Any) -> StoredAttendee:
    attendee = Attendee(record.name, record.email, record.identity,
                        stays_from_json(record.intervals), record.seconds, record.exact)
    return StoredAttendee(record.id, record.session_id, record.source, attendee,
                          record.registration_id, record.matched_by)


def session_rows(store: Store, series_id: str,
                 session_ids: Sequence[str] | None = None, *,
                 registration_ids: Sequence[str] | None = None) -> list[StoredAttendee]:
    """The stored participants of a series (of some sessions only), in insertion order;
    with ``registration_ids``, only those matched to these registrations."""
    query = select(attendance).where(attendance.c.series_id == series_id).order_by(
        attendance.c.id)
    if session_ids is not None:
        query = query.where(attendance.c.session_id.in_(list(session_ids)))
    if registration_ids is None:
        with store.connect() as conn:
            return [_row(r) for r in conn.execute(query)]
    ids, found = sorted(set(registration_ids)), []
    with store.connect() as conn:  # by the registration index, a few hundred ids at a time
        for start in range(0, len(ids), 500):
            chunk = query.where(attendance.c.registration_id.in_(ids[start:start + 500]))
            found += [_row(r) for r in conn.execute(chunk)]
    return sorted(found, key=lambda row: row.id)


def attendee_values(series_id: str, session_id: str, source: str, attendee: Attendee,
                    matcher: Matcher, now: datetime) -> dict[str, Any]:
    """The row that stores ``attendee``, matched with ``matcher``."""
    match = matcher.match(attendee)
    return {
        "series_id": series_id, "session_id": session_id, "source": source,
        "name": attendee.name[:256] or "?", "email": attendee.email,
        "email_key": email_key(attendee.email), "identity": attendee.identity,
        "registration_id": match.registration_id if match else None,
        "matched_by": match.matched_by if match else None,
        "intervals": stays_to_json(attendee.stays), "exact": attendee.exact,
        "seconds": max(attendee.seconds, 0), "created_at": now,
    }


def set_state(conn: Connection, series_id: str, session_id: str, values: dict[str, Any]
              ) -> None:
    """Write the session's state row (insert or update)."""
    t = attendance_sessions
    key = (t.c.series_id == series_id) & (t.c.session_id == session_id)
    if conn.execute(update(t).where(key).values(**values)).rowcount == 0:
        conn.execute(t.insert().values(series_id=series_id, session_id=session_id, **values))


def save_attendance(store: Store, series_id: str, session_id: str,
                    attendees: Sequence[Attendee], *, source: str, now: datetime,
                    matcher: Matcher | None = None) -> int:
    """Replace the session's participants with ``attendees``; its attendance is then known.

    Returns how many of them matched a registration. One transaction: readers see the old
    report or the new one, never half of it.
    """
    matcher = matcher or Matcher.for_series(store, series_id)
    rows = [attendee_values(series_id, session_id, source, a, matcher, now) for a in attendees]
    with store.begin() as conn:
        lock(conn, f"attendance:{series_id}:{session_id}")
        conn.execute(delete(attendance).where(attendance.c.series_id == series_id,
                                              attendance.c.session_id == session_id))
        if rows:
            conn.execute(attendance.insert(), rows)
        set_state(conn, series_id, session_id, {
            "state": "complete", "source": source, "participants": len(rows),
            "completed_at": now, "updated_at": now})
    return sum(1 for r in rows if r["registration_id"])


def forget_person(conn: Connection, series_id: str, registration_id: str, email: str) -> int:
    """Delete every attendance row of a person (matched to them, or bearing their email)."""
    mine = or_(attendance.c.registration_id == registration_id,
               attendance.c.email_key == email_key(email))
    return int(conn.execute(delete(attendance).where(attendance.c.series_id == series_id, mine)
                            ).rowcount)


def person_rows(conn: Connection, series_id: str, registration_id: str,
                email: str) -> list[dict[str, Any]]:
    """A person's attendance rows as JSON-ready data (their copy of their data)."""
    mine = or_(attendance.c.registration_id == registration_id,
               attendance.c.email_key == email_key(email))
    query = select(attendance).where(attendance.c.series_id == series_id, mine).order_by(
        attendance.c.session_id, attendance.c.id)
    return [{"session_id": r.session_id, "source": r.source, "name": r.name, "email": r.email,
             "identity": r.identity, "matched_by": r.matched_by, "stays": r.intervals,
             "seconds": r.seconds} for r in conn.execute(query)]
