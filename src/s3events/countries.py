"""Countries, languages and their time zones, as people write them in registration forms.

A country can be given as an ISO 3166 alpha-2 or alpha-3 code (``MX``, ``MEX``) or as its
name in English, Spanish, Portuguese, French, German or Italian (``Mexico``, ``México``,
``Perú``); a language as a code (``es``, ``pt-BR``) or a name (``Español``, ``English``,
``Português``, ``Spanish``). Names are matched without regard to case, accents or spacing
(:func:`fold`). Names come from Babel (CLDR); codes from the tz database's ``iso3166.tab``.

A country's time zones come from the tz database's ``zone.tab`` (one row per country and
zone), read from the same place :mod:`zoneinfo` reads zones from: the system zone folders
first, then the ``tzdata`` package. :func:`zone_for_country` gives the zone of a country
that has exactly one (Peru: ``America/Lima``) and ``None`` for a country with several
(Chile, Mexico), so callers fall back to another rule instead of guessing
(:data:`MOST_POPULOUS_ZONE` says where most people of those live, and why).
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
import unicodedata
import zoneinfo
from collections.abc import Sequence
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.languages import get_official_languages

__all__ = [
    "MOST_POPULOUS_ZONE",
    "NAME_LANGUAGES",
    "UnknownName",
    "country_code",
    "country_name",
    "country_zones",
    "fold",
    "language_code",
    "official_languages",
    "zone_for_country",
    "zones_by_country",
]

#: Languages whose country and language names are recognised.
NAME_LANGUAGES = ("en", "es", "pt", "fr", "de", "it")

#: Country → (the zone where most of its people live, why). For countries with several
#: zones in ``zone.tab``; population shares from each country's statistics office
#: (census or latest estimate) as summarised by Wikipedia's "Time in <country>" articles.
MOST_POPULOUS_ZONE: dict[str, tuple[str, str]] = {
    "AR": ("America/Argentina/Buenos_Aires", "all of Argentina keeps UTC-3; Buenos Aires "
           "is the largest city (INDEC 2022)"),
    "AU": ("Australia/Sydney", "Sydney time: New South Wales, Victoria, the ACT and "
           "Tasmania, ~58% (ABS 2021 census)"),
    "BR": ("America/Sao_Paulo", "Brasília time covers ~93% of people (IBGE 2022)"),
    "CA": ("America/Toronto", "Eastern time: Ontario and most of Quebec, ~61% "
           "(Statistics Canada 2021)"),
    "CD": ("Africa/Lubumbashi", "the eastern provinces (Kivu, Kasai, Katanga) hold "
           "~58% of people (INS provincial estimates)"),
    "CL": ("America/Santiago", "continental Chile but Aysén and Magallanes, ~98% (INE 2017)"),
    "CN": ("Asia/Shanghai", "Beijing time is the official time everywhere (Xinjiang also "
           "uses Urumqi time locally)"),
    "CY": ("Asia/Nicosia", "the same time as Famagusta since 2017"),
    "DE": ("Europe/Berlin", "Büsingen, the other zone, has ~1,500 people"),
    "EC": ("America/Guayaquil", "mainland Ecuador; Galápagos ~0.2% (INEC 2022)"),
    "ES": ("Europe/Madrid", "the Peninsula, Balearics, Ceuta and Melilla; the Canaries "
           "~4.6% (INE 2023)"),
    "FM": ("Pacific/Chuuk", "Chuuk and Yap ~58% (2010 census)"),
    "GL": ("America/Nuuk", "~90% of Greenlanders (Statistics Greenland 2023)"),
    "ID": ("Asia/Jakarta", "Western Indonesia time: Java and Sumatra, ~78% (BPS 2020)"),
    "KI": ("Pacific/Tarawa", "the Gilbert Islands, ~90% (2020 census)"),
    "KZ": ("Asia/Almaty", "one time zone for the whole country since 1 March 2024"),
    "MH": ("Pacific/Majuro", "the same time as Kwajalein"),
    "MN": ("Asia/Ulaanbaatar", "all but the three western aimags, ~92% (NSO 2020)"),
    "MX": ("America/Mexico_City", "central time, ~77% of people (INEGI 2020)"),
    "MY": ("Asia/Kuala_Lumpur", "the same time as Kuching (Sabah and Sarawak)"),
    "NZ": ("Pacific/Auckland", "the Chatham Islands, the other zone, have ~800 people"),
    "PF": ("Pacific/Tahiti", "the Society Islands and most of the rest, ~96% (ISPF 2022)"),
    "PG": ("Pacific/Port_Moresby", "Bougainville, the other zone, ~3% (2011 census)"),
    "PS": ("Asia/Hebron", "the West Bank, ~60% (PCBS 2023)"),
    "PT": ("Europe/Lisbon", "mainland Portugal and Madeira; the Azores ~2.3% (INE 2021)"),
    "RU": ("Europe/Moscow", "Moscow time covers European Russia, ~60% (Rosstat 2021)"),
    "UA": ("Europe/Kyiv", "all of Ukraine but Crimea"),
    "US": ("America/New_York", "Eastern time, ~47% of people (US Census 2020)"),
    "UZ": ("Asia/Tashkent", "the same time as Samarkand"),
}

#: Names people use that CLDR does not list under that spelling.
_EXTRA_LANGUAGE_NAMES = {"castellano": "es", "castelhano": "es", "portugues do brasil": "pt-BR"}

_LANG_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}|[0-9]{3}|[A-Za-z]{4}))?$")


class UnknownName(ValueError):
    """A country or language that is not recognised; ``suggestions`` are the closest ones."""

    def __init__(self, message: str, suggestions: list[str]) -> None:
        super().__init__(message)
        self.suggestions = suggestions


def fold(text: str) -> str:
    """``text`` without accents, case, punctuation or repeated spaces, for matching."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.sub(r"[^\w]+", " ", bare.casefold())
    return " ".join(words.replace("_", " ").split())


# -- countries ------------------------------------------------------------------------------


def _tz_table(name: str) -> str:
    """The text of a tz database table, from where zoneinfo reads zones."""
    for folder in zoneinfo.TZPATH:
        path = Path(folder) / name
        if path.is_file():
            return path.read_text(encoding="utf-8")
    return importlib.resources.files("tzdata.zoneinfo").joinpath(name).read_text("utf-8")


def _table_rows(name: str) -> list[list[str]]:
    rows = []
    for line in _tz_table(name).splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@functools.lru_cache(maxsize=1)
def _iso_countries() -> dict[str, str]:
    """ISO 3166 alpha-2 code → English name, from ``iso3166.tab``."""
    return {row[0]: row[1] for row in _table_rows("iso3166.tab")}


@functools.lru_cache(maxsize=1)
def _zones_by_country() -> dict[str, tuple[str, ...]]:
    found: dict[str, list[str]] = {}
    for row in _table_rows("zone.tab"):
        found.setdefault(row[0], []).append(row[2])
    return {code: tuple(zones) for code, zones in found.items()}


@functools.lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """Folded name or alpha-3 code → alpha-2 code."""
    codes = _iso_countries()
    names: dict[str, str] = {}
    for alias, targets in get_global("territory_aliases").items():
        if len(alias) == 3 and alias.isalpha() and targets and targets[0] in codes:
            names.setdefault(fold(alias), targets[0])
    for lang in NAME_LANGUAGES:
        for code, name in Locale.parse(lang).territories.items():
            if code in codes:
                names.setdefault(fold(name), code)
    for code, name in codes.items():
        names.setdefault(fold(name), code)
    return names


def country_code(value: str) -> str:
    """The ISO 3166 alpha-2 code of a country given by code or name; :class:`UnknownName`."""
    text = value.strip()
    if len(text) == 2 and text.isalpha() and text.upper() in _iso_countries():
        return text.upper()
    key = fold(text)
    names = _country_names()
    if key in names:
        return names[key]
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.75)
    suggestions = list(dict.fromkeys(f"{country_name(names[c])} ({names[c]})" for c in close))
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else (
        "; give an ISO 3166 code such as MX, CL or PE")
    raise UnknownName(f"unknown country '{value}'{hint}", suggestions)


def country_name(code: str, lang: str = "en") -> str:
    """The name of a country in ``lang`` (English when Babel has no name for it there)."""
    try:
        name = Locale.parse(lang.replace("-", "_")).territories.get(code)
    except (UnknownLocaleError, ValueError):
        name = None
    return name or _iso_countries().get(code, code)


def country_zones(code: str) -> tuple[str, ...]:
    """Every tz database zone of a country, as ``zone.tab`` lists them (may be empty)."""
    return _zones_by_country().get(code.upper(), ())


def zones_by_country() -> dict[str, tuple[str, ...]]:
    """Every country's zones as ``zone.tab`` lists them: ISO code → zones."""
    return dict(_zones_by_country())


def zone_for_country(code: str) -> str | None:
    """The zone of a country that has exactly one; ``None`` when it has several or none."""
    zones = country_zones(code)
    return zones[0] if len(zones) == 1 else None


# -- languages ------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _language_names() -> dict[str, str]:
    """Folded language name → language code."""
    known = set(Locale.parse("en").languages)
    names: dict[str, str] = dict(_EXTRA_LANGUAGE_NAMES)
    for lang in NAME_LANGUAGES:
        for code, name in Locale.parse(lang).languages.items():
            if code in known and "_" not in code:
                names.setdefault(fold(name), code)
    return names


#: Languages also known by their own name (中文, 日本語, suomi …), beside those of ``among``.
ENDONYM_LANGUAGES = ("ar", "bg", "bn", "ca", "cs", "da", "el", "et", "eu", "fa", "fi", "ga",
                     "gl", "he", "hi", "hr", "hu", "id", "is", "ja", "ko", "lt", "lv", "ms",
                     "mt", "nb", "nl", "pl", "ro", "ru", "sk", "sl", "sr", "sv", "sw", "th",
                     "tl", "tr", "uk", "ur", "vi", "zh", *NAME_LANGUAGES)


@functools.lru_cache(maxsize=256)
def _endonym(code: str) -> str | None:
    """A language's name in itself (``fi`` → ``suomi``), folded; None without CLDR data."""
    try:
        locale = Locale.parse(code.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return None
    name = locale.languages.get(locale.language)
    return fold(name) if name else None


def language_code(value: str, *, among: Sequence[str] = ()) -> str:
    """A BCP 47 tag (``es``, ``pt-BR``) for a language given by code or name.

    Names are English, Spanish, Portuguese, French, German and Italian ones, and each
    language's own name for the languages of ``among`` (a series' languages) and
    :data:`ENDONYM_LANGUAGES`.
    """
    text = value.strip()
    match = _LANG_TAG.match(text)
    if match and match.group(1).lower() in Locale.parse("en").languages:
        base, region = match.group(1).lower(), match.group(2)
        if region is None:
            return base
        return f"{base}-{region.upper() if len(region) == 2 else region.title()}"
    names = _language_names()
    key = fold(text)
    if key in names:
        return names[key]
    for code in dict.fromkeys((*among, *ENDONYM_LANGUAGES)):
        if key and _endonym(code) == key:
            return code
    close = difflib.get_close_matches(key, list(names), n=3, cutoff=0.75)
    suggestions = list(dict.fromkeys(f"{c} ({names[c]})" for c in close))
    hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else (
        "; give a code such as es, en or pt")
    raise UnknownName(f"unknown language '{value}'{hint}", suggestions)


def official_languages(code: str) -> tuple[str, ...]:
    """The official or de facto languages of a country, most used first (``MX`` → ``es``)."""
    return tuple(get_official_languages(code.upper(), de_facto=True))
