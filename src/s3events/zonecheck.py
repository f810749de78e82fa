"""Which time-zone names s3events accepts, and what it suggests for the others.

Accepted: the location-based names of the tz database (``Europe/Brussels``,
``America/Argentina/Buenos_Aires``, a city's former name such as ``America/Buenos_Aires``
or ``Asia/Calcutta``, which browsers still report), the ``Etc/`` zones (``Etc/UTC``,
``Etc/GMT``, ``Etc/GMT+5``), and ``UTC``. Everything else is refused with a message that
says why:

* **Not a zone at all**: ``localtime`` (the computer's own setting, different on every
  machine), ``Factory`` (the tz database's placeholder for "zone not set"), ``posixrules``
  and the database's own files (``leapseconds``, ``tzdata.zi``, ``zone.tab`` …), and the
  ``posix/`` and ``right/`` copies some systems install.
* **Abbreviations and legacy names** (``CET``, ``EST``, ``NZ``, ``PRC``, ``PST8PDT`` …), even
  the ones the database contains: they name a rule, not a place, and readers take them for
  different zones (``CST`` is Chicago, Shanghai or Havana). The suggestions come from
  CLDR's metazones, through Babel: an abbreviation that an English locale of CLDR uses
  (``AEST``, ``NZDT``, ``CET``, ``IST``) names a metazone, whose zones are suggested with
  CLDR's golden zone first; a legacy name's target in the tz database comes next
  (``NZ`` → ``Pacific/Auckland``, ``PRC`` → ``Asia/Shanghai``); then the meanings CLDR does
  not list in English (:data:`EXTRA_ABBREVIATIONS`, such as ``PET`` for Lima). ``GMT`` is
  one of them: people write it for the United Kingdom's clock, which is not GMT in summer,
  so ``UTC`` and ``Europe/London`` are suggested.
* **Legacy links with a path** (``US/Pacific``, ``Canada/Eastern``, ``Brazil/East``,
  ``Australia/NSW``, ``Pacific/Samoa``, ``Etc/Zulu``, see :data:`LEGACY_IN_AREAS`), which the
  tz database keeps only for compatibility, like ``NZ``: the zone they link to is suggested.
  A name stored before they were refused still reads as that zone (:func:`legacy_target`).
* **Unknown names**: the closest accepted names by spelling and by city.

A refused name is never suggested. Names are shown in messages shortened and with control
characters escaped, so a hostile value cannot reach a terminal as it is.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
import re
from collections.abc import Sequence
from zoneinfo import available_timezones

from .terminal import shown

__all__ = [
    "EXTRA_ABBREVIATIONS",
    "LEGACY_IN_AREAS",
    "ZoneNameError",
    "check_zone_name",
    "is_accepted_zone",
    "legacy_target",
    "suggest_zones",
    "zone_tab",
]

#: Abbreviations CLDR does not name in its English locales, or meanings it leaves out (CST is
#: also China and Cuba), with the zones people who write them usually mean.
EXTRA_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "CST": ("Asia/Shanghai", "America/Havana", "America/Mexico_City"),
    "CDT": ("America/Havana",),
    "IST": ("Asia/Jerusalem",),
    "MET": ("Europe/Brussels", "Europe/Paris"),
    "GMT": ("UTC", "Europe/London"),
    "UTC": ("UTC",),
    "ART": ("America/Argentina/Buenos_Aires",),
    "BRT": ("America/Sao_Paulo",),
    "CLT": ("America/Santiago",),
    "CLST": ("America/Santiago",),
    "PET": ("America/Lima",),
    "COT": ("America/Bogota",),
    "VET": ("America/Caracas",),
    "UYT": ("America/Montevideo",),
    "BOT": ("America/La_Paz",),
    "ECT": ("America/Guayaquil",),
    "PYT": ("America/Asuncion",),
}

#: CLDR's golden zone (metaZones.xml, territory 001) of the metazones where it is not the
#: first of the metazone's Windows zones; Babel ships the metazones but not this mapping.
_GOLDEN = {
    "Africa_Central": "Africa/Maputo",
    "America_Central": "America/Chicago",
    "America_Eastern": "America/New_York",
    "America_Mountain": "America/Denver",
    "America_Pacific": "America/Los_Angeles",
    "Australia_Eastern": "Australia/Sydney",
    "Europe_Central": "Europe/Paris",
    "Europe_Eastern": "Europe/Bucharest",
    "Europe_Western": "Atlantic/Canary",
    "GMT": "Atlantic/Reykjavik",
    "India": "Asia/Kolkata",
}

_NOT_ZONES = {
    "localtime": "it stands for the computer's own setting, which differs between machines",
    "factory": "it is the tz database's placeholder for a zone that was never set",
    "posixrules": "it is a template the tz database uses to build POSIX rules",
}
_DATABASE_FILES = re.compile(
    r"^(leapseconds|leap-seconds\.list|tzdata\.zi|zone\.tab|zone1970\.tab|zonenow\.tab|"
    r"iso3166\.tab|version|\+version|security|src|posix|right|systemv)$", re.IGNORECASE)
_FIXED_OFFSET = re.compile(r"^(UTC|GMT|UT|Z)?\s*[-+\u2212]\s*\d{1,2}(:?\d{2})?$", re.IGNORECASE)
_VARIANT_TREES = ("posix/", "right/")
#: Legacy links whose area is also one of places (``Australia/``, ``Pacific/``): names of
#: states and regions, not cities, kept by the tz database's ``backward`` file. Links in an
#: area of no canonical zone (``US/``, ``Canada/``, ``Brazil/``, ``Chile/``, ``Mexico/``) and
#: the ``Etc/`` links are legacy too, found from the data. ``Pacific/Samoa`` is American
#: Samoa (UTC−11), not the country of Samoa (``Pacific/Apia``, UTC+13).
LEGACY_IN_AREAS = frozenset({
    "Australia/ACT", "Australia/LHI", "Australia/NSW", "Australia/North",
    "Australia/Queensland", "Australia/South", "Australia/Tasmania", "Australia/Victoria",
    "Australia/West", "Australia/Yancowinna", "Pacific/Samoa"})
#: Zones to suggest besides a legacy link's target, where the name misleads.
_ALSO_MEANT = {"Pacific/Samoa": ("Pacific/Apia",)}
_UTC_LINKS = {"Etc/UTC", "Etc/GMT", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Etc/Greenwich",
              "Etc/GMT0", "Etc/GMT+0", "Etc/GMT-0"}
_EXAMPLE = "use an IANA name such as Europe/Brussels"
#: Names longer than this get no spelling suggestions (no zone name is this long).
_MAX_SUGGEST = 64


class ZoneNameError(ValueError):
    """A zone name that is not a usable IANA name; the message suggests the closest ones."""

    def __init__(self, message: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)


@functools.lru_cache(maxsize=1)
def _tz_names() -> frozenset[str]:
    return frozenset(available_timezones())


@functools.lru_cache(maxsize=1)
def _accepted() -> frozenset[str]:
    """Every zone name :func:`check_zone_name` accepts."""
    names = {name for name in _tz_names()
             if "/" in name and not name.startswith(_VARIANT_TREES)
             and not _DATABASE_FILES.match(name.rsplit("/", 1)[-1])
             and name.lower() not in _legacy_links()}
    return frozenset(names | {"UTC"})


def is_accepted_zone(name: str) -> bool:
    """True when ``name`` is a zone name s3events accepts (see the module doc)."""
    return name in _accepted()


def check_zone_name(name: str) -> str:
    """Return ``name`` if it is a location-based IANA zone, else raise :class:`ZoneNameError`."""
    if isinstance(name, str) and name in _accepted():
        return name
    if not isinstance(name, str) or not name.strip():
        raise ZoneNameError(f"a time zone is required; {_EXAMPLE}")
    raise _refusal(name)


def _refusal(name: str) -> ZoneNameError:
    key = name.strip()
    base = key.lower()
    if base in _NOT_ZONES or _DATABASE_FILES.match(base):
        reason = _NOT_ZONES.get(base, "it is a file of the tz database")
        return ZoneNameError(f"{shown(name)} is not a time zone: {reason}; {_EXAMPLE}")
    if key.startswith(_VARIANT_TREES):
        rest = key.split("/", 1)[1]
        options = [rest] if rest in _accepted() else suggest_zones(rest)
        return _error(f"{shown(name)} is a copy of the tz database with other rules "
                      "(leap seconds or POSIX); use the zone's own name", options)
    if _FIXED_OFFSET.match(key):
        return ZoneNameError(f"{shown(name)} is a fixed offset from UTC, not a place: it does "
                             "not follow daylight saving; use the IANA name of the place, "
                             "such as America/Lima or Europe/Brussels")
    if "/" not in key and _abbreviation(key) in {*_cldr_abbreviations(), *EXTRA_ABBREVIATIONS}:
        return _error(f"{shown(name)} is an abbreviation that means different zones to "
                      "different readers; use a location-based IANA name", suggest_zones(key))
    if "/" not in key and (key in _tz_names() or key.lower() in _tz_links()):
        return _error(f"{shown(name)} is a legacy name (an alias or abbreviation) in the tz "
                      "database; use a location-based IANA name", suggest_zones(key))
    if key.lower() in _legacy_links():
        return _error(f"{shown(name)} is a legacy name the tz database keeps only for "
                      "compatibility; use the location-based IANA name", suggest_zones(key))
    return _error(f"unknown time zone {shown(name)}", suggest_zones(key))


def _error(message: str, options: list[str]) -> ZoneNameError:
    if not options and "IANA" in message:
        return ZoneNameError(message, options)
    hint = f"; did you mean {', '.join(options)}?" if options else f"; {_EXAMPLE}"
    return ZoneNameError(message + hint, options)


def _abbreviation(key: str) -> str:
    """The abbreviation in ``key``, upper case: ``PST`` for the POSIX-style ``PST8PDT``."""
    posix = re.fullmatch(r"([A-Za-z]{3,5})[-+]?\d{1,2}(?:[A-Za-z]{3,5})?", key)
    return (posix.group(1) if posix else key).upper()


def suggest_zones(name: str, limit: int = 4) -> list[str]:
    """Accepted IANA names for ``name``: what an abbreviation means, or the closest spelling."""
    key = name.strip().replace(" ", "_")
    if not key or len(key) > _MAX_SUGGEST:
        return []
    found = _meanings(key) if "/" not in key else _legacy_meanings(key)
    if not found:
        found = _by_spelling(key, limit)
    return [zone for zone in dict.fromkeys(found) if zone in _accepted()][:limit]


def _meanings(key: str) -> list[str]:
    """The zones an abbreviation or legacy name stands for, most likely first."""
    upper = _abbreviation(key)
    metazones = _cldr_abbreviations().get(upper, ())
    golden = [_metazone_zones(m)[0] for m in metazones if _metazone_zones(m)]
    link = _tz_links().get(key.lower())
    linked = ["UTC" if link in _UTC_LINKS else link] if link else []
    rest = [zone for m in metazones for zone in _metazone_zones(m)[1:]]
    if linked == ["UTC"]:  # GMT, UCT, Zulu: nothing reads them as anything but UTC
        return [*linked, *EXTRA_ABBREVIATIONS.get(upper, ()), *golden, *rest]
    return [*golden, *linked, *EXTRA_ABBREVIATIONS.get(upper, ()), *rest]


def _legacy_meanings(key: str) -> list[str]:
    """The zone a legacy link with a path stands for (``US/Pacific``), or nothing."""
    link = _legacy_links().get(key.lower())
    if link is None:
        return []
    name, target = link
    return ["UTC" if target in _UTC_LINKS else target, *_ALSO_MEANT.get(name, ())]


def legacy_target(name: str) -> str | None:
    """The zone a legacy link with a path (``US/Pacific``) links to, or None for others.

    For zone names stored before such links were refused: they still read as the zone
    they always meant.
    """
    link = _legacy_links().get(name.lower()) if isinstance(name, str) else None
    return link[1] if link is not None and link[0] == name else None


def _by_spelling(key: str, limit: int) -> list[str]:
    accepted = sorted(_accepted())
    by_lower = {n.lower(): n for n in accepted}
    if key.lower() in by_lower:
        return [by_lower[key.lower()]]
    canonical = {zone for zones in zone_tab().values() for zone in zones}
    cities: dict[str, str] = {}
    for zone in sorted(accepted, key=lambda n: n in canonical):  # canonical names win
        cities[zone.rsplit("/", 1)[-1].lower()] = zone
    found = [cities[c] for c in difflib.get_close_matches(key.lower(), cities, n=limit)]
    found += [by_lower[m] for m in difflib.get_close_matches(key.lower(), by_lower, n=limit)]
    return found


# -- data from the tz database and from CLDR --------------------------------------------


def _tzdata_text(name: str) -> str:
    try:
        return importlib.resources.files("tzdata").joinpath(f"zoneinfo/{name}").read_text(
            encoding="utf-8")
    except (ModuleNotFoundError, OSError):  # pragma: no cover - tzdata is a dependency
        return ""


@functools.lru_cache(maxsize=1)
def zone_tab() -> dict[str, tuple[str, ...]]:
    """Country code → zones, in the order of the tz database's ``zone.tab``."""
    table: dict[str, list[str]] = {}
    for line in _tzdata_text("zone.tab").splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            table.setdefault(fields[0], []).append(fields[2])
    return {code: tuple(zones) for code, zones in table.items()}


@functools.lru_cache(maxsize=1)
def _tz_links() -> dict[str, str]:
    """Lower-case plain link name → its target (``nz`` → ``Pacific/Auckland``), from tzdata.zi."""
    links: dict[str, str] = {}
    for line in _tzdata_text("tzdata.zi").splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "L" and "/" not in parts[2]:
            links[parts[2].lower()] = parts[1]
    return links


@functools.lru_cache(maxsize=1)
def _legacy_links() -> dict[str, tuple[str, str]]:
    """Lower-case legacy link name with a path → (its name, its target), from tzdata.zi.

    Legacy: a link in an area where the tz database has no zone of its own nor a zone of
    ``zone.tab`` (``US/``, ``Canada/``), an ``Etc/`` link (``Etc/Zulu``), or one of
    :data:`LEGACY_IN_AREAS`.
    """
    lines = [line.split() for line in _tzdata_text("tzdata.zi").splitlines()]
    places = [parts[1] for parts in lines if len(parts) > 1 and parts[0] == "Z"]
    places += [zone for zones in zone_tab().values() for zone in zones]  # Arctic/Longyearbyen
    areas = {place.split("/", 1)[0] for place in places if "/" in place}
    legacy: dict[str, tuple[str, str]] = {}
    for parts in lines:
        if len(parts) == 3 and parts[0] == "L" and "/" in parts[2]:
            area = parts[2].split("/", 1)[0]
            if area not in areas or area == "Etc" or parts[2] in LEGACY_IN_AREAS:
                legacy[parts[2].lower()] = (parts[2], parts[1])
    return legacy


@functools.lru_cache(maxsize=1)
def _cldr_abbreviations() -> dict[str, tuple[str, ...]]:
    """Upper-case abbreviation → metazones, from the short names of CLDR's English locales.

    A metazone named by more locales comes first, then one with more zones (``IST`` is
    India's before Ireland's).
    """
    from babel import Locale
    from babel.localedata import locale_identifiers

    votes: dict[str, dict[str, int]] = {}
    for ident in sorted(locale_identifiers()):
        if ident != "en" and not ident.startswith("en_"):
            continue
        for metazone, names in Locale.parse(ident).meta_zones.items():
            for abbreviation in dict(names.get("short") or {}).values():
                if re.fullmatch(r"[A-Za-z]{2,6}", str(abbreviation)):
                    counts = votes.setdefault(str(abbreviation).upper(), {})
                    counts[metazone] = counts.get(metazone, 0) + 1
    return {
        abbreviation: tuple(sorted(counts, key=lambda m: (-counts[m], -len(_metazone_zones(m)),
                                                          m)))
        for abbreviation, counts in votes.items()
    }


@functools.lru_cache(maxsize=256)
def _metazone_zones(metazone: str) -> tuple[str, ...]:
    """The accepted zones of a CLDR metazone, its golden zone first.

    After the golden zone: zones Windows names (CLDR's windowsZones), then zones that are
    the first of their country in ``zone.tab``, then the others, each alphabetically.
    """
    from babel.core import get_global

    zones = [z for z, m in get_global("meta_zones").items() if m == metazone and z in _accepted()]
    windows = set(get_global("windows_zone_mapping").values())
    main = {zones_of[0] for zones_of in zone_tab().values()}
    ranked = sorted(zones, key=lambda z: (z != _GOLDEN.get(metazone), z not in windows,
                                          z not in main, z))
    return tuple(ranked)
