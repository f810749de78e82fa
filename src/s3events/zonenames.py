"""How a time zone is named next to a time: by its city, "hora de Lima", "Lima time".

Messages, the event page and the agenda all name zones this one way. The city is the
zone's exemplar city in CLDR, in the reader's language (Babel's
``get_timezone_location(zone, return_city=True)``): "Lima", "Ciudad de México", "Bruselas".
CLDR's country-based names ("hora de Perú", "hora de México (Ciudad de México)") are not
used: they name a country for what is a city's clock, and grow long where a country has
several zones. The phrase around the city is "{city} time" in English, "hora de {city}" in
Spanish, "horário de {city}" in Portuguese, "heure de {city}" in French (elided: "heure
d'Amsterdam"), "Ortszeit {city}" in German, "ora di {city}" in Italian — the built-in
languages, as a native speaker writes it next to a time — and CLDR's region format in other
languages ("aikavyöhyke: {city}"). Zones without a place (``UTC``, ``Etc/GMT+5``) are named
as they are.
"""

from __future__ import annotations

import functools
import unicodedata

from babel.dates import get_timezone_location

from .i18n import babel_locale, base_language, has_locale_data
from .timezones import get_zone

__all__ = ["PATTERNS", "zone_city", "zone_label", "zone_pattern"]

#: The phrase around the city, per language; ``{city}`` is replaced.
PATTERNS = {"en": "{city} time", "es": "hora de {city}", "pt": "horário de {city}",
            "fr": "heure de {city}", "de": "Ortszeit {city}", "it": "ora di {city}"}


def _placeless(zone_name: str) -> bool:
    return "/" not in zone_name or zone_name.startswith("Etc/")


@functools.lru_cache(maxsize=8192)
def zone_city(zone_name: str, lang: str) -> str:
    """The zone's city in ``lang`` ("Bruselas" for ``Europe/Brussels`` in Spanish)."""
    if _placeless(zone_name):
        return zone_name
    try:
        city = get_timezone_location(get_zone(zone_name), locale=babel_locale(lang),
                                     return_city=True)
    except (LookupError, ValueError):  # ZoneNameError is a ValueError
        city = ""
    return str(city) or zone_name.rsplit("/", 1)[-1].replace("_", " ")


@functools.lru_cache(maxsize=64)
def zone_pattern(lang: str) -> str:
    """The phrase that names a zone by its city in ``lang``, with ``{city}`` to fill in."""
    base = base_language(lang)
    if base in PATTERNS:
        return PATTERNS[base]
    region = ""
    if has_locale_data(lang):
        region = str(babel_locale(lang).zone_formats.get("region") or "")
    return region.replace("%s", "{city}") if "%s" in region else PATTERNS["en"]


def zone_label(zone_name: str, lang: str) -> str:
    """How a zone is named next to a time: "Lima time", "hora de Lima", "horário de Lima"."""
    if _placeless(zone_name):
        return zone_name
    city = zone_city(zone_name, lang)
    label = zone_pattern(lang).replace("{city}", city)
    if base_language(lang) == "fr" and _starts_with_vowel(city):
        label = label.replace(f"de {city}", f"d’{city}")
    return label


def _starts_with_vowel(word: str) -> bool:
    """True before "Amsterdam", "Oslo", "Érevan": French writes "d’" there, not "de"."""
    first = unicodedata.normalize("NFD", word[:1])[:1].lower()
    return first in "aeiouy"
