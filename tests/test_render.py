"""Rendering: languages, both time zones, autoescaping, the sandbox, overrides, shared renders."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import icalendar
import pluggy
import pytest

from s3events import hookimpl, hookspecs
from s3events.errors import InputError
from s3events.render import Invitation, MessageRenderer, fold_line, render_message
from tests.test_dispatch_support import make_series

MEXICO = ZoneInfo("America/Mexico_City")
PERSON = {"name": "José Peña", "email": "jose@example.org", "join_url": "https://meet.example/r?a=1&b=2"}


@pytest.fixture
def series(write_series):
    return make_series(write_series)


def _link(renderer, lang="es", zone=MEXICO, person=PERSON, session=None):
    session = session or renderer.series.session("s1")
    return renderer.render("link", lang=lang, zone=zone, session=session, personal=person)


def test_link_in_spanish_shows_both_zones(series):
    message = _link(MessageRenderer(series))
    assert "jueves, 28 de octubre de 2021" in message.text
    assert "10:00–12:30 (hora de Ciudad de México)" in message.text
    assert "17:00–19:30 (hora de Bruselas)" in message.text
    assert message.subject.startswith("Su enlace para Primera")
    assert "Estimado/a José Peña:" in message.text
    assert "https://meet.example/r?a=1&b=2" in message.text


def test_link_in_portuguese_and_english(series):
    renderer = MessageRenderer(series)
    pt = _link(renderer, lang="pt", zone=ZoneInfo("America/Sao_Paulo"))
    assert "quinta-feira, 28 de outubro de 2021" in pt.text and "Prezado(a) José Peña," in pt.text
    en = _link(renderer, lang="en", zone=ZoneInfo("America/Santiago"))
    assert "Thursday, October 28, 2021" in en.text and "(Santiago time)" in en.text


def test_unknown_language_falls_back_to_the_series_default(series):
    renderer = MessageRenderer(series)
    assert renderer.language("fr") == "en"
    assert renderer.language("es-MX") == "es"


def test_organisers_zone_is_not_repeated_for_people_in_it(series):
    message = _link(MessageRenderer(series), lang="en", zone=ZoneInfo("Europe/Brussels"))
    assert "Organiser's time" not in message.text


def test_html_is_autoescaped_and_text_is_not(series):
    person = {**PERSON, "name": "<script>alert(1)</script>"}
    message = _link(MessageRenderer(series), person=person)
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert 'href="https://meet.example/r?a=1&amp;b=2"' in message.html
    assert "<script>alert(1)</script>" in message.text


def test_shared_parts_are_rendered_once_per_session_language_and_zone(series):
    calls = []

    class Counter:
        @hookimpl
        def s3events_extra_template_vars(self, template, context):
            calls.append(template)
            return {}

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(Counter())
    renderer = MessageRenderer(series, pm=pm)
    for i in range(20):
        message = _link(renderer, person={**PERSON, "name": f"Person {i}"})
        assert f"Estimado/a Person {i}:" in message.text
    assert len(calls) == 4  # one per format, not per person
    _link(renderer, zone=ZoneInfo("America/Lima"))
    assert len(calls) == 8


def test_a_template_that_computes_with_a_name_is_rendered_per_person(series, tmp_path):
    (tmp_path / "link.txt").write_text("{{ name|upper }} / {{ name[0] }} / {{ join_url }}\n")
    renderer = MessageRenderer(series, templates=tmp_path)
    assert _link(renderer).text == "JOSÉ PEÑA / J / https://meet.example/r?a=1&b=2\n"
    other = _link(renderer, person={**PERSON, "name": "ana"})
    assert other.text == "ANA / a / https://meet.example/r?a=1&b=2\n"


def test_series_templates_override_per_language(series, tmp_path):
    (tmp_path / "link.es.subject.txt").write_text("Enlace: {{ session.title }}")
    renderer = MessageRenderer(series, templates=tmp_path)
    assert _link(renderer).subject == "Enlace: Primera"
    assert _link(renderer, lang="en").subject.startswith("Your link for First")


@pytest.mark.parametrize("source", [
    "{{ ''.__class__.__mro__ }}",
    "{{ name.__class__ }}",
    "{{ lipsum.__globals__ }}",
    "{{ _.__globals__['os'] }}",
])
def test_user_templates_cannot_reach_python_internals(series, tmp_path, source):
    (tmp_path / "link.txt").write_text(source)
    with pytest.raises(InputError, match=r"template link\.txt"):
        _link(MessageRenderer(series, templates=tmp_path))


def test_a_template_syntax_error_names_file_and_line(series, tmp_path):
    (tmp_path / "link.txt").write_text("Hello\n{% if name %}\n")
    with pytest.raises(InputError, match=r"link\.txt:\d"):
        _link(MessageRenderer(series, templates=tmp_path))


def test_missing_templates_folder_is_an_input_error(series, tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        MessageRenderer(series, templates=tmp_path / "nope")


@pytest.mark.parametrize("field", ["cancel_url", "join_url", "email", "confirm_url"])
def test_a_name_holding_the_renderers_markers_stays_that_name(series, field):
    name = f"Eve \ue002{field}\ue003 \ue000name~\ue001"
    person = {**PERSON, "name": name, "cancel_url": "https://ev.example/cancel/SECRET",
              "confirm_url": "https://ev.example/confirm/SECRET"}
    renderer = MessageRenderer(series, base_url="https://ev.example")
    for kind, session in (("link", series.session("s1")), ("confirmation", None),
                          ("optin", None)):
        message = renderer.render(kind, lang="en", zone=MEXICO, session=session,
                                  sessions=[] if session else series.sessions,
                                  personal=person)
        for text in (message.subject, message.text, message.short):
            if "Eve" in text:
                assert name in text, (kind, text)
        greeting = [line for line in message.text.splitlines() if "Eve" in line]
        assert greeting and all("SECRET" not in line and "jose@" not in line
                                and "meet.example" not in line for line in greeting)


def test_optin_message_carries_the_confirm_url(series):
    message = render_message(series, "optin", lang="es", name="Ana",
                             extra={"confirm_url": "https://ex.org/confirm/t0k"})
    assert "https://ex.org/confirm/t0k" in message.text
    assert 'href="https://ex.org/confirm/t0k"' in message.html


def test_confirmation_lists_sessions_and_cancel_link(series):
    message = render_message(series, "confirmation", lang="en", name="Ana", zone="Asia/Tokyo",
                             base_url="https://ex.org/s3/", token="tok")
    assert "First" in message.text and "Second" in message.text
    assert "https://ex.org/s3/cancel/tok" in message.text
    assert "the day before, at 9:00\u202fAM your time" in message.text


def test_invitation_is_filled_per_participant(series):
    invitation = Invitation.build(series, series.session("s1"), lang="es", method="REQUEST",
                                  sequence=2, join_url="https://meet.example/r", per_person=False,
                                  dtstamp=datetime(2021, 10, 1, tzinfo=timezone.utc))
    text = invitation.fill(name='Peña, José "Pepe"', email="jose@example.org")
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:jose@example.org"
    assert attendee.params["CN"] == "Peña, José Pepe"
    assert event["SEQUENCE"] == 2
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))


def test_invitation_with_per_person_links_escapes_text_values(series):
    invitation = Invitation.build(series, series.session("s1"), lang="en", method="REQUEST",
                                  sequence=0, join_url="https://bbb.example/j", per_person=True,
                                  dtstamp=datetime(2021, 10, 1, tzinfo=timezone.utc))
    url = "https://bbb.example/join?a=1;b=2,c"
    event = icalendar.Calendar.from_ical(invitation.fill(name="Ana", email="a@example.org",
                                                         join_url=url)).walk("VEVENT")[0]
    assert str(event["URL"]) == url
    assert str(event["LOCATION"]) == url
    assert url in str(event["DESCRIPTION"])


def test_fold_line_never_splits_a_character():
    line = "SUMMARY:" + "é" * 100
    folded = fold_line(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line
