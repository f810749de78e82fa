"""Time zones from the tz database: names, conversions, DST gaps and overlaps, timetables.

Times are aware :class:`datetime.datetime` objects everywhere; UTC inside, a zone only at the
edges (input and display). Offsets always come from :mod:`zoneinfo` for the instant in
question, so daylight-saving changes that fall on different dates in Europe and Latin
America, and zones that stopped observing DST, come out right without special cases.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from .zonecheck import ZoneNameError, check_zone_name, legacy_target, suggest_zones
from .zonecheck import zone_tab as _zone_table

if TYPE_CHECKING:
    from .models import Series

__all__ = [
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


@functools.lru_cache(maxsize=512)
def get_zone(name: str) -> ZoneInfo:
    """The :class:`~zoneinfo.ZoneInfo` for an IANA name, after :func:`check_zone_name`.

    A legacy link with a path (``US/Pacific``), refused for new input but stored with a
    registration before, reads as the zone it links to (``America/Los_Angeles``), so that
    person keeps their own clock.
    """
    try:
        check_zone_name(name)
    except ZoneNameError:
        target = legacy_target(name)
        if target is None:
            raise
        return ZoneInfo(target)
    return ZoneInfo(name)


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
