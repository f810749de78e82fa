"""Reading the join and leave times of participant reports.

Platforms write times in the organiser's locale and zone, without an offset: Zoom
``10/28/2021 05:02:14 PM``, Teams ``28/10/21, 17:02:14`` or ``10/28/21, 5:02:14 PM``,
Webex ``="10/28/2021 17:02"``. Whether ``10/11`` is 10 November or 11 October depends on
who downloaded the file, so :func:`pick_order` decides once per file: a first number above
12 means day first, a second one month first, and otherwise the order that puts the most
times on the session's own dates wins. Times without an offset are read in the zone given
(``--timezone``, by default the series' zone); times with an offset (``Z``, ``+02:00``)
are taken as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

__all__ = ["DateOrder", "TimeFormatError", "parse_duration", "parse_time", "pick_order"]

DateOrder = Literal["ymd", "mdy", "dmy"]

_NUMERIC = re.compile(
    r"^(?P<a>\d{1,4})[/.\-](?P<b>\d{1,2})[/.\-](?P<c>\d{2,4})[,T ]\s*"
    r"(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d+)?)?\s*"
    r"(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$")
_DURATION = re.compile(r"(\d+)\s*(h|hr|hrs|hours?|m|min|mins|minutes?|s|sec|secs|seconds?)\b")


class TimeFormatError(ValueError):
    """A time that cannot be read."""


def _clean(text: str) -> str:
    text = text.strip()
    if text.startswith('="') and text.endswith('"'):  # Excel's "keep as text" wrapping
        text = text[2:-1]
    return text.strip().replace("\u202f", " ").replace("\xa0", " ")


def _parts(text: str) -> re.Match[str] | None:
    return _NUMERIC.match(_clean(text))


def _year(value: int) -> int:
    return value + 2000 if value < 100 else value


def _date(found: re.Match[str], order: DateOrder) -> date:
    a, b, c = int(found["a"]), int(found["b"]), int(found["c"])
    if len(found["a"]) == 4:
        return date(a, b, c)
    if order == "dmy":
        return date(_year(c), b, a)
    return date(_year(c), a, b)


def pick_order(values: Iterable[str], near: date) -> DateOrder:
    """The date order of a file's times (see the module doc)."""
    parsed = [p for p in (_parts(v) for v in values) if p is not None and len(p["a"]) <= 2]
    if not parsed:
        return "ymd"
    if any(int(p["a"]) > 12 for p in parsed):
        return "dmy"
    if any(int(p["b"]) > 12 for p in parsed):
        return "mdy"

    def closeness(order: DateOrder) -> int:
        hits = 0
        for p in parsed:
            try:
                hits += abs((_date(p, order) - near).days) <= 1
            except ValueError:
                continue
        return hits

    return "dmy" if closeness("dmy") > closeness("mdy") else "mdy"


def parse_time(text: str, *, zone: ZoneInfo | None, order: DateOrder = "mdy") -> datetime:
    """An aware datetime from a report's cell; ``zone`` reads times without an offset.

    Without ``zone`` an offset is required (the plain CSV format). Raises
    :class:`TimeFormatError` with a sentence for people.
    """
    cleaned = _clean(text)
    if not cleaned:
        raise TimeFormatError("the time is empty")
    found = _parts(cleaned)
    if found is None:
        return _iso(cleaned, zone)
    try:
        day = _date(found, order)
        hour = int(found["h"])
        if found["ampm"]:
            pm = found["ampm"].lower().startswith("p")
            if not 1 <= hour <= 12:
                raise ValueError
            hour = hour % 12 + (12 if pm else 0)
        moment = datetime(day.year, day.month, day.day, hour, int(found["m"]),
                          int(found["s"] or 0))
    except ValueError:
        raise TimeFormatError(f"'{cleaned}' is not a valid date and time") from None
    if found["tz"]:
        return _iso(moment.isoformat() + found["tz"].replace("Z", "+00:00"), zone)
    if zone is None:
        raise TimeFormatError(f"'{cleaned}' has no UTC offset; write it as "
                              "2021-10-28T17:02:00+02:00 or 2021-10-28T15:02:00Z")
    return moment.replace(tzinfo=zone)


def _iso(text: str, zone: ZoneInfo | None) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TimeFormatError(f"'{text}' is not a time such as 2021-10-28T17:02:00+02:00"
                              ) from None
    if moment.tzinfo is None:
        if zone is None:
            raise TimeFormatError(f"'{text}' has no UTC offset; write it as "
                                  "2021-10-28T17:02:00+02:00 or 2021-10-28T15:02:00Z")
        moment = moment.replace(tzinfo=zone)
    return moment


def parse_duration(text: str) -> int | None:
    """Seconds from ``1h 2m 3s``, ``01:02:03``, ``62:03`` or ``62`` (minutes); else ``None``."""
    cleaned = _clean(text).lower()
    if not cleaned or cleaned == "-":
        return None
    if re.fullmatch(r"\d+(:\d{1,2}){1,2}", cleaned):
        parts = [int(p) for p in cleaned.split(":")]
        while len(parts) < 3:
            parts.insert(0, 0)
        return parts[0] * 3600 + parts[1] * 60 + parts[2]
    if re.fullmatch(r"\d+(\.\d+)?", cleaned):
        return int(float(cleaned) * 60)
    units = _DURATION.findall(cleaned)
    if not units:
        return None
    seconds = timedelta()
    for value, unit in units:
        key = unit[0]
        seconds += timedelta(hours=int(value)) if key == "h" else (
            timedelta(minutes=int(value)) if key == "m" else timedelta(seconds=int(value)))
    return int(seconds.total_seconds())
