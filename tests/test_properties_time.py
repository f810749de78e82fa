"""Property tests (Hypothesis) for time: conversions against zoneinfo, DST gaps and folds,
and dates and times written by Babel in every built-in language.

The wall times are drawn next to real offset changes of real zones (found in the tz database
for the drawn year), so gaps and folds come up in nearly every example, not once in ten
thousand.
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, available_timezones

import pytest
from babel import Locale
from hypothesis import given, settings
from hypothesis import strategies as st

from s3events.agenda import _local_time, babel_locale
from s3events.catalogs import BUILTIN_LANGUAGES
from s3events.render import _when
from s3events.timezones import (
    ZoneNameError,
    check_zone_name,
    classify_local_time,
    localize_wall_time,
    to_utc,
    to_zone,
)

PROPERTY = settings(max_examples=150, deadline=None)
#: The languages whose dates are checked: every built-in language. The list grows with
#: :data:`s3events.catalogs.BUILTIN_LANGUAGES`; these must always be there.
LANGUAGES = BUILTIN_LANGUAGES
ALWAYS = ("en", "es", "pt", "fr", "de", "it")


def _usable(name: str) -> bool:
    try:
        check_zone_name(name)
    except ZoneNameError:
        return False
    return True


#: Every zone a series or a participant may name.
ZONES = tuple(sorted(name for name in available_timezones() if _usable(name)))
#: Zones with odd rules: southern summers, half-hour and 45-minute offsets, 30-minute DST,
#: DST ended or moved for Ramadan, negative DST, a skipped day, changes at midnight.
ODD_ZONES = ("Europe/Brussels", "America/Santiago", "America/Sao_Paulo", "America/Mexico_City",
             "Australia/Lord_Howe", "America/St_Johns", "Asia/Tehran", "Pacific/Chatham",
             "America/Havana", "Africa/Casablanca", "Europe/Dublin", "Pacific/Apia",
             "Antarctica/Troll", "Asia/Kolkata", "America/Asuncion", "Asia/Gaza")
zones = st.one_of(st.sampled_from(ODD_ZONES), st.sampled_from(ZONES))
years = st.integers(min_value=1971, max_value=2099)


@functools.lru_cache(maxsize=4096)
def offset_changes(name: str, year: int) -> tuple[datetime, ...]:
    """The UTC instants in ``year`` at which ``name``'s offset changes (to the second)."""
    zone = ZoneInfo(name)
    moment = datetime(year, 1, 1, tzinfo=timezone.utc)
    changes = []
    while moment.year == year:
        later = moment + timedelta(days=1)
        if moment.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            low, high = moment, later
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                same = middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset()
                low, high = (middle, high) if same else (low, middle)
            changes.append(high.replace(microsecond=0))
        moment = later
    return tuple(changes)


@st.composite
def walls(draw: st.DrawFn) -> tuple[datetime, str]:
    """A naive wall time and a zone; mostly within 90 minutes of an offset change."""
    name, year = draw(zones), draw(years)
    changes = offset_changes(name, year)
    if not changes or draw(st.integers(0, 9)) == 0:
        start = datetime(year, 1, 1)
        return start + timedelta(minutes=draw(st.integers(0, 365 * 24 * 60))), name
    change = draw(st.sampled_from(changes))
    before = (change - timedelta(seconds=1)).astimezone(ZoneInfo(name)).utcoffset()
    assert before is not None
    wall = (change + before).replace(tzinfo=None)
    return wall + timedelta(minutes=draw(st.integers(-90, 90))), name


def utc_of(moment: datetime) -> datetime:
    """The naive UTC time of an aware one, by its own offset (fold included)."""
    offset = moment.utcoffset()
    assert offset is not None
    return moment.replace(tzinfo=None) - offset


def wall_instants(wall: datetime, zone: ZoneInfo) -> set[datetime]:
    """The instants whose wall time in ``zone`` is ``wall``: none, one or two."""
    found = set()
    for fold in (0, 1):
        instant = wall.replace(tzinfo=zone, fold=fold).astimezone(timezone.utc)
        if instant.astimezone(zone).replace(tzinfo=None) == wall:
            found.add(instant)
    return found


instants = st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2100, 12, 31),
                        timezones=st.one_of(st.just(timezone.utc),
                                            st.sampled_from(ODD_ZONES).map(ZoneInfo)))


# -- conversions --------------------------------------------------------------------------------


@PROPERTY
@given(moment=instants, name=zones)
def test_to_zone_gives_zoneinfos_wall_time_for_the_same_instant(moment: datetime,
                                                                name: str) -> None:
    zone = ZoneInfo(name)
    expected = zone.fromutc(utc_of(moment).replace(tzinfo=zone))  # zoneinfo's own UTC → local step
    local = to_zone(moment, name)
    # Compared in UTC: PEP 495 makes == between zones False for a time in a fold.
    assert utc_of(local) == utc_of(moment)  # the same instant
    assert local.tzinfo is not None and str(local.tzinfo) == name
    assert (local.replace(tzinfo=None), local.fold) == (expected.replace(tzinfo=None),
                                                        expected.fold)
    assert local.utcoffset() == expected.utcoffset()
    assert to_utc(local).utcoffset() == timedelta(0)
    assert to_utc(local).replace(tzinfo=None) == utc_of(moment)


@PROPERTY
@given(moment=instants.map(lambda m: m.replace(tzinfo=None)))
def test_a_naive_time_has_no_instant(moment: datetime) -> None:
    with pytest.raises(ValueError, match="naive"):
        to_utc(moment)


@PROPERTY
@given(case=walls())
def test_a_wall_time_is_classified_by_how_many_instants_show_it(
        case: tuple[datetime, str]) -> None:
    wall, name = case
    zone = ZoneInfo(name)
    expected = {0: "gap", 1: "ok", 2: "ambiguous"}[len(wall_instants(wall, zone))]
    assert classify_local_time(wall, zone) == expected


@PROPERTY
@given(case=walls())
def test_localize_accepts_exactly_the_wall_times_that_exist_once(
        case: tuple[datetime, str]) -> None:
    wall, name = case
    zone = ZoneInfo(name)
    found = wall_instants(wall, zone)
    if len(found) != 1:
        with pytest.raises(ValueError, match="clocks"):
            localize_wall_time(wall, zone)
        return
    local = localize_wall_time(wall, zone)
    assert utc_of(local) == found.pop().replace(tzinfo=None)
    assert to_zone(local, name).replace(tzinfo=None) == wall


# -- dates and times in words, in every built-in language ----------------------------------------


def test_the_built_in_languages_are_all_checked() -> None:
    assert set(ALWAYS) <= set(LANGUAGES)


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


session_starts = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31),
                              timezones=st.just(timezone.utc)).map(lambda m: m.replace(second=0,
                                                                                  microsecond=0))
durations = st.integers(min_value=15, max_value=8 * 60).map(lambda m: timedelta(minutes=m))


@pytest.mark.parametrize("lang", LANGUAGES)
@PROPERTY
@given(start=session_starts, duration=durations, name=zones)
def test_a_message_names_the_local_day_and_time(lang: str, start: datetime,
                                                duration: timedelta, name: str) -> None:
    zone = ZoneInfo(name)
    local, local_end = start.astimezone(zone), (start + duration).astimezone(zone)
    locale = Locale.parse(lang)
    when = _when(start, start + duration, zone, lang)
    date = when["date"].lower()
    assert str(locale.days["format"]["wide"][local.weekday()]).lower() in date, when
    assert str(locale.months["format"]["wide"][local.month]).lower() in date, when
    assert local.day in _numbers(date) and local.year in _numbers(date), when
    for text, moment in ((when["start"], local), (when["end"], local_end)):
        hour, minute = _numbers(text)
        assert minute == moment.minute, when
        assert hour in (moment.hour, moment.hour % 12 or 12), when
    assert when["zone_id"] == name


@pytest.mark.parametrize("lang", LANGUAGES)
@PROPERTY
@given(start=session_starts, duration=durations, name=zones)
def test_an_agenda_gives_the_local_date_and_24_hour_times(lang: str, start: datetime,
                                                          duration: timedelta,
                                                          name: str) -> None:
    zone = ZoneInfo(name)
    local, local_end = start.astimezone(zone), (start + duration).astimezone(zone)
    row = _local_time(start, start + duration, zone, babel_locale(lang), local.date())
    assert local.day in _numbers(row.date) and local.year in _numbers(row.date), row
    assert _numbers(row.times) == [local.hour, local.minute, local_end.hour,
                                   local_end.minute], row
    assert row.same_day and row.zone == name
