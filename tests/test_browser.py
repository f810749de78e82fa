"""The event page in headless Chromium: visitors' own zones, Spanish throughout, and a whole
registration (form → opt-in email → its page's button → confirmed → confirmation email →
cancelled).

The app runs on a live server in a thread with a fresh SQLite state and the aiosmtpd test
server as its email transport. Screenshots go to build/screenshots/ for review.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from s3events.catalogs import LOCALE_DIR, read_catalog
from s3events.registrations import get_registration

# Until the root conftest lists it: the web app, live server and browser fixtures.
pytestmark = pytest.mark.browser

EMAIL = "lucia.quispe@example.org"


@pytest.fixture
def site(live_web_app: Any) -> Any:
    """The reference series served on a live server whose address is the app's base URL."""
    return live_web_app()


@pytest.fixture
def shoot(screenshots: Path) -> Any:
    def take(target: Any, name: str, *, full_page: bool = True) -> None:
        options = {"full_page": full_page} if hasattr(target, "goto") else {}  # page or element
        target.screenshot(path=str(screenshots / name), **options)

    return take


def your_times(page: Any) -> dict[str, str]:
    page.wait_for_selector("#day-1 .your-time:not([hidden])")
    return {day: page.inner_text(f"#{day} .your-time") for day in
            ("day-1", "day-2", "day-3", "day-4", "day-5")}


def english_phrases() -> list[str]:
    """The English msgids the Spanish catalog translates differently (so must not show)."""
    catalog = read_catalog(LOCALE_DIR / "es" / "LC_MESSAGES" / "s3events.po")
    return [m.id for m in catalog if isinstance(m.id, str) and m.id and m.id != m.string
            and "%(" not in m.id and len(m.id) > 3]


def test_english_page_from_lima_shows_lima_times_next_to_brussels_times(
        site: Any, new_page: Any, shoot: Any) -> None:
    page = new_page(timezone_id="America/Lima", locale="es-PE")
    page.goto(site.base_url + "/")
    times = your_times(page)
    assert times["day-1"] == "Your time: Thursday, October 28, 2021, 10:00–12:30 (Lima time)"
    for day in ("day-2", "day-3", "day-4", "day-5"):
        assert ", 11:00–13:30 (Lima time)" in times[day], times[day]
        assert page.inner_text(f"#{day} .when .times").startswith("17:00")
    assert page.inner_text("#day-1 .when") == (
        "Thursday, October 28, 2021, 17:00\u2009–\u200919:30 (Brussels time)")
    shoot(page, "site-en.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "site-en-phone.png", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll


def test_tokyo_sees_day_1_at_midnight_on_29_october(site: Any, new_page: Any) -> None:
    page = new_page(timezone_id="Asia/Tokyo", locale="ja-JP")
    page.goto(site.base_url + "/")
    assert your_times(page)["day-1"] == (
        "Your time: Friday, October 29, 2021, 00:00–02:30 (Tokyo time)")
    page.goto(site.base_url + "/es/")
    assert your_times(page)["day-1"] == (
        "Su hora: viernes, 29 de octubre de 2021, 00:00–02:30 (hora de Tokio)")


def test_a_visitor_in_brussels_sees_no_second_time(site: Any, new_page: Any) -> None:
    page = new_page(timezone_id="Europe/Brussels")
    page.goto(site.base_url + "/")
    page.wait_for_function("document.documentElement.classList.contains('js')")
    assert page.locator(".your-time:not([hidden])").count() == 0
    assert not page.locator("#day-1 .your-time").is_visible()  # no empty box either


def test_spanish_page_reads_as_spanish_throughout(site: Any, new_page: Any, shoot: Any) -> None:
    page = new_page(timezone_id="America/Lima", locale="es-PE")
    page.goto(site.base_url + "/es/")
    times = your_times(page)
    assert times["day-1"] == "Su hora: jueves, 28 de octubre de 2021, 10:00–12:30 (hora de Lima)"
    assert times["day-5"] == "Su hora: martes, 23 de noviembre de 2021, 11:00–13:30 (hora de Lima)"
    text = page.inner_text("body")
    for spanish in ("jueves, 28 de octubre de 2021, 17:00–19:30 (hora de Bruselas)",
                    "El ejercicio interactivo tendrá como objetivo:", "Inscripción",
                    "¿Qué es la Especialización Inteligente?", "Añadir al calendario",
                    "Nombre y apellidos", "Su zona horaria", "Inscribirme"):
        assert spanish in text, spanish
    for english in english_phrases():
        assert english not in text, english
    for word in ("Thursday", "October", "November", "Time zone", "Register"):
        assert word not in text, word
    shoot(page, "site-es.png")
    page.set_viewport_size({"width": 390, "height": 844})
    shoot(page, "site-es-phone.png", full_page=False)
    shoot(page.locator("#registration"), "form-es-phone.png", full_page=False)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_keyboard_reaches_the_skip_link_first_and_it_moves_to_the_content(
        site: Any, new_page: Any) -> None:
    page = new_page(timezone_id="America/Lima")
    page.goto(site.base_url + "/es/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.evaluate("document.activeElement.textContent") == "Saltar al contenido principal"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    outline = page.evaluate("getComputedStyle(document.querySelector('#f-name')).outlineStyle")
    page.focus("#f-name")
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert outline == "none"
    page.focus("#f-website")  # the honeypot: out of sight and out of the accessibility tree
    box = page.locator("#f-website").bounding_box()
    assert box is None or box["x"] < -1000


def text_of(page: Any, selector: str) -> str:
    return " ".join(page.inner_text(selector).split())


def test_invalid_form_shows_spanish_messages_next_to_the_fields(
        site: Any, new_page: Any, shoot: Any) -> None:
    page = new_page(timezone_id="America/Lima", locale="es-PE")
    page.goto(site.base_url + "/es/")
    page.fill("#f-name", "Lucía Quispe")
    page.fill("#f-email", "lucia@@example")
    page.evaluate("""() => { const s = document.querySelector('#f-timezone');
        s.add(new Option('Mars/Olympus_Mons', 'Mars/Olympus_Mons'));
        s.value = 'Mars/Olympus_Mons'; }""")
    page.click("button[type=submit]")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert text_of(page, "#f-email-error") == (
        "Error: Escriba su dirección de correo electrónico, por ejemplo nombre@example.org.")
    assert text_of(page, "#f-timezone-error") == "Error: Elija su zona horaria de la lista."
    assert text_of(page, "#f-consent-error").startswith("Error: Marque la casilla")
    assert page.input_value("#f-name") == "Lucía Quispe"
    assert get_registration(site.store, site.series.id, "lucia@@example") is None
    shoot(page, "form-errors-es.png", full_page=False)
    shoot(page.locator("#registration"), "form-errors-es-full.png", full_page=False)


def test_register_in_spanish_from_lima_confirm_then_cancel(
        site: Any, new_page: Any, shoot: Any, smtp_server: Any) -> None:
    page = new_page(timezone_id="America/Lima", locale="es-PE")
    page.goto(site.base_url + "/es/")
    assert page.input_value("#f-timezone") == "America/Lima"  # from the browser
    assert page.input_value("#f-language") == "es"
    page.fill("#f-name", "Lucía Quispe")
    page.fill("#f-email", EMAIL)
    page.select_option("#f-country", "PE")
    page.fill("#f-organisation", "Gobierno Regional")
    page.select_option("#f-sector", "public-administration")
    page.uncheck("#f-session-day-3")
    page.check("#f-consent")
    page.click("button[type=submit]")
    page.wait_for_url("**/es/registered")
    assert "Revise su correo electrónico" in page.inner_text("h1")

    reg = get_registration(site.store, site.series.id, EMAIL)
    assert reg is not None
    assert (reg.status, reg.language, reg.timezone, reg.country) == (
        "pending", "es", "America/Lima", "PE")
    assert reg.sessions == ["day-1", "day-2", "day-4", "day-5"]

    assert smtp_server.wait_for(1)
    optin = smtp_server.messages[0].email
    assert optin["Subject"].startswith("Confirme su inscripción")
    assert optin["Content-Language"] == "es"
    confirm = re.search(r"http://\S+/confirm/\S+", optin.get_body(("plain",)).get_content())
    assert confirm is not None
    page.goto(confirm.group(0))
    assert page.inner_text("h1") == "Confirme su inscripción"
    assert get_registration(site.store, site.series.id, EMAIL).status == "pending"
    page.click("text=Confirmar mi inscripción")
    page.wait_for_selector("text=Su inscripción está confirmada")
    assert page.inner_text("h1") == "Su inscripción está confirmada"
    assert get_registration(site.store, site.series.id, EMAIL).status == "confirmed"

    assert smtp_server.wait_for(2)
    confirmation = smtp_server.messages[1].email
    assert confirmation["To"] == f"Lucía Quispe <{EMAIL}>"
    assert confirmation["Content-Language"] == "es"
    body = confirmation.get_body(("plain",)).get_content()
    assert "jueves, 28 de octubre de 2021, 10:00–12:30 (hora de Lima)" in body
    assert "martes, 9 de noviembre" not in body  # day 3 was not ticked
    cancel = re.search(r"http://\S+/cancel/\S+", body)
    assert cancel is not None
    assert urlsplit(cancel.group(0)).netloc == urlsplit(site.base_url).netloc
    page.goto(cancel.group(0))
    assert page.inner_text("h1") == "¿Desea cancelar su inscripción?"
    page.click("button[type=submit]")
    page.wait_for_selector("text=Su inscripción está cancelada")
    assert get_registration(site.store, site.series.id, EMAIL).status == "cancelled"
    shoot(page, "cancelled-es.png", full_page=False)
