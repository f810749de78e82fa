"""A participant's zone from what they gave — zone, city, country — and changing it later."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from s3events import load_series, update_preferences
from s3events.countries import country_zones
from s3events.errors import InputError
from s3events.models import Series
from s3events.registrations import (
    MOST_POPULOUS_ZONE,
    UnknownRegistration,
    clean_fields,
    register,
)
from s3events.registrations.zones import city_zones, resolve_zone
from s3events.store import open_store
from tests.fixtures.series import minimal_series_data
from tests.test_dispatch_support import provision, rows

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def series(write_series: Callable[..., Path]) -> Series:
    data = minimal_series_data(languages=["en", "es", "fr", "de", "it", "pt"])
    return load_series(write_series(data))


def zone_of(series: Series, **given: str) -> tuple[str, str]:
    fields, problems = clean_fields(series, {"name": "Ana", "email": "ana@example.org",
                                             **given})
    assert problems == []
    return fields["timezone"], fields["timezone_source"]


@pytest.mark.parametrize(("city", "zone"), [
    ("Ciudad de México", "America/Mexico_City"),   # CLDR, Spanish
    ("Mexico City", "America/Mexico_City"),        # the tz database's own name
    ("Nouméa", "Pacific/Noumea"),                   # CLDR, French
    ("Zúrich", "Europe/Zurich"),                    # CLDR, Spanish
    ("Zürich", "Europe/Zurich"),                    # CLDR, German
    ("São Paulo, Brasil", "America/Sao_Paulo"),    # a city, then its country
    ("BOGOTA", "America/Bogota"),
])
def test_a_city_gives_its_zone(series: Series, city: str, zone: str) -> None:
    assert zone_of(series, city=city) == (zone, "city")


def test_a_city_must_be_in_the_country_given(series: Series) -> None:
    assert zone_of(series, city="Lima", country="Perú") == ("America/Lima", "city")
    # Córdoba is a tz city in Argentina, not Spain: Spain's own zone is guessed
    assert zone_of(series, city="Córdoba", country="España") == ("Europe/Madrid",
                                                                 "country-guess")
    assert zone_of(series, city="Springfield", country="") == ("Europe/Brussels", "series")


def test_a_city_written_as_the_zone_counts_as_given(series: Series) -> None:
    assert zone_of(series, timezone="Ciudad de México") == ("America/Mexico_City", "given")


def test_a_city_written_as_the_zone_in_another_country_says_so(series: Series) -> None:
    with pytest.raises(ValueError) as caught:
        resolve_zone(series, zone="nouméa", country="US")
    message = str(caught.value)
    assert "names a city in Pacific/Noumea" in message and "'US'" in message
    assert "unknown time zone" not in message


@pytest.mark.parametrize(("country", "zone", "source"), [
    ("Perú", "America/Lima", "country"),              # one zone
    ("US", "America/New_York", "country-guess"),
    ("Canada", "America/Toronto", "country-guess"),
    ("Brasil", "America/Sao_Paulo", "country-guess"),
    ("Australia", "Australia/Sydney", "country-guess"),
    ("Russia", "Europe/Moscow", "country-guess"),
    ("México", "America/Mexico_City", "country-guess"),
    ("Chile", "America/Santiago", "country-guess"),
    ("Nouvelle-Zélande", "Pacific/Auckland", "country-guess"),
    ("Indonesia", "Asia/Jakarta", "country-guess"),
    ("Argentina", "America/Argentina/Buenos_Aires", "country"),  # all keep the same time
    ("Kazakhstan", "Asia/Almaty", "country-guess"),  # one offset only since 2024
])
def test_a_country_gives_its_zone_or_where_most_of_its_people_live(
        series: Series, country: str, zone: str, source: str) -> None:
    assert zone_of(series, country=country) == (zone, source)


def test_the_most_populous_zone_table_names_zones_of_each_country() -> None:
    for country, (zone, why) in MOST_POPULOUS_ZONE.items():
        assert len(country_zones(country)) > 1, country
        assert zone in country_zones(country), (country, zone)
        assert ZoneInfo(zone) and len(why) > 20


def test_nothing_known_means_the_series_zone(series: Series) -> None:
    assert zone_of(series) == ("Europe/Brussels", "series")
    assert resolve_zone(series) == ("Europe/Brussels", "series")


def test_city_names_come_in_the_series_languages() -> None:
    assert city_zones("Ciudad de México", ["es"]) == ("America/Mexico_City",)
    assert city_zones("Città del Messico", ["it"]) == ("America/Mexico_City",)
    assert city_zones("Atlantis") == ()


# -- changing zone and language later ---------------------------------------------------------


def test_update_preferences_re_times_links_and_changes_the_language(
        tmp_path: Path, series: Series) -> None:
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        ana = register(store, series, {"name": "Ana", "email": "ana@example.org",
                                       "country": "US"}, now=NOW)
        assert (ana.timezone, ana.zone_guessed) == ("America/New_York", True)
        (link,) = rows(store, kind="link", session_id="s1")
        assert link.due_at == datetime(2021, 10, 27, 9, tzinfo=ZoneInfo("America/New_York"))
        token = ana.token.get_secret_value()
        changed = update_preferences(store, series, token, timezone="America/Los_Angeles",
                                     language="Français", now=NOW)
        assert (changed.timezone, changed.timezone_source, changed.language) == (
            "America/Los_Angeles", "given", "fr")
        assert not changed.zone_guessed
        (link,) = rows(store, kind="link", session_id="s1")
        assert link.due_at == datetime(2021, 10, 27, 9,
                                       tzinfo=ZoneInfo("America/Los_Angeles"))


def test_update_preferences_refuses_bad_values_all_at_once(tmp_path: Path,
                                                           series: Series) -> None:
    with open_store(tmp_path / "state.db") as store:
        ana = register(store, series, {"name": "Ana", "email": "ana@example.org"}, now=NOW)
        token = ana.token.get_secret_value()
        with pytest.raises(InputError) as refused:
            update_preferences(store, series, token, timezone="Mars/Olympus",
                               language="ja", now=NOW)
        assert {p.path for p in refused.value.problems} == {"timezone", "language"}
        for zone in ("", "EST", "+05:00"):
            with pytest.raises(InputError):
                update_preferences(store, series, token, timezone=zone, now=NOW)
        with pytest.raises(UnknownRegistration):
            update_preferences(store, series, "not-a-token", language="es", now=NOW)
        assert update_preferences(store, series, token, language="pt-BR", now=NOW
                                  ).language == "pt"


def test_the_documented_table_is_the_table_in_use() -> None:
    import re

    page = (Path(__file__).resolve().parents[1] / "docs" / "registrations.md").read_text(
        encoding="utf-8")
    documented = dict(re.findall(r"^\| `([A-Z]{2})` \| [^|]+ \| `([^`]+)` \|", page, re.M))
    assert documented == {code: zone for code, (zone, _) in MOST_POPULOUS_ZONE.items()}
