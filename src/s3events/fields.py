"""Cleaning what people typed (a form, a spreadsheet row) into the fields of a registration."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

from .countries import UnknownName, country_code, fold, language_code, official_languages
from .countries import zone_for_country as _country_zone
from .i18n import check_language
from .timezones import ZoneNameError, check_zone_name

if TYPE_CHECKING:
    from .models import Series

__all__ = ["CHANNELS", "SECTORS", "Sector", "clean_fields"]

Sector = Literal["public-administration", "academia", "ngo", "private-consultancy", "other"]

SECTORS: tuple[str, ...] = (
    "public-administration", "academia", "ngo", "private-consultancy", "other")
#: Messaging channels a registration can carry an address for (email is always there).
CHANNELS: tuple[str, ...] = ("whatsapp", "telegram", "slack", "matrix", "apprise")

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
    # an Apprise URL of the participant's own (mailto://, tgram://, ntfy://…) or a handle
    "apprise": (re.compile(r"^\S{2,2048}$"), "is not an Apprise URL or handle (no spaces)"),
}


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
        return check_language(series, language_code(text))
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
    out["channels"] = _clean_channels(raw, problems)
    out["consent"] = _clean_consents(series, raw, problems, required_consent)
    return out, problems


def _clean_channels(raw: Mapping[str, Any], problems: list[tuple[str, str]]) -> dict[str, str]:
    """The messaging addresses given, as fields or in a ``channels`` mapping."""
    given = dict(raw.get("channels") or {})
    channels: dict[str, str] = {}
    for kind in CHANNELS:
        with _collect(problems, kind):
            if address := _clean_channel(kind, raw.get(kind, given.get(kind))):
                channels[kind] = address
    return channels


def _clean_consents(series: Series, raw: Mapping[str, Any], problems: list[tuple[str, str]],
                    required_consent: Collection[str]) -> dict[str, bool]:
    """The consent flags given; a problem for each flag required but not given."""
    consent: dict[str, bool] = {}
    with _collect(problems, "consent"):
        consent = _consent_flags(raw)
    required = dict.fromkeys([*series.registration.required_consent, *required_consent])
    problems += [("consent", f"no consent to '{flag}', which this series requires")
                 for flag in required if not consent.get(flag)]
    return consent
