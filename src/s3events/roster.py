"""Who is registered: the :class:`Registration` model and reading registrations from the store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy.engine import Connection, RowMapping

from .errors import InputError
from .fields import Sector
from .store import Store, registrations

__all__ = [
    "Channels",
    "Registration",
    "Status",
    "UnknownRegistration",
    "email_key",
    "find_registration",
    "get_by_token",
    "get_registration",
    "list_registrations",
    "registration_from_row",
    "select_registration",
]

Status = Literal["pending", "confirmed", "waitlisted", "cancelled"]
TimezoneSource = Literal["given", "country", "series"]


class UnknownRegistration(InputError):
    """No registration matches the email or token given."""


class Channels(BaseModel):
    """A participant's messaging addresses, besides their email."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    whatsapp: str | None = None
    telegram: str | None = None
    slack: str | None = None
    matrix: str | None = None
    apprise: str | None = None


class Registration(BaseModel):
    """One person registered to one series, as stored."""

    model_config = ConfigDict(frozen=True)

    id: str
    series_id: str
    name: str
    email: str
    language: str
    timezone: str
    timezone_source: TimezoneSource
    country: str | None = None
    organisation: str | None = None
    sector: Sector | None = None
    channels: Channels = Channels()
    sessions: list[str] | None = None
    consent: dict[str, bool] = {}
    status: Status
    position: int
    token: SecretStr
    source: str | None = None
    registered_at: datetime
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime

    @property
    def email_key(self) -> str:
        """The email as it is matched: trimmed and lower case."""
        return email_key(self.email)

    def wants(self, session_id: str) -> bool:
        """Whether the person registered for ``session_id`` (``sessions`` None means all)."""
        return self.sessions is None or session_id in self.sessions

    def address(self, channel: str) -> str | None:
        """The person's address on ``channel`` (``email`` or a messaging channel), if any."""
        if channel == "email":
            return self.email
        value: str | None = getattr(self.channels, channel, None)
        return value

    def to_json(self) -> dict[str, Any]:
        """The registration as JSON-ready data, without the secret token."""
        data = self.model_dump(mode="json", exclude={"token"})
        data["channels"] = {k: v for k, v in data["channels"].items() if v is not None}
        return data


def email_key(email: str) -> str:
    """How emails are compared: trimmed and lower case."""
    return email.strip().lower()


def registration_from_row(row: RowMapping) -> Registration:
    """The :class:`Registration` stored in a row of the registrations table."""
    data = {c.name: row[c.name] for c in registrations.columns
            if c.name not in ("email_key", "updated_at")}
    data["updated_at"] = row["updated_at"]
    data["channels"] = row["channels"] or {}
    data["consent"] = row["consent"] or {}
    return Registration.model_validate(data)


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
    return [registration_from_row(row) for row in rows]


def get_registration(store: Store, series_id: str, email: str) -> Registration | None:
    """The registration of ``email`` (any case) in a series, or None."""
    with store.connect() as conn:
        row = select_registration(conn, series_id, key=email_key(email))
    return None if row is None else registration_from_row(row)


def get_by_token(store: Store, token: str, *, series_id: str | None = None) -> Registration | None:
    """The registration whose secret link token is ``token``, or None."""
    query = registrations.select().where(registrations.c.token == token)
    if series_id is not None:
        query = query.where(registrations.c.series_id == series_id)
    with store.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else registration_from_row(row)

