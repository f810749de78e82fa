"""The preferences page under ``serve``: a person changes their zone and language by their link.

Driven through Flask's test client (and a live server for the logs) against a real SQLite
state; messages go to the aiosmtpd test server through real dispatch runs. The series is
German, English and French, organised from Berlin, with people imported from a file
(tests/guessed_zones.py); the browser test is test_browser_preferences.py.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from s3events.dispatch import dispatch
from s3events.registrations import Registration, get_registration
from s3events.web.preferences import zone_groups
from tests.guessed_zones import (
    DUE_LOS_ANGELES,
    DUE_NEW_YORK,
    IMPORTED,
    import_people,
    open_data_series,
    token_of,
)
from tests.test_dispatch_support import provision, rows

pytest.importorskip("flask", reason="the web app needs Flask (pip install 's3events[web]')")

DANA = "dana.whitfield@example.com"
MARC = "marc.tremblay@example.ca"


@pytest.fixture
def site(web_app: Any, tmp_path: Path) -> Any:
    """The app on a state with the imported people (``site.people``: email → registration)."""
    series = open_data_series(tmp_path)
    test = web_app(series, dispatch=False, base_url="https://events.example.org",
                   clock=lambda: IMPORTED)
    test.people = import_people(test.store, series, tmp_path)
    return test


def path_of(reg: Registration) -> str:
    return f"/preferences/{token_of(reg)}"


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def change(client: Any, path: str, **fields: str) -> Any:
    """Open the page, then send its form with ``fields`` changed."""
    token = csrf(client.get(path).get_data(True))
    return client.post(path, data={"csrf_token": token, **fields})


def selected(html: str, name: str) -> list[str]:
    select = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', html, re.S)
    assert select is not None, f"no {name} select"
    return re.findall(r'<option value="([^"]+)"[^>]* selected>', select.group(0))


def errors(html: str) -> dict[str, str]:
    """Field → the message next to it (without the hidden "Error:" for screen readers)."""
    return {m.group(1): m.group(2).split("</span>")[-1].strip()
            for m in re.finditer(r'<p class="error" id="f-(\w+)-error">(.*?)</p>', html)}


def stored(site: Any, email: str) -> tuple[str, str, str]:
    reg = get_registration(site.store, site.series.id, email)
    assert reg is not None
    return reg.timezone, reg.timezone_source, reg.language


# -- the page ---------------------------------------------------------------------------------
def test_the_page_shows_the_guessed_zone_and_the_language_with_a_form(site: Any) -> None:
    response = site.client().get(path_of(site.people[DANA]))
    html = response.get_data(True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert '<html lang="en"' in html
    assert '<dd id="current-zone">New York time (America/New_York)</dd>' in html
    assert '<dd id="current-language">English</dd>' in html
    assert "Time zone assumed: New York time. Please check it." in html
    assert selected(html, "timezone") == ["America/New_York"]
    assert selected(html, "language") == ["en"]
    assert re.findall(r'<option value="(\w+)" lang="\w+"', html) == ["de", "en", "fr"]
    for name in ("Deutsch", "English", "Français"):
        assert f">{name}</option>" in html
    groups = re.findall(r'<optgroup label="([^"]+)">', html)
    assert groups == ["Africa", "Americas", "Antarctica", "Asia", "Atlantic Ocean", "Europe",
                      "Indian Ocean", "Oceania"]
    assert '<option value="America/Los_Angeles">Los Angeles (America/Los_Angeles)</option>' in html
    assert html.count('name="csrf_token"') == 1
    assert "<script>" not in html.replace('<script src="/static/site.js" defer></script>', "")


def test_a_zone_that_was_not_guessed_is_shown_without_the_notice_in_the_persons_language(
        site: Any) -> None:
    html = site.client().get(path_of(site.people[MARC])).get_data(True)
    assert '<html lang="fr"' in html and "Votre fuseau horaire et votre langue" in html
    assert '<dd id="current-zone">heure de Vancouver (America/Vancouver)</dd>' in html
    assert 'id="guessed"' not in html and "Fuseau horaire supposé" not in html
    assert '<optgroup label="Amériques">' in html and '<optgroup label="Océan Indien">' in html
    assert selected(html, "timezone") == ["America/Vancouver"]


def test_zone_groups_hold_every_zone_of_the_registration_form_once() -> None:
    from babel.support import NullTranslations

    from s3events.site import zone_choices

    groups = zone_groups("de", NullTranslations())
    zones = [zone for group in groups for zone, _ in group["zones"]]
    assert sorted(zones) == sorted(zone for zone, _ in zone_choices("de"))
    assert groups[0] == {"label": "", "zones": [("UTC", "UTC")]}
    by_label = {g["label"]: [z for z, _ in g["zones"]] for g in groups}
    assert "Europe/Berlin" in by_label["Europa"] and "Arctic/Longyearbyen" in by_label["Europa"]
    assert "Pacific/Auckland" in by_label["Ozeanien"] and "Australia/Perth" in by_label[
        "Ozeanien"]


# -- changing -----------------------------------------------------------------------------
def test_a_post_changes_zone_and_language_and_answers_in_the_new_language(site: Any) -> None:
    client = site.client()
    response = change(client, path_of(site.people[DANA]), timezone="America/Los_Angeles",
                      language="fr")
    html = response.get_data(True)
    assert response.status_code == 200
    assert '<html lang="fr"' in html
    assert "Vos modifications sont enregistrées\u00a0: vos prochains messages" in html
    assert '<dd id="current-zone">heure de Los Angeles (America/Los_Angeles)</dd>' in html
    assert '<dd id="current-language">Français</dd>' in html
    assert 'id="guessed"' not in html
    assert selected(html, "timezone") == ["America/Los_Angeles"]
    assert selected(html, "language") == ["fr"]
    assert stored(site, DANA) == ("America/Los_Angeles", "given", "fr")
    again = client.get(path_of(site.people[DANA])).get_data(True)
    assert 'id="saved"' not in again and '<html lang="fr"' in again


def test_a_post_without_a_valid_csrf_token_changes_nothing(site: Any) -> None:
    client = site.client()
    path = path_of(site.people[DANA])
    client.get(path)
    for data in ({}, {"csrf_token": "forged.token"}):
        response = client.post(path, data={**data, "timezone": "America/Los_Angeles",
                                           "language": "fr"})
        assert response.status_code == 400
        assert "This form has expired" in response.get_data(True)
    other = site.client()  # a token issued to another visitor's session
    token = csrf(other.get(path).get_data(True))
    fresh = site.client()
    assert fresh.post(path, data={"csrf_token": token, "timezone": "America/Los_Angeles",
                                  "language": "fr"}).status_code == 400
    assert stored(site, DANA) == ("America/New_York", "country-guess", "en")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_or_altered_token_gets_the_page_of_a_bad_cancel_link(
        site: Any, method: str) -> None:
    token = token_of(site.people[DANA])
    client = site.client()
    bad_cancel = client.get("/cancel/nope", headers={"Accept-Language": "fr"})
    for path in ("/preferences/nope", f"/preferences/{token[:-1]}x", f"/preferences/{token}x"):
        response = client.open(path, method=method, headers={"Accept-Language": "fr"},
                               data={"timezone": "UTC", "language": "de"})
        assert response.status_code == 404, path
        assert response.get_data(True) == bad_cancel.get_data(True)
    assert "Ce lien n’est pas valide" in bad_cancel.get_data(True)
    assert stored(site, DANA) == ("America/New_York", "country-guess", "en")


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "EST", "+05:00", "x" * 5000,
                                  "<script>alert(1)</script>"])
def test_an_invalid_zone_gets_the_form_again_with_its_message(site: Any, zone: str) -> None:
    response = change(site.client(), path_of(site.people[DANA]), timezone=zone, language="de")
    html = response.get_data(True)
    assert response.status_code == 422
    assert errors(html) == {"timezone": "Choose your time zone from the list."}
    assert '<select id="f-timezone" name="timezone" aria-invalid="true"' in html
    assert "<script>alert" not in html
    assert selected(html, "timezone") == ["America/New_York"]  # what is stored
    assert selected(html, "language") == ["de"]  # what was chosen, kept for the next try
    assert '<html lang="en"' in html  # the language did not change either
    assert stored(site, DANA) == ("America/New_York", "country-guess", "en")


def test_a_language_the_series_does_not_offer_is_refused(site: Any) -> None:
    response = change(site.client(), path_of(site.people[MARC]), timezone="America/Toronto",
                      language="es")
    html = response.get_data(True)
    assert response.status_code == 422
    assert errors(html) == {"language": "Choisissez l’une des langues de la liste."}
    assert selected(html, "timezone") == ["America/Toronto"]
    assert stored(site, MARC) == ("America/Vancouver", "city", "fr")
    for zone, language in (("Atlantis", "Klingon"), ("x" * 5000, "y" * 5000)):
        both = change(site.client(), path_of(site.people[MARC]), timezone=zone,
                      language=language)
        assert both.status_code == 422
        assert set(errors(both.get_data(True))) == {"timezone", "language"}
    assert stored(site, MARC) == ("America/Vancouver", "city", "fr")


def test_posts_count_into_the_shared_rate_limit(web_app: Any, tmp_path: Path) -> None:
    from s3events.web import RateLimit

    series = open_data_series(tmp_path)
    test = web_app(series, dispatch=False, rate_limit=RateLimit(1, 600), clock=lambda: IMPORTED)
    people = import_people(test.store, series, tmp_path)
    client = test.client("198.51.100.9")
    path = path_of(people[DANA])
    assert change(client, path, timezone="America/Chicago", language="en").status_code == 200
    refused = change(client, path, timezone="America/Denver", language="en")
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"
    assert stored(test, DANA)[0] == "America/Chicago"


# -- logs -----------------------------------------------------------------------------------
def test_the_token_is_blanked_in_logs(web_app: Any, live_server: Any, tmp_path: Path,
                                      caplog: pytest.LogCaptureFixture) -> None:
    import requests

    from s3events.web.security import redact_path

    assert redact_path("/preferences/AbC-123_x") == "/preferences/…"
    assert redact_path("/events//Preferences//AbC/more?x=1") == "/events//Preferences//…?x=1"
    series = open_data_series(tmp_path)
    test = web_app(series, dispatch=False, clock=lambda: IMPORTED)
    people = import_people(test.store, series, tmp_path)
    base = live_server(test.app)
    caplog.set_level(logging.DEBUG)
    session = requests.Session()
    path = path_of(people[DANA])
    page = session.get(base + path, timeout=10).text
    session.post(base + path, data={"csrf_token": csrf(page), "timezone": "Europe/Lisbon",
                                    "language": "de"}, timeout=10)
    session.post(base + path, data={"csrf_token": csrf(page), "timezone": "Nowhere"},
                 timeout=10)
    text = "\n".join(r.getMessage() for r in caplog.records
                     if r.name.startswith(("s3events", "werkzeug", "flask", "waitress")))
    assert "GET /preferences/… 200" in text and "POST /preferences/… 200" in text
    assert "POST /preferences/… 422" in text
    for secret in (token_of(people[DANA]), "dana", "Whitfield", "Lisbon", "Nowhere"):
        assert secret not in text, secret


# -- the next messages ------------------------------------------------------------------------
def test_the_next_link_goes_out_at_the_new_zones_time_in_the_new_language(
        web_app: Any, smtp_server: Any, tmp_path: Path) -> None:
    series = open_data_series(tmp_path)
    test = web_app(series, dispatch=False, clock=lambda: IMPORTED)
    provision(test.store, series, IMPORTED - timedelta(days=1))
    people = import_people(test.store, series, tmp_path)
    dana = people[DANA]
    dispatch(test.store, series, now=IMPORTED, transport=smtp_server.url,
             base_url=test.base_url)
    assert smtp_server.wait_for(5)
    confirmation = next(m.email for m in smtp_server.messages if m.rcpt_tos == [DANA])
    text = confirmation.get_body(("plain",)).get_content()
    assert f"{test.base_url}{path_of(dana)}" in text
    (link,) = rows(test.store, registration_id=dana.id, kind="link", session_id="s1")
    assert link.due_at == DUE_NEW_YORK
    response = change(test.client(), path_of(dana), timezone="America/Los_Angeles",
                      language="de")
    assert "Ihre Änderungen sind gespeichert" in response.get_data(True)
    (link,) = rows(test.store, registration_id=dana.id, kind="link", session_id="s1")
    assert (link.due_at, link.state) == (DUE_LOS_ANGELES, "pending")
    before = len(smtp_server.messages)
    early = dispatch(test.store, series, now=DUE_NEW_YORK + timedelta(minutes=30),
                     transport=smtp_server.url, base_url=test.base_url)
    assert all(m.rcpt_tos != [DANA] for m in smtp_server.messages[before:]), early
    dispatch(test.store, series, now=DUE_LOS_ANGELES + timedelta(minutes=1),
             transport=smtp_server.url, base_url=test.base_url)
    mails = [m.email for m in smtp_server.messages[before:] if m.rcpt_tos == [DANA]]
    assert len(mails) == 1
    mail = mails[0]
    body = mail.get_body(("plain",)).get_content()
    assert mail["Subject"].startswith("Ihr Link für Sitzung 1: Daten veröffentlichen")
    assert "Mittwoch, 5. November 2025, 07:00–08:30 (Ortszeit Los Angeles)" in body
    assert "New York" not in body and "Hello" not in body


def test_a_zone_kept_under_a_name_the_list_lacks_is_shown_selected(site: Any) -> None:
    from s3events.store import registrations

    marc = site.people[MARC]
    with site.store.begin() as conn:
        conn.execute(registrations.update().where(registrations.c.id == marc.id)
                     .values(timezone="Asia/Calcutta"))
    html = site.client().get(path_of(marc)).get_data(True)
    assert '<select id="f-timezone" name="timezone" aria-describedby="f-timezone-hint">\n' \
           '<option value="Asia/Calcutta" selected>heure de Calcutta (Asia/Calcutta)</option>' \
           in html
    assert selected(html, "timezone") == ["Asia/Calcutta"]
