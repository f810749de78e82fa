"""Bots against the running server, over real HTTP with ``requests``: refused, stored nowhere."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from s3events.store import ledger, registrations

# Until the root conftest lists it: the web app, live server and browser fixtures.

pytest.importorskip("flask", reason="the web app needs Flask (pip install 's3events[web]')")

FORM = {"name": "Bot", "email": "bot@example.org", "language": "en",
        "timezone": "Europe/Brussels", "sessions": ["day-1"], "consent": "yes"}


def stored(store: Any) -> int:
    with store.connect() as conn:
        return sum(conn.execute(select(func.count()).select_from(table)).scalar_one()
                   for table in (registrations, ledger))


def token(session: requests.Session, base: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', session.get(base + "/",
                                                                        timeout=10).text)
    assert found is not None
    return found.group(1)


def test_bots_are_refused_over_http_and_nothing_is_stored(
        web_app: Any, live_server: Any, smtp_server: Any) -> None:
    test = web_app()
    base = live_server(test.app)
    bare = requests.post(base + "/register", data=FORM, timeout=10)
    assert bare.status_code == 400  # no session, no token
    session = requests.Session()
    honeypot = session.post(base + "/register", timeout=10, data={
        **FORM, "csrf_token": token(session, base), "website": "http://spam.example"})
    assert honeypot.status_code == 400
    foreign = requests.Session()
    stolen = foreign.post(base + "/register", data={**FORM, "csrf_token": token(session, base)},
                          timeout=10)
    assert stolen.status_code == 400  # a token from another session
    assert stored(test.store) == 0 and smtp_server.messages == []
    fine = session.post(base + "/register", data={**FORM, "csrf_token": token(session, base)},
                        timeout=10, allow_redirects=False)
    assert fine.status_code == 303 and stored(test.store) == 2  # the person, their opt-in


def test_the_n_plus_first_post_from_one_address_is_refused(
        web_app: Any, live_server: Any) -> None:
    from s3events.web import RateLimit

    test = web_app(rate_limit=RateLimit(2, 600))
    base = live_server(test.app)
    session = requests.Session()
    csrf = token(session, base)
    answers = [session.post(base + "/register", data={**FORM, "email": "x@", "csrf_token": csrf},
                            timeout=10).status_code for _ in range(3)]
    assert answers == [422, 422, 429]
    assert session.get(base + "/", timeout=10).status_code == 200  # reading is not limited
    assert stored(test.store) == 0
