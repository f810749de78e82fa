"""Zone names: one style ("hora de Lima", "Lima time") in messages, the page and the agenda."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from s3events.agenda import agenda_context
from s3events.render import MessageRenderer
from s3events.site import page_context
from s3events.zonenames import zone_city, zone_label, zone_pattern
from tests.test_dispatch_support import make_series


@pytest.mark.parametrize(("lang", "lima", "brussels"), [
    ("en", "Lima time", "Brussels time"),
    ("es", "hora de Lima", "hora de Bruselas"),
    ("pt", "horário de Lima", "horário de Bruxelas"),
    ("fr", "heure de Lima", "heure de Bruxelles"),
    ("de", "Ortszeit Lima", "Ortszeit Brüssel"),
    ("it", "ora di Lima", "ora di Bruxelles"),
])
def test_messages_page_and_agenda_name_zones_alike(write_series, lang: str, lima: str,
                                                   brussels: str) -> None:
    series = make_series(write_series)
    message = MessageRenderer(series).render(
        "link", lang=lang, zone=ZoneInfo("America/Lima"), session=series.session("s1"),
        personal={"name": "Ana", "email": "ana@example.org", "join_url": "https://x.example"})
    assert f"({lima})" in message.text and f"({brussels})" in message.text
    assert f"({lima})" in message.facts["local_time"]
    assert page_context(series, lang=lang)["zone_label"] == brussels
    assert agenda_context(series, lang=lang)["sessions"][0].zone_name == brussels


def test_cities_not_countries_even_where_a_country_has_several_zones() -> None:
    assert zone_label("America/Argentina/Buenos_Aires", "es") == "hora de Buenos Aires"
    assert zone_label("America/Mexico_City", "pt-BR") == "horário de Cidade do México"
    assert zone_city("Asia/Tokyo", "es") == "Tokio"


def test_french_elides_de_before_a_vowel() -> None:
    assert zone_label("Europe/Amsterdam", "fr") == "heure d’Amsterdam"
    assert zone_label("Europe/Oslo", "fr-CA") == "heure d’Oslo"
    assert zone_label("Asia/Yerevan", "fr") == "heure d’Erevan"
    assert zone_label("Pacific/Noumea", "fr") == "heure de Nouméa"


def test_other_languages_use_their_cldr_phrase_and_utc_stays_utc() -> None:
    assert zone_pattern("fi") == "aikavyöhyke: {city}"
    assert zone_label("Europe/Brussels", "nl") == "tijd in Brussel"
    assert zone_pattern("xx-unknown") == "{city} time"
    assert [zone_label(name, "es") for name in ("UTC", "Etc/GMT+5")] == ["UTC", "Etc/GMT+5"]
