"""Registrations: who takes part, in which language, zone and sessions, and their seat.

A :class:`Registration` is one person in one series, keyed by their email (matched without
regard to case). Personal data lives in the ``s3e_registrations`` table only; the delivery
ledger refers to people by the registration's random id.

Seats: with ``registration.capacity`` set, a registration is ``confirmed`` while there are
fewer confirmed people than seats, else ``waitlisted``. When a confirmed person cancels or is
erased (or the capacity grows), waitlisted people move up in the order they registered, and
``confirmed_at`` records when. ``pending`` registrations (online, awaiting the double opt-in)
hold no seat until :func:`confirm_opt_in`. After every change the messages of the people it
touched (the person, and anyone it moved up from the waiting list) are queued with
:func:`s3events.scheduler.schedule` for those people only, not for the whole series (a
pass over everyone takes seconds once there are tens of thousands). Imports schedule
everyone once, after the whole file.

Writers of one series are serialised with :func:`s3events.store.lock`, so two imports or
web registrations at once never hand out the last seat twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import null
from sqlalchemy.engine import Connection, RowMapping

from .errors import InputError, Problem
from .fields import CHANNELS, SECTORS, Sector, clean_fields
from .ledger import queue_message
from .privacy import ErasureReport, erase_person, export_person
from .roster import (
    Channels,
    Registration,
    Status,
    UnknownRegistration,
    email_key,
    find_registration,
    get_by_token,
    get_registration,
    list_registrations,
    registration_from_row,
    select_registration,
)
from .seats import confirmed_count, next_position, promote, seat_for
from .store import Store, lock, registrations

if TYPE_CHECKING:
    from .models import Series

__all__ = [
    "CHANNELS",
    "SECTORS",
    "Cancellation",
    "Channels",
    "ErasureReport",
    "Registration",
    "SaveCounts",
    "Sector",
    "Status",
    "UnknownRegistration",
    "cancel_registration",
    "clean_fields",
    "confirm_opt_in",
    "email_key",
    "erase_person",
    "export_person",
    "get_by_token",
    "get_registration",
    "list_registrations",
    "register",
    "save_registrations",
]

#: The fields whose values an import or a new registration may change.
DETAIL_FIELDS = ("name", "language", "timezone", "timezone_source", "country", "organisation",
                 "sector", "channels", "sessions", "consent")


def _storable(fields: Mapping[str, Any]) -> dict[str, Any]:
    values = {name: fields[name] for name in DETAIL_FIELDS}
    values["sessions"] = null() if values["sessions"] is None else values["sessions"]
    return values


def _new_row(series: Series, fields: Mapping[str, Any], *, status: Status, position: int,
             now: datetime, source: str | None) -> dict[str, Any]:
    return {
        **_storable(fields), "id": "r" + secrets.token_hex(12), "series_id": series.id,
        "email": fields["email"], "email_key": email_key(fields["email"]), "status": status,
        "position": position, "token": secrets.token_urlsafe(32), "source": source,
        "registered_at": now, "confirmed_at": now if status == "confirmed" else None,
        "cancelled_at": None, "updated_at": now,
    }


def _differs(row: RowMapping, fields: Mapping[str, Any]) -> bool:
    stored = {name: row[name] for name in DETAIL_FIELDS}
    stored["channels"], stored["consent"] = row["channels"] or {}, row["consent"] or {}
    return any(stored[name] != fields[name] for name in DETAIL_FIELDS)


def _update_details(conn: Connection, row_id: str, fields: Mapping[str, Any],
                    now: datetime) -> None:
    conn.execute(registrations.update().where(registrations.c.id == row_id)
                 .values(**_storable(fields), updated_at=now))


def _schedule(store: Store, series: Series, now: datetime, ids: Iterable[str]) -> None:
    """Bring the ledger up to date for the registrations ``ids`` only."""
    from .scheduler import schedule

    schedule(store, series, now=now, registration_ids=sorted(set(ids)))


@dataclass
class SaveCounts:
    """What :func:`save_registrations` did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    promoted: int = 0


def save_registrations(store: Store, series: Series, entries: Iterable[Mapping[str, Any]], *,
                       now: datetime, source: str | None) -> SaveCounts:
    """Add new people and update the details of known ones (their status stays), in order.

    ``entries`` are :func:`clean_fields` results. Nothing is queued here; callers schedule
    the messages once afterwards.
    """
    with store.begin() as conn:
        lock(conn, f"registrations:{series.id}")
        known = {row["email_key"]: row for row in conn.execute(
            registrations.select().where(registrations.c.series_id == series.id)).mappings()}
        batch = _Batch(series, now, source, known, confirmed=confirmed_count(conn, series.id),
                       position=next_position(conn, series.id))
        for fields in entries:
            batch.take(conn, fields)
        if batch.new_rows:
            conn.execute(registrations.insert(), batch.new_rows)
        batch.counts.added = len(batch.new_rows)
        batch.counts.promoted = len(promote(conn, series, now))
    return batch.counts


@dataclass
class _Batch:
    """One :func:`save_registrations` call: the people known before it, and what it adds."""

    series: Series
    now: datetime
    source: str | None
    known: dict[str, RowMapping]
    confirmed: int
    position: int
    counts: SaveCounts = field(default_factory=SaveCounts)
    new_rows: list[dict[str, Any]] = field(default_factory=list)
    added: set[str] = field(default_factory=set)

    def take(self, conn: Connection, fields: Mapping[str, Any]) -> None:
        """Count an entry: a new person to add, new details for a known one, or no change."""
        key = email_key(fields["email"])
        row = self.known.get(key)
        if key in self.added:
            self.counts.unchanged += 1
        elif row is None:
            self._add(key, fields)
        elif _differs(row, fields):
            _update_details(conn, row["id"], fields, self.now)
            self.counts.updated += 1
        else:
            self.counts.unchanged += 1

    def _add(self, key: str, fields: Mapping[str, Any]) -> None:
        self.added.add(key)
        status = seat_for(self.series, self.confirmed)
        self.confirmed += status == "confirmed"
        setattr(self.counts, status, getattr(self.counts, status) + 1)
        self.new_rows.append(_new_row(self.series, fields, status=status,
                                      position=self.position, now=self.now,
                                      source=self.source))
        self.position += 1


def register(store: Store, series: Series, data: Mapping[str, Any], *, now: datetime,
             source: str | None = None, require_opt_in: bool = False,
             required_consent: Collection[str] = (), update_existing: bool = True,
             resend_status: bool = False) -> Registration:
    """Register one person (a form submission or an API call) and queue their messages.

    ``data`` holds the fields :func:`clean_fields` reads; a problem raises
    :class:`~s3events.errors.InputError` listing every field. A known email updates the
    person's details; with ``update_existing=False`` the details of a confirmed or
    waitlisted person stay as they are (a public form must not let anyone change them),
    while pending and cancelled registrations still take the new ones. A cancelled person
    registers again at the end of the queue. With ``require_opt_in`` a new registration is
    ``pending`` until :func:`confirm_opt_in`, and an opt-in message (with the link that
    confirms) is queued each time a pending person registers. With ``resend_status`` a
    person already confirmed or waitlisted is sent that status again. Both are new ledger
    rows that ``dispatch`` sends. Refused while the series' registration is closed.
    """
    if not series.registration.open:
        raise InputError(f"registration for {series.id} is closed")
    fields = _checked_fields(series, data, required_consent)
    with store.begin() as conn:
        lock(conn, f"registrations:{series.id}")
        row = select_registration(conn, series.id, key=email_key(fields["email"]))
        status: Status = "pending" if require_opt_in else seat_for(
            series, confirmed_count(conn, series.id))
        update = update_existing or row is None or row["status"] in ("pending", "cancelled")
        reg_id = _upsert(conn, series, row, fields, status=status, now=now, source=source,
                         update=update)
        promoted = promote(conn, series, now)
        kind = _requested(row, status, require_opt_in=require_opt_in,
                          resend_status=resend_status)
        if kind is not None and reg_id not in promoted:
            queue_message(conn, series_id=series.id, registration_id=reg_id, kind=kind,
                          now=now)
    _schedule(store, series, now, [reg_id, *promoted])
    return _require(get_registration(store, series.id, fields["email"]), fields["email"])


_STATUS_MESSAGES = {"confirmed": "confirmation", "waitlisted": "waitlisted"}


def _requested(row: RowMapping | None, status: Status, *, require_opt_in: bool,
               resend_status: bool) -> str | None:
    """The message a registration asks for beyond what the scheduler owes: an opt-in, a status."""
    if row is None or row["status"] == "cancelled":
        return "optin" if require_opt_in and status == "pending" else None
    if row["status"] == "pending":
        return "optin" if require_opt_in else None
    return _STATUS_MESSAGES.get(row["status"]) if resend_status else None


def _checked_fields(series: Series, data: Mapping[str, Any],
                    required_consent: Collection[str]) -> dict[str, Any]:
    """The cleaned fields, or an InputError listing every problem."""
    fields, problems = clean_fields(series, data, required_consent=required_consent)
    if problems:
        raise InputError("registration: " + "; ".join(f"{f}: {m}" for f, m in problems),
                         problems=[Problem(m, path=f) for f, m in problems])
    return fields


def _upsert(conn: Connection, series: Series, row: RowMapping | None,
            fields: Mapping[str, Any], *, status: Status, now: datetime,
            source: str | None, update: bool = True) -> str:
    """Add a new person, put a cancelled one back at the end of the queue, or update details.

    ``update=False`` leaves a known person's details as they are. Returns the
    registration's id.
    """
    if row is None:
        new = _new_row(series, fields, status=status, position=next_position(conn, series.id),
                       now=now, source=source)
        conn.execute(registrations.insert().values(new))
        return str(new["id"])
    if row["status"] == "cancelled":
        conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
            **_storable(fields), status=status, position=next_position(conn, series.id),
            registered_at=now, confirmed_at=now if status == "confirmed" else None,
            cancelled_at=None, source=source, updated_at=now))
    elif update and _differs(row, fields):
        _update_details(conn, row["id"], fields, now)
    return str(row["id"])


def _require(found: Registration | None, who: str) -> Registration:
    if found is None:
        raise UnknownRegistration(f"no registration for {who}")
    return found


def confirm_opt_in(store: Store, series: Series, token: str, *, now: datetime) -> Registration:
    """Count a ``pending`` registration whose opt-in link was followed; idempotent.

    It takes a seat when one is free, else joins the waiting list. A registration in any
    other state comes back unchanged.
    """
    with store.begin() as conn:
        lock(conn, f"registrations:{series.id}")
        row = select_registration(conn, series.id, token=token)
        if row is None:
            raise UnknownRegistration("this confirmation link is not valid (any more)")
        if row["status"] == "pending":
            status = seat_for(series, confirmed_count(conn, series.id))
            conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
                status=status, confirmed_at=now if status == "confirmed" else None,
                position=next_position(conn, series.id), updated_at=now))
    _schedule(store, series, now, [row["id"]])
    return _require(get_by_token(store, token, series_id=series.id), "this link")


@dataclass(frozen=True)
class Cancellation:
    """The outcome of :func:`cancel_registration`."""

    registration: Registration
    changed: bool
    promoted: list[Registration] = field(default_factory=list)


def cancel_registration(store: Store, series: Series, email_or_token: str, *,
                        now: datetime) -> Cancellation:
    """Cancel a registration by email or token; the first waitlisted people move up.

    Cancelling twice changes nothing the second time.
    """
    with store.begin() as conn:
        lock(conn, f"registrations:{series.id}")
        row = find_registration(conn, series.id, email_or_token)
        changed = row["status"] != "cancelled"
        if changed:
            conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
                status="cancelled", cancelled_at=now, updated_at=now))
        promoted = promote(conn, series, now)
        rows = conn.execute(registrations.select().where(
            registrations.c.id.in_([row["id"], *promoted])).order_by(
            registrations.c.position)).mappings().all()
    _schedule(store, series, now, [row["id"], *promoted])
    found = {r["id"]: registration_from_row(r) for r in rows}
    return Cancellation(found[row["id"]], changed, [found[i] for i in promoted])
