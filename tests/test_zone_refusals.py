"""Zone names that are not places are refused everywhere, and suggestions are real zones.

``localtime``, ``Factory``, ``posixrules`` and the tz database's files are refused in a
series file, in ``--tz`` and in a participant's zone; abbreviations suggest zones through
CLDR's metazones (Babel), and a refused name is never suggested — checked by example and by
Hypothesis over arbitrary text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3events.fields import clean_fields
from s3events.loading import load_series
from s3events.timezones import ZoneNameError, check_zone_name, suggest_zones
from s3events.zonecheck import is_accepted_zone
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import run

NOT_ZONES = ["localtime", "Factory", "posixrules", "leapseconds", "tzdata.zi", "zone.tab",
             "zone1970.tab", "iso3166.tab", "LOCALTIME", "factory"]


def refusal(name: str) -> ZoneNameError:
    with pytest.raises(ZoneNameError) as caught:
        check_zone_name(name)
    return caught.value


@pytest.mark.parametrize("name", NOT_ZONES)
def test_names_that_are_not_zones_are_refused_without_suggesting_themselves(name: str) -> None:
    error = refusal(name)
    assert "is not a time zone" in str(error)
    assert name not in error.suggestions
    assert f"did you mean {name}" not in str(error)
    assert "Europe/Brussels" in str(error)  # says what a zone name looks like


@pytest.mark.parametrize(("name", "first"), [
    ("AEST", "Australia/Sydney"), ("AEDT", "Australia/Sydney"), ("aest", "Australia/Sydney"),
    ("NZ", "Pacific/Auckland"), ("NZST", "Pacific/Auckland"), ("NZDT", "Pacific/Auckland"),
    ("PRC", "Asia/Shanghai"), ("CET", "Europe/Paris"), ("CEST", "Europe/Paris"),
    ("EST", "America/New_York"), ("EDT", "America/New_York"), ("EST5EDT", "America/New_York"),
    ("PST8PDT", "America/Los_Angeles"), ("CST", "America/Chicago"), ("IST", "Asia/Kolkata"),
    ("GMT", "UTC"), ("Zulu", "UTC"), ("Japan", "Asia/Tokyo"), ("W-SU", "Europe/Moscow"),
    ("PET", "America/Lima"), ("CLT", "America/Santiago"),
])
def test_abbreviations_suggest_the_zone_cldr_or_the_tz_database_means(name: str,
                                                                      first: str) -> None:
    error = refusal(name)
    assert error.suggestions[0] == first
    assert f"did you mean {first}" in str(error)
    assert all(is_accepted_zone(zone) for zone in error.suggestions)


def test_cst_offers_each_of_its_meanings() -> None:
    assert {"America/Chicago", "Asia/Shanghai", "America/Havana"} <= set(suggest_zones("CST"))


@pytest.mark.parametrize(("name", "suggested"), [
    ("posix/Europe/Paris", "Europe/Paris"), ("right/America/Lima", "America/Lima"),
])
def test_the_posix_and_right_copies_point_to_the_zone_itself(name: str, suggested: str) -> None:
    assert refusal(name).suggestions == [suggested]


@pytest.mark.parametrize("name", ["GMT+5", "UTC-03:00", "+01:00", "utc+1"])
def test_fixed_offsets_are_refused_as_not_a_place(name: str) -> None:
    assert "fixed offset" in str(refusal(name))


def test_a_hostile_or_huge_name_is_shown_short_and_escaped() -> None:
    error = refusal("\x1b]8;;https://evil.example\x07click\x1b]8;;\x07" + "x" * 10_000)
    message = str(error)
    assert "\x1b" not in message and "\x07" not in message
    assert "\\x1b" in message
    assert len(message) < 300


@pytest.mark.parametrize("name", ["localtime", "Factory", "NZ", "posixrules"])
def test_a_series_zone_that_is_no_place_is_refused_with_file_and_line(
        write_series: Callable[..., Path], name: str) -> None:
    path = write_series(minimal_series_data(timezone=name))
    result = run("validate", str(path))
    assert result.code == 2
    assert f"{path}:12: timezone:" in result.stderr
    assert f"did you mean {name}?" not in result.stderr
    assert "Traceback" not in result.stderr


def test_tz_nz_suggests_auckland_not_itself(reference_series_path: Path) -> None:
    result = run("times", str(reference_series_path), "--tz", "NZ")
    assert result.code == 2
    assert "did you mean Pacific/Auckland?" in result.stderr
    assert "did you mean NZ" not in result.stderr


@pytest.mark.parametrize("name", ["localtime", "Factory", "posixrules", "zone.tab"])
def test_tz_refuses_names_that_are_not_zones(reference_series_path: Path, name: str) -> None:
    result = run("times", str(reference_series_path), "--tz", name)
    assert result.code == 2
    assert "is not a time zone" in result.stderr


@pytest.mark.parametrize("name", ["localtime", "Factory", "LocalTime", "NZ", "posixrules"])
def test_a_participants_zone_that_is_no_place_is_a_problem_not_a_zone(
        write_series: Callable[..., Path], name: str) -> None:
    series = load_series(write_series())
    fields, problems = clean_fields(series, {
        "name": "Aroha", "email": "aroha@example.org", "timezone": name, "country": "NZ",
        "consent": "yes"})
    assert "timezone" in dict(problems), fields.get("timezone")
    assert not is_accepted_zone(name)


# -- Hypothesis: whatever the text, a clean answer ------------------------------------------

ZONE_LIKE = st.one_of(
    st.text(max_size=40),
    st.sampled_from([*NOT_ZONES, "NZ", "PRC", "CET", "UTC", "GMT", "Europe/Brussels"]),
    st.builds(lambda a, b: f"{a}/{b}", st.sampled_from(["Europe", "America", "posix", "right",
                                                        "Etc", "US", ""]),
              st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_+-0123456789",
                      max_size=20)),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-", min_size=1, max_size=8),
)


@settings(max_examples=400, deadline=timedelta(seconds=2))
@given(ZONE_LIKE)
def test_any_zone_name_is_accepted_or_refused_with_only_real_zones_suggested(name: str) -> None:
    try:
        assert check_zone_name(name) == name
        assert is_accepted_zone(name)
        return
    except ZoneNameError as error:
        suggestions = error.suggestions
        message = str(error)
    assert all(is_accepted_zone(zone) for zone in suggestions)
    assert name not in suggestions
    assert "\x1b" not in message and "\r" not in message and "\n" not in message


@settings(max_examples=200, deadline=timedelta(seconds=2))
@given(st.text(max_size=80))
def test_suggestions_for_any_text_are_accepted_zones(name: str) -> None:
    assert all(is_accepted_zone(zone) for zone in suggest_zones(name))
