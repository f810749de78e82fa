"""Seats and the waiting list: who of a series' registrations holds a seat, and who moves up.

With ``registration.capacity`` set, a registration is ``confirmed`` while there are fewer
confirmed people than seats, else ``waitlisted``. When seats free up, waitlisted people move
up in the order they registered. Call these inside a transaction that holds the series'
registrations lock (:func:`s3events.store.lock`), so the counts stay true until it commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from ..store import registrations

if TYPE_CHECKING:
    from ..models import Series

__all__ = ["Seat", "confirmed_count", "next_position", "promote", "seat_for"]

Seat = Literal["confirmed", "waitlisted"]


def confirmed_count(conn: Connection, series_id: str) -> int:
    """How many people hold a seat in the series."""
    return conn.execute(
        select(func.count()).select_from(registrations).where(
            registrations.c.series_id == series_id, registrations.c.status == "confirmed")
    ).scalar_one()


_STATUSES = ("pending", "confirmed", "waitlisted", "cancelled")


def next_position(conn: Connection, series_id: str) -> int:
    """The place in the registration order of whoever comes next: after everyone else.

    One lookup per status, each the last entry of the (series, status, position) index,
    so it costs the same with a million registrations as with ten.
    """
    tops = [conn.execute(select(func.max(registrations.c.position)).where(
        registrations.c.series_id == series_id, registrations.c.status == status)).scalar()
        for status in _STATUSES]
    return max((int(t) for t in tops if t is not None), default=0) + 1


def seat_for(series: Series, confirmed: int) -> Seat:
    """``confirmed`` while a seat is free (or seats are unlimited), else ``waitlisted``."""
    capacity = series.registration.capacity
    return "confirmed" if capacity is None or confirmed < capacity else "waitlisted"


def promote(conn: Connection, series: Series, now: datetime) -> list[str]:
    """Move waitlisted people up, in order, while there are free seats; their ids."""
    capacity = series.registration.capacity
    free = None if capacity is None else capacity - confirmed_count(conn, series.id)
    if free is not None and free <= 0:
        return []
    query = (select(registrations.c.id)
             .where(registrations.c.series_id == series.id,
                    registrations.c.status == "waitlisted")
             .order_by(registrations.c.position))
    if free is not None:
        query = query.limit(free)
    ids = list(conn.execute(query).scalars())
    if ids:
        conn.execute(registrations.update().where(registrations.c.id.in_(ids)).values(
            status="confirmed", confirmed_at=now, updated_at=now))
    return ids
