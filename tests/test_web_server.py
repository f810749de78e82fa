"""``serve`` as a real server: waitress, hostile requests, redirects that ignore ``Host``.

Malformed requests go over raw sockets to the same server ``s3events serve`` runs; the
logs are captured at DEBUG from every logger (waitress' included) and searched for the
client's address, tokens and tracebacks.
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys
from typing import Any

import pytest
import requests
from sqlalchemy import text

from s3events.loading import load_series
from s3events.registrations import get_registration, register
from tests.fixtures.series import minimal_series_data
from tests.test_web import GOOD, post

pytest.importorskip("flask", reason="the web app needs Flask (pip install 's3events[web]')")
pytest.importorskip("waitress", reason="serve runs on waitress (pip install 's3events[web]')")

PUBLIC = "https://events.example.org"
EVIL = "evil.example"


def raw(base: str, data: bytes) -> bytes:
    """Send ``data`` on a new connection; what came back before it closed (b"" if reset)."""
    host, port = base.removeprefix("http://").split(":")
    received = b""
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(data)
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:  # closed with our bytes unread: refused too
            pass
    return received


def status_of(answer: bytes) -> int | None:
    found = re.match(rb"HTTP/1\.[01] (\d{3}) ", answer)
    return int(found.group(1)) if found else None


def all_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every record but those of the test's own HTTP client and SMTP server."""
    lines = []
    for record in caplog.records:
        if record.name.startswith(("urllib3", "mail.log")):
            continue
        lines.append(f"{record.name} {record.levelname} {record.getMessage()}")
        if record.exc_info or record.exc_text:
            lines.append("Traceback " + str(record.exc_text or record.exc_info))
    return "\n".join(lines)


# -- malformed requests -------------------------------------------------------------------


MALFORMED = {
    "unknown HTTP version": b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    "HTTP/0.9": b"GET /\r\n\r\n",
    "TLS handshake on the plain port": (
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) * 2),
    "garbage request line": b"\x00\xffgarbage \x1b[31m\r\n\r\n",
    "garbage words": b"this is not http at all\r\n\r\n",
    "over-long header": b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 100_000 + b"\r\n\r\n",
    "bare LF in the request line": b"GET /\n HTTP/1.1\r\n\r\n",
    "lower-case method": b"get / HTTP/1.1\r\nHost: x\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_request_is_refused_without_a_crash_or_the_address_in_the_logs(
        web_app: Any, live_server: Any, caplog: pytest.LogCaptureFixture,
        request_bytes: bytes) -> None:
    caplog.set_level(logging.DEBUG)
    base = live_server(web_app().app)
    answer = raw(base, request_bytes)
    code = status_of(answer)
    assert answer == b"" or code in (400, 431), answer[:200]
    assert b"Traceback" not in answer and b"waitress" not in answer.lower()
    assert requests.get(base + "/", timeout=10).status_code == 200  # still serving
    logs = all_logs(caplog)
    assert "127.0.0.1" not in logs and "Traceback" not in logs and "\x1b" not in logs


def test_the_server_names_itself_without_a_version(web_app: Any, live_server: Any) -> None:
    base = live_server(web_app().app)
    for response in (requests.get(base + "/", timeout=10),
                     requests.get(base + "/no/such/page", timeout=10),
                     requests.post(base + "/register", timeout=10)):
        assert response.headers["Server"] == "s3events"
        assert not re.search(r"werkzeug|python|waitress|\d+\.\d+", str(response.headers),
                             re.IGNORECASE), response.headers
    refused = raw(base, MALFORMED["unknown HTTP version"])
    assert b"Server: s3events\r\n" in refused and b"waitress" not in refused.lower()


def test_request_log_lines_escape_control_characters_and_blank_tokens(
        web_app: Any, live_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    base = live_server(web_app().app)
    raw(base, b"GET /cancel/SECRETTOKEN123%0d%0aGET%20/forged%201 HTTP/1.0\r\n\r\n")
    raw(base, b"GET /es/%1b[2J%0aforged HTTP/1.0\r\n\r\n")
    raw(base, b"GET /confirm//SECRETTOKEN456 HTTP/1.0\r\n\r\n")
    lines = [r.getMessage() for r in caplog.records if r.name == "s3events.web"]
    assert "GET /cancel/… 404" in lines and "GET /confirm//… 404" in lines
    assert r"GET /es/\x1b[2J\x0aforged 404" in lines
    assert not any("SECRETTOKEN" in line or "\n" in line or "\x1b" in line for line in lines)


def test_an_error_in_the_app_is_logged_by_type_without_its_message_or_token(
        web_app: Any, live_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    test = web_app()
    reg = register(test.store, test.series, {**GOOD, "sessions": "all"}, now=test.now)
    token = reg.token.get_secret_value()
    with test.store.begin() as conn:  # every later read of a registration fails
        conn.execute(text("ALTER TABLE s3e_registrations RENAME TO s3e_gone"))
    caplog.set_level(logging.DEBUG)
    base = live_server(test.app)
    answer = requests.post(f"{base}/confirm/{token}", data={"csrf_token": "x"}, timeout=10,
                           headers={"Accept-Language": "es"})
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "60"
    assert "Se ha producido un problema" in answer.text and "Traceback" not in answer.text
    logs = all_logs(caplog)
    assert "POST /confirm/… failed: sqlalchemy.exc.OperationalError from sqlite3." in logs
    assert "in get_by_token" in logs  # where it happened: enough to find the fault
    assert "POST /confirm/… 503" in logs
    for secret in (token, token[:12], "jose.pena", "José", "127.0.0.1", "Traceback"):
        assert secret not in logs, secret


# -- redirects ----------------------------------------------------------------------------


def redirects(client: Any, sessions: list[str]) -> dict[str, str]:
    """Every redirect the app answers, by what was asked, each with ``Host: evil.example``."""
    client.environ_base["wsgi.url_scheme"] = "https"  # the session cookie may be Secure
    host = {"Host": EVIL}
    found = {path: client.get(path, headers=host) for path in (
        "/en/", "/es", "/en", "/confirm//TOKEN", "/es//", "/cancel/TOKEN/../TOKEN")}
    for path in ("/register", "/es/register"):
        page = client.get(path.removesuffix("register"), headers=host).get_data(True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        found["POST " + path] = client.post(path, headers=host, data={
            **GOOD, "email": f"r{len(found)}@example.org", "sessions": sessions,
            "csrf_token": token})
    return {path: response.headers.get("Location") for path, response in found.items()
            if 300 <= response.status_code < 400}


def test_redirects_are_absolute_on_the_configured_address_never_on_the_host_header(
        web_app: Any, write_series: Any) -> None:
    series = load_series(write_series(minimal_series_data(dispatch={"base_url": PUBLIC})))
    found = redirects(web_app(series, base_url=PUBLIC).client(), ["s1", "s2"])
    assert {"/en/", "/es", "/en", "POST /register",
            "POST /es/register"} <= set(found)
    assert found["/en/"] == PUBLIC + "/" and found["/es"] == PUBLIC + "/es/"
    assert found["POST /es/register"] == PUBLIC + "/es/registered"
    for asked, location in found.items():
        assert location.startswith(PUBLIC + "/") and EVIL not in location, (asked, location)


def test_without_a_configured_address_redirects_are_paths_on_the_same_site(
        web_app: Any) -> None:
    found = redirects(web_app().client(), GOOD["sessions"])  # no dispatch.base_url
    assert found["/en/"] == "/" and found["/es"] == "/es/"
    assert found["POST /register"] == "/registered"
    for asked, location in found.items():
        assert location.startswith("/") and not location.startswith(("//", "/\\")), asked
        assert EVIL not in location, (asked, location)


def test_redirects_over_http_keep_to_the_configured_address(
        web_app: Any, live_server: Any, write_series: Any) -> None:
    series = load_series(write_series(minimal_series_data(dispatch={"base_url": PUBLIC})))
    base = live_server(web_app(series, base_url=PUBLIC).app)
    for path in ("/es", "//evil.example/es", "/en/", "/%2F%2Fevil.example/"):
        answer = requests.get(base + path, headers={"Host": EVIL}, allow_redirects=False,
                              timeout=10)
        location = answer.headers.get("Location", "")
        assert EVIL not in location and (not location or location.startswith(PUBLIC)), path


def test_the_agenda_page_is_served_in_every_language(web_app: Any) -> None:
    client = web_app().client()
    english = client.get("/agenda.html", headers={"Host": EVIL})
    assert english.status_code == 200 and "Location" not in english.headers
    assert "Day 1" in english.get_data(True)
    assert "Día 1" in client.get("/es/agenda.html").get_data(True)
    assert client.get("/fr/agenda.html").status_code == 404  # not a language of the series


def test_a_registration_through_the_redirect_still_lands(web_app: Any) -> None:
    test = web_app()
    client = test.client()
    response = post(client)
    assert response.status_code == 303 and response.headers["Location"] == "/es/registered"
    assert client.get(response.headers["Location"]).status_code == 200
    assert get_registration(test.store, test.series.id, GOOD["email"]) is not None


# -- the command ----------------------------------------------------------------------------


def test_serve_refuses_a_port_that_is_taken_with_a_message() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "s3events", "serve", "examples/s3-latam-2021/series.yaml",
             "--port", str(port)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_exception_is_described_by_its_types_and_frames_not_its_message() -> None:
    from s3events.errors import StoreError
    from s3events.web.server import describe_exception

    def fails() -> None:
        try:
            raise KeyError("ana@example.org")
        except KeyError as exc:
            raise StoreError("Key (email)=(ana@example.org) already exists") from exc

    with pytest.raises(StoreError) as caught:
        fails()
    text = describe_exception(caught.value)
    assert text.startswith("s3events.errors.StoreError from KeyError (at ")
    assert "in fails" in text and "ana@" not in text and "already exists" not in text


def test_waitress_own_records_lose_addresses_tokens_and_exception_messages(
        web_app: Any, live_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    live_server(web_app().app)  # installs the filter on waitress' loggers
    caplog.set_level(logging.DEBUG)
    try:
        raise ValueError("Key (email)=(ana@example.org) already exists")
    except ValueError:
        logging.getLogger("waitress").exception("Exception while serving /confirm/SECRET42")
    logging.getLogger("waitress").error(
        "uncaptured python exception, closing channel <HTTPChannel 192.0.2.7:51234> "
        "(<class 'OSError'>:[Errno 104] reset [2001:db8::7]:443)")
    logging.getLogger("waitress.queue").warning("Task queue depth is 9")
    records = [r for r in caplog.records if r.name.startswith("waitress")]
    text = "\n".join(r.getMessage() for r in records)
    assert "Exception while serving /confirm/… — ValueError (at " in text
    assert "Task queue depth is 9" in text
    for secret in ("SECRET42", "ana@", "already exists", "192.0.2.7", "2001:db8"):
        assert secret not in text, secret
    assert not any(r.exc_info for r in records)
