"""Helpers shared by the delivery tests (scheduler, ledger, dispatch): no tests here."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from s3events.loading import load_series
from s3events.models import Series
from s3events.provision import apply, load_adapter
from s3events.store import Store, ledger, registrations
from tests.fixtures.series import minimal_series_data

UTC = timezone.utc
#: Before the minimal series (sessions on 2021-10-28 and 2021-11-04, 17:00 Brussels).
EARLY = datetime(2021, 10, 1, tzinfo=UTC)


def make_series(write_series: Callable[..., Path], *, dispatch: dict[str, Any] | None = None,
                sessions: list[dict[str, Any]] | None = None, **top: Any) -> Series:
    """A minimal two-session series (jitsi) with ``dispatch`` settings."""
    data = minimal_series_data(**top)
    data["languages"] = ["en", "es", "pt"]
    if dispatch is not None:
        data["dispatch"] = dispatch
    if sessions is not None:
        data["sessions"] = sessions
    return load_series(write_series(data))


def provision(store: Store, series: Series, now: datetime = EARLY) -> None:
    """Create every session's meeting with the series' platform (jitsi: no network)."""
    apply(series, load_adapter(series), store, now=now)


def add_person(store: Store, series: Series, email: str, *, name: str = "Ana Lima",
               language: str = "en", zone: str = "America/Mexico_City",
               sessions: list[str] | None = None, status: str = "confirmed",
               channels: dict[str, str] | None = None, at: datetime = EARLY) -> str:
    """Insert a registration row as the registrations module stores it; return its id."""
    rid = "r" + secrets.token_hex(12)
    with store.begin() as conn:
        position = len(conn.execute(select(registrations.c.id)).all())
        conn.execute(registrations.insert().values(
            id=rid, series_id=series.id, email_key=email.lower(), email=email, name=name,
            language=language, timezone=zone, timezone_source="given", channels=channels or {},
            sessions=sessions, consent={}, status=status, position=position,
            token=secrets.token_urlsafe(16), registered_at=at,
            confirmed_at=at if status == "confirmed" else None, updated_at=at))
    return rid


def set_status(store: Store, rid: str, status: str, at: datetime) -> None:
    """Change a registration's status (as cancel/promote do)."""
    values: dict[str, Any] = {"status": status, "updated_at": at}
    if status == "confirmed":
        values["confirmed_at"] = at
    with store.begin() as conn:
        conn.execute(registrations.update().where(registrations.c.id == rid).values(**values))


def rows(store: Store, **where: Any) -> list[Any]:
    """Ledger rows matching column=value filters, ordered by id."""
    query = select(ledger).order_by(ledger.c.id)
    for column, value in where.items():
        query = query.where(getattr(ledger.c, column) == value)
    with store.connect() as conn:
        return list(conn.execute(query))


def states(store: Store, **where: Any) -> dict[str, str]:
    """Ledger key → state."""
    return {r.key: r.state for r in rows(store, **where)}
