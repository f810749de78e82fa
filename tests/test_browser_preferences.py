"""The preferences page in headless Chromium, opened from a real confirmation email.

A US participant imported with no city gets New York time as a guess (``country-guess``);
their confirmation, sent by a dispatch run to the aiosmtpd test server, links to their
preferences page. In Chromium they choose Los Angeles and French; the page answers in
French, and their next link goes out at 09:00 Los Angeles time, in French. The series is
German, English and French, organised from Berlin (tests/guessed_zones.py). Screenshots go
to build/screenshots/.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from s3events.dispatch import dispatch
from s3events.registrations import get_registration
from tests.guessed_zones import (
    DUE_LOS_ANGELES,
    DUE_NEW_YORK,
    IMPORTED,
    import_people,
    open_data_series,
)
from tests.test_dispatch_support import provision

pytestmark = pytest.mark.browser

DANA = "dana.whitfield@example.com"


class Links(HTMLParser):
    """The links of an HTML email: (address, text)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self._href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self.found.append((self._href, data))
            self._href = None


def mails_to(smtp_server: Any, address: str, since: int = 0) -> list[Any]:
    return [m.email for m in smtp_server.messages[since:] if m.rcpt_tos == [address]]


def test_a_guessed_zone_changed_from_the_confirmation_times_the_next_link(
        live_web_app: Any, new_page: Any, smtp_server: Any, screenshots: Path,
        tmp_path: Path) -> None:
    series = open_data_series(tmp_path)
    site = live_web_app(series, dispatch=False, clock=lambda: IMPORTED)
    provision(site.store, series, IMPORTED - timedelta(days=1))
    import_people(site.store, series, tmp_path)
    dispatch(site.store, series, now=IMPORTED, transport=smtp_server.url,
             base_url=site.base_url)
    assert smtp_server.wait_for(5)
    (confirmation,) = mails_to(smtp_server, DANA)
    html = confirmation.get_body(("html",)).get_content()
    assert "we assumed New York time. Please check it" in html
    parser = Links()
    parser.feed(html)
    (url,) = [href for href, text in parser.found if text == "Change my time zone or language"]
    assert url.startswith(site.base_url + "/preferences/")

    page = new_page(timezone_id="America/Los_Angeles", locale="en-US")
    page.goto(url)
    assert page.inner_text("h1") == "Your time zone and language"
    assert page.inner_text("#current-zone") == "New York time (America/New_York)"
    assert page.inner_text("#guessed") == "Time zone assumed: New York time. Please check it."
    assert page.input_value("#f-timezone") == "America/New_York"  # not the browser's zone
    assert page.input_value("#f-language") == "en"
    page.screenshot(path=str(screenshots / "preferences-en.png"), full_page=True)
    page.select_option("#f-timezone", "America/Los_Angeles")
    page.select_option("#f-language", "fr")
    page.click("button[type=submit]")
    page.wait_for_selector("#saved")
    assert page.evaluate("document.documentElement.lang") == "fr"
    assert page.inner_text("h1") == "Votre fuseau horaire et votre langue"
    assert page.inner_text("#saved").startswith("Vos modifications sont enregistrées")
    assert page.inner_text("#current-zone") == "heure de Los Angeles (America/Los_Angeles)"
    assert page.inner_text("#current-language") == "Français"
    assert page.locator("#guessed").count() == 0
    page.screenshot(path=str(screenshots / "preferences-saved-fr.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    reg = get_registration(site.store, series.id, DANA)
    assert (reg.timezone, reg.timezone_source, reg.language) == (
        "America/Los_Angeles", "given", "fr")

    before = len(smtp_server.messages)
    dispatch(site.store, series, now=DUE_NEW_YORK + timedelta(minutes=5),
             transport=smtp_server.url, base_url=site.base_url)
    assert mails_to(smtp_server, DANA, before) == []  # not due yet in Los Angeles
    dispatch(site.store, series, now=DUE_LOS_ANGELES + timedelta(minutes=5),
             transport=smtp_server.url, base_url=site.base_url)
    (link,) = mails_to(smtp_server, DANA, before)
    assert link["Subject"].startswith("Votre lien pour Séance 1\u00a0: Publier des données")
    assert link["Content-Language"] == "fr"
    text = link.get_body(("plain",)).get_content()
    assert "mercredi 5 novembre 2025, 07:00–08:30 (heure de Los Angeles)" in text
    assert "New York" not in text
    assert re.search(r"https://meet\.jit\.si/\S+", text)
