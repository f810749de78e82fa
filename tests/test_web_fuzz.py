"""Property tests of the registration form: whatever a post holds, a clean answer.

Hypothesis posts arbitrary field sets and values, arbitrary bytes under arbitrary content
types and encodings, arbitrary CSRF and honeypot values, and any string as the email
address, to the app on SQLite and on PostgreSQL. The only answers allowed are 2xx, 3xx or
4xx, never a 5xx and never an error in the log; a post that is a good registration is kept,
and an email address the form refuses gets the email field's own message.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from s3events.loading import load_series
from s3events.registrations import get_registration
from s3events.web.forms import FIELDS, HONEYPOT
from tests.fixtures.browser import WEB_NOW
from tests.fixtures.series import REFERENCE
from tests.test_web import GOOD, csrf_token, errors

pytest.importorskip("flask", reason="the web app needs Flask (pip install 's3events[web]')")

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=5),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
ANSWERS = {200, 303, 400, 403, 404, 405, 413, 415, 422}
EMAIL_MESSAGE = "Escriba su dirección de correo electrónico, por ejemplo nombre@example.org."

# Text a browser can send: any character but lone surrogates (which have no UTF-8).
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
NAMES = st.one_of(st.sampled_from([*FIELDS, HONEYPOT, "csrf_token"]), TEXT.map(lambda t: t[:30]))
VALUES = st.one_of(TEXT, st.lists(TEXT, max_size=4),
                   st.sampled_from(["yes", "es", "en", "day-1", "all", "America/Lima", "PE",
                                    "academia", "", " ", "\x00"]))
CONTENT_TYPES = st.one_of(
    st.sampled_from([
        "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=utf-8",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/x-www-form-urlencoded; charset=no-such-charset",
        "multipart/form-data; boundary=xyz", "multipart/form-data", "text/plain",
        "application/json", ""]),
    TEXT.map(lambda t: t[:80].replace("\n", " ").replace("\r", " ")))


class Poster:
    """One visitor of a test app: their session's CSRF token, and the errors logged."""

    def __init__(self, test: Any, caplog: pytest.LogCaptureFixture) -> None:
        self.test = test
        self.client = test.client()
        self.token = csrf_token(self.client, "/es/")
        self.caplog = caplog

    def post(self, **kwargs: Any) -> Any:
        before = len(self.caplog.records)
        response = self.client.post("/es/register", **kwargs)
        new = self.caplog.records[before:]
        bad = [r.getMessage() for r in new if r.levelno >= logging.ERROR
               or r.exc_info or "Traceback" in r.getMessage()]
        assert bad == [], bad
        assert response.status_code in ANSWERS, (response.status_code, kwargs)
        assert "Traceback" not in response.get_data(True)
        if currently_in_test_context():
            event(f"answered {response.status_code}")
        return response


@dataclass
class App:
    """A test app on a state database of each kind (what :class:`Poster` needs of it)."""

    app: Any
    store: Any
    series: Any

    def client(self) -> Any:
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = "198.51.100.20"
        return client


@pytest.fixture
def poster(state_url: str, caplog: pytest.LogCaptureFixture) -> Iterator[Poster]:
    """A visitor of the reference series' page, on SQLite and on PostgreSQL."""
    from s3events.store import open_store
    from s3events.web import RateLimit, create_app

    caplog.set_level(logging.INFO)
    series = load_series(REFERENCE)
    with open_store(state_url) as store:
        app = create_app(series, store=store, base_url="http://127.0.0.1:9",
                         clock=lambda: WEB_NOW, rate_limit=RateLimit(100_000, 600),
                         dispatch=False, environ={})
        yield Poster(App(app, store, series), caplog)


def _stored(poster: Poster, email: str) -> bool:
    return get_registration(poster.test.store, poster.test.series.id, email) is not None


def _form(fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if value is not None}


def test_any_field_set_and_values_get_a_clean_answer(poster: Poster) -> None:
    @FUZZ
    @given(fields=st.dictionaries(NAMES, VALUES, max_size=14), keep_token=st.booleans(),
           base=st.booleans())
    @example(fields={"name": "\x00", "email": "a@b.c\x00"}, keep_token=True, base=True)
    @example(fields={"sessions": ["day-1"] * 4, "language": "xx"}, keep_token=True, base=True)
    @example(fields={"email": "x" * 400 + "@example.org"}, keep_token=True, base=True)
    def check(fields: dict[str, Any], keep_token: bool, base: bool) -> None:
        data = {**GOOD, **fields} if base else dict(fields)
        if keep_token:
            data["csrf_token"] = poster.token
        response = poster.post(data=_form(data))
        if response.status_code == 303:  # accepted: the registration is there
            email = str(data.get("email", "")).strip()
            assert _stored(poster, email), email
        honeypot = data.get(HONEYPOT)
        if keep_token and honeypot and (not isinstance(honeypot, list) or honeypot[0]):
            assert response.status_code == 400

    check()


def test_arbitrary_bytes_under_any_content_type_get_a_clean_answer(poster: Poster) -> None:
    @FUZZ
    @given(body=st.binary(max_size=3000), content_type=CONTENT_TYPES,
           with_token=st.booleans())
    @example(body=b"--xyz\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\n\xff\xfe"
                  b"\r\n--xyz--", content_type="multipart/form-data; boundary=xyz",
             with_token=True)
    @example(body=b"name=%FF%FE%00&email=%C3%28@example.org&sessions=%ZZ",
             content_type="application/x-www-form-urlencoded", with_token=True)
    @example(body=b"\x00" * 70_000, content_type="application/x-www-form-urlencoded",
             with_token=False)
    def check(body: bytes, content_type: str, with_token: bool) -> None:
        if with_token and content_type.startswith("application/x-www-form-urlencoded"):
            body = b"csrf_token=" + poster.token.encode() + b"&" + body
        poster.post(data=body, content_type=content_type)

    check()


def test_fields_in_any_encoding_get_a_clean_answer(poster: Poster) -> None:
    @FUZZ
    @given(name=TEXT, email=TEXT, encoding=st.sampled_from(
        ["utf-8", "latin-1", "cp1252", "utf-16", "utf-16-le", "shift_jis", "koi8-r"]))
    def check(name: str, email: str, encoding: str) -> None:
        fields = {**GOOD, "name": name, "email": email, "csrf_token": poster.token}
        parts = []
        for key, value in fields.items():
            for one in value if isinstance(value, list) else [value]:
                raw = one.encode(encoding, "replace")
                parts.append(f"{key}={quote_from_bytes(raw)}")
        poster.post(data="&".join(parts).encode("ascii"),
                    content_type=f"application/x-www-form-urlencoded; charset={encoding}")

    check()


def test_any_csrf_or_honeypot_value_is_refused_without_a_trace(poster: Poster) -> None:
    @FUZZ
    @given(token=st.one_of(TEXT, st.lists(TEXT, min_size=1, max_size=3)),
           honeypot=st.one_of(st.none(), TEXT))
    @example(token="", honeypot=None)
    @example(token=".", honeypot=None)
    def check(token: Any, honeypot: str | None) -> None:
        data = {**GOOD, "csrf_token": token, HONEYPOT: honeypot}
        response = poster.post(data=_form(data))
        assert response.status_code == 400  # no token of this session: refused
        assert not _stored(poster, GOOD["email"])

    check()

    @FUZZ
    @given(honeypot=TEXT.filter(bool))
    def filled(honeypot: str) -> None:
        data = {**GOOD, "csrf_token": poster.token, HONEYPOT: honeypot}
        assert poster.post(data=data).status_code == 400
        assert not _stored(poster, GOOD["email"])

    filled()


def test_any_string_as_the_email_is_accepted_or_gets_the_fields_message(
        poster: Poster) -> None:
    @FUZZ
    @given(email=st.one_of(TEXT, st.emails(), st.builds(
        lambda local, domain: f"{local}@{domain}", TEXT.map(lambda t: t[:70]),
        st.sampled_from(["example.org", "münchen.de", "xn--mnchen-3ya.de", "例え.jp",
                         "[127.0.0.1]", "localhost", "-bad-.org", "example..org"]))))
    @example(email="josé@example.org")
    @example(email="a@b")
    @example(email="\x00@example.org")
    @example(email=" Ana@Example.ORG ")
    def check(email: str) -> None:
        response = poster.post(data={**GOOD, "email": email, "csrf_token": poster.token})
        if response.status_code == 303:
            assert _stored(poster, email.strip()), email
            return
        assert response.status_code == 422, response.status_code
        assert errors(response.get_data(True)).get("email") == EMAIL_MESSAGE

    check()


def test_a_good_registration_is_kept_after_every_kind_of_garbage(poster: Poster) -> None:
    garbage = [{"data": b"\xff" * 100, "content_type": "multipart/form-data; boundary=x"},
               {"data": {"csrf_token": poster.token, "sessions": ["\x00"] * 50}},
               {"data": {**GOOD, "csrf_token": poster.token, "email": "no-at-sign"}}]
    for kwargs in garbage:
        poster.post(**kwargs)
    response = poster.post(data={**GOOD, "csrf_token": poster.token})
    assert response.status_code == 303
    reg = get_registration(poster.test.store, poster.test.series.id, GOOD["email"])
    assert reg is not None and reg.name == GOOD["name"] and reg.status == "pending"
    assert re.fullmatch(r"/es/registered", response.headers["Location"])
