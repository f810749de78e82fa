"""The event page server: the form, double opt-in, cancel links, and what keeps bots out.

Driven through Flask's test client against a real SQLite state and a real SMTP server
(aiosmtpd); the browser tests (test_browser.py) drive the same app in Chromium.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from s3events.loading import load_series
from s3events.registrations import get_registration, list_registrations, register
from s3events.store import ledger, registrations
from tests.fixtures.browser import WEB_NOW
from tests.fixtures.series import REFERENCE, minimal_series_data

# Until the root conftest lists it: the web app, live server and browser fixtures.

pytest.importorskip("flask", reason="the web app needs Flask (pip install 's3events[web]')")

GOOD = {"name": "José Peña", "email": "jose.pena@example.org", "language": "es",
        "timezone": "America/Lima", "country": "PE", "organisation": "Ministerio",
        "sector": "public-administration", "sessions": ["day-1", "day-2", "day-3", "day-4",
                                                        "day-5"], "consent": "yes"}


def csrf_token(client: Any, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(True))
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def post(client: Any, path: str = "/es/register", *, token: str | None = None,
         **fields: Any) -> Any:
    page = path.rsplit("register", 1)[0]
    data = {**GOOD, **fields, "csrf_token": token or csrf_token(client, page)}
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def counts(store: Any) -> tuple[int, int]:
    with store.connect() as conn:
        people = conn.execute(select(func.count()).select_from(registrations)).scalar_one()
        messages = conn.execute(select(func.count()).select_from(ledger)).scalar_one()
    return people, messages


def errors(html: str) -> dict[str, str]:
    """Field → error message shown next to it."""
    return {m.group(1): re.sub(r"<[^>]+>", "", m.group(2)).replace("Error:", "").replace(
        "Erro:", "").strip() for m in re.finditer(
        r'<p class="error" id="f-(\w+)-error">(.*?)</p>', html)}


def press_confirm(client: Any, path: str) -> Any:
    """Open the opt-in link, then press its button (a post with the page's CSRF token)."""
    page = client.get(path).get_data(True)
    found = re.search(r'<form method="post" action="([^"]+)">\s*<input type="hidden" '
                      r'name="csrf_token" value="([^"]+)">', page)
    assert found is not None, "no confirm button on the page"
    return client.post(found.group(1), data={"csrf_token": found.group(2)})


def link(text: str, kind: str) -> str:
    found = re.search(rf"(http://\S+/{kind}/[A-Za-z0-9_\-]+)", text)
    assert found is not None, f"no {kind} link in the message"
    return urlsplit(found.group(1)).path


# -- the page -------------------------------------------------------------------------------


class Labels(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, Any]] = []
        self.labels: set[str] = set()
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "label" and found.get("for"):
            self.labels.add(str(found["for"]))
        if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
            self.controls.append(found)


def test_form_labels_every_field_and_leaves_the_zone_to_the_browser(web_app: Any) -> None:
    html = web_app().client().get("/es/").get_data(True)
    parser = Labels()
    parser.feed(html)
    named = {c["name"] for c in parser.controls}
    assert {"name", "email", "language", "timezone", "country", "organisation", "sector",
            "sessions", "consent", "website"} <= named
    assert all(c.get("id") in parser.labels for c in parser.controls)
    assert '<select id="f-timezone" name="timezone" data-detect="1"' in html
    assert '<option value="America/Lima">Lima (America/Lima)</option>' in html
    assert '<option value="es" lang="es" selected>Español</option>' in html
    assert html.count('name="sessions" value="day-') == 5 and html.count(" checked>") == 5
    assert '<div class="hp" aria-hidden="true">' in html and 'tabindex="-1"' in html
    assert '<option value="PE">Perú</option>' in html


def test_pages_send_security_headers_without_inline_scripts(web_app: Any) -> None:
    client = web_app().client()
    for path in ("/", "/es/", "/static/site.js", "/es/calendar/s3-latam-2021.ics"):
        response = client.get(path)
        assert response.status_code == 200, path
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
    cookie = web_app().client().get("/").headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_site_files_are_served_with_their_types(web_app: Any) -> None:
    client = web_app().client()
    assert client.get("/static/site.js").content_type.startswith("text/javascript")
    assert client.get("/es/calendar/s3-latam-2021-day-1.ics").content_type == (
        "text/calendar; charset=utf-8")
    document = client.get("/files/agendas/day-1.es.md")
    assert document.content_type == "text/plain; charset=utf-8"
    assert document.get_data(True).startswith("# Día 1")
    assert "Agenda completa en Español" in client.get("/es/").get_data(True)
    assert client.get("/es/agenda.html").status_code == 200
    assert client.get("/xx/").status_code == 404
    assert client.get("/en/").status_code == 308  # the default language lives at /


def test_sessions_that_are_over_are_not_offered(web_app: Any) -> None:
    later = web_app(clock=lambda: datetime(2021, 11, 10, tzinfo=timezone.utc))
    client = later.client()
    html = client.get("/").get_data(True)
    assert re.findall(r'name="sessions" value="([\w-]+)"', html) == ["day-4", "day-5"]
    response = post(client, "/register", sessions=["day-1"], language="en")
    assert response.status_code == 422
    assert errors(response.get_data(True)) == {"sessions": "Choose at least one of the sessions."}
    assert counts(later.store) == (0, 0)


# -- registering ------------------------------------------------------------------------------


def test_registration_is_stored_pending_and_the_opt_in_email_goes_out_in_spanish(
        web_app: Any, smtp_server: Any) -> None:
    test = web_app()
    response = post(test.client())
    assert response.status_code == 303 and response.headers["Location"] == "/es/registered"
    page = test.client().get("/es/registered").get_data(True)
    assert "Revise su correo electrónico" in page
    reg = get_registration(test.store, "s3-latam-2021", GOOD["email"])
    assert reg is not None
    assert (reg.status, reg.language, reg.timezone, reg.country, reg.sessions, reg.source) == (
        "pending", "es", "America/Lima", "PE", None, "web")
    assert reg.consent == {"data_processing": True}
    assert smtp_server.wait_for(1)
    mail = smtp_server.messages[0].email
    assert mail["Subject"].startswith("Confirme su inscripción")
    assert mail["To"] == "José Peña <jose.pena@example.org>"
    body = mail.get_body(("plain",)).get_content()
    assert link(body, "confirm") == f"/confirm/{reg.token.get_secret_value()}"
    with test.store.connect() as conn:
        row = conn.execute(select(ledger)).one()
    assert (row.registration_id, row.kind, row.state) == (reg.id, "optin", "sent")
    assert mail["Message-ID"] == row.message_id


def test_when_the_email_cannot_go_out_the_page_says_it_will_and_a_later_run_sends_it(
        web_app: Any, smtp_server: Any) -> None:
    from s3events.dispatch import dispatch
    from s3events.ledger import status_counts

    test = web_app(transport="smtp://127.0.0.1:9?timeout=2")  # nothing listens there
    client = test.client()
    response = post(client)
    assert response.status_code == 303 and response.headers["Location"] == "/es/registered"
    assert "Le enviaremos un correo electrónico" in client.get("/es/registered").get_data(True)
    counts = {(c.kind, c.state): c.count for c in status_counts(test.store, test.series.id)}
    assert counts == {("optin", "pending"): 1}
    later = dispatch(test.store, test.series, now=test.now, transport=smtp_server.url,
                     base_url=test.base_url)
    assert later.total_sent == 1
    reg = get_registration(test.store, test.series.id, GOOD["email"])
    body = smtp_server.messages[0].email.get_body(("plain",)).get_content()
    assert link(body, "confirm") == f"/confirm/{reg.token.get_secret_value()}"


def test_submitting_again_while_pending_sends_a_new_opt_in_email(
        web_app: Any, smtp_server: Any) -> None:
    test = web_app()
    post(test.client())
    post(test.client(), language="en")
    assert smtp_server.wait_for(2)
    first, second = (m.email for m in smtp_server.messages[:2])
    assert first["Message-ID"] != second["Message-ID"]
    assert second["Subject"].startswith("Please confirm your registration")
    assert link(first.get_body(("plain",)).get_content(), "confirm") == link(
        second.get_body(("plain",)).get_content(), "confirm")
    with test.store.connect() as conn:
        assert [(r.revision, r.state) for r in conn.execute(select(ledger).order_by(
            ledger.c.id))] == [(0, "sent"), (1, "sent")]


def test_the_opt_in_link_confirms_and_the_confirmation_follows(
        web_app: Any, smtp_server: Any) -> None:
    test = web_app()
    post(test.client())
    assert smtp_server.wait_for(1)
    confirm = link(smtp_server.messages[0].email.get_body(("plain",)).get_content(), "confirm")
    page = test.client().get(confirm)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    assert page.get_data(True).count('name="csrf_token"') == 1
    assert get_registration(test.store, test.series.id, GOOD["email"]).status == "pending"
    done = press_confirm(test.client(), confirm)
    assert done.status_code == 200
    assert "Su inscripción está confirmada" in done.get_data(True)
    assert get_registration(test.store, test.series.id, GOOD["email"]).status == "confirmed"
    assert smtp_server.wait_for(2)
    confirmation = smtp_server.messages[1].email
    assert "inscripción" in confirmation["Subject"].lower()
    body = confirmation.get_body(("plain",)).get_content()
    assert link(body, "cancel") == confirm.replace("/confirm/", "/cancel/")
    again = test.client().get(confirm)  # following it again is harmless
    assert again.status_code == 200 and "Su inscripción está confirmada" in again.get_data(True)
    assert 'name="csrf_token"' not in again.get_data(True)  # nothing left to press
    assert len(list_registrations(test.store, test.series.id, status="confirmed")) == 1


def test_following_the_opt_in_link_asks_first_in_the_registrations_language(
        web_app: Any) -> None:
    test = web_app(dispatch=False)
    reg = register(test.store, test.series, {**GOOD, "language": "en", "sessions": "all"},
                   now=test.now, require_opt_in=True)
    client = test.client()
    path = f"/confirm/{reg.token.get_secret_value()}"
    page = client.get(path, headers={"Accept-Language": "es"}).get_data(True)
    assert "<h1 id=\"message-h\">Confirm your registration</h1>" in page
    assert '<button type="submit">Confirm my registration</button>' in page
    assert client.post(path, data={}).status_code == 400  # a scanner, or a forged post
    assert client.head(path).status_code == 200
    assert get_registration(test.store, test.series.id, GOOD["email"]).status == "pending"
    assert "Your registration is confirmed" in press_confirm(client, path).get_data(True)


def test_a_web_registration_schedules_nothing_for_other_people(
        web_app: Any, smtp_server: Any) -> None:
    from tests.test_dispatch_support import add_person

    test = web_app()
    for n in range(20):
        add_person(test.store, test.series, f"other{n}@example.org")
    post(test.client())
    assert smtp_server.wait_for(1)
    confirm = link(smtp_server.messages[0].email.get_body(("plain",)).get_content(), "confirm")
    press_confirm(test.client(), confirm)
    test.web.notifier.wait(30)
    reg = get_registration(test.store, test.series.id, GOOD["email"])
    with test.store.connect() as conn:
        owners = list(conn.execute(select(ledger.c.registration_id)).scalars())
    assert owners and set(owners) == {reg.id}  # the others got no rows: no full pass


def test_cancel_link_asks_first_then_cancels_on_a_csrf_protected_post(web_app: Any) -> None:
    test = web_app(dispatch=False)
    reg = register(test.store, test.series, {**GOOD, "sessions": "all"}, now=test.now)
    client = test.client()
    path = f"/cancel/{reg.token.get_secret_value()}"
    page = client.get(path).get_data(True)
    assert "¿Desea cancelar su inscripción?" in page and "Sí, cancelar mi inscripción" in page
    assert client.post(path, data={}).status_code == 400
    assert get_registration(test.store, test.series.id, GOOD["email"]).status == "confirmed"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    done = client.post(path, data={"csrf_token": token})
    assert done.status_code == 200 and "Su inscripción está cancelada" in done.get_data(True)
    assert get_registration(test.store, test.series.id, GOOD["email"]).status == "cancelled"


def test_unknown_links_are_answered_404_in_the_visitors_language(web_app: Any) -> None:
    client = web_app().client()
    for path in ("/confirm/nope", "/cancel/nope"):
        response = client.get(path, headers={"Accept-Language": "es-PE,es;q=0.9"})
        assert response.status_code == 404
        assert "Este enlace no es válido" in response.get_data(True)


def test_a_known_email_changes_nothing_and_is_told_its_status_by_email(
        web_app: Any, smtp_server: Any) -> None:
    test = web_app()
    register(test.store, test.series, {**GOOD, "sessions": "all"}, now=test.now)
    response = post(test.client(), name="Someone Else", timezone="Asia/Tokyo")
    assert response.status_code == 303 and response.headers["Location"] == "/es/registered"
    reg = get_registration(test.store, test.series.id, GOOD["email"])
    assert (reg.name, reg.timezone) == ("José Peña", "America/Lima")
    assert smtp_server.wait_for(1)
    mail = smtp_server.messages[0].email
    assert mail["To"] == "José Peña <jose.pena@example.org>"
    assert mail["Subject"].startswith("Inscripción confirmada")
    with test.store.connect() as conn:
        sent = conn.execute(select(ledger).where(ledger.c.state == "sent")).one()
    assert (sent.kind, sent.revision, sent.message_id) == ("confirmation", 1,
                                                           mail["Message-ID"])


# -- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("lang", "expected"), [
    ("es", {"email": "Escriba su dirección de correo electrónico, por ejemplo "
                     "nombre@example.org.",
            "timezone": "Elija su zona horaria de la lista.",
            "consent": "Marque la casilla para dar su conformidad; de lo contrario, no "
                       "podremos enviarle los enlaces."}),
    ("en", {"email": "Enter your email address, such as name@example.org.",
            "timezone": "Choose your time zone from the list.",
            "consent": "Tick the box to agree, or we cannot send you the links."}),
])
def test_invalid_input_gets_messages_next_to_the_fields_and_stores_nothing(
        web_app: Any, smtp_server: Any, lang: str, expected: dict[str, str]) -> None:
    test = web_app()
    path = "/es/register" if lang == "es" else "/register"
    response = post(test.client(), path, email="jose@", timezone="Mars/Olympus_Mons",
                    consent=None)
    html = response.get_data(True)
    assert response.status_code == 422
    assert errors(html) == expected
    assert 'aria-invalid="true" aria-describedby="f-email-hint f-email-error"' in html
    assert 'value="José Peña"' in html  # what was typed stays
    assert '<div class="error-summary" id="error-summary" role="alert"' in html
    assert counts(test.store) == (0, 0)
    assert smtp_server.messages == []


def test_a_post_filling_the_honeypot_is_refused_and_stored_nowhere(
        web_app: Any, smtp_server: Any) -> None:
    test = web_app()
    response = post(test.client(), website="http://spam.example")
    assert response.status_code == 400
    assert counts(test.store) == (0, 0) and smtp_server.messages == []


def test_a_post_without_a_valid_csrf_token_is_refused_and_stored_nowhere(
        web_app: Any, smtp_server: Any) -> None:
    test = web_app()
    client = test.client()
    response = client.post("/es/register", data=GOOD)
    assert response.status_code == 400
    assert "Este formulario ha caducado" in response.get_data(True)
    other = csrf_token(test.client("10.0.0.2"), "/es/")  # another visitor's token
    assert post(client, token=other).status_code == 400
    assert post(client, token="forged.token.value").status_code == 400
    assert counts(test.store) == (0, 0) and smtp_server.messages == []


def test_the_rate_limit_refuses_the_post_after_the_limit_from_one_address(
        web_app: Any) -> None:
    from s3events.web import RateLimit

    test = web_app(rate_limit=RateLimit(3, 600))
    client = test.client("203.0.113.7")
    statuses = [post(client, email=f"p{i}@").status_code for i in range(4)]
    assert statuses == [422, 422, 422, 429]
    refused = post(client)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "600"
    assert "Demasiados intentos" in refused.get_data(True)
    assert counts(test.store) == (0, 0)
    assert post(test.client("203.0.113.8")).status_code == 303  # another address


def test_a_full_series_says_waiting_list_and_confirming_joins_it(
        web_app: Any, write_series: Any, smtp_server: Any) -> None:
    data = minimal_series_data(registration={"capacity": 1})
    data["sessions"][0]["start"], data["sessions"][0]["end"] = ("2021-10-28T17:00:00",
                                                                "2021-10-28T19:30:00")
    test = web_app(load_series(write_series(data)))
    register(test.store, test.series, {**GOOD, "email": "first@example.org",
                                       "sessions": "all"}, now=test.now)
    page = test.client().get("/es/").get_data(True)
    assert "Todas las plazas están ocupadas: si se inscribe ahora" in page
    client = test.client()
    assert post(client, sessions=["s1", "s2"]).status_code == 303
    assert "pasa a la lista de espera" in client.get("/es/registered").get_data(True)
    assert smtp_server.wait_for(1)
    confirm = link(smtp_server.messages[-1].email.get_body(("plain",)).get_content(),
                   "confirm")
    assert "Está en la lista de espera" in press_confirm(client, confirm).get_data(True)
    assert get_registration(test.store, test.series.id, GOOD["email"]).status == "waitlisted"


def test_closed_registration_refuses_posts_and_stores_nothing(
        web_app: Any, write_series: Any) -> None:
    test = web_app(load_series(write_series(minimal_series_data(registration={"open": False}))))
    client = test.client()
    assert "La inscripción está cerrada." in client.get("/es/").get_data(True)
    response = client.post("/es/register", data={**GOOD, "csrf_token": "x"})
    assert response.status_code == 400  # no form, so no token either
    with test.app.test_request_context():
        token = test.web.csrf.issue("sid")
    with client.session_transaction() as session:
        session["csrf"] = "sid"
    response = client.post("/es/register", data={**GOOD, "csrf_token": token,
                                                 "sessions": ["s1"]})
    assert response.status_code == 403
    assert "La inscripción está cerrada." in response.get_data(True)
    assert counts(test.store) == (0, 0)


# -- privacy ----------------------------------------------------------------------------------


def test_logs_hold_no_address_name_or_link_token(
        web_app: Any, live_server: Any, smtp_server: Any,
        caplog: pytest.LogCaptureFixture) -> None:
    import requests

    test = web_app()
    base = live_server(test.app)
    caplog.set_level(logging.DEBUG)
    session = requests.Session()
    html = session.get(base + "/es/", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    session.post(base + "/es/register", data={**GOOD, "csrf_token": token}, timeout=10)
    assert smtp_server.wait_for(1)
    confirm = link(smtp_server.messages[0].email.get_body(("plain",)).get_content(), "confirm")
    asked = session.get(base + confirm, timeout=10).text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', asked).group(1)  # type: ignore[union-attr]
    session.post(base + confirm, data={"csrf_token": csrf}, timeout=10)
    session.post(base + "/es/register", data={**GOOD, "csrf_token": "bad"}, timeout=10)
    test.web.notifier.wait(30)
    ours = ("s3events", "werkzeug", "flask")  # not the test SMTP server's debug log
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(ours))
    assert "GET /confirm/… 200" in text and "POST /confirm/… 200" in text
    assert "POST /es/register 303" in text
    for secret in ("jose.pena", "José", "Peña", confirm.rsplit("/", 1)[1], "127.0.0.1"):
        assert secret not in text, secret


def test_web_secret_comes_from_the_environment_or_the_state(tmp_path: Any) -> None:
    from s3events.errors import ConfigurationError
    from s3events.store import open_store
    from s3events.web.security import web_secret

    with open_store(tmp_path / "a.db") as store:
        derived = web_secret(store, {})
        assert len(derived) == 32 and web_secret(store, {}) == derived
        assert web_secret(store, {"S3EVENTS_WEB_SECRET": "k" * 40}) == b"k" * 40
        with pytest.raises(ConfigurationError, match="at least 32 characters"):
            web_secret(store, {"S3EVENTS_WEB_SECRET": "short"})
    with open_store(tmp_path / "b.db") as other:
        assert web_secret(other, {}) != derived


def test_the_page_address_comes_from_the_environment_else_the_series(
        tmp_path: Any, write_series: Any) -> None:
    from s3events.web import app_from_environment

    data = minimal_series_data(dispatch={"base_url": "https://events.example.org/s3"})
    env = {"S3EVENTS_SERIES": str(write_series(data)), "S3EVENTS_WEB_SECRET": "w" * 40,
           "S3EVENTS_STATE": str(tmp_path / "state.db")}
    for given, expected in ((None, "https://events.example.org/s3"),
                            ("https://other.example.org", "https://other.example.org")):
        app = app_from_environment({**env, "S3EVENTS_BASE_URL": given} if given else env)
        web = app.extensions["s3events"]
        assert web.base_url == expected
        web.s.store.close()


def test_serve_without_flask_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from click.testing import CliRunner

    from s3events.cli import main

    monkeypatch.setitem(sys.modules, "flask", None)
    with CliRunner().isolation() as (_, err, _):
        with pytest.raises(SystemExit) as done:
            main(["serve", str(REFERENCE), "--port", "0"])
        text = err.getvalue().decode()
    assert done.value.code == 2
    assert "pip install -e '.[web]'" in text and "Traceback" not in text
    assert "s3events[web]" not in text  # s3events is installed from a clone, not from PyPI


def test_without_double_opt_in_a_registration_counts_at_once(
        web_app: Any, write_series: Any, smtp_server: Any) -> None:
    data = minimal_series_data(registration={"double_opt_in": False})
    test = web_app(load_series(write_series(data)))
    client = test.client()
    response = post(client, sessions=["s1", "s2"])
    assert response.status_code == 303
    assert "Gracias por inscribirse" in client.get("/es/registered").get_data(True)
    assert get_registration(test.store, test.series.id, GOOD["email"]).status == "confirmed"
    assert smtp_server.wait_for(1)
    assert "Confirme" not in smtp_server.messages[0].email["Subject"]  # no opt-in message


def _serving_address(process: Any, seen: list[str]) -> str:
    """Read the server's stderr up to its "serving on URL" line; return the URL."""
    for line in process.stderr:
        seen.append(line)
        found = re.search(r"serving on (http://\S+?)/? ", line)
        if found:
            return found.group(1)
    raise AssertionError(f"the server never said where it serves:\n{''.join(seen)}")


def test_serve_command_serves_the_page_until_interrupted(tmp_path: Any) -> None:
    import os
    import signal
    import subprocess
    import sys

    import requests

    # --port 0: the server binds a port the kernel picks and names it; nothing can take it
    # between choosing and binding.
    process = subprocess.Popen(
        [sys.executable, "-m", "s3events", "serve", str(REFERENCE), "--port", "0",
         "--state", str(tmp_path / "state.db"), "--transport", f"outbox:{tmp_path / 'out'}",
         "--now", "2021-10-20T12:00:00Z"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "S3EVENTS_WEB_SECRET": "s" * 40})
    seen: list[str] = []
    try:
        base = _serving_address(process, seen)
        page = requests.get(f"{base}/es/", timeout=30)
        assert page.status_code == 200
        assert 'value="day-1"' in page.text  # --now: the first session is still ahead
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl+C
        _, rest = process.communicate(timeout=30)
    err = "".join(seen) + rest
    assert process.returncode == 0, err
    assert re.match(r"http://127\.0\.0\.1:[1-9][0-9]*$", base), base
    assert "stopped" in err
    assert "GET /es/ 200" in err and "127.0.0.1 -" not in err


def test_serve_on_a_public_address_needs_a_base_url() -> None:
    from click.testing import CliRunner

    from s3events.cli import main

    with CliRunner().isolation() as (_, err, _):
        with pytest.raises(SystemExit) as done:
            main(["serve", str(REFERENCE), "--host", "0.0.0.0", "--port", "0"])
        text = err.getvalue().decode()
    assert done.value.code == 2 and "--base-url is needed" in text


# -- the parts --------------------------------------------------------------------------------


def test_rate_limit_rows_hold_a_keyed_hash_and_leave_after_the_window(tmp_path: Any) -> None:
    from datetime import timedelta

    from s3events.store import form_posts, open_store
    from s3events.web.ratelimit import PostLimiter, RateLimit

    now = [WEB_NOW]
    with open_store(tmp_path / "state.db") as store:
        limiter = PostLimiter(store, RateLimit(2, 60), key=b"k" * 32, series_id="s",
                              clock=lambda: now[0])
        assert [limiter.allow("203.0.113.7") for _ in range(3)] == [True, True, False]
        now[0] += timedelta(seconds=30)
        assert limiter.allow("203.0.113.8") and not limiter.allow("203.0.113.7")
        with store.connect() as conn:
            rows = conn.execute(select(form_posts)).mappings().all()
        assert len(rows) == 3  # the refused posts were not counted
        assert {r["client"] for r in rows} == {limiter.client("203.0.113.7"),
                                               limiter.client("203.0.113.8")}
        assert all("203.0.113" not in str(dict(r)) for r in rows)
        assert limiter.client("203.0.113.7") != PostLimiter(
            store, RateLimit(), key=b"o" * 32, series_id="s").client("203.0.113.7")
        now[0] += timedelta(seconds=30.5)  # the first two posts left the window
        assert limiter.allow("203.0.113.7") and limiter.allow("203.0.113.7")
        assert not limiter.allow("203.0.113.7")
        now[0] += timedelta(seconds=61)
        assert limiter.allow("198.51.100.1")
        with store.connect() as conn:  # every row older than the window was deleted
            left = conn.execute(select(form_posts.c.client)).scalars().all()
        assert left == [limiter.client("198.51.100.1")]


def test_the_rate_limit_holds_across_processes_sharing_the_state(
        state_url: str, smtp_server: Any) -> None:
    """Two app instances (as two processes) on one SQLite file or one PostgreSQL database."""
    from s3events.store import form_posts, open_store
    from s3events.web import RateLimit, create_app

    series = load_series(REFERENCE)
    stores = [open_store(state_url), open_store(state_url)]
    try:
        apps = [create_app(series, store=store, base_url="http://127.0.0.1:9",
                           clock=lambda: WEB_NOW, rate_limit=RateLimit(3, 600),
                           transport=smtp_server.url, dispatch=False, environ={})
                for store in stores]
        clients = [app.test_client() for app in apps]
        for client in clients:
            client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
        statuses = [post(clients[i % 2], email=f"p{i}@").status_code for i in range(4)]
        assert statuses == [422, 422, 422, 429]
        assert post(clients[0]).status_code == 429 and post(clients[1]).status_code == 429
        other = apps[1].test_client()
        other.environ_base["REMOTE_ADDR"] = "203.0.113.8"
        assert post(other).status_code == 303
        with stores[0].connect() as conn:
            rows = conn.execute(select(form_posts.c.client)).scalars().all()
        assert len(rows) == 4 and not any("203.0.113" in row for row in rows)
    finally:
        for store in stores:
            store.close()


def test_rate_limit_option_is_read_as_posts_per_seconds() -> None:
    from s3events.web import RateLimit, parse_rate_limit

    assert parse_rate_limit("5/600") == RateLimit(5, 600.0)
    assert parse_rate_limit("3") == RateLimit(3, 600.0)
    for bad in ("five/600", "0/600", "5/-1"):
        with pytest.raises(ValueError, match="such as 5/600"):
            parse_rate_limit(bad)


def test_link_tokens_are_blanked_in_logged_paths() -> None:
    from s3events.web.security import redact_path

    assert redact_path("/cancel/AbC-123_x") == "/cancel/…"
    assert redact_path("/events/confirm/AbC-123_x") == "/events/confirm/…"
    assert redact_path("/es/register") == "/es/register"


def test_csrf_tokens_are_bound_to_their_session_and_expire() -> None:
    from s3events.web.security import CsrfTokens

    tokens = CsrfTokens(b"k" * 32, max_age=3600)
    token = tokens.issue("session-1")
    assert tokens.check(token, "session-1")
    assert not tokens.check(token, "session-2")
    assert not tokens.check(token, None) and not tokens.check(None, "session-1")
    assert not CsrfTokens(b"o" * 32).check(token, "session-1")  # another secret
    assert not CsrfTokens(b"k" * 32, max_age=-1).check(token, "session-1")  # expired


def test_a_wsgi_server_builds_the_app_from_the_environment(tmp_path: Any) -> None:
    from s3events.errors import ConfigurationError
    from s3events.store import form_posts
    from s3events.web import app_from_environment

    with pytest.raises(ConfigurationError, match="set S3EVENTS_SERIES"):
        app_from_environment({})
    with pytest.raises(ConfigurationError, match="set S3EVENTS_BASE_URL"):
        app_from_environment({"S3EVENTS_SERIES": str(REFERENCE)})
    env = {"S3EVENTS_SERIES": str(REFERENCE), "S3EVENTS_BASE_URL": "https://events.example.org",
           "S3EVENTS_STATE": str(tmp_path / "state.db"), "S3EVENTS_WEB_PROXIES": "1",
           "S3EVENTS_WEB_SECRET": "w" * 40, "S3EVENTS_WEB_DISPATCH": "0"}
    app = app_from_environment(env)
    client = app.test_client()
    page = client.get("/", headers={"X-Forwarded-For": "198.51.100.4",
                                    "X-Forwarded-Proto": "https"})
    assert page.status_code == 200
    assert "Secure" in page.headers["Set-Cookie"]  # the base URL is https
    client.post("/register", data={}, headers={"X-Forwarded-For": "198.51.100.4"})
    web = app.extensions["s3events"]
    with web.s.store.connect() as conn:  # the visitor counted, not the proxy
        assert conn.execute(select(form_posts.c.client)).scalars().all() == [
            web.limiter.client("198.51.100.4")]
    assert web.s.dispatch is False
    web.s.store.close()
