"""One person at a time: register, confirm the opt-in, cancel, change zone and language.

After every change the messages of the people it touched (the person, and anyone it moved
up from the waiting list) are brought up to date with :func:`s3events.scheduler.schedule`
for those people only, not for the whole series (a pass over everyone takes seconds once
there are tens of thousands). Writers of one series are serialised with
:func:`s3events.store.lock`, so two registrations at once never hand out the last seat
twice.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, RowMapping

from ..countries import UnknownName, language_code
from ..errors import InputError, Problem
from ..i18n import check_language
from ..ledger import queue_message
from ..store import Store, lock, registrations
from .fields import clean_fields
from .model import Registration, Status, UnknownRegistration
from .roster import find_registration, get_by_token, get_registration, select_registration
from .saving import differs, new_row, storable
from .seats import confirmed_count, next_position, promote, seat_for
from .zones import resolve_zone

if TYPE_CHECKING:
    from ..models import Series

__all__ = ["Cancellation", "cancel_registration", "confirm_opt_in", "register",
           "update_preferences"]


def _schedule(store: Store, series: Series, now: datetime, ids: Iterable[str]) -> None:
    """Bring the ledger up to date for the registrations ``ids`` only."""
    from ..scheduler import schedule

    schedule(store, series, now=now, registration_ids=sorted(set(ids)))


def _update_details(conn: Connection, row_id: str, fields: Mapping[str, Any],
                    now: datetime) -> None:
    conn.execute(registrations.update().where(registrations.c.id == row_id)
                 .values(**storable(fields), updated_at=now))


def register(store: Store, series: Series, data: Mapping[str, Any], *, now: datetime,
             source: str | None = None, require_opt_in: bool = False,
             required_consent: Collection[str] = (), update_existing: bool = True,
             resend_status: bool = False) -> Registration:
    """Register one person (a form submission or an API call) and queue their messages.

    ``data`` holds the fields :func:`~s3events.registrations.clean_fields` reads; a
    problem raises :class:`~s3events.errors.InputError` listing every field. A known
    email updates the person's details; with ``update_existing=False`` the details of a
    confirmed or waitlisted person stay as they are (a public form must not let anyone
    change them), while pending and cancelled registrations still take the new ones. A
    cancelled person registers again at the end of the queue. With ``require_opt_in`` a
    new registration is ``pending`` until :func:`confirm_opt_in`, and an opt-in message
    (with the link that confirms) is queued each time a pending person registers. With
    ``resend_status`` a person already confirmed or waitlisted is sent that status
    again. Both are new ledger rows that ``dispatch`` sends. Refused while the series'
    registration is closed.
    """
    if not series.registration.open:
        raise InputError(f"registration for {series.id} is closed")
    fields = _checked_fields(series, data, required_consent)
    key = fields["email"].lower()
    with store.begin() as conn:
        lock(conn, f"registrations:{series.id}")
        row = select_registration(conn, series.id, key=key)
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
        new = new_row(series, fields, key=fields["email"].lower(), status=status,
                      position=next_position(conn, series.id), now=now, source=source)
        conn.execute(registrations.insert().values(new))
        return str(new["id"])
    if row["status"] == "cancelled":
        conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
            **storable(fields), status=status, position=next_position(conn, series.id),
            registered_at=now, confirmed_at=now if status == "confirmed" else None,
            cancelled_at=None, source=source, updated_at=now))
    elif update and differs(row, fields):
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
        row = select_registration(conn, series.id, token=str(token))
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
        row = find_registration(conn, series.id, str(email_or_token))
        changed = row["status"] != "cancelled"
        if changed:
            conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
                status="cancelled", cancelled_at=now, updated_at=now))
        promoted = promote(conn, series, now)
        rows = conn.execute(registrations.select().where(
            registrations.c.id.in_([row["id"], *promoted])).order_by(
            registrations.c.position)).mappings().all()
    _schedule(store, series, now, [row["id"], *promoted])
    found = {r["id"]: Registration.from_row(r) for r in rows}
    return Cancellation(found[row["id"]], changed, [found[i] for i in promoted])


def _offered_language(series: Series, value: str) -> str:
    """A language the series is published in, from a code or a name; ValueError if not."""
    try:
        return check_language(series, language_code(value, among=series.languages))
    except UnknownName as exc:
        raise ValueError(str(exc)) from None


def _preferences(series: Series, row: RowMapping, timezone: str | None,
                 language: str | None) -> dict[str, Any]:
    """The columns a preferences change sets; InputError listing every bad value."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    if timezone is not None:
        try:
            if not timezone.strip():
                raise ValueError("choose a time zone, such as America/Lima")
            zone, _ = resolve_zone(series, zone=timezone.strip(), country=row["country"])
            values.update(timezone=zone, timezone_source="given")
        except ValueError as exc:
            problems.append(("timezone", str(exc)))
    if language is not None:
        try:
            values["language"] = _offered_language(series, language)
        except ValueError as exc:
            problems.append(("language", str(exc)))
    if problems:
        raise InputError("preferences: " + "; ".join(f"{f}: {m}" for f, m in problems),
                         problems=[Problem(m, path=f) for f, m in problems])
    return values


def update_preferences(store: Store, series: Series, token: str, *, now: datetime,
                       timezone: str | None = None,
                       language: str | None = None) -> Registration:
    """Change a person's zone and/or language, found by their link token.

    For the signed page a person reaches from their messages. The zone is a tz database
    name (or a city, as :func:`.zones.resolve_zone` reads one) and becomes ``given``;
    the language must be one the series is published in. Their pending messages are
    re-timed for the new zone (a link due "the day before at 09:00" moves with it) and
    later ones are rendered in the new language. Raises
    :class:`~s3events.errors.InputError` listing every bad value, and
    :class:`UnknownRegistration` for a token that matches nobody.
    """
    with store.begin() as conn:
        row = select_registration(conn, series.id, token=str(token))
        if row is None:
            raise UnknownRegistration("this link is not valid (any more)")
        values = _preferences(series, row, timezone, language)
        if values:
            conn.execute(registrations.update().where(registrations.c.id == row["id"])
                         .values(**values, updated_at=now))
    _schedule(store, series, now, [row["id"]])
    return _require(get_by_token(store, token, series_id=series.id), "this link")
