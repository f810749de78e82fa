"""Attendance from polling: who is in the meeting now, seen again and again while it runs.

Some platforms can only say who is in a meeting at this moment (BigBlueButton's
``getMeetingInfo``). ``s3events attendance fetch``, run every few minutes while sessions
run (cron, or ``--watch``), asks them and records each sighting here. **The rule:** a
participant seen at two consecutive polls at most :data:`POLL_GAP` apart was there between
them; one seen at a poll after not being seen at the previous one (or after a longer gap)
starts a new stay at that poll. So time is counted from the first sighting to the last,
and a stay between two polls that nobody saw is missed: poll every minute or two for
accurate minutes. Once the session has ended (plus the grace period), the next fetch
closes the polling and the session's attendance is known. A report the platform posts
(see :mod:`s3events.attendance.callback`) replaces what polling saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from ..store import Store, attendance, attendance_sessions, lock
from .matching import Matcher, email_key, name_key
from .records import Attendee, Stay, stays_from_json, stays_to_json
from .storage import attendee_values, set_state

__all__ = ["POLL_GAP", "close_polling", "record_sightings"]

#: Two polls further apart than this do not join a participant's sightings into one stay.
POLL_GAP = timedelta(minutes=10)


def _key(attendee: Attendee) -> str:
    return (attendee.identity or email_key(attendee.email)
            or f"name:{name_key(attendee.name)}")


def _extend(stays: list[Stay], at: datetime, previous: datetime | None) -> list[Stay]:
    if previous is not None and stays and stays[-1][1] == previous \
            and at - previous <= POLL_GAP:
        return [*stays[:-1], (stays[-1][0], at)]
    return [*stays, (at, at)]


def record_sightings(store: Store, series_id: str, session_id: str,
                     seen: Sequence[Attendee], *, at: datetime,
                     matcher: Matcher | None = None) -> bool:
    """Record who a poll at ``at`` saw; False when the session's attendance is already known.

    A poll at or before the previous one changes nothing (polls may overlap).
    """
    matcher = matcher or Matcher.for_series(store, series_id)
    t = attendance_sessions
    key = (t.c.series_id == series_id) & (t.c.session_id == session_id)
    with store.begin() as conn:
        lock(conn, f"attendance:{series_id}:{session_id}")
        state = conn.execute(select(t).where(key)).first()
        if state is not None and (state.state == "complete" or (
                state.last_poll_at is not None and at <= state.last_poll_at)):
            return bool(state.state != "complete")
        previous = state.last_poll_at if state is not None else None
        rows = {_row_key(r): r for r in conn.execute(select(attendance).where(
            attendance.c.series_id == series_id, attendance.c.session_id == session_id))}
        for attendee in seen:
            _sighting(conn, rows.get(_key(attendee)), attendee, at, previous,
                      (series_id, session_id, matcher))
        count = len(set(rows) | {_key(a) for a in seen})
        set_state(conn, series_id, session_id, {"state": "polling", "source": "poll",
                                                "participants": count, "last_poll_at": at,
                                                "updated_at": at})
    return True


def _row_key(row: Any) -> str:
    return str(row.identity or row.email_key or f"name:{name_key(row.name)}")


def _sighting(conn: Any, row: Any, attendee: Attendee, at: datetime,
              previous: datetime | None, where: tuple[str, str, Matcher]) -> None:
    if row is None:
        series_id, session_id, matcher = where
        new = Attendee(attendee.name, attendee.email, attendee.identity, ((at, at),), 0)
        conn.execute(attendance.insert().values(
            **attendee_values(series_id, session_id, "poll", new, matcher, at)))
        return
    stays = _extend(list(stays_from_json(row.intervals)), at, previous)
    seconds = sum(int((b - a).total_seconds()) for a, b in stays)
    conn.execute(update(attendance).where(attendance.c.id == row.id).values(
        intervals=stays_to_json(stays), seconds=seconds))


def close_polling(store: Store, series_id: str, session_id: str, *, now: datetime) -> bool:
    """Mark a polled session's attendance known; False when it was never polled.

    True also when its attendance is already known (closed before, or posted by the
    platform).
    """
    t = attendance_sessions
    key = (t.c.series_id == series_id) & (t.c.session_id == session_id)
    with store.begin() as conn:
        conn.execute(update(t).where(key, t.c.state == "polling").values(
            state="complete", completed_at=now, updated_at=now))
        found = conn.execute(select(t.c.state).where(key)).scalar()
    return found == "complete"
