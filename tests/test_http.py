"""The shared HTTP client: timeouts, retries, Retry-After, tokens and error mapping.

Vendor HTTP is mocked with ``responses``; waits go to a recording ``sleep`` and token expiry
follows a hand-moved clock, so nothing here waits for real.
"""

from __future__ import annotations

import email.utils
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses

from s3events.errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceUnavailable,
)
from s3events.http import (
    HttpBacked,
    HttpClient,
    RetryPolicy,
    Token,
    TokenProvider,
    error_body,
    json_object,
    parse_retry_after,
)

API = "https://api.video.example/v2"
TOKEN_URL = "https://auth.video.example/oauth/token"
CLIENT_SECRET = "client-secret-XYZ"
NOW = 1_635_000_000.0


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


class ClientCredentials(TokenProvider):
    """An OAuth client-credentials token, as vendor adapters fetch it."""

    def fetch(self, client: HttpClient) -> Token:
        body = client.json("POST", TOKEN_URL, auth=False, action="token request",
                           data={"grant_type": "client_credentials"},
                           headers={"Authorization": f"Basic {CLIENT_SECRET}"})
        return self.new_token(body["access_token"], body["expires_in"])


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


@pytest.fixture
def waits() -> list[float]:
    return []


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_client(waits: list[float], clock: Clock, **kwargs: Any) -> HttpClient:
    return HttpClient("video", API, sleep=waits.append, clock=clock, timeout=12.5, **kwargs)


def token_reply(rsps: responses.RequestsMock, *values: str, expires_in: int = 3600) -> None:
    for value in values:
        rsps.post(TOKEN_URL, json={"access_token": value, "expires_in": expires_in})


def test_every_call_gets_the_timeout(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    token_reply(mocked, "tok-1")
    mocked.get(f"{API}/meetings/1", json={"id": 1})
    mocked.delete(f"{API}/meetings/1", status=204)
    client = make_client(waits, clock, token_provider=ClientCredentials(clock=clock))
    client.json("GET", "/meetings/1")
    client.request("DELETE", "meetings/1")
    assert [c.request.req_kwargs["timeout"] for c in mocked.calls] == [12.5, 12.5, 12.5]


def test_requests_say_they_come_from_s3events_unless_told_otherwise(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.get(f"{API}/me", json={})
    make_client(waits, clock).request("GET", "/me")
    assert mocked.calls[0].request.headers["User-Agent"].startswith("s3events/")
    session = requests.Session()
    session.headers["User-Agent"] = "university-proxy-client/2"
    make_client(waits, clock, session=session).request("GET", "/me")
    assert mocked.calls[1].request.headers["User-Agent"] == "university-proxy-client/2"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("7", 7.0),
        (email.utils.formatdate(NOW + 30, usegmt=True), 30.0),
        ("2021-10-23T14:40:45Z", 45.0),
    ],
    ids=["seconds", "http-date", "iso-date"],
)
def test_429_waits_as_long_as_retry_after_says(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock, header: str,
    expected: float,
) -> None:
    clock.now = 1_635_000_000.0  # 2021-10-23T14:40:00Z
    mocked.get(f"{API}/users/me", status=429, headers={"Retry-After": header})
    mocked.get(f"{API}/users/me", json={"id": "me"})
    assert make_client(waits, clock).json("GET", "/users/me") == {"id": "me"}
    assert waits == [expected]


def test_429_on_a_create_is_retried_because_nothing_was_done(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(f"{API}/meetings", status=429, headers={"Retry-After": "2"})
    mocked.post(f"{API}/meetings", json={"id": 5}, status=201)
    assert make_client(waits, clock).json("POST", "/meetings", json={}) == {"id": 5}
    assert waits == [2.0]


def test_retry_after_beyond_the_longest_wait_is_raised_at_once(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    tomorrow = email.utils.formatdate(NOW + 86_400, usegmt=True)
    mocked.get(f"{API}/meetings", status=429, headers={"Retry-After": tomorrow},
               json={"message": "daily limit reached"})
    with pytest.raises(RateLimited) as caught:
        make_client(waits, clock).request("GET", "/meetings")
    assert waits == []
    assert caught.value.retry_after == 86_400
    assert "daily limit reached" in str(caught.value)


def test_rate_limit_that_persists_is_raised_after_the_attempts(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    for _ in range(3):
        mocked.get(f"{API}/meetings", status=429, headers={"Retry-After": "1"})
    client = make_client(waits, clock, retry=RetryPolicy(attempts=3))
    with pytest.raises(RateLimited) as caught:
        client.request("GET", "/meetings")
    assert waits == [1.0, 1.0]
    assert caught.value.status == 429 and caught.value.retry_after == 1.0


def test_5xx_on_an_idempotent_call_is_retried_with_growing_backoff(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.put(f"{API}/meetings/9", status=503)
    mocked.put(f"{API}/meetings/9", status=502)
    mocked.put(f"{API}/meetings/9", status=204)
    client = make_client(waits, clock, retry=RetryPolicy(backoff=1.0))
    client.request("PUT", "/meetings/9", json={})
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0  # base/2 + jitter up to base/2


def test_5xx_on_a_post_is_not_retried(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(f"{API}/meetings", status=500, json={"message": "internal error"})
    with pytest.raises(ServiceUnavailable) as caught:
        make_client(waits, clock).request("POST", "/meetings", json={})
    assert len(mocked.calls) == 1 and waits == []
    assert caught.value.status == 500
    assert str(caught.value) == ("video is unavailable (HTTP 500) for POST /meetings "
                                 "(video said: internal error)")


def test_post_marked_idempotent_is_retried_on_5xx(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(f"{API}/onlineMeetings/createOrGet", status=503)
    mocked.post(f"{API}/onlineMeetings/createOrGet", json={"id": "m"})
    client = make_client(waits, clock)
    assert client.json("POST", "/onlineMeetings/createOrGet", idempotent=True) == {"id": "m"}


def test_connection_errors_are_retried_only_for_idempotent_calls(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.get(f"{API}/meetings/1", body=requests.ConnectionError("reset"))
    mocked.get(f"{API}/meetings/1", json={"id": 1})
    mocked.post(f"{API}/meetings", body=requests.ConnectionError("reset"))
    client = make_client(waits, clock)
    assert client.json("GET", "/meetings/1") == {"id": 1}
    with pytest.raises(ServiceUnavailable) as caught:
        client.request("POST", "/meetings", json={})
    assert len(waits) == 1
    assert str(caught.value) == ("could not reach video for POST /meetings: ConnectionError "
                                 "— check the network and the api_base_url option")


def test_connect_timeout_is_retried_even_for_a_create(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(f"{API}/meetings", body=requests.ConnectTimeout("no route"))
    mocked.post(f"{API}/meetings", json={"id": 2})
    assert make_client(waits, clock).json("POST", "/meetings", json={}) == {"id": 2}
    assert len(waits) == 1


def test_token_is_cached_and_refreshed_a_minute_before_it_expires(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    token_reply(mocked, "tok-1", "tok-2")
    mocked.get(f"{API}/me", json={})
    client = make_client(waits, clock, token_provider=ClientCredentials(clock=clock))
    client.request("GET", "/me")
    clock.now = NOW + 3600 - 61
    client.request("GET", "/me")
    clock.now = NOW + 3600 - 59
    client.request("GET", "/me")
    sent = [c.request.headers.get("Authorization") for c in mocked.calls
            if c.request.url.startswith(API)]
    assert sent == ["Bearer tok-1", "Bearer tok-1", "Bearer tok-2"]
    assert sum(c.request.url == TOKEN_URL for c in mocked.calls) == 2


def test_short_lived_token_is_refreshed_halfway(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    token_reply(mocked, "tok-1", "tok-2", expires_in=60)
    mocked.get(f"{API}/me", json={})
    client = make_client(waits, clock, token_provider=ClientCredentials(clock=clock))
    client.request("GET", "/me")
    clock.now = NOW + 29
    client.request("GET", "/me")
    clock.now = NOW + 31
    client.request("GET", "/me")
    assert sum(c.request.url == TOKEN_URL for c in mocked.calls) == 2


def test_401_refreshes_the_token_once_and_retries(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    token_reply(mocked, "revoked", "fresh")
    mocked.get(f"{API}/me", status=401, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer revoked"})])
    mocked.get(f"{API}/me", json={"ok": True}, match=[
        responses.matchers.header_matcher({"Authorization": "Bearer fresh"})])
    client = make_client(waits, clock, token_provider=ClientCredentials(clock=clock))
    assert client.json("GET", "/me") == {"ok": True}
    assert waits == []


def test_401_after_a_refresh_is_bad_credentials(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    token_reply(mocked, "tok-1", "tok-2")
    mocked.get(f"{API}/me", status=401, json={"message": "Invalid access token."})
    client = make_client(waits, clock, token_provider=ClientCredentials(clock=clock),
                         hints={401: "check client_id and client_secret"})
    with pytest.raises(AuthenticationError) as caught:
        client.request("GET", "/me")
    assert sum(c.request.url == TOKEN_URL for c in mocked.calls) == 2
    assert str(caught.value) == (
        "video refused the credentials (HTTP 401) during GET /me (video said: Invalid access "
        "token.) — check client_id and client_secret")
    assert CLIENT_SECRET not in str(caught.value) and "tok-2" not in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (403, {"error": {"code": "Forbidden", "message": "Missing scope meeting:write"}},
         PermissionDenied, "video denied permission (HTTP 403) for POST /meetings (video said: "
                           "Missing scope meeting:write) — add the meeting:write scope"),
        (404, {"message": "Meeting does not exist: 9."}, NotFound,
         "video: not found (HTTP 404) during POST /meetings (video said: Meeting does not "
         "exist: 9.)"),
        (400, {"error_description": "start_time is invalid"}, InvalidRequest,
         "video rejected the POST /meetings (HTTP 400) (video said: start_time is invalid)"),
    ],
)
def test_errors_map_to_the_error_tree_with_vendor_message_and_hint(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock, status: int,
    body: dict[str, object], error: type[Exception], text: str,
) -> None:
    mocked.post(f"{API}/meetings", status=status, json=body)
    client = make_client(waits, clock, hints={403: "add the meeting:write scope"})
    with pytest.raises(error) as caught:
        client.request("POST", "/meetings", json={})
    assert str(caught.value) == text
    assert waits == []


def test_body_that_is_not_json_is_a_clear_error(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.get(f"{API}/me", body="<html>proxy login</html>", status=200)
    with pytest.raises(ServiceUnavailable, match="video answered /me with a body that is not "
                                                 "JSON"):
        make_client(waits, clock).json("GET", "/me")


def test_secrets_stay_out_of_reprs(clock: Clock, waits: list[float]) -> None:
    token = Token(value="tok-SECRET", expires_at=NOW + 10)
    assert "tok-SECRET" not in repr(token)
    provider = ClientCredentials(clock=clock)
    provider._token = token
    client = make_client(waits, clock, token_provider=provider)
    assert "tok-SECRET" not in repr(provider) + repr(client)
    assert repr(client) == f"<HttpClient video {API}>"


def test_retry_after_parsing_accepts_seconds_dates_and_rejects_junk() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("-5") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after(email.utils.formatdate(NOW - 10, usegmt=True), now=NOW) == 0.0
    assert parse_retry_after("2021-10-23T14:40:10", now=1_635_000_000.0) == 10.0


# --- shared helpers for vendor plugins ------------------------------------------------------


class FormCredentials(TokenProvider):
    """A client-credentials token fetched with the shared form-post helper."""

    def __init__(self, *, clock: Clock, refused: str | None = "Video refused the app") -> None:
        super().__init__(clock=clock)
        self.refused = refused

    def fetch(self, client: HttpClient) -> Token:
        return self.request_token(
            client, TOKEN_URL, {"grant_type": "client_credentials"}, service="video",
            vendor="Video ID", hint="check client_secret", refused=self.refused,
            headers={"Authorization": f"Basic {CLIENT_SECRET}"})


def test_request_token_posts_the_form_and_caches_the_token_it_reads(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    token_reply(mocked, "tok-1")
    mocked.get(f"{API}/me", json={})
    client = make_client(waits, clock, token_provider=FormCredentials(clock=clock))
    client.request("GET", "/me")
    client.request("GET", "/me")
    token_call = mocked.calls[0].request
    assert token_call.body == "grant_type=client_credentials"
    assert token_call.headers["Authorization"] == f"Basic {CLIENT_SECRET}"
    assert [c.request.headers["Authorization"] for c in mocked.calls[1:]] == ["Bearer tok-1"] * 2


@pytest.mark.parametrize("status", [400, 401])
def test_a_refused_token_request_is_an_authentication_error_with_the_vendors_words(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock, status: int
) -> None:
    mocked.post(TOKEN_URL, status=status,
                json={"error": "invalid_client", "error_description": "bad secret"})
    client = make_client(waits, clock, token_provider=FormCredentials(clock=clock))
    with pytest.raises(AuthenticationError) as caught:
        client.request("GET", "/me")
    assert str(caught.value) == ("Video refused the app (video said: bad secret) — "
                                 "check client_secret")
    assert caught.value.status == status
    assert CLIENT_SECRET not in str(caught.value)


def test_without_refused_the_clients_own_mapping_of_a_token_error_stands(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(TOKEN_URL, status=400, json={"error_description": "bad grant"})
    client = make_client(waits, clock, token_provider=FormCredentials(clock=clock, refused=None))
    with pytest.raises(InvalidRequest, match="bad grant"):
        client.request("GET", "/me")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"token_type": "bearer"}, "Video ID's token response has no usable "
                                   "access_token/expires_in"),
        ({"access_token": "tok", "expires_in": "soon"}, "no usable access_token/expires_in"),
        ({"error": "invalid_scope"}, r"expires_in \(video said: invalid_scope\)"),
        ({"access_token": "", "expires_in": 3600}, "Video ID returned an empty access token"),
        ({"access_token": None, "expires_in": 3600}, "empty access token"),
    ],
)
def test_a_token_response_without_a_usable_token_is_an_authentication_error(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock, body: object, message: str
) -> None:
    mocked.post(TOKEN_URL, json=body)
    client = make_client(waits, clock, token_provider=FormCredentials(clock=clock))
    with pytest.raises(AuthenticationError, match=message) as caught:
        client.request("GET", "/me")
    assert "check client_secret" in str(caught.value)


def test_a_token_response_that_is_not_json_is_an_authentication_error(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(TOKEN_URL, body="<html>sign in</html>")
    client = make_client(waits, clock, token_provider=FormCredentials(clock=clock))
    with pytest.raises(AuthenticationError, match="no usable access_token"):
        client.request("GET", "/me")


def test_a_default_lifetime_serves_vendors_that_leave_expires_in_out(clock: Clock) -> None:
    response = requests.Response()
    response.status_code = 200
    response._content = b'{"access_token": "tok-1"}'
    token = FormCredentials(clock=clock).token_from_response(
        response, service="video", default_expires_in=3600)
    assert token.value == "tok-1" and token.expires_at == NOW + 3600


TELEGRAM_STYLE = "bot123:SECRET-in-the-path"


def hide_token(text: str) -> str:
    return text.replace(TELEGRAM_STYLE, "bot<token>")


def test_a_secret_in_the_url_never_reaches_the_raised_error_or_its_chain(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    url = f"{API}/{TELEGRAM_STYLE}/send"
    mocked.post(url, body=requests.ConnectionError(f"Max retries exceeded with url: {url}"))
    client = make_client(waits, clock, redact=hide_token)
    with pytest.raises(ServiceUnavailable) as caught:
        client.request("POST", f"{TELEGRAM_STYLE}/send", json={})
    chain: list[BaseException] = []
    error: BaseException | None = caught.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    assert len(chain) == 2 and isinstance(chain[1], requests.ConnectionError)
    assert "bot<token>/send" in str(chain[1])
    assert all(TELEGRAM_STYLE not in str(e) for e in chain)


def test_the_redact_hook_covers_vendor_messages_default_actions_and_repr(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(f"{API}/{TELEGRAM_STYLE}/send", status=400,
                json={"message": f"bad request to /{TELEGRAM_STYLE}/send"})
    client = HttpClient("video", f"{API}/{TELEGRAM_STYLE}", sleep=waits.append, clock=clock,
                        redact=hide_token)
    with pytest.raises(InvalidRequest) as caught:
        client.request("POST", f"{API}/{TELEGRAM_STYLE}/send", json={})
    assert TELEGRAM_STYLE not in str(caught.value) + repr(client)
    assert "bot<token>/send" in str(caught.value)
    assert client.redact("plain text") == "plain text"


def test_retry_after_over_a_custom_threshold_is_raised_at_once_and_under_it_waited(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.get(f"{API}/me", status=429, headers={"Retry-After": "11"})
    mocked.get(f"{API}/me", status=429, headers={"Retry-After": "10"})
    mocked.get(f"{API}/me", json={})
    client = make_client(waits, clock, retry=RetryPolicy(max_wait=10))
    with pytest.raises(RateLimited) as caught:
        client.request("GET", "/me")
    assert caught.value.retry_after == 11 and waits == []
    client.request("GET", "/me")
    assert waits == [10.0]
    assert RetryPolicy(max_wait=10).waits_out(None)


class Backed(HttpBacked):
    def __init__(self, session: requests.Session | None) -> None:
        self.http = HttpClient("video", API, session=session)


def test_http_backed_close_closes_only_a_session_the_client_made(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    closed: list[requests.Session] = []
    monkeypatch.setattr(requests.Session, "close", lambda self: closed.append(self))
    given = requests.Session()
    Backed(given).close()
    assert closed == []
    made = Backed(None)
    made.close()
    assert closed == [made.http.session]
    assert made.http.owns_session and not Backed(given).http.owns_session


def test_a_client_told_not_to_wait_raises_a_429_at_once_with_the_wait(
    mocked: responses.RequestsMock, waits: list[float], clock: Clock
) -> None:
    mocked.post(f"{API}/messages", status=429, headers={"Retry-After": "4"})
    client = make_client(waits, clock, retry=RetryPolicy(wait_rate_limits=False))
    with pytest.raises(RateLimited) as caught:
        client.request("POST", "/messages", json={})
    assert caught.value.retry_after == 4.0 and waits == [] and len(mocked.calls) == 1
    mocked.get(f"{API}/meetings/1", status=503)  # other errors are retried as before
    mocked.get(f"{API}/meetings/1", json={"id": 1})
    assert client.json("GET", "/meetings/1") == {"id": 1} and len(waits) == 1


def test_use_connections_pools_enough_for_that_many_calls_at_once() -> None:
    made = Backed(None)
    made.use_connections(24)
    adapter = made.http.session.get_adapter("https://api.video.example/")
    assert adapter._pool_maxsize == 24  # type: ignore[attr-defined]
    given = requests.Session()
    before = given.get_adapter("https://api.video.example/")
    Backed(given).use_connections(24)  # a session the caller made is the caller's to size
    assert given.get_adapter("https://api.video.example/") is before


def test_json_object_is_the_body_only_when_it_is_a_json_object() -> None:
    def response(content: bytes) -> requests.Response:
        built = requests.Response()
        built._content = content
        return built

    assert json_object(response(b'{"ok": true}')) == {"ok": True}
    assert json_object(response(b"[1, 2]")) is None
    assert json_object(response(b"<html>")) is None


def test_error_body_is_the_json_object_or_else_the_start_of_the_text() -> None:
    def response(content: bytes) -> requests.Response:
        built = requests.Response()
        built._content = content
        return built

    assert error_body(response(b'{"message": "no"}')) == {"message": "no"}
    assert error_body(response(b"<html>" + b"x" * 400)) == "<html>" + "x" * 294
    assert error_body(response(b"  ")) is None
    assert error_body(response(b'["not", "an", "object"]')) is None
