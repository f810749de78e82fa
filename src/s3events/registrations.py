"""Registrations: who takes part, in which language, zone and sessions, and their seat.

A :class:`Registration` is one person in one series, keyed by their email (matched without
regard to case). Personal data lives in the ``s3e_registrations`` table only; the delivery
ledger refers to people by the registration's random id.

Seats: with ``registration.capacity`` set, a registration is ``confirmed`` while there are
fewer confirmed people than seats, else ``waitlisted``. When a confirmed person cancels or is
erased (or the capacity grows), waitlisted people move up in the order they registered, and
``confirmed_at`` records when. ``pending`` registrations (online, awaiting the double opt-in)
hold no seat until :func:`confirm_opt_in`. After every change the messages are queued with
:func:`s3events.scheduler.schedule_messages`.

Writers of one series are serialised with :func:`s3events.store.lock`, so two imports or
web registrations at once never hand out the last seat twice.
"""

from __future__ import annotations

import functools
import re
import secrets
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, SecretStr
from sqlalchemy import func, null, select
from sqlalchemy.engine import Connection, RowMapping

from .countries import UnknownName, country_code, fold, language_code, official_languages
from .countries import zone_for_country as _country_zone
from .errors import InputError, Problem
from .store import Store, ledger, lock, registrations
from .timezones import ZoneNameError, check_zone_name

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

Sector = Literal["public-administration", "academia", "ngo", "private-consultancy", "other"]
Status = Literal["pending", "confirmed", "waitlisted", "cancelled"]
TimezoneSource = Literal["given", "country", "series"]

SECTORS: tuple[str, ...] = (
    "public-administration", "academia", "ngo", "private-consultancy", "other")
#: Messaging channels a registration can carry an address for (email is always there).
CHANNELS: tuple[str, ...] = ("whatsapp", "telegram", "slack", "matrix")

#: The fields whose values an import or a new registration may change.
DETAIL_FIELDS = ("name", "language", "timezone", "timezone_source", "country", "organisation",
                 "sector", "channels", "sessions", "consent")


class UnknownRegistration(InputError):
    """No registration matches the email or token given."""


class Channels(BaseModel):
    """A participant's messaging addresses, besides their email."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    whatsapp: str | None = None
    telegram: str | None = None
    slack: str | None = None
    matrix: str | None = None


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


# -- cleaning what people typed ---------------------------------------------------------------

_EMAIL = re.compile(
    r"^(?=.{3,254}$)(?!\.)(?!.*\.\.)[^@\s\"(),:;<>\[\]\\]+(?<!\.)"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})$")
_SECTOR_NAMES = {
    "public-administration": (
        "public administration", "public sector", "government", "administracion publica",
        "sector publico", "gobierno", "administracao publica", "governo"),
    "academia": ("academia", "academic", "university", "research", "universidad",
                 "investigacion", "universidade", "pesquisa"),
    "ngo": ("ngo", "non governmental organisation", "non governmental organization", "ong",
            "organizacion no gubernamental", "organizacao nao governamental", "sociedad civil"),
    "private-consultancy": (
        "private consultancy", "consultancy", "private sector", "private", "consultoria privada",
        "consultora privada", "consultoria", "sector privado", "empresa privada", "privado"),
    "other": ("other", "otro", "otra", "otros", "outro", "outra"),
}
_SECTORS = {fold(name): sector for sector, names in _SECTOR_NAMES.items()
            for name in (*names, sector)}
_ALL_SESSIONS = {"", "all", "all sessions", "todas", "todos", "todas las sesiones",
                 "todas as sessoes", "toutes", "*"}
_YES = {"yes", "y", "si", "s", "sim", "true", "1", "x", "ok", "acepto", "aceptado", "accepted",
        "agree", "i agree", "de acuerdo", "concordo", "aceito", "oui"}
_NO = {"no", "n", "nao", "false", "0", "non", ""}
_CHANNEL_RULES = {
    "whatsapp": (re.compile(r"^\+[1-9]\d{7,14}$"),
                 "is not a phone number in international form, such as +52 55 1234 5678"),
    "telegram": (re.compile(r"^(-?\d{1,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$"),
                 "is not a Telegram chat id (a number such as 123456789)"),
    "slack": (re.compile(r"^[UWCGD][A-Z0-9]{6,}$"),
              "is not a Slack member or channel id (such as U012AB3CD)"),
    "matrix": (re.compile(r"^[!#][^:\s]+:[A-Za-z0-9.\-]+(:\d+)?$"),
               "is not a Matrix room id or alias (such as !abc123:example.org)"),
}


def email_key(email: str) -> str:
    """How emails are compared: trimmed and lower case."""
    return email.strip().lower()


def _text(value: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(value or "")).split())


def _clean_email(value: Any) -> str:
    email = _text(value).removeprefix("mailto:")
    if not email:
        raise ValueError("an email address is required")
    if not _EMAIL.match(email):
        raise ValueError(f"'{email}' is not an email address")
    return email


def _clean_zone(value: str) -> str:
    try:
        return check_zone_name(value)
    except ZoneNameError as exc:
        guess = value.replace(" ", "_").lower()
        exact = [z for z in exc.suggestions if z.lower() == guess]
        if exact:  # only case or spacing differs
            return exact[0]
        raise ValueError(str(exc)) from None


def _clean_sector(value: Any) -> str | None:
    text = _text(value)
    if not text:
        return None
    sector = _SECTORS.get(fold(text))
    if sector is None:
        raise ValueError(f"unknown sector '{text}'; use one of {', '.join(SECTORS)}")
    return sector


def _clean_sessions(series: Series, value: Any) -> list[str] | None:
    if value is None:
        return None
    parts = [str(v) for v in value] if isinstance(value, (list, tuple)) else re.split(
        r"[;,]", _text(value))
    if len(parts) == 1 and fold(parts[0]) in _ALL_SESSIONS:
        return None
    names = _session_names(series)
    chosen: set[str] = set()
    for part in filter(None, (p.strip() for p in parts)):
        found = names.get(fold(part))
        tokens = [found] if found else [names.get(fold(t)) for t in part.split()]
        if None in tokens or not tokens:
            raise ValueError(f"unknown session '{part}'; the sessions are "
                             f"{', '.join(s.id for s in series.sessions)}")
        chosen.update(t for t in tokens if t)
    return [s.id for s in series.sessions if s.id in chosen] or None


def _session_names(series: Series) -> dict[str, str]:
    """Folded id, label or title in any language → session id."""
    key = []
    for session in series.sessions:
        texts: list[str] = []
        for text in (session.label, session.title):
            texts += text.values() if isinstance(text, dict) else [text] if text else []
        key.append((session.id, tuple(texts)))
    return _fold_names(tuple(key))


@functools.lru_cache(maxsize=32)
def _fold_names(sessions: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, str]:
    names = {fold(text): session_id for session_id, texts in sessions for text in texts}
    names.update((fold(session_id), session_id) for session_id, _ in sessions)
    names.update((session_id.lower(), session_id) for session_id, _ in sessions)
    return names


def _clean_channel(kind: str, value: Any) -> str | None:
    text = _text(value)
    if kind == "whatsapp":
        text = re.sub(r"[\s().\-]", "", text)
        text = "+" + text[2:] if text.startswith("00") else text
    if not text:
        return None
    pattern, reason = _CHANNEL_RULES[kind]
    if not pattern.match(text):
        raise ValueError(f"{kind} '{_text(value)}' {reason}")
    return text


def _clean_consent(value: Any) -> dict[str, bool]:
    """yes/no (consent to ``data_processing``) or a list of the consents given."""
    if isinstance(value, Mapping):
        return {str(k): bool(v) for k, v in value.items()}
    if isinstance(value, bool):
        return {"data_processing": value}
    text = fold(_text(value))
    if not text:
        return {}
    first = text.split()[0]
    if text in _YES or first in _YES:
        return {"data_processing": True}
    if text in _NO or first in _NO:
        return {"data_processing": False}
    flags = [f.strip().replace(" ", "_") for f in re.split(r"[;,]", _text(value).lower())]
    if all(re.fullmatch(r"[a-z][a-z0-9_]*", f) for f in flags if f):
        return {flag: True for flag in flags if flag}
    raise ValueError(f"'{_text(value)}' is neither yes/no nor a list of consents such as "
                     "terms; data_processing")


def _consent_flags(raw: Mapping[str, Any]) -> dict[str, bool]:
    """``consent`` plus any ``consent_<flag>`` yes/no fields."""
    consent = _clean_consent(raw.get("consent"))
    for key, value in raw.items():
        if key.startswith("consent_") and isinstance(value, bool):
            consent[key.removeprefix("consent_")] = value
            continue
        if key.startswith("consent_"):
            consent[key.removeprefix("consent_")] = fold(_text(value)) in _YES
    return consent


def _clean_language(series: Series, value: Any, country: str | None) -> str:
    text = _text(value)
    if text:
        return language_code(text)
    offered = set(series.languages)
    for lang in official_languages(country) if country else ():
        if lang in offered:
            return lang
    return series.default_language


def _clean_place(series: Series, raw: Mapping[str, Any],
                 problems: list[tuple[str, str]]) -> dict[str, Any]:
    """Country, time zone (guessed when missing) and language."""
    out: dict[str, Any] = {"country": None}
    with _collect(problems, "country"):
        text = _text(raw.get("country"))
        out["country"] = country_code(text) if text else None
    zone = _text(raw.get("timezone"))
    with _collect(problems, "timezone"):
        if zone:
            out["timezone"], out["timezone_source"] = _clean_zone(zone), "given"
        elif out["country"] and (guess := _country_zone(out["country"])):
            out["timezone"], out["timezone_source"] = guess, "country"
        else:
            out["timezone"], out["timezone_source"] = series.timezone, "series"
    with _collect(problems, "language"):
        out["language"] = _clean_language(series, raw.get("language"), out["country"])
    return out


class _collect:
    """Turn a ValueError inside the block into a (field, message) problem."""

    def __init__(self, problems: list[tuple[str, str]], name: str) -> None:
        self.problems, self.name = problems, name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 _tb: object) -> bool:
        if isinstance(exc, (ValueError, UnknownName)):
            self.problems.append((self.name, str(exc)))
            return True
        return False


def clean_fields(series: Series, raw: Mapping[str, Any], *,
                 required_consent: Collection[str] = ()) -> tuple[dict[str, Any],
                                                                  list[tuple[str, str]]]:
    """Registration fields from what a person typed, and ``(field, reason)`` problems.

    ``raw`` uses the canonical names (name, email, language, timezone, country,
    organisation, sector, sessions, whatsapp/telegram/slack/matrix or a ``channels``
    mapping, consent, consent_<flag>). Values are normalised (NFC, trimmed, codes), and a
    missing zone is guessed from the country or taken from the series.
    """
    problems: list[tuple[str, str]] = []
    out: dict[str, Any] = {"name": _text(raw.get("name"))}
    if not out["name"]:
        problems.append(("name", "a name is required"))
    with _collect(problems, "email"):
        out["email"] = _clean_email(raw.get("email"))
    out.update(_clean_place(series, raw, problems))
    out["organisation"] = _text(raw.get("organisation")) or None
    with _collect(problems, "sector"):
        out["sector"] = _clean_sector(raw.get("sector"))
    with _collect(problems, "sessions"):
        out["sessions"] = _clean_sessions(series, raw.get("sessions"))
    given = dict(raw.get("channels") or {})
    out["channels"] = {}
    for kind in CHANNELS:
        with _collect(problems, kind):
            if address := _clean_channel(kind, raw.get(kind, given.get(kind))):
                out["channels"][kind] = address
    out["consent"] = {}
    with _collect(problems, "consent"):
        out["consent"] = _consent_flags(raw)
    required = dict.fromkeys([*series.registration.required_consent, *required_consent])
    problems += [("consent", f"no consent to '{flag}', which this series requires")
                 for flag in required if not out["consent"].get(flag)]
    return out, problems


# -- the store --------------------------------------------------------------------------------


def _from_row(row: RowMapping) -> Registration:
    data = {c.name: row[c.name] for c in registrations.columns
            if c.name not in ("email_key", "updated_at")}
    data["updated_at"] = row["updated_at"]
    data["channels"] = row["channels"] or {}
    data["consent"] = row["consent"] or {}
    return Registration.model_validate(data)


def _select_one(conn: Connection, series_id: str, *, key: str | None = None,
                token: str | None = None) -> RowMapping | None:
    query = registrations.select().where(registrations.c.series_id == series_id)
    if key is not None:
        query = query.where(registrations.c.email_key == key)
    if token is not None:
        query = query.where(registrations.c.token == token)
    return conn.execute(query).mappings().first()


def _confirmed(conn: Connection, series_id: str) -> int:
    return conn.execute(
        select(func.count()).select_from(registrations).where(
            registrations.c.series_id == series_id, registrations.c.status == "confirmed")
    ).scalar_one()


def _next_position(conn: Connection, series_id: str) -> int:
    top = conn.execute(select(func.max(registrations.c.position)).where(
        registrations.c.series_id == series_id)).scalar()
    return int(top or 0) + 1


def _seat(series: Series, confirmed: int) -> Status:
    capacity = series.registration.capacity
    return "confirmed" if capacity is None or confirmed < capacity else "waitlisted"


def _promote(conn: Connection, series: Series, now: datetime) -> list[str]:
    """Move waitlisted people up, in order, while there are free seats; their ids."""
    capacity = series.registration.capacity
    free = None if capacity is None else capacity - _confirmed(conn, series.id)
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


def _schedule(store: Store, series: Series, now: datetime) -> None:
    from .scheduler import schedule_messages

    schedule_messages(store, series, now=now)


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
    counts = SaveCounts()
    with store.begin() as conn:
        lock(conn, f"registrations:{series.id}")
        known = {row["email_key"]: row for row in conn.execute(
            registrations.select().where(registrations.c.series_id == series.id)).mappings()}
        confirmed, position = _confirmed(conn, series.id), _next_position(conn, series.id)
        new_rows: list[dict[str, Any]] = []
        added: set[str] = set()
        for fields in entries:
            key = email_key(fields["email"])
            row = known.get(key)
            if key in added:
                counts.unchanged += 1
            elif row is None:
                added.add(key)
                status = _seat(series, confirmed)
                confirmed += status == "confirmed"
                setattr(counts, status, getattr(counts, status) + 1)
                new_rows.append(_new_row(series, fields, status=status, position=position,
                                         now=now, source=source))
                position += 1
            elif _differs(row, fields):
                conn.execute(registrations.update().where(registrations.c.id == row["id"])
                             .values(**_storable(fields), updated_at=now))
                counts.updated += 1
            else:
                counts.unchanged += 1
        if new_rows:
            conn.execute(registrations.insert(), new_rows)
        counts.added = len(new_rows)
        counts.promoted = len(_promote(conn, series, now))
    return counts


def register(store: Store, series: Series, data: Mapping[str, Any], *, now: datetime,
             source: str | None = None, require_opt_in: bool = False,
             required_consent: Collection[str] = ()) -> Registration:
    """Register one person (a form submission or an API call) and queue their messages.

    ``data`` holds the fields :func:`clean_fields` reads; a problem raises
    :class:`~s3events.errors.InputError` listing every field. A known email updates the
    person's details; a cancelled one registers again at the end of the queue. With
    ``require_opt_in`` a new registration is ``pending`` until :func:`confirm_opt_in`.
    Refused while the series' registration is closed.
    """
    if not series.registration.open:
        raise InputError(f"registration for {series.id} is closed")
    fields, problems = clean_fields(series, data, required_consent=required_consent)
    if problems:
        raise InputError("registration: " + "; ".join(f"{f}: {m}" for f, m in problems),
                         problems=[Problem(m, path=f) for f, m in problems])
    with store.begin() as conn:
        lock(conn, f"registrations:{series.id}")
        row = _select_one(conn, series.id, key=email_key(fields["email"]))
        status: Status = "pending" if require_opt_in else _seat(
            series, _confirmed(conn, series.id))
        if row is None:
            conn.execute(registrations.insert().values(_new_row(
                series, fields, status=status, position=_next_position(conn, series.id),
                now=now, source=source)))
        elif row["status"] == "cancelled":
            conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
                **_storable(fields), status=status, position=_next_position(conn, series.id),
                registered_at=now, confirmed_at=now if status == "confirmed" else None,
                cancelled_at=None, source=source, updated_at=now))
        elif _differs(row, fields):
            conn.execute(registrations.update().where(registrations.c.id == row["id"])
                         .values(**_storable(fields), updated_at=now))
        _promote(conn, series, now)
    _schedule(store, series, now)
    return _require(get_registration(store, series.id, fields["email"]), fields["email"])


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
        row = _select_one(conn, series.id, token=token)
        if row is None:
            raise UnknownRegistration("this confirmation link is not valid (any more)")
        if row["status"] == "pending":
            status = _seat(series, _confirmed(conn, series.id))
            conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
                status=status, confirmed_at=now if status == "confirmed" else None,
                position=_next_position(conn, series.id), updated_at=now))
    _schedule(store, series, now)
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
        row = _find(conn, series.id, email_or_token)
        changed = row["status"] != "cancelled"
        if changed:
            conn.execute(registrations.update().where(registrations.c.id == row["id"]).values(
                status="cancelled", cancelled_at=now, updated_at=now))
        promoted = _promote(conn, series, now)
        rows = conn.execute(registrations.select().where(
            registrations.c.id.in_([row["id"], *promoted])).order_by(
            registrations.c.position)).mappings().all()
    _schedule(store, series, now)
    found = {r["id"]: _from_row(r) for r in rows}
    return Cancellation(found[row["id"]], changed, [found[i] for i in promoted])


def _find(conn: Connection, series_id: str, email_or_token: str, *,
          token_ok: bool = True) -> RowMapping:
    who = email_or_token.strip()
    row = (_select_one(conn, series_id, token=who) if token_ok and "@" not in who
           else _select_one(conn, series_id, key=email_key(who)))
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
    return [_from_row(row) for row in rows]


def get_registration(store: Store, series_id: str, email: str) -> Registration | None:
    """The registration of ``email`` (any case) in a series, or None."""
    with store.connect() as conn:
        row = _select_one(conn, series_id, key=email_key(email))
    return None if row is None else _from_row(row)


def get_by_token(store: Store, token: str, *, series_id: str | None = None) -> Registration | None:
    """The registration whose secret link token is ``token``, or None."""
    query = registrations.select().where(registrations.c.token == token)
    if series_id is not None:
        query = query.where(registrations.c.series_id == series_id)
    with store.connect() as conn:
        row = conn.execute(query).mappings().first()
    return None if row is None else _from_row(row)


# -- the rights of the person: access and erasure -------------------------------------------

_LEDGER_EXPORT = ("session_id", "kind", "revision", "channel", "state", "attempts", "due_at",
                  "created_at", "sent_at", "next_attempt_at", "last_error", "message_id")


def export_person(store: Store, series_id: str, email: str) -> dict[str, Any]:
    """Every piece of data held on a person in a series, as JSON-ready data.

    Their registration (all fields but the secret link token) and every message queued or
    sent to them: kind, session, channel, state, attempts and times. Nobody else's data.
    """
    with store.connect() as conn:
        row = _find(conn, series_id, email, token_ok=False)
        messages = conn.execute(
            select(*(ledger.c[name] for name in _LEDGER_EXPORT))
            .where(ledger.c.registration_id == row["id"])
            .order_by(ledger.c.created_at, ledger.c.id)).mappings().all()
    return {
        "series_id": series_id,
        "registration": _from_row(row).to_json(),
        "messages": [{k: v.isoformat() if isinstance(v, datetime) else v
                      for k, v in message.items()} for message in messages],
        "not_included": {"token": "the secret key of the person's cancel and confirm links"},
    }


@dataclass(frozen=True)
class ErasureReport:
    """What :func:`erase_person` removed and kept."""

    registration_id: str
    messages_deleted: int
    messages_kept: int
    promoted: int
    purged: bool

    def __str__(self) -> str:
        text = (f"registration {self.registration_id} deleted, {self.messages_deleted} unsent "
                f"message(s) deleted, {self.messages_kept} sent message record(s) kept "
                "without personal data")
        if self.promoted:
            text += f"; {self.promoted} moved up from the waiting list"
        if not self.purged:
            text += ("; another process holds the database open, so old copies may stay in "
                     "the -wal file until its next checkpoint")
        return text


def erase_person(store: Store, series: Series | str, email: str, *,
                 now: datetime | None = None) -> ErasureReport:
    """Erase a person: their registration and unsent messages go, sent records stay anonymous.

    Sent ledger rows keep only the random registration id (which nothing links to the person
    any more) and lose their last error text. Then the database files are purged of the
    deleted rows (:meth:`~s3events.store.Store.purge_deleted`). With the series (not only its
    id) and ``now``, a seat freed by a confirmed person goes to the waiting list.
    """
    known = None if isinstance(series, str) else series
    series_id = series if isinstance(series, str) else series.id
    with store.begin() as conn:
        lock(conn, f"registrations:{series_id}")
        row = _find(conn, series_id, email, token_ok=False)
        mine = ledger.c.registration_id == row["id"]
        deleted = conn.execute(ledger.delete().where(mine, ledger.c.state != "sent")).rowcount
        kept = conn.execute(ledger.update().where(mine).values(last_error=None)).rowcount
        conn.execute(registrations.delete().where(registrations.c.id == row["id"]))
        promoted = [] if known is None or now is None else _promote(conn, known, now)
    if promoted and known is not None and now is not None:
        _schedule(store, known, now)
    return ErasureReport(row["id"], deleted, kept, len(promoted), store.purge_deleted())
