"""Provisioning's state: one row per session in the ``s3e_meetings`` table, and the secret.

A row is an *intent* (a create was started and may have happened), ``active`` (it holds the
meeting) or ``deleted``. Its ``sequence`` is the revision of the session's meeting. The
table's columns are read in :func:`meeting_rows` and written from :func:`intent_values` and
:func:`active_values`, so the row's shape is known in this module only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy import select

from ..errors import StoreError
from ..platforms.base import DialIn, Meeting, MeetingRequest
from ..store import Store, meta
from ..store import meetings as meetings_table

__all__ = [
    "MeetingRow",
    "RowState",
    "active_values",
    "compare_and_set",
    "intent_values",
    "meeting_rows",
    "meeting_sequence",
    "state_secret",
    "stored_meetings",
    "write_row",
]

RowState = Literal["intent", "active", "deleted"]

_SECRET_KEY = "state_secret"  # noqa: S105 - the name of a row, not a password


@dataclass(frozen=True)
class MeetingRow:
    """One session's row in the state database.

    ``state`` is ``intent`` (a create was started and may have happened), ``active`` or
    ``deleted``. ``meeting`` is set for active rows (never with a host URL: it is not
    stored). ``sequence`` is the revision of the session's meeting (see
    :mod:`s3events.provision`).
    """

    series_id: str
    session_id: str
    platform: str
    state: RowState
    marker: str
    generation: int
    sequence: int
    fingerprint: str | None
    start: datetime | None
    duration: timedelta | None
    join_url: str | None
    topic: str | None
    meeting: Meeting | None = field(repr=False)

    @property
    def end(self) -> datetime | None:
        """When the session recorded in the row ends."""
        if self.start is None or self.duration is None:
            return None
        return self.start + self.duration


def _row(record: Any) -> MeetingRow:
    data = dict(record.data or {})
    start, seconds = record.start_utc, record.duration_s
    duration = timedelta(seconds=seconds) if seconds is not None else None
    meeting = None
    if record.state == "active" and record.meeting_id is not None:
        meeting = Meeting(
            platform=record.platform, meeting_id=record.meeting_id,
            join_url=record.join_url or "",
            passcode=SecretStr(record.passcode) if record.passcode else None,
            dial_in=[DialIn.model_validate(d) for d in record.dial_in or []],
            start=start, duration=duration, topic=data.get("topic"), marker=record.marker,
            per_participant_links=bool(data.get("per_participant_links")),
            extra=dict(data.get("extra") or {}),
        )
    return MeetingRow(
        series_id=record.series_id, session_id=record.session_id, platform=record.platform,
        state=record.state, marker=record.marker, generation=int(data.get("generation", 0)),
        sequence=record.sequence, fingerprint=record.fingerprint, start=start,
        duration=duration, join_url=record.join_url, topic=data.get("topic"), meeting=meeting,
    )


def meeting_rows(store: Store, series_id: str) -> dict[str, MeetingRow]:
    """Every session's row for ``series_id`` (any state), by session id."""
    query = select(meetings_table).where(meetings_table.c.series_id == series_id)
    with store.connect() as conn:
        return {r.session_id: _row(r) for r in conn.execute(query)}


def stored_meetings(store: Store, series_id: str) -> dict[str, Meeting]:
    """The meeting of every session that has one, by session id (no host URLs)."""
    rows = meeting_rows(store, series_id).values()
    return {row.session_id: row.meeting for row in rows if row.meeting is not None}


def meeting_sequence(store: Store, series_id: str, session_id: str) -> int:
    """The sequence (revision) of a session's meeting; 0 when it has none yet."""
    row = meeting_rows(store, series_id).get(session_id)
    return row.sequence if row is not None else 0


def state_secret(store: Store, *, create: bool = False) -> SecretStr | None:
    """The state database's random secret (jitsi room names), made on first use.

    Every run and machine that shares the state database gets the same secret. With
    ``create`` false a missing secret gives ``None`` (nothing is written).
    """
    query = select(meta.c.value).where(meta.c.key == _SECRET_KEY)
    with store.connect() as conn:
        value = conn.execute(query).scalar()
    if value is None and create:
        try:
            with store.begin() as conn:
                conn.execute(meta.insert().values(key=_SECRET_KEY,
                                                  value=secrets.token_urlsafe(32)))
        except StoreError:  # another process made it first
            pass
        return state_secret(store)
    return SecretStr(value) if value is not None else None


def compare_and_set(store: Store, series_id: str, expected: MeetingRow | None,
                    session_id: str, values: dict[str, Any]) -> bool:
    """Write the row only if it is still as ``expected`` (absent when ``None``); atomic."""
    table = meetings_table
    key = (table.c.series_id == series_id) & (table.c.session_id == session_id)
    try:
        with store.begin() as conn:
            if expected is None:
                conn.execute(table.insert().values(series_id=series_id, session_id=session_id,
                                                   created_at=values["updated_at"], **values))
                return True
            same = (key & (table.c.state == expected.state) & (table.c.marker == expected.marker)
                    & (table.c.sequence == expected.sequence))
            return conn.execute(table.update().where(same).values(**values)).rowcount == 1
    except StoreError:  # the insert met a row another run wrote
        return False



def write_row(store: Store, series_id: str, session_id: str, values: dict[str, Any]) -> None:
    """Write a session's row whatever it holds now: update it, or insert it if missing."""
    key = (meetings_table.c.series_id == series_id) & (meetings_table.c.session_id == session_id)
    with store.begin() as conn:
        if conn.execute(meetings_table.update().where(key).values(**values)).rowcount == 0:
            conn.execute(meetings_table.insert().values(
                series_id=series_id, session_id=session_id, created_at=values["updated_at"],
                **values))


def intent_values(platform: str, request: MeetingRequest, row: MeetingRow | None, *,
                  now: datetime) -> dict[str, Any]:
    """The row that says a create of ``request`` starts; keeps ``row``'s link and sequence."""
    return {
        "platform": platform, "state": "intent", "marker": request.marker,
        "meeting_id": None, "passcode": None, "dial_in": [], "fingerprint": None,
        "data": {"generation": request.generation, "topic": request.topic},
        "join_url": row.join_url if row is not None else None,
        "sequence": row.sequence if row is not None else 0,
        "start_utc": request.start, "duration_s": _seconds(request.duration),
        "updated_at": now,
    }


def active_values(platform: str, request: MeetingRequest, meeting: Meeting, *,
                  fingerprint: str, sequence: int) -> dict[str, Any]:
    """The row of a session whose meeting exists (the host URL is never stored)."""
    passcode = meeting.passcode.get_secret_value() if meeting.passcode else None
    return {
        "platform": platform, "state": "active", "marker": request.marker,
        "meeting_id": meeting.meeting_id, "join_url": meeting.join_url,
        "passcode": passcode, "dial_in": [d.model_dump() for d in meeting.dial_in],
        "data": {"generation": request.generation, "topic": request.topic,
                 "per_participant_links": meeting.per_participant_links,
                 "extra": meeting.extra},
        "fingerprint": fingerprint, "sequence": sequence,
        "start_utc": request.start, "duration_s": _seconds(request.duration),
    }


def _seconds(duration: timedelta) -> int:
    return int(duration.total_seconds())
