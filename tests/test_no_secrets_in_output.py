"""Known secrets and personal data are planted, every kind of failure is driven, and no log
line, standard output or standard error holds any of them.

Planted: an SMTP password (with the ``#``, ``/`` and ``?`` that break URLs), a Zoom client
secret and access token, three people's names and emails, a registration's link token, a
guessed link token and a signed attendance-callback path. Driven, on SQLite and on
PostgreSQL: the web form with the state database locked and failing (a trigger whose error
quotes the row, as PostgreSQL's own messages do), confirm and cancel with good, bad,
locked and failing tokens, an attendance callback with a forged signature, malformed
requests, an SMTP server refusing the password, an SMTP server that is not there, a
transport URL that cannot be read, Zoom answering 401 and 500 with the credentials echoed
in its body, and an import with a broken row. The root logger is at DEBUG from the start,
so SQLAlchemy's, waitress', urllib3's and every library's records are captured with ours.
"""

from __future__ import annotations

import logging
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import responses
from sqlalchemy import create_engine, event, text

from s3events.cli import main
from s3events.loading import load_series
from s3events.registrations import get_registration
from s3events.store import Store, open_store
from s3events.testing import vendor_mock
from tests.fixtures.browser import WEB_NOW
from tests.fixtures.series import minimal_series_data

pytest.importorskip("flask", reason="the web app needs Flask (pip install 's3events[web]')")
pytest.importorskip("s3events_zoom", reason="the Zoom plugin is part of the dev install")

SMTP_USER = "mailer"
SMTP_PASSWORD = "Pl4nt3d#Smtp/Pass?w0rd"
ZOOM_SECRET = "zoomPLANTEDsecret7Qx9Lm2Kd4"
ACCESS_TOKEN = "eyPLANTEDaccessTOKEN5f8Gh2Jk"
PEOPLE = [("Quispe Plantado-Huamán", "quispe.plantado@example.org"),
          ("Wanjiru Plantedname", "wanjiru.planted@example.net"),
          ("Brokenrow Plantedperson", "broken.planted@example.com")]
GUESSED_TOKEN = "PLANTEDguessedLinkToken0123456789abc"
SIGNATURE = "PLANTEDsignatureAbCdEfGhIjKlMnOp"
BASE = "https://events.example.org"
ZOOM_API = "https://api.zoom.us/v2"
ZOOM_TOKEN_URL = "https://zoom.us/oauth/token"
ZOOM_CREATE = f"{ZOOM_API}/users/host@example.org/meetings"


@dataclass
class Seen:
    """Everything a person running s3events could read: outputs, and the log at the end."""

    outputs: list[tuple[str, str]] = field(default_factory=list)

    def add(self, where: str, text: str) -> None:
        self.outputs.append((where, text))


# -- the series and the people ---------------------------------------------------------


def series_data() -> dict[str, Any]:
    return minimal_series_data(
        dispatch={"base_url": BASE},
        platform={"name": "zoom", "options": {"account_id": "acct-1", "client_id": "client-1",
                                              "user_id": "host@example.org"}})


def registrations_file(folder: Path) -> Path:
    rows = ["name,email,language,timezone,sessions,consent"]
    rows += [f"{name},{email},es,America/Lima,all,yes" for name, email in PEOPLE[:2]]
    rows.append(f"{PEOPLE[2][0]},{PEOPLE[2][1]},es,Mars/Olympus_Mons,all,yes")  # broken
    path = folder / "people.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def planted(token: str) -> list[str]:
    """Every planted value, and the parts of them a leak would most likely show."""
    values = [SMTP_PASSWORD, quote(SMTP_PASSWORD, safe=""), "Pl4nt3d", ZOOM_SECRET,
              ACCESS_TOKEN, GUESSED_TOKEN, GUESSED_TOKEN[:16], SIGNATURE, SIGNATURE[:16],
              token, token[:16]]
    for name, email in PEOPLE:
        values += [name, *name.replace("-", " ").split()[1:], email, email.split("@")[0]]
    return values


# -- the command line ------------------------------------------------------------------


def run(seen: Seen, args: list[str], env: dict[str, str] | None = None) -> int:
    """Run ``s3events ARGS`` in this process; keep what it printed."""
    from click.testing import CliRunner

    with CliRunner().isolation(env=env) as (out, err, _):
        try:
            main(args)
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
        seen.add(f"s3events {args[0]} stdout", out.getvalue().decode())
        seen.add(f"s3events {args[0]} stderr", err.getvalue().decode())
    return code


# -- the state database: locked, failing ---------------------------------------------------


def short_waits(store: Store) -> None:
    """The app's connections give up on a lock after 0.2 s instead of 30 (test speed)."""
    statement = ("PRAGMA busy_timeout=200" if store.dialect == "sqlite"
                 else "SET lock_timeout = '200ms'")

    @event.listens_for(store.engine, "connect")
    def waits(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(statement)
        cursor.close()
        if store.dialect != "sqlite":
            dbapi_connection.commit()

    store.engine.dispose()


@contextmanager
def locked(state: str) -> Iterator[None]:
    """Another client holds the state database's write lock (SQLite) or its tables (PG)."""
    if "://" not in state:
        other = sqlite3.connect(state, timeout=5, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()
        return
    engine = create_engine(state.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as conn, conn.begin():
        conn.execute(text("LOCK TABLE s3e_registrations, s3e_form_posts, s3e_ledger "
                          "IN ACCESS EXCLUSIVE MODE"))
        yield
    engine.dispose()


@contextmanager
def failing(store: Store) -> Iterator[None]:
    """Every write of a registration fails, with an error that quotes the row on PostgreSQL."""
    if store.dialect == "sqlite":
        create = ["CREATE TRIGGER s3e_fail_i BEFORE INSERT ON s3e_registrations "
                  "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                  "CREATE TRIGGER s3e_fail_u BEFORE UPDATE ON s3e_registrations "
                  "BEGIN SELECT RAISE(ABORT, 'refused'); END"]
        drop = ["DROP TRIGGER s3e_fail_i", "DROP TRIGGER s3e_fail_u"]
    else:
        create = ["CREATE FUNCTION s3e_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                  "RAISE EXCEPTION 'refused % % %', NEW.name, NEW.email, NEW.token; END $$",
                  "CREATE TRIGGER s3e_fail BEFORE INSERT OR UPDATE ON s3e_registrations "
                  "FOR EACH ROW EXECUTE FUNCTION s3e_fail()"]
        drop = ["DROP TRIGGER s3e_fail ON s3e_registrations", "DROP FUNCTION s3e_fail()"]
    with store.begin() as conn:
        for statement in create:
            conn.execute(text(statement))
    try:
        yield
    finally:
        with store.begin() as conn:
            for statement in drop:
                conn.execute(text(statement))


# -- the web page --------------------------------------------------------------------------


def form_token(session: requests.Session, base: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', session.get(base + "/es/",
                                                                        timeout=10).text)
    assert found is not None
    return found.group(1)


def register(session: requests.Session, base: str, person: tuple[str, str]) -> int:
    name, email = person
    return session.post(base + "/es/register", timeout=30, allow_redirects=False, data={
        "name": name, "email": email, "language": "es", "timezone": "America/Lima",
        "sessions": ["s1", "s2"], "consent": "yes",
        "csrf_token": form_token(session, base)}).status_code


def press(session: requests.Session, base: str, path: str) -> int:
    """Open a confirm or cancel link and press its button."""
    page = session.get(base + path, timeout=30)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    csrf = found.group(1) if found else "none"
    return session.post(base + path, data={"csrf_token": csrf}, timeout=30).status_code


def raw(base: str, data: bytes) -> None:
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        try:
            sock.sendall(data)
            while sock.recv(65536):
                pass
        except ConnectionResetError:
            pass


def drive_the_web_page(series_path: Path, state: str, smtp_url: str,
                       live_server: Callable[..., str]) -> tuple[str, list[int]]:
    """Registrations, links and callbacks, good and bad, with the database locked and
    failing; returns the registration's token and every status answered."""
    from s3events.web import RateLimit, create_app
    from s3events.web.server import listen

    series = load_series(series_path)
    store = open_store(state)
    short_waits(store)
    sock = listen("127.0.0.1", 0)
    app = create_app(series, store=store, base_url=f"http://127.0.0.1:{sock.getsockname()[1]}",
                     transport=smtp_url, rate_limit=RateLimit(1000, 600), environ={},
                     clock=lambda: WEB_NOW)
    base = live_server(app, sock)
    web = app.extensions["s3events"]
    session = requests.Session()
    statuses = [register(session, base, PEOPLE[0])]
    web.notifier.wait(30)
    reg = get_registration(store, series.id, PEOPLE[0][1])
    assert reg is not None and reg.token is not None
    token = reg.token.get_secret_value()
    statuses += [press(session, base, f"/confirm/{GUESSED_TOKEN}"),
                 press(session, base, f"/cancel/{GUESSED_TOKEN}"),
                 session.get(f"{base}/{PEOPLE[1][1]}", timeout=10).status_code]
    with locked(state):
        statuses += [register(session, base, PEOPLE[1]),
                     press(session, base, f"/confirm/{token}"),
                     press(session, base, f"/cancel/{token}")]
    with failing(store):
        statuses += [register(session, base, PEOPLE[1]),
                     press(session, base, f"/confirm/{token}"),
                     press(session, base, f"/cancel/{token}")]
    statuses.append(session.post(f"{base}/callbacks/attendance/s1/{SIGNATURE}",
                                 data=b"\x00not a report", timeout=10).status_code)
    raw(base, f"GET /confirm/{token} HTTP/9.9\r\n\r\n".encode())
    raw(base, f"\x16\x03\x01 /cancel/{token}".encode())
    raw(base, f"POST /callbacks/attendance/s1/{SIGNATURE} HTTP/1.1\r\nX: "
              .encode() + b"a" * 70_000 + b"\r\n\r\n")
    statuses.append(press(session, base, f"/confirm/{token}"))  # works again afterwards
    web.notifier.wait(30)
    store.close()
    return token, statuses


# -- the command line against failing servers -------------------------------------------


def drive_the_commands(seen: Seen, series_path: Path, state: str, refusing_smtp: Any
                       ) -> None:
    series, folder = str(series_path), series_path.parent
    password = quote(SMTP_PASSWORD, safe="")
    code = run(seen, ["registrations", "import", series, str(registrations_file(folder)),
                      "--state", state, "--now", "2021-10-20T12:00:00Z"])
    assert code == 2  # the broken row is refused, the others kept
    for transport in (f"smtp://{SMTP_USER}:{password}@127.0.0.1:{refusing_smtp.port}",
                      f"smtp://{SMTP_USER}:{password}@127.0.0.1:{_closed_port()}",
                      f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@127.0.0.1:25",
                      f"smtp://{SMTP_USER}:{password}@[::1:25"):
        run(seen, ["dispatch", series, "--state", state, "--transport", transport,
                   "--now", "2021-10-20T12:00:00Z", "--no-progress"])
    assert run(seen, ["status", series, "--state", state]) == 0
    zoom_env = {"S3EVENTS_ZOOM_CLIENT_SECRET": ZOOM_SECRET}
    echo = (f"invalid client_secret {ZOOM_SECRET}; Authorization: Bearer {ACCESS_TOKEN}; "
            f"client_secret={ZOOM_SECRET}")
    with vendor_mock(spec="zoom-api-v2-openapi-2018.json", base_url=ZOOM_API) as mock:
        mock.add(responses.POST, ZOOM_TOKEN_URL, status=401,
                 json={"reason": echo, "error": "invalid_client"})
        run(seen, ["provision", series, "--state", state, "--now", "2021-10-20T12:00:00Z"],
            env=zoom_env)
    for status, answer in ((500, {"json": {"code": 500, "message": echo}}),
                           (400, {"body": f"<html>Bad request: {echo}</html>"})):
        with vendor_mock(spec="zoom-api-v2-openapi-2018.json", base_url=ZOOM_API) as mock:
            mock.add(responses.POST, ZOOM_TOKEN_URL, json={
                "access_token": ACCESS_TOKEN, "token_type": "bearer", "expires_in": 3600})
            mock.add(responses.GET, ZOOM_CREATE, json={"meetings": [], "next_page_token": ""})
            mock.add(responses.POST, ZOOM_CREATE, status=status, **answer)
            run(seen, ["provision", series, "--state", state,
                       "--now", "2021-10-20T12:00:00Z"], env=zoom_env)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


# -- the test ------------------------------------------------------------------------------


def _log_text(caplog: pytest.LogCaptureFixture) -> str:
    """Every record, but the test's own SMTP server's and its HTTP client's (the visitor's
    browser: it knows the links it follows)."""
    lines = []
    for record in caplog.records:
        if record.name == "mail.log" or (record.name.startswith("urllib3")
                                         and "http://127.0.0.1:" in record.getMessage()):
            continue
        lines.append(f"{record.name}: {record.getMessage()}")
        if record.exc_info:
            import traceback

            lines.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(lines)


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # the test server
def test_no_secret_or_personal_data_reaches_any_log_or_output(
        state_url: str, write_series: Any, smtp_server_factory: Any, live_server: Any,
        caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    caplog.set_level(logging.DEBUG)  # before any engine exists, so SQLAlchemy logs too
    for name in ("sqlalchemy", "waitress", "werkzeug", "flask", "urllib3", "s3events"):
        caplog.set_level(logging.DEBUG, logger=name)  # SQLAlchemy sets its own to WARNING
    series_path = write_series(series_data())
    refusing = smtp_server_factory(auth=(SMTP_USER, "the-right-password"))
    seen = Seen()
    smtp_url = f"smtp://{SMTP_USER}:{quote(SMTP_PASSWORD, safe='')}@127.0.0.1:{refusing.port}"
    token, statuses = drive_the_web_page(series_path, state_url, smtp_url, live_server)
    assert statuses[0] == 303 and statuses[1:3] == [404, 404] and statuses[3] == 404
    assert statuses[4:10] == [503] * 6, statuses
    assert statuses[10] in (403, 404) and statuses[11] == 200, statuses
    drive_the_commands(seen, series_path, state_url, refusing)
    out, err = capfd.readouterr()
    seen.add("captured stdout", out)
    seen.add("captured stderr", err)
    seen.add("log", _log_text(caplog))
    everything = "\n".join(shown for _, shown in seen.outputs)
    for failure in ("refused the user name or password",  # the SMTP server, web and CLI
                    "cannot reach SMTP server", "cannot read the host and port",
                    "refused the Server-to-Server OAuth credentials", "HTTP 500",
                    "HTTP 400",  # Zoom
                    "Mars/Olympus_Mons"):  # the broken row
        assert failure in everything, failure
    leaks = [f"{value[:6]}… in {where}" for value in planted(token)
             for where, shown in seen.outputs if value in shown]
    assert leaks == [], "\n".join(leaks)
    tracebacks = [where for where, shown in seen.outputs if "Traceback" in shown]
    assert tracebacks == []


@pytest.mark.parametrize(("said", "kept"), [
    ("invalid client_secret zoomPLANTEDsecret7Qx9Lm2Kd4", "invalid client_secret ***"),
    ('{"password": "hunter2", "user": "bob"}', '{"password": "***", "user": "bob"}'),
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig",
     "Authorization: Bearer ***"),
    ("Basic dXNlcjpwYXNz refused", "Basic *** refused"),
    ("api_key=sk_live_123&x=1", "api_key=***&x=1"),
    ("could not post to smtp://mailer:pw@mail.example.org", "could not post to "
     "smtp://mailer:***@mail.example.org"),
    ("bot token 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11 was revoked",
     "bot token *** was revoked"),
    ("session expired, token a8f3k2j9d8s7f6g5h4j3k2l1 invalid", "session expired, token *** "
     "invalid"),
])
def test_credentials_in_a_vendors_words_are_masked(said: str, kept: str) -> None:
    from s3events.errors import AuthenticationError
    from s3events.masking import mask_credentials

    assert mask_credentials(said) == kept
    error = AuthenticationError("zoom refused", service="zoom", vendor_message=said)
    assert error.vendor_message == kept and kept in str(error)


@pytest.mark.parametrize("said", [
    "Meeting 85746065123 is not found or has expired.",
    "Invalid access token.", "Token expired", "The topic is too long (max 200).",
    "check S3EVENTS_ZOOM_CLIENT_SECRET and the client_secret of the app",
    "POST /v2/users/host@example.org/meetings: scope meeting:write:meeting:admin missing",
    "(#190) error (fbtrace_id AXsgnV2Cm3ZMGF3dF_cfYIn)",  # for the vendor's support desk
])
def test_ordinary_vendor_words_stay_as_they_are(said: str) -> None:
    from s3events.masking import mask_credentials

    assert mask_credentials(said) == said
