"""Time zones from the tz database: names, conversions, DST gaps and overlaps, timetables.

Times are aware :class:`datetime.datetime` objects everywhere; UTC inside, a zone only at the
edges (input and display). Offsets always come from :mod:`zoneinfo` for the instant in
question, so daylight-saving changes that fall on different dates in Europe and Latin
America, and zones that stopped observing DST, come out right without special cases.
"""

from __future__ import annotations

import difflib
import functools
import importlib.resources
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

if TYPE_CHECKING:
    from .models import Series

__all__ = [
    "AMBIGUOUS_ABBREVIATIONS",
    "LocalTimeKind",
    "TimetableRow",
    "ZoneNameError",
    "check_zone_name",
    "classify_local_time",
    "country_zones",
    "get_zone",
    "localize_wall_time",
    "main_zone",
    "suggest_zones",
    "timetable",
    "to_utc",
    "to_zone",
]

#: Zone names in the tz database that read like abbreviations. They mean different things to
#: different readers (CST is Central US, China and Cuba), so series files must use a
#: location-based name; these are the usual intended zones, offered as suggestions.
AMBIGUOUS_ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "CET": ("Europe/Brussels", "Europe/Paris", "Europe/Berlin", "Europe/Madrid"),
    "CEST": ("Europe/Brussels", "Europe/Paris", "Europe/Berlin", "Europe/Madrid"),
    "MET": ("Europe/Brussels", "Europe/Paris", "Europe/Berlin"),
    "WET": ("Europe/Lisbon", "Atlantic/Canary"),
    "EET": ("Europe/Athens", "Europe/Helsinki", "Europe/Bucharest"),
    "EST": ("America/New_York", "America/Toronto", "America/Bogota", "America/Cancun"),
    "EDT": ("America/New_York", "America/Toronto"),
    "EST5EDT": ("America/New_York", "America/Toronto"),
    "CST": ("America/Chicago", "America/Mexico_City", "Asia/Shanghai", "America/Havana"),
    "CDT": ("America/Chicago", "America/Havana"),
    "CST6CDT": ("America/Chicago", "America/Winnipeg"),
    "MST": ("America/Denver", "America/Phoenix", "America/Hermosillo"),
    "MST7MDT": ("America/Denver", "America/Edmonton"),
    "PST": ("America/Los_Angeles", "America/Vancouver", "America/Tijuana"),
    "PST8PDT": ("America/Los_Angeles", "America/Vancouver"),
    "HST": ("Pacific/Honolulu",),
    "BST": ("Europe/London",),
    "IST": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "GMT": ("UTC", "Europe/London"),
    "ART": ("America/Argentina/Buenos_Aires",),
    "BRT": ("America/Sao_Paulo",),
    "CLT": ("America/Santiago",),
    "PET": ("America/Lima",),
    "COT": ("America/Bogota",),
}

_ALLOWED_PLAIN = {"UTC", "Etc/UTC"}


class ZoneNameError(ValueError):
    """A zone name that is not a usable IANA name; the message suggests the closest ones."""

    def __init__(self, message: str, suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.suggestions = list(suggestions)


@functools.lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


@functools.lru_cache(maxsize=512)
def get_zone(name: str) -> ZoneInfo:
    """The :class:`~zoneinfo.ZoneInfo` for an IANA name, after :func:`check_zone_name`."""
    check_zone_name(name)
    return ZoneInfo(name)


def suggest_zones(name: str, limit: int = 4) -> list[str]:
    """The IANA names closest to ``name`` (spelling, case, spaces, city part)."""
    key = name.strip().replace(" ", "_")
    upper = key.upper()
    if upper in AMBIGUOUS_ABBREVIATIONS:
        return list(AMBIGUOUS_ABBREVIATIONS[upper])[:limit]
    names = _zone_names()
    by_lower = {n.lower(): n for n in names}
    if key.lower() in by_lower:
        return [by_lower[key.lower()]]
    canonical = {zone for zones in _zone_table().values() for zone in zones}
    cities: dict[str, str] = {}
    for zone in sorted(names, key=lambda n: n in canonical):  # canonical names win
        if "/" in zone:
            cities[zone.rsplit("/", 1)[-1].lower()] = zone
    found = [cities[c] for c in difflib.get_close_matches(key.lower(), cities, n=limit)]
    for match in difflib.get_close_matches(key.lower(), by_lower, n=limit):
        if by_lower[match] not in found:
            found.append(by_lower[match])
    return found[:limit]


def check_zone_name(name: str) -> str:
    """Return ``name`` if it is a location-based IANA zone, else raise :class:`ZoneNameError`."""
    if not isinstance(name, str) or not name.strip():
        raise ZoneNameError("a time zone is required, as an IANA name such as Europe/Brussels")
    upper = name.strip().upper()
    if upper in AMBIGUOUS_ABBREVIATIONS or (
        name not in _ALLOWED_PLAIN and "/" not in name and name in _zone_names()
    ):
        options = suggest_zones(name)
        hint = f"; did you mean {', '.join(options)}?" if options else ""
        raise ZoneNameError(
            f"'{name}' is an abbreviation that means different zones to different readers; "
            f"use a location-based IANA name{hint}",
            options,
        )
    if name in _ALLOWED_PLAIN or name in _zone_names():
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:  # pragma: no cover - broken tzdata
            raise ZoneNameError(f"time zone '{name}' cannot be loaded: {exc}") from exc
        return name
    options = suggest_zones(name)
    hint = f"; did you mean {', '.join(options)}?" if options else ""
    raise ZoneNameError(f"unknown time zone '{name}'{hint}", options)


LocalTimeKind = Literal["ok", "gap", "ambiguous"]


def classify_local_time(wall: datetime, zone: ZoneInfo) -> LocalTimeKind:
    """Whether a naive wall time exists once (``ok``), never (``gap``) or twice (``ambiguous``).

    A wall time in a spring-forward gap does not survive a round trip through UTC; one in a
    fall-back overlap has different offsets for ``fold=0`` and ``fold=1``.
    """
    naive = wall.replace(tzinfo=None)
    first = naive.replace(tzinfo=zone, fold=0)
    second = naive.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        back0 = first.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
        back1 = second.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None)
        if back0 != naive and back1 != naive:
            return "gap"
        return "ambiguous"
    return "ok"


def localize_wall_time(wall: datetime, zone: ZoneInfo) -> datetime:
    """Attach ``zone`` to a naive wall time; raise ``ValueError`` in a gap or overlap."""
    kind = classify_local_time(wall, zone)
    if kind == "gap":
        raise ValueError(
            f"{wall:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks jump forward "
            "over it. Choose another time, or give the time with an explicit UTC offset."
        )
    if kind == "ambiguous":
        raise ValueError(
            f"{wall:%Y-%m-%d %H:%M} happens twice in {zone.key}: the clocks go back over "
            "it. Choose another time, or give the time with an explicit UTC offset."
        )
    return wall.replace(tzinfo=zone)


#: Countries whose first zone in the tz database's zone.tab is not where most people live.
_MAIN_ZONE_OVERRIDES = {
    "AU": "Australia/Sydney",
    "BR": "America/Sao_Paulo",
    "CA": "America/Toronto",
    "RU": "Europe/Moscow",
}


@functools.lru_cache(maxsize=1)
def _zone_table() -> dict[str, tuple[str, ...]]:
    """Country code → zones, in the order of the tz database's ``zone.tab`` (tzdata)."""
    text = importlib.resources.files("tzdata").joinpath("zoneinfo/zone.tab").read_text(
        encoding="utf-8"
    )
    table: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            fields = line.split("\t")
            table.setdefault(fields[0], []).append(fields[2])
    return {code: tuple(zones) for code, zones in table.items()}


def country_zones(country: str) -> list[str]:
    """The IANA zones of an ISO 3166 alpha-2 country code (empty for an unknown code)."""
    return list(_zone_table().get(country.upper(), ()))


def main_zone(country: str) -> str | None:
    """The zone most of a country's people live in (``MX`` → ``America/Mexico_City``).

    The first zone ``zone.tab`` lists for the country, except for a few large countries
    where that is a small region (``BR`` lists ``America/Noronha`` first).
    """
    code = country.upper()
    zones = _zone_table().get(code, ())
    if not zones:
        return None
    return _MAIN_ZONE_OVERRIDES.get(code, zones[0])


def to_utc(moment: datetime) -> datetime:
    """An aware datetime in UTC; naive input is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime has no instant; attach a zone first")
    return moment.astimezone(timezone.utc)


def to_zone(moment: datetime, zone: str | ZoneInfo) -> datetime:
    """The same instant as wall time in ``zone`` (an IANA name or ZoneInfo)."""
    tz = get_zone(zone) if isinstance(zone, str) else zone
    return to_utc(moment).astimezone(tz)


@dataclass(frozen=True)
class TimetableRow:
    """One session's start and end in UTC and in each requested zone."""

    session: str
    title: str
    start_utc: datetime
    end_utc: datetime
    local: dict[str, tuple[datetime, datetime]]

    def to_json(self) -> dict[str, object]:
        """The ``s3events times --json`` shape of this row."""
        return {
            "session": self.session,
            "title": self.title,
            "start_utc": _iso_z(self.start_utc),
            "end_utc": _iso_z(self.end_utc),
            "local": {
                zone: {"start": start.isoformat(), "end": end.isoformat()}
                for zone, (start, end) in self.local.items()
            },
        }


def _iso_z(moment: datetime) -> str:
    return to_utc(moment).replace(tzinfo=None).isoformat() + "Z"


def timetable(
    series: Series, zones: Iterable[str], *, lang: str | None = None
) -> list[TimetableRow]:
    """Each session of ``series`` in UTC and in every zone of ``zones``, in session order."""
    names = [check_zone_name(z) for z in zones]
    lang = lang or series.default_language
    rows = []
    for session in series.sessions:
        local = {
            name: (to_zone(session.start, name), to_zone(session.ends_at, name))
            for name in names
        }
        rows.append(
            TimetableRow(
                session=session.id,
                title=series.text(session.title, lang),
                start_utc=to_utc(session.start),
                end_utc=to_utc(session.ends_at),
                local=local,
            )
        )
    return rows
