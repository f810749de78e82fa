"""Cleaning what people typed (a form, a spreadsheet row) into the fields of a registration.

Every value is checked here, before the store, so SQLite and PostgreSQL see the same
clean data and one bad row never fails a batch: text is Unicode NFC with spaces collapsed;
control characters (a NUL byte, an escape sequence) are refused; no value is longer than
its column (:data:`LIMITS`, read from the table itself); the email is validated and
normalised with ``email-validator`` (:mod:`.addresses`); the zone comes from
:func:`.zones.resolve_zone`, the sessions from :func:`.sessions.parse_sessions`.

:class:`FieldCleaner` keeps what it learns about one series (session names, countries,
zones seen) so an import cleans a million rows without redoing it; :func:`clean_fields`
is the one-off form.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, Literal

from ..countries import UnknownName, country_code, fold, language_code, official_languages
from ..i18n import check_language
from ..store import registrations
from ..terminal import shown
from .addresses import clean_email
from .model import CHANNELS
from .sessions import parse_sessions
from .text import TextTooLong, clean_text
from .zones import resolve_zone

if TYPE_CHECKING:
    from ..models import Series

__all__ = ["CHANNELS", "LIMITS", "SECTORS", "FieldCleaner", "Sector", "clean_fields"]

Sector = Literal["public-administration", "academia", "ngo", "private-consultancy", "other"]

SECTORS: tuple[str, ...] = (
    "public-administration", "academia", "ngo", "private-consultancy", "other")
#: The longest value each free-text field may hold: its column's length in the store.
LIMITS: dict[str, int] = {
    name: int(getattr(registrations.c[name].type, "length", None) or 256)
    for name in ("name", "organisation")} | {"city": 256, "timezone": 64, "country": 128,
                                              "language": 64, "sector": 128}

_SECTOR_NAMES = {
    "public-administration": (
        "public administration", "public sector", "government", "administracion publica",
        "sector publico", "gobierno", "administracao publica", "governo",
        "administration publique", "offentliche verwaltung", "pubblica amministrazione"),
    "academia": ("academia", "academic", "university", "research", "universidad",
                 "investigacion", "universidade", "pesquisa", "universite", "recherche",
                 "hochschule", "forschung", "universita", "ricerca"),
    "ngo": ("ngo", "non governmental organisation", "non governmental organization", "ong",
            "organizacion no gubernamental", "organizacao nao governamental", "sociedad civil",
            "nro", "nichtregierungsorganisation"),
    "private-consultancy": (
        "private consultancy", "consultancy", "private sector", "private", "consultoria privada",
        "consultora privada", "consultoria", "sector privado", "empresa privada", "privado",
        "secteur prive", "privatwirtschaft", "settore privato"),
    "other": ("other", "otro", "otra", "otros", "outro", "outra", "autre", "andere", "altro"),
}
_SECTORS = {fold(name): sector for sector, names in _SECTOR_NAMES.items()
            for name in (*names, sector)}
_YES = {"yes", "y", "si", "s", "sim", "true", "1", "x", "ok", "acepto", "aceptado", "accepted",
        "agree", "i agree", "de acuerdo", "concordo", "aceito", "oui", "ja", "checked"}
_NO = {"no", "n", "nao", "false", "0", "non", "nein", ""}
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
class _Collect:
    """Turn a ValueError inside the block into a (field, message) problem."""

    def __init__(self, problems: list[tuple[str, str]], name: str, unit: str) -> None:
        self.problems, self.name, self.unit = problems, name, unit

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 _tb: object) -> bool:
        if isinstance(exc, TextTooLong):
            self.problems.append((self.name, exc.refusing(self.unit)))
            return True
        if isinstance(exc, (ValueError, UnknownName)):
            self.problems.append((self.name, str(exc)))
            return True
        return False


class FieldCleaner:
    """Cleans rows for one series; remembers what it has looked up (countries, sessions…).

    ``unit`` names what a problem refuses, in the messages: a ``row`` of an import, or a
    ``registration``.
    """

    def __init__(self, series: Series, *, required_consent: Collection[str] = (),
                 unit: str = "row") -> None:
        self.series, self.unit = series, unit
        self.required = tuple(dict.fromkeys(
            [*series.registration.required_consent, *required_consent]))
        self._sessions: dict[str, list[str] | ValueError | None] = {}
        self._country = functools.lru_cache(maxsize=1024)(self._country_code)
        self._zone = functools.lru_cache(maxsize=4096)(self._resolve_zone)
        self._language = functools.lru_cache(maxsize=256)(self._language_code)

    def clean(self, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Registration fields from what a person typed, and ``(field, reason)`` problems.

        ``raw`` uses the canonical names (name, email, language, timezone, city, country,
        organisation, sector, sessions, whatsapp/telegram/slack/matrix/apprise or a
        ``channels`` mapping, consent, consent_<flag>).
        """
        problems: list[tuple[str, str]] = []
        out = self._person(raw, problems)
        out.update(self._place(raw, problems))
        out["sessions"] = None
        with _Collect(problems, "sessions", self.unit):
            out["sessions"] = self._choices(raw.get("sessions"))
        out["channels"] = _clean_channels(raw, problems, self.unit)
        out["consent"] = self._consents(raw, problems)
        return out, problems

    def _person(self, raw: Mapping[str, Any],
                problems: list[tuple[str, str]]) -> dict[str, Any]:
        """Name, email, organisation and sector."""
        out: dict[str, Any] = {"name": "", "email": None, "organisation": None,
                               "sector": None}
        with _Collect(problems, "name", self.unit):
            out["name"] = clean_text(raw.get("name"), LIMITS["name"])
            if not out["name"]:
                raise ValueError("a name is required")
        with _Collect(problems, "email", self.unit):
            out["email"] = clean_email(clean_text(raw.get("email"), 1000))
        with _Collect(problems, "organisation", self.unit):
            out["organisation"] = clean_text(raw.get("organisation"),
                                             LIMITS["organisation"]) or None
        with _Collect(problems, "sector", self.unit):
            out["sector"] = _clean_sector(raw.get("sector"))
        return out

    # -- place: country, zone, language ------------------------------------------------

    def _country_code(self, text: str) -> str | None:
        return country_code(text) if text else None

    def _resolve_zone(self, zone: str, city: str, country: str | None) -> tuple[str, str]:
        return resolve_zone(self.series, zone=zone, city=city, country=country)

    def _language_code(self, text: str, country: str | None) -> str:
        if text:
            return check_language(self.series, language_code(text, among=self.series.languages))
        offered = set(self.series.languages)
        for lang in official_languages(country) if country else ():
            if lang in offered:
                return lang
        return self.series.default_language

    def _place(self, raw: Mapping[str, Any],
               problems: list[tuple[str, str]]) -> dict[str, Any]:
        out: dict[str, Any] = {"country": None, "timezone": self.series.timezone,
                               "timezone_source": "series", "language": None}
        with _Collect(problems, "country", self.unit):
            out["country"] = self._country(clean_text(raw.get("country"), LIMITS["country"]))
        with _Collect(problems, "timezone", self.unit):
            zone = clean_text(raw.get("timezone"), LIMITS["timezone"])
            city = clean_text(raw.get("city"), LIMITS["city"])
            out["timezone"], out["timezone_source"] = self._zone(zone, city, out["country"])
        with _Collect(problems, "language", self.unit):
            language = clean_text(raw.get("language"), LIMITS["language"])
            out["language"] = self._language(language, out["country"])
        return out

    # -- sessions and consent ------------------------------------------------------------

    def _choices(self, value: Any) -> list[str] | None:
        if value is None or isinstance(value, (list, tuple)):
            return parse_sessions(self.series, value)
        key = str(value)
        if key not in self._sessions:
            if len(key) > 4000:
                raise TextTooLong(len(key), 4000)
            try:
                self._sessions[key] = parse_sessions(self.series, key)
            except ValueError as exc:
                self._sessions[key] = exc
        found = self._sessions[key]
        if isinstance(found, ValueError):
            raise found
        return None if found is None else list(found)

    def _consents(self, raw: Mapping[str, Any],
                  problems: list[tuple[str, str]]) -> dict[str, bool]:
        consent: dict[str, bool] = {}
        with _Collect(problems, "consent", self.unit):
            consent = _consent_flags(raw)
        problems += [("consent", f"no consent to '{flag}', which this series requires")
                     for flag in self.required if not consent.get(flag)]
        return consent


def clean_fields(series: Series, raw: Mapping[str, Any], *,
                 required_consent: Collection[str] = ()) -> tuple[dict[str, Any],
                                                                  list[tuple[str, str]]]:
    """Registration fields from what a person typed, and ``(field, reason)`` problems.

    See :meth:`FieldCleaner.clean`. Values are normalised (NFC, trimmed, codes), a missing
    zone is found from the city or country (:func:`.zones.resolve_zone`).
    """
    return FieldCleaner(series, required_consent=required_consent,
                        unit="registration").clean(raw)


def _clean_sector(value: Any) -> str | None:
    text = clean_text(value, LIMITS["sector"])
    return _sector(text) if text else None


@functools.lru_cache(maxsize=256)
def _sector(text: str) -> str:
    sector = _SECTORS.get(fold(text))
    if sector is None:
        raise ValueError(f"unknown sector {shown(text)}; use one of {', '.join(SECTORS)}")
    return sector


def _clean_channel(kind: str, value: Any) -> str | None:
    text = clean_text(value, 2048)
    if kind == "whatsapp":
        text = re.sub(r"[\s().\-]", "", text)
        text = "+" + text[2:] if text.startswith("00") else text
    if not text:
        return None
    pattern, reason = _CHANNEL_RULES[kind]
    if not pattern.match(text):
        raise ValueError(f"{kind} {shown(text)} {reason}")
    return text


def _clean_channels(raw: Mapping[str, Any], problems: list[tuple[str, str]],
                    unit: str) -> dict[str, str]:
    """The messaging addresses given, as fields or in a ``channels`` mapping."""
    given = dict(raw.get("channels") or {})
    channels: dict[str, str] = {}
    for kind in CHANNELS:
        if not raw.get(kind) and not given.get(kind):
            continue
        with _Collect(problems, kind, unit):
            if address := _clean_channel(kind, raw.get(kind, given.get(kind))):
                channels[kind] = address
    return channels


def _clean_consent(value: Any) -> dict[str, bool]:
    """yes/no (consent to ``data_processing``) or a list of the consents given."""
    if isinstance(value, Mapping):
        return {str(k): bool(v) for k, v in value.items()}
    if isinstance(value, bool):
        return {"data_processing": value}
    given = clean_text(value, 1000)
    if not given:
        return {}
    text = fold(given)
    first = (text.split() or [""])[0]  # punctuation alone folds to nothing
    if text in _YES or first in _YES:
        return {"data_processing": True}
    if text in _NO or first in _NO:
        return {"data_processing": False}
    flags = [f.strip().replace(" ", "_") for f in re.split(r"[;,]", given.lower())]
    if all(re.fullmatch(r"[a-z][a-z0-9_]*", f) for f in flags if f):
        return {flag: True for flag in flags if flag}
    raise ValueError(f"{shown(given)} is neither yes/no nor a list of consents such as "
                     "terms; data_processing")


def _consent_flags(raw: Mapping[str, Any]) -> dict[str, bool]:
    """``consent`` plus any ``consent_<flag>`` yes/no fields."""
    consent = _clean_consent(raw.get("consent"))
    for key, value in raw.items():
        if not key.startswith("consent_"):
            continue
        flag = key.removeprefix("consent_")
        consent[flag] = value if isinstance(value, bool) else fold(clean_text(value, 1000)) in _YES
    return consent
