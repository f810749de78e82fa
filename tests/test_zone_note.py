"""The note in a confirmation to a person whose zone was guessed: what it says, where, to whom.

Rendered with :class:`~s3events.render.MessageRenderer` for a German, English and French
series (tests/guessed_zones.py), then sent by a real dispatch to the aiosmtpd test server
after importing people whose zones were guessed, found or given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pluggy
import pytest

from s3events import hookimpl, hookspecs
from s3events.dispatch import dispatch
from s3events.models import Series
from s3events.render import KINDS, MessageRenderer, RenderedMessage, render_message
from s3events.store import open_store
from tests.guessed_zones import EXPECTED, GUESSED, IMPORTED, import_people, open_data_series

BASE = "https://events.example.org"
NEW_YORK = ZoneInfo("America/New_York")
ORGANISER = "team@offene-staedte.example"
#: The note's phrases in English (the checks look for each).
ASSUMED = ("We did not know your time zone, so we assumed New York time. Please check it: "
           "the times in our messages, and when we send you the links, follow it.")
CHANGE = "If it is wrong, you can change your time zone and language on this page:"
WRITE = f"If it is wrong, please write to the organiser at {ORGANISER} with your time zone."
SHORT = "Time zone assumed: New York time. Please check it."
LINK_LABEL = "Change my time zone or language"
NOTED = ("confirmation", "waitlisted")


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Series:
    return open_data_series(tmp_path_factory.mktemp("series"))


def person(token: str = "tok-dana") -> dict[str, str | None]:
    return {"name": "Dana Whitfield", "email": "dana.whitfield@example.com",
            "cancel_url": f"{BASE}/cancel/{token}",
            "preferences_url": f"{BASE}/preferences/{token}"}


def render(renderer: MessageRenderer, kind: str, *, lang: str = "en", guessed: bool = True,
           personal: dict[str, str | None] | None = None, zone: ZoneInfo = NEW_YORK,
           ) -> RenderedMessage:
    series = renderer.series
    about = kind not in ("confirmation", "waitlisted", "optin")
    return renderer.render(kind, lang=lang, zone=zone,
                           session=series.sessions[0] if about else None,
                           sessions=[] if about else series.sessions,
                           zone_guessed=guessed, personal=personal or person())


def note_free(message: RenderedMessage) -> bool:
    texts = (message.text, message.html, message.short)
    phrases = ("We did not know", "Time zone assumed", "If it is wrong", LINK_LABEL,
               "/preferences/")
    return not any(p in t for t in texts for p in phrases)


# -- what the note says -----------------------------------------------------------------------
@pytest.mark.parametrize("kind", NOTED)
def test_a_guessed_zone_is_named_and_the_preferences_page_linked_in_every_format(
        series: Series, kind: str) -> None:
    message = render(MessageRenderer(series, base_url=BASE), kind)
    url = f"{BASE}/preferences/tok-dana"
    assert f"{ASSUMED}\n{CHANGE} {url}\n" in message.text
    assert f">{ASSUMED}</p>" in message.html
    assert f'<p><a href="{url}">{LINK_LABEL}</a></p>' in message.html
    assert message.short.endswith(f"\n\n{SHORT} {CHANGE} {url}")
    assert "zone" not in message.subject.lower()
    assert WRITE not in message.text + message.html + message.short


@pytest.mark.parametrize("kind", NOTED)
def test_without_an_event_page_the_note_asks_to_write_to_the_organiser(
        series: Series, kind: str) -> None:
    personal = {"name": "Dana Whitfield", "email": "dana.whitfield@example.com"}
    message = render(MessageRenderer(series), kind, personal=personal)
    assert f"{ASSUMED}\n{WRITE}\n" in message.text
    assert f"<p>{WRITE}</p>" in message.html
    assert message.short.endswith(f"{SHORT} {WRITE}")
    for text in (message.text, message.html, message.short):
        assert "/preferences/" not in text and LINK_LABEL not in text and CHANGE not in text


@pytest.mark.parametrize("kind", NOTED)
def test_a_zone_that_was_given_or_found_gets_no_note(series: Series, kind: str) -> None:
    renderer = MessageRenderer(series, base_url=BASE)
    assert note_free(render(renderer, kind, guessed=False))
    assert note_free(render(MessageRenderer(series), kind, guessed=False,
                            personal={"name": "Dana", "email": "d@example.com"}))


@pytest.mark.parametrize("kind", [k for k in KINDS if k not in (*NOTED, "optin")])
def test_messages_other_than_the_confirmation_carry_no_note(series: Series, kind: str) -> None:
    renderer = MessageRenderer(series, base_url=BASE)
    personal = {**person(), "join_url": "https://meet.example/room",
                "confirm_url": f"{BASE}/confirm/tok-dana"}
    guessed = render(renderer, kind, personal=personal)
    assert note_free(guessed)
    assert guessed == render(renderer, kind, guessed=False, personal=personal)


@pytest.mark.parametrize(("lang", "expected", "short"), [
    ("fr", "Nous ne connaissions pas votre fuseau horaire\u202f; nous avons donc retenu "
           "celui-ci\u00a0: heure de New York. Veuillez le vérifier\u00a0:",
     "Fuseau horaire supposé\u00a0: heure de New York. Veuillez le vérifier. S’il n’est pas "
     "correct, vous pouvez modifier votre fuseau horaire et votre langue sur cette "
     "page\u00a0: https://events.example.org/preferences/tok-dana"),
    ("de", "Wir kannten Ihre Zeitzone nicht und haben daher diese angenommen: Ortszeit "
           "New York. Bitte prüfen Sie sie:",
     "Angenommene Zeitzone: Ortszeit New York. Bitte prüfen Sie sie. Falls sie nicht stimmt, "
     "können Sie Ihre Zeitzone und Sprache auf dieser Seite ändern: "
     "https://events.example.org/preferences/tok-dana"),
])
def test_the_note_is_in_the_participants_language(series: Series, lang: str, expected: str,
                                                   short: str) -> None:
    message = render(MessageRenderer(series, base_url=BASE), "confirmation", lang=lang)
    assert expected in message.text and expected in message.html
    assert message.short.endswith(short)
    assert "We did not know" not in message.text and LINK_LABEL not in message.html


def test_the_zone_named_is_the_persons_own(series: Series) -> None:
    message = render(MessageRenderer(series, base_url=BASE), "confirmation", lang="fr",
                     zone=ZoneInfo("America/Argentina/Buenos_Aires"))
    assert "retenu celui-ci\u00a0: heure de Buenos Aires." in message.text


# -- rendered once, filled in per person ------------------------------------------------------
def counting_renderer(series: Series, calls: list[str]) -> MessageRenderer:
    class Counter:
        @hookimpl
        def s3events_extra_template_vars(self, template: str, context: Any) -> dict[str, Any]:
            calls.append(template)
            return {}

    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(Counter())
    return MessageRenderer(series, base_url=BASE, pm=pm)


def test_guessed_people_share_one_render_and_each_gets_their_own_link(series: Series) -> None:
    calls: list[str] = []
    renderer = counting_renderer(series, calls)
    for n in range(10):
        message = render(renderer, "confirmation", personal=person(f"tok-{n}"))
        assert f"{CHANGE} {BASE}/preferences/tok-{n}\n" in message.text
        assert f'href="{BASE}/preferences/tok-{n}"' in message.html
        assert message.short.endswith(f"/preferences/tok-{n}")
    assert len(calls) == 4  # one per format, not per person
    assert note_free(render(renderer, "confirmation", guessed=False))
    assert len(calls) == 8  # the same zone, not guessed: a render of its own


def test_the_preferences_link_is_escaped_in_html(series: Series) -> None:
    message = render(MessageRenderer(series, base_url=BASE), "confirmation",
                     personal=person('a"b&c'))
    assert 'href="https://events.example.org/preferences/a&#34;b&amp;c"' in message.html
    assert f"{BASE}/preferences/a\"b&c" in message.text


def test_render_message_builds_the_preferences_link_from_the_token(series: Series) -> None:
    message = render_message(series, "confirmation", lang="en", zone="America/New_York",
                             name="Dana", email="d@example.com", base_url=BASE + "/",
                             token="tok-1", zone_guessed=True)
    assert f"{CHANGE} {BASE}/preferences/tok-1" in message.text
    assert note_free(render_message(series, "confirmation", lang="en", zone="America/New_York",
                                    name="Dana", email="d@example.com", base_url=BASE,
                                    token="tok-1"))


# -- through a real dispatch ------------------------------------------------------------------
def body(mail: Any, subtype: str) -> str:
    """A part of a received email, with the line ends as written."""
    return str(mail.get_body((subtype,)).get_content()).replace("\r\n", "\n")


def test_imported_people_whose_zone_was_guessed_are_asked_to_check_it(
        tmp_path: Path, series: Series, smtp_server: Any) -> None:
    with open_store(tmp_path / "state.db") as store:
        people = import_people(store, series, tmp_path)
        report = dispatch(store, series, now=IMPORTED, transport=smtp_server.url,
                          base_url=BASE)
        assert report.total_sent == len(EXPECTED)
        assert smtp_server.wait_for(len(EXPECTED))
    mails = {m.email["To"].addresses[0].addr_spec: m.email for m in smtp_server.messages}
    for email, (zone, source) in EXPECTED.items():
        reg = people[email]
        assert (reg.timezone, reg.timezone_source) == (zone, source)
        text = body(mails[email], "plain")
        html = body(mails[email], "html")
        url = f"{BASE}/preferences/{reg.token.get_secret_value()}"
        if email in GUESSED:
            assert f"{url}\n" in text and f'href="{url}"' in html, email
        else:
            assert "/preferences/" not in text + html, email
    assert "so we assumed New York time." in body(mails["dana.whitfield@example.com"], "plain")
    assert "haben daher diese angenommen: Ortszeit Berlin." in body(
        mails["kai.sommer@example.org"], "plain")
