"""A participant's time zone from what they gave: a zone, a city, a country — or nothing.

:func:`resolve_zone` tries, in order:

1. **an explicit zone** (``America/Lima``; a city name written there counts too) →
   ``given``;
2. **a city**, matched against the tz database's city names (``Mexico_City``) and CLDR's
   localised exemplar cities from Babel in the series' languages and English ("Ciudad de
   México", "Nouméa", "Zúrich"), without regard to case or accents; with a country given,
   only that country's zones count → ``city``;
3. **the country**: a country with one zone gets it exactly, and so does a country whose
   zones all keep the same time at every session (Argentina) → ``country``; a country
   whose zones differ gets the zone where most of its people live, from
   :data:`s3events.countries.MOST_POPULOUS_ZONE` → ``country-guess``;
4. the series' own zone, only when nothing at all is known → ``series``.

The zones of a country are the tz database's ``zone.tab`` rows for it (see
:mod:`s3events.countries`).
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError

from ..countries import MOST_POPULOUS_ZONE, country_zones, fold, zones_by_country
from ..terminal import shown
from ..timezones import ZoneNameError, check_zone_name
from .model import TimezoneSource

if TYPE_CHECKING:
    from ..models import Series

__all__ = ["MOST_POPULOUS_ZONE", "city_zones", "country_zone", "resolve_zone"]

@functools.lru_cache(maxsize=16)
def _city_index(languages: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Folded city name → the zone.tab zones that carry it (in these languages)."""
    index: dict[str, list[str]] = {}
    locales = []
    for lang in dict.fromkeys(("en", *languages)):
        try:
            locales.append(Locale.parse(lang.replace("-", "_")))
        except (UnknownLocaleError, ValueError):
            continue
    for zone in _all_zones():
        names = {zone.rsplit("/", 1)[-1].replace("_", " ")}
        for locale in locales:
            city = (locale.time_zones.get(zone) or {}).get("city")
            if city:
                names.add(city)
        for name in names:
            index.setdefault(fold(name), []).append(zone)
    return {name: tuple(dict.fromkeys(zones)) for name, zones in index.items()}


@functools.lru_cache(maxsize=1)
def _all_zones() -> tuple[str, ...]:
    return tuple(dict.fromkeys(z for zones in zones_by_country().values() for z in zones))


def city_zones(city: str, languages: Sequence[str] = ()) -> tuple[str, ...]:
    """The zones whose city is called ``city`` in English or one of ``languages``.

    "Mexico City, Mexico" is tried whole, then by its first part.
    """
    index = _city_index(tuple(languages))
    for candidate in (city, city.split(",", 1)[0]):
        found = index.get(fold(candidate))
        if found:
            return found
    return ()


def _moments(series: Series) -> list[datetime]:
    """Times at which two zones must agree for a guess to make no difference."""
    moments = []
    for session in series.sessions:
        moments += [session.start, session.start - timedelta(days=1)]
    return moments


@functools.lru_cache(maxsize=256)
def _same_time(zones: tuple[str, ...], moments: tuple[datetime, ...]) -> bool:
    """Whether every zone keeps the same UTC offset at every moment."""
    infos = [zoneinfo.ZoneInfo(z) for z in zones]
    return all(len({m.astimezone(z).utcoffset() for z in infos}) == 1 for m in moments)


def country_zone(series: Series, country: str) -> tuple[str, TimezoneSource] | None:
    """The zone of ``country`` and whether it is exact (``country``) or a guess."""
    zones = country_zones(country)
    if len(zones) == 1:
        return zones[0], "country"
    if country not in MOST_POPULOUS_ZONE:
        return None
    zone = MOST_POPULOUS_ZONE[country][0]
    exact = _same_time(tuple(zones), tuple(_moments(series)))
    return zone, "country" if exact else "country-guess"


def _from_city(series: Series, city: str, country: str | None) -> str | None:
    zones = city_zones(city, series.languages)
    if country:
        zones = tuple(z for z in zones if z in country_zones(country))
    return zones[0] if len(zones) == 1 else None


def resolve_zone(series: Series, *, zone: str = "", city: str = "",
                 country: str | None = None) -> tuple[str, TimezoneSource]:
    """The zone and its source for what a person gave; ``ValueError`` for a bad zone."""
    if zone:
        return _given_zone(series, zone, country), "given"
    if city and (found := _from_city(series, city, country)):
        return found, "city"
    if country and (guess := country_zone(series, country)):
        return guess
    return series.timezone, "series"


def _given_zone(series: Series, value: str, country: str | None) -> str:
    """A zone name as written (case and spacing forgiven), or a city written as the zone."""
    try:
        return check_zone_name(value)
    except ZoneNameError as exc:
        guess = value.replace(" ", "_").lower()
        exact = [z for z in exc.suggestions if z.lower() == guess]
        if exact:
            return exact[0]
        if found := _from_city(series, value, country):
            return found
        if country and (elsewhere := _from_city(series, value, None)):
            raise ValueError(
                f"{shown(value)} names a city in {elsewhere}, which is not in the country "
                f"given ({shown(country)}): correct the time zone or the country") from None
        raise ValueError(str(exc)) from None
