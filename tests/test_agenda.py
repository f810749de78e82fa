"""The full agenda document: localized dates and times, every session's content, safe HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from s3events.agenda import agenda_context, render_agenda
from s3events.errors import InputError
from s3events.i18n import babel_locale
from s3events.loading import parse_series_data
from s3events.models import Series
from tests.fixtures.series import minimal_series_data


def test_spanish_agenda_has_babel_dates_times_and_zone_name(reference_series: Series) -> None:
    text = render_agenda(reference_series, lang="es")
    assert text.startswith("# Seminario - Apoyo metodológico")
    assert "### Día 1: Introducción: ¿qué es la S3?" in text
    assert "**jueves, 28 de octubre de 2021**, 17:00–19:30 (hora de Bruselas)" in text
    assert "El ejercicio interactivo tendrá como objetivo:" in text
    assert "[Agenda completa en Español](agendas/day-1.es.md)" in text
    assert "## ¿Qué es la Especialización Inteligente?" in text
    assert "## Información práctica" in text


def test_focus_country_times_follow_each_clock_change(reference_series: Series) -> None:
    sessions = agenda_context(reference_series, lang="es")["sessions"]
    day1 = {t.zone: t.times for t in sessions[0].local_times}
    day2 = {t.zone: t.times for t in sessions[1].local_times}
    assert list(day1) == ["America/Mexico_City", "America/Santiago", "America/Lima"]
    assert day1["America/Lima"] == "10:00–12:30"
    assert day2["America/Lima"] == "11:00–13:30"
    assert day1["America/Mexico_City"] == day2["America/Mexico_City"] == "10:00–12:30"
    text = render_agenda(reference_series, lang="es")
    assert "- Ciudad de México: 10:00–12:30" in text


def test_a_different_local_date_is_shown() -> None:
    data = minimal_series_data(focus_countries=["JP"])
    series = parse_series_data(data)[0]
    (tokyo,) = agenda_context(series, lang="en")["sessions"][0].local_times
    assert not tokyo.same_day
    assert tokyo.date == "Friday, October 29, 2021"
    # Babel's English interval puts thin spaces around the dash.
    expected = "- Tokyo: 00:00\u2009–\u200902:30 (Friday, October 29, 2021)"
    assert expected in render_agenda(series, lang="en")


def test_english_and_portuguese_use_their_own_phrases(reference_series: Series) -> None:
    english = render_agenda(reference_series, lang="en")
    assert "Interactive exercise will aim at:" in english
    assert "**Thursday, October 28, 2021**, 17:00\u2009–\u200919:30 (Brussels time)" in english
    portuguese = render_agenda(reference_series, lang="pt")
    assert "O exercício interativo terá como objetivo:" in portuguese
    assert "quinta-feira, 28 de outubro de 2021" in portuguese


def test_html_agenda_is_a_whole_page_with_escaped_texts() -> None:
    data = minimal_series_data(title={"en": "Tools <script>alert(1)</script> & more",
                                      "es": "Herramientas"})
    series = parse_series_data(data)[0]
    page = render_agenda(series, lang="en", fmt="html")
    assert "<script>" not in page
    assert "Tools &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in page
    assert page.startswith("<!DOCTYPE html>")

    class Tags(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.seen.append(tag)

    parser = Tags()
    parser.feed(page)
    assert {"html", "h1", "article", "h3"} <= set(parser.seen)


def test_markdown_agenda_prints_texts_as_written() -> None:
    data = minimal_series_data(title={"en": "Policy & practice", "es": "Política y práctica"})
    series = parse_series_data(data)[0]
    assert render_agenda(series, lang="en").startswith("# Policy & practice\n")


def test_cancelled_session_is_marked() -> None:
    data = minimal_series_data()
    data["sessions"][0]["status"] = "cancelled"
    series = parse_series_data(data)[0]
    assert "### Primera — Cancelada" in render_agenda(series, lang="es")


def test_unknown_format_is_refused(reference_series: Series) -> None:
    with pytest.raises(InputError, match="md or html"):
        render_agenda(reference_series, lang="en", fmt="pdf")  # type: ignore[arg-type]


def test_headings_are_in_the_agendas_language_for_a_regional_tag(
        reference_series: Series) -> None:
    text = render_agenda(reference_series, lang="es-MX")
    assert "Temas:" in text and "Topics:" not in text


def test_babel_locale_accepts_regional_tags_and_falls_back_to_english() -> None:
    assert str(babel_locale("pt-BR")) == "pt_BR"
    assert str(babel_locale("xx")) == "en"
