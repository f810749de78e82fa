"""The read model of a registration: one person in one series, as the store holds it.

:class:`Registration` is the one shape every reader gets — the command line and the event
page (:func:`~s3events.registrations.list_registrations`, :func:`get_registration` …), the
scheduler and dispatch (which read only the columns they need: the rest stay at their
defaults). It is a frozen dataclass, cheap to build from a database row with
:meth:`Registration.from_row`. What people type is cleaned into these fields by
:func:`s3events.registrations.clean_fields`; nothing here validates input.

The secret link token is a :class:`LinkToken`: a ``str`` (so it goes into URLs as it is)
whose ``repr`` hides it, with pydantic's ``get_secret_value()`` spelling for code that
reads it on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ..errors import InputError
from ..timezones import ZoneNameError, get_zone

__all__ = [
    "CHANNELS",
    "GUESSED_SOURCES",
    "Channels",
    "LinkToken",
    "Registration",
    "Status",
    "TimezoneSource",
    "UnknownRegistration",
]

Status = Literal["pending", "confirmed", "waitlisted", "cancelled"]
#: Where a registration's zone came from: the person (``given``), their city, their
#: country (one zone, or several that keep the same time), the most populous zone of
#: their country (``country-guess``), or the series' own zone when nothing was known.
TimezoneSource = Literal["given", "city", "country", "country-guess", "series"]
#: The sources that are guesses a person should be asked to check.
GUESSED_SOURCES: frozenset[str] = frozenset({"country-guess", "series"})
#: What a partial read (one that left the column out) holds for a registration's times.
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
#: Messaging channels a registration can carry an address for (email is always there).
CHANNELS: tuple[str, ...] = ("whatsapp", "telegram", "slack", "matrix", "apprise")


class UnknownRegistration(InputError):
    """No registration matches the email or token given."""


class LinkToken(str):
    """The secret of a person's own cancel and confirm links; its ``repr`` hides it."""

    __slots__ = ()

    def get_secret_value(self) -> str:
        """The token itself (the name pydantic's secrets use)."""
        return str.__str__(self)

    def __repr__(self) -> str:
        return "LinkToken('**********')"


class Channels(Mapping[str, str]):
    """A person's messaging addresses besides email: channel name → address.

    Only the channels given are keys; ``channels.whatsapp`` (and the other names in
    :data:`CHANNELS`) is the address or ``None``.
    """

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data = {str(k): str(v) for k, v in (data or {}).items() if v}

    def __getitem__(self, key: str) -> str:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Channels({self._data!r})"

    @property
    def whatsapp(self) -> str | None:
        """The WhatsApp number (E.164), if given."""
        return self._data.get("whatsapp")

    @property
    def telegram(self) -> str | None:
        """The Telegram chat id, if given."""
        return self._data.get("telegram")

    @property
    def slack(self) -> str | None:
        """The Slack member or channel id, if given."""
        return self._data.get("slack")

    @property
    def matrix(self) -> str | None:
        """The Matrix room id or alias, if given."""
        return self._data.get("matrix")

    @property
    def apprise(self) -> str | None:
        """The person's own Apprise URL or handle, if given."""
        return self._data.get("apprise")


@dataclass(frozen=True)
class Registration:
    """One person registered to one series, as stored.

    ``sessions`` is ``None`` for all sessions, else the session ids chosen. Do not change
    the lists and mappings it holds: it is a snapshot of a row.
    """

    id: str
    series_id: str = ""
    name: str = ""
    email: str = ""
    language: str = "en"
    timezone: str = "UTC"
    timezone_source: TimezoneSource = "given"
    country: str | None = None
    organisation: str | None = None
    sector: str | None = None
    channels: Channels = field(default_factory=Channels)
    sessions: list[str] | None = None
    consent: dict[str, bool] = field(default_factory=dict)
    status: Status = "confirmed"
    position: int = 0
    token: LinkToken = field(default=LinkToken(""), repr=False)
    source: str | None = None
    registered_at: datetime = EPOCH
    confirmed_at: datetime | None = None
    cancelled_at: datetime | None = None
    updated_at: datetime = EPOCH

    @classmethod
    def from_row(cls, row: Any) -> Registration:
        """Build from a row of ``s3e_registrations`` (all columns, or only some).

        The scheduler builds one per person on every pass, so this skips the dataclass'
        field-by-field ``__init__`` and fills the instance's ``__dict__`` at once.
        """
        data: dict[str, Any] = dict(getattr(row, "_mapping", row))
        values = dict(_DEFAULTS)
        values.update((k, v) for k, v in data.items() if v is not None and k in _DEFAULTS)
        values["channels"] = Channels(data.get("channels"))
        sessions = data.get("sessions")
        values["sessions"] = None if sessions is None else [str(s) for s in sessions]
        values["consent"] = dict(data.get("consent") or {})
        values["token"] = LinkToken(values["token"])
        made: Registration = object.__new__(cls)
        made.__dict__.update(values)
        return made

    @property
    def email_key(self) -> str:
        """The email as registrations are matched by it (see :func:`email_key`)."""
        from .addresses import email_key

        return email_key(self.email)

    @property
    def zone_guessed(self) -> bool:
        """Whether the zone is a guess the person should be asked to check."""
        return self.timezone_source in GUESSED_SOURCES

    @property
    def since(self) -> datetime:
        """When the registration started to count: confirmed, else registered."""
        return self.confirmed_at or self.registered_at

    def wants(self, session_id: str) -> bool:
        """Whether the person registered for ``session_id`` (``sessions`` None means all)."""
        return self.sessions is None or session_id in self.sessions

    def address(self, channel: str) -> str | None:
        """The person's address on ``channel`` (``email`` or a messaging channel), if any."""
        return self.email if channel == "email" else self.channels.get(channel)

    def zone(self, fallback: ZoneInfo) -> ZoneInfo:
        """The person's zone (``fallback``, the series' zone, if theirs cannot be used)."""
        try:
            return get_zone(self.timezone)
        except ZoneNameError:
            return fallback

    def to_json(self) -> dict[str, Any]:
        """The registration as JSON-ready data, without the secret token."""
        data: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if name == "token":
                continue
            if isinstance(value, datetime):
                value = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, Channels):
                value = dict(value)
            data[name] = value
        data["zone_guessed"] = self.zone_guessed
        return data


def _default(spec: Any) -> Any:
    if spec.default is not MISSING:
        return spec.default
    return None if spec.default_factory is MISSING else spec.default_factory()


#: Every field with its default, for :meth:`Registration.from_row`.
_DEFAULTS: dict[str, Any] = {name: _default(spec)
                             for name, spec in Registration.__dataclass_fields__.items()}
