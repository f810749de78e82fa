"""Reading registrations from the store: by email, by link token, or all of a series."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.engine import Connection, RowMapping

from ..store import Store, registrations
from .addresses import email_key
from .model import Registration, UnknownRegistration

__all__ = [
    "find_registration",
    "get_by_token",
    "get_registration",
    "list_registrations",
    "registration_from_row",
    "select_registration",
]


def registration_from_row(row: RowMapping) -> Registration:
    """The :class:`Registration` stored in a row of the registrations table."""
    return Registration.from_row(row)


def select_registration(conn: Connection, series_id: str, *, key: str | None = None,
                        token: str | None = None) -> RowMapping | None:
    """The row of the series' registration with this email key and/or token, if any."""
    query = registrations.select().where(registrations.c.series_id == series_id)
    if key is not None:
        query = query.where(registrations.c.email_key == key)
    if token is not None:
        query = query.where(registrations.c.token == token)
    return conn.execute(query).mappings().first()


def find_registration(conn: Connection, series_id: str, email_or_token: str, *,
                      token_ok: bool = True) -> RowMapping:
    """The row of the registration an email (or, with ``token_ok``, a link token) names.

    Raises :class:`UnknownRegistration` when there is none.
    """
    who = email_or_token.strip()
    row = (select_registration(conn, series_id, token=who) if token_ok and "@" not in who
           else select_registration(conn, series_id, key=email_key(who)))
    if row is None:
        raise UnknownRegistration(f"no registration for {who if '@' in who else 'this link'} "
                                  f"in {series_id}")
    return row


def list_registrations(store: Store, series_id: str, *,
                       status: str | Sequence[str] | None = None) -> list[Registration]:
    """The registrations of a series in registration order, optionally of some statuses."""
    query = registrations.select().where(registrations.c.series_id == series_id)
    if status is not None:
        wanted = [status] if isinstance(status, str) else list(status)
        query = query.where(registrations.c.status.in_(wanted))
    with store.connect() as conn:
        rows = conn.execute(query.order_by(registrations.c.position)).mappings().all()
    return [Registration.from_row(row) for row in rows]


def get_registration(store: Store, series_id: str, email: str) -> Registration | None:
    """The registration of ``email`` (any case, any form of its domain) in a series, or None."""
    with store.connect() as conn:
        row = select_registration(conn, series_id, key=email_key(email))
    return None if row is None else Registration.from_row(row)


def get_by_token(store: Store, token: str, *, series_id: str | None = None) -> Registration | None:
    """The registration whose secret link token is ``token``, or None."""
    query = registrations.select().where(registrations.c.token == str(token))
    if series_id is not None:
        query = query.where(registrations.c.series_id == series_id)
    with store.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else Registration.from_row(row)
