"""Legacy links of the tz database are refused alike, with the zone they link to suggested.

``NZ`` was refused while ``US/Pacific``, also a link of the tz database's ``backward`` file,
was accepted. Every legacy link — a bare name (``NZ``), a name in an area of no zone
(``US/``, ``Canada/``, ``Brazil/``, ``Chile/``, ``Mexico/``), a state or region name
(``Australia/NSW``, ``Pacific/Samoa``) and the ``Etc/`` aliases of UTC — is now refused the
same way, while ``UTC``, ``Etc/UTC``, ``Etc/GMT`` and a city's former name that browsers
still report (``Asia/Calcutta``) stay accepted. A name stored before still reads as its zone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from zoneinfo import available_timezones

import pytest
import yaml

from s3events.fields import clean_fields
from s3events.loading import load_series
from s3events.registrations import list_registrations
from s3events.store import open_store
from s3events.timezones import ZoneNameError, check_zone_name, get_zone
from s3events.zonecheck import is_accepted_zone, legacy_target
from tests.fixtures.series import minimal_series_data
from tests.test_cli_core import run
from tests.test_dispatch_support import add_person
from tests.test_series_hostile import refused

Writer = Callable[..., Path]


def refusal(name: str) -> ZoneNameError:
    with pytest.raises(ZoneNameError) as caught:
        check_zone_name(name)
    return caught.value


@pytest.mark.parametrize(("name", "meant"), [
    ("NZ", ["Pacific/Auckland"]),
    ("US/Pacific", ["America/Los_Angeles"]),
    ("us/pacific", ["America/Los_Angeles"]),
    ("US/Eastern", ["America/New_York"]),
    ("US/East-Indiana", ["America/Indiana/Indianapolis"]),
    ("Canada/Eastern", ["America/Toronto"]),
    ("Canada/Newfoundland", ["America/St_Johns"]),
    ("Brazil/East", ["America/Sao_Paulo"]),
    ("Chile/Continental", ["America/Santiago"]),
    ("Chile/EasterIsland", ["Pacific/Easter"]),
    ("Mexico/General", ["America/Mexico_City"]),
    ("Australia/NSW", ["Australia/Sydney"]),
    ("Australia/LHI", ["Australia/Lord_Howe"]),
    ("Pacific/Samoa", ["Pacific/Pago_Pago", "Pacific/Apia"]),
    ("Etc/Zulu", ["UTC"]),
    ("Etc/Universal", ["UTC"]),
    ("Etc/Greenwich", ["UTC"]),
])
def test_legacy_links_are_refused_with_the_zone_they_link_to(name: str,
                                                             meant: list[str]) -> None:
    error = refusal(name)
    assert "legacy name" in str(error)
    assert error.suggestions == meant
    assert f"did you mean {', '.join(meant)}?" in str(error)
    assert not is_accepted_zone(name)


@pytest.mark.parametrize("name", [
    "UTC", "Etc/UTC", "Etc/GMT", "Etc/GMT+5", "Europe/Brussels", "America/Buenos_Aires",
    "Asia/Calcutta", "Europe/Kiev", "Europe/Amsterdam", "Arctic/Longyearbyen",
    "Australia/Canberra", "Indian/Reunion", "Antarctica/McMurdo", "America/Indianapolis"])
def test_utc_and_the_names_of_places_stay_accepted(name: str) -> None:
    assert check_zone_name(name) == name
    assert is_accepted_zone(name)
    assert legacy_target(name) is None


def test_gmt_is_refused_for_utc_or_the_uk_s_clock() -> None:
    error = refusal("GMT")
    assert error.suggestions[:2] == ["UTC", "Europe/London"]


def test_no_name_of_the_tz_database_is_refused_with_a_refused_suggestion() -> None:
    for name in sorted(available_timezones()):
        try:
            check_zone_name(name)
        except ZoneNameError as error:
            assert all(is_accepted_zone(zone) for zone in error.suggestions), name
            assert name not in error.suggestions
            if legacy_target(name) is not None:
                assert error.suggestions, name


def test_a_series_in_a_legacy_zone_is_refused_with_its_line(write_series: Writer) -> None:
    text = yaml.safe_dump(minimal_series_data(timezone="US/Pacific"), sort_keys=False)
    path = write_series(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.startswith("timezone:"))
    out = refused(run("validate", str(path)), path, line)
    assert "timezone: 'US/Pacific' is a legacy name" in out
    assert "did you mean America/Los_Angeles?" in out


def test_times_refuses_a_legacy_zone(reference_series_path: Path) -> None:
    result = run("times", str(reference_series_path), "--tz", "Canada/Eastern")
    assert result.code == 2
    assert "America/Toronto" in result.stderr and "Traceback" not in result.stderr


def test_a_participant_s_legacy_zone_is_a_problem(write_series: Writer) -> None:
    series = load_series(write_series())
    _, problems = clean_fields(series, {
        "name": "Pat", "email": "pat@example.org", "timezone": "US/Pacific", "consent": "yes"})
    assert "America/Los_Angeles" in dict(problems)["timezone"]


def test_a_legacy_zone_stored_before_still_reads_as_its_zone(write_series: Writer,
                                                            tmp_path: Path) -> None:
    assert get_zone("US/Pacific").key == "America/Los_Angeles"
    assert get_zone("Etc/Zulu").key == "Etc/UTC"
    with pytest.raises(ZoneNameError):
        get_zone("NZ")  # never accepted, so never stored
    series = load_series(write_series())
    with open_store(tmp_path / "state.db") as store:
        add_person(store, series, "pat@example.org", zone="US/Pacific")
        [person] = list_registrations(store, series.id)
    assert person.zone(series.zone).key == "America/Los_Angeles"
