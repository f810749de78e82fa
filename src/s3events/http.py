"""HTTP for adapters: one ``requests.Session``, timeouts, retries, tokens, error mapping.

:class:`HttpClient` is what platform adapters and messaging transports use to talk to
vendors. It gives every adapter the same behaviour:

* a timeout on every call;
* retries with exponential backoff and jitter on 429 (honouring ``Retry-After`` given as
  seconds, an HTTP date or an ISO 8601 timestamp; a wait longer than the policy's
  ``max_wait`` is not slept through but raised as :class:`~s3events.errors.RateLimited`)
  and, for idempotent calls only, on 5xx and connection errors (a connection that could not
  even be opened is retried for every call: nothing reached the vendor);
* a bearer token from a :class:`TokenProvider`, cached, refreshed before it expires, and
  refreshed once more (with one retry) when the vendor answers 401; OAuth token responses
  read and checked by :meth:`TokenProvider.token_from_response`, form-posted token requests
  made by :meth:`TokenProvider.request_token`;
* vendor errors mapped to :mod:`s3events.errors`, with the vendor's message and a hint;
* a ``redact`` hook for secrets that travel in URLs (a bot token in the path): what the
  client raises and logs goes through it.

Adapters take the ``requests.Session`` from the caller when given, so tests mock it with
``responses``; the clock and ``sleep`` are injectable too. :class:`HttpBacked` gives an
adapter or transport built on one client its ``close()``: the session is closed when the
client made it, and left to the caller who passed it in.
"""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import requests

from .errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)

__all__ = [
    "HttpBacked",
    "HttpClient",
    "RetryPolicy",
    "Token",
    "TokenProvider",
    "error_body",
    "error_for_status",
    "json_object",
    "parse_retry_after",
]

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: seconds, an HTTP date or ISO 8601."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    now = time.time() if now is None else now
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def json_object(response: requests.Response) -> dict[str, Any] | None:
    """The response body as a JSON object, or ``None`` when it is not one (or not JSON)."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def error_body(response: requests.Response) -> dict[str, Any] | str | None:
    """What a vendor's error answer holds: its JSON object, or else the start of its text.

    A body that is not JSON gives its first 300 characters (``None`` when empty), so an
    error page from a proxy still says something; JSON that is not an object gives ``None``.
    """
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or None
    return body if isinstance(body, dict) else None


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    ``attempts`` counts every try, the first included. Backoff doubles from ``backoff`` up to
    ``max_backoff`` seconds, with jitter. ``max_wait`` is the threshold for a vendor's
    ``Retry-After``: a shorter wait is slept through and the call retried; a longer one (a
    daily quota, a flood ban) is not waited at all but raised at once as
    :class:`~s3events.errors.RateLimited` carrying ``retry_after``, so a caller with a
    ledger (the dispatcher) can come back that much later instead of hanging. A transport
    that must never block long passes, say, ``RetryPolicy(max_wait=10)``.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_wait: float = 120.0

    def waits_out(self, retry_after: float | None) -> bool:
        """Whether a vendor's ``Retry-After`` is short enough to sleep through."""
        return retry_after is None or retry_after <= self.max_wait

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Wait before retry number ``attempt`` (1-based): ``retry_after`` when given."""
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base / 2 + random.uniform(0, base / 2)


@dataclass
class Token:
    """An access token, when it stops being usable and when it was obtained (epoch seconds)."""

    value: str
    expires_at: float
    obtained_at: float | None = None

    def __repr__(self) -> str:
        return f"Token(value='**********', expires_at={self.expires_at})"


class TokenProvider(ABC):
    """Fetches and caches a bearer token; subclasses implement :meth:`fetch`.

    The token is refreshed 60 seconds before ``expires_in`` says it ends (or halfway
    through its life, for tokens that live less than two minutes), and on demand after a
    401. ``clock`` returns epoch seconds; tests pass their own.
    """

    margin = 60.0

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._token: Token | None = None
        self._lock = threading.Lock()

    @abstractmethod
    def fetch(self, client: HttpClient) -> Token:
        """Get a new token from the vendor (build it with :meth:`new_token`)."""

    def token(self, client: HttpClient, *, force: bool = False) -> str:
        """A valid token, fetching one if there is none or it is about to expire."""
        with self._lock:
            tok = self._token
            if force or tok is None or self._stale(tok):
                tok = self._token = self.fetch(client)
            return tok.value

    def _stale(self, tok: Token) -> bool:
        margin = self.margin
        if tok.obtained_at is not None:
            margin = min(margin, (tok.expires_at - tok.obtained_at) / 2)
        return self._clock() >= tok.expires_at - margin

    def new_token(self, value: str, expires_in: Any) -> Token:
        """A :class:`Token` from a token response's value and ``expires_in`` seconds."""
        now = self._clock()
        return Token(value=value, expires_at=now + float(expires_in), obtained_at=now)

    def expires_at(self, expires_in: Any) -> float:
        """Absolute expiry from a token response's ``expires_in`` seconds."""
        return self._clock() + float(expires_in)

    def request_token(
        self, client: HttpClient, url: str, form: Mapping[str, str], *, service: str,
        vendor: str | None = None, hint: str | None = None, refused: str | None = None,
        headers: Mapping[str, str] | None = None, action: str = "the token request",
        default_expires_in: float | None = None,
    ) -> Token:
        """POST ``form`` to the token endpoint ``url`` and read the answer into a Token.

        The request goes without the bearer token and is safe to retry. With ``refused``,
        a 400 or 401 answer becomes :class:`~s3events.errors.AuthenticationError` with that
        message, the vendor's own words and ``hint``; without it the client's mapping of
        the answer stands (for vendors whose token errors the client explains itself).
        The answer is read by :meth:`token_from_response`.
        """
        try:
            response = client.request("POST", url, auth=False, idempotent=True, action=action,
                                      headers=dict(headers or {}), data=dict(form))
        except (InvalidRequest, AuthenticationError) as exc:
            if refused is None:
                raise
            raise AuthenticationError(refused, service=service, status=exc.status,
                                      vendor_message=exc.vendor_message, hint=hint) from exc
        return self.token_from_response(response, service=service, vendor=vendor, hint=hint,
                                        default_expires_in=default_expires_in)

    def token_from_response(
        self, response: requests.Response, *, service: str, vendor: str | None = None,
        hint: str | None = None, default_expires_in: float | None = None,
    ) -> Token:
        """The Token in an OAuth token response (``access_token``, ``expires_in``).

        A body without a usable token raises :class:`~s3events.errors.AuthenticationError`
        naming ``vendor`` (default: ``service``), with the vendor's ``error_description``
        when it gives one, and ``hint``. ``default_expires_in`` is for vendors that may
        leave ``expires_in`` out.
        """
        vendor = vendor or service
        body = json_object(response) or {}
        lifetime = _seconds(body.get("expires_in", default_expires_in))
        if "access_token" not in body or lifetime is None:
            said = body.get("error_description") or body.get("error")
            raise AuthenticationError(
                f"{vendor}'s token response has no usable access_token/expires_in",
                service=service, status=response.status_code,
                vendor_message=str(said) if said else None, hint=hint)
        value = body["access_token"]
        if not isinstance(value, str) or not value:
            raise AuthenticationError(f"{vendor} returned an empty access token",
                                      service=service, hint=hint)
        return self.new_token(value, lifetime)

    def invalidate(self) -> None:
        """Forget the cached token."""
        self._token = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"


def _seconds(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


ErrorParser = Callable[[requests.Response], "tuple[str | None, str | None]"]


def _default_parser(response: requests.Response) -> tuple[str | None, str | None]:
    """(vendor message, vendor code) from common JSON error shapes."""
    body = error_body(response)
    if not isinstance(body, dict):
        return (body, None)
    err = body.get("error")
    if isinstance(err, dict):
        return (str(err.get("message") or err.get("code") or err), str(err.get("code", "")))
    for key in ("message", "error_description", "description", "error"):
        if body.get(key):
            return (str(body[key]), str(body.get("code", body.get("errcode", ""))) or None)
    return (None, None)


def error_for_status(
    status: int,
    *,
    service: str,
    vendor_message: str | None = None,
    hint: str | None = None,
    retry_after: float | None = None,
    action: str = "request",
) -> ServiceError:
    """The :mod:`s3events.errors` exception for an HTTP status from ``service``."""
    kwargs: dict[str, Any] = {
        "service": service, "status": status, "vendor_message": vendor_message, "hint": hint,
    }
    if status == 401:
        return AuthenticationError(
            f"{service} refused the credentials (HTTP 401) during {action}", **kwargs)
    if status == 403:
        return PermissionDenied(
            f"{service} denied permission (HTTP 403) for {action}", **kwargs)
    if status in (404, 410):
        return NotFound(f"{service}: not found (HTTP {status}) during {action}", **kwargs)
    if status == 429:
        return RateLimited(f"{service} is rate limiting (HTTP 429) {action}",
                           retry_after=retry_after, **kwargs)
    if status >= 500:
        return ServiceUnavailable(f"{service} is unavailable (HTTP {status}) for {action}",
                                  retry_after=retry_after, **kwargs)
    return InvalidRequest(f"{service} rejected the {action} (HTTP {status})", **kwargs)


class HttpClient:
    """A vendor API client: base URL, auth, timeouts, retries and error mapping.

    ``hints`` maps an HTTP status to advice for the person running s3events (for example
    the scope to add on 403). ``error_parser`` extracts (message, code) from a vendor error
    body. ``redact`` rewrites a text so it shows no secret: give it when a secret travels
    in the URL (a bot token in the path); connection errors (whose text quotes the URL),
    vendor messages and default action names then pass through it. ``owns_session`` is
    true when the client made its session itself (none was passed in).
    """

    def __init__(
        self,
        service: str,
        base_url: str,
        *,
        session: requests.Session | None = None,
        token_provider: TokenProvider | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        hints: Mapping[int, str] | None = None,
        error_parser: ErrorParser | None = None,
        user_agent: str | None = None,
        clock: Callable[[], float] = time.time,
        redact: Callable[[str], str] | None = None,
    ) -> None:
        from . import __version__

        self.service = service
        self.base_url = base_url.rstrip("/")
        self.owns_session = session is None
        self.session = session or requests.Session()
        current = str(self.session.headers.get("User-Agent") or "")
        if user_agent or not current or current.startswith("python-requests/"):
            # requests' own default says nothing useful to a vendor's support desk
            self.session.headers["User-Agent"] = user_agent or f"s3events/{__version__}"
        self.token_provider = token_provider
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.sleep = sleep
        self.hints = dict(hints or {})
        self.error_parser = error_parser or _default_parser
        self.clock = clock
        self._redact = redact

    def redact(self, text: str) -> str:
        """``text`` without the secrets the ``redact`` hook knows (unchanged without one)."""
        return self._redact(text) if self._redact is not None else text

    def url(self, path: str) -> str:
        """An absolute URL for ``path`` (absolute URLs pass through)."""
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        idempotent: bool | None = None,
        auth: bool = True,
        action: str | None = None,
        ok: Callable[[requests.Response], bool] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send a request with retries; return the response or raise a ServiceError.

        ``idempotent`` defaults from the method (POST and PATCH are not). ``ok`` decides
        whether a response is a success (default: status below 400).
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        action = action or self.redact(f"{method} {path.split('?')[0]}")
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            response = self._send(method, path, auth=auth, **kwargs)
            if isinstance(response, requests.RequestException):
                unsent = isinstance(response, requests.ConnectTimeout)
                if (idempotent or unsent) and attempt < self.retry.attempts:
                    self._wait(attempt, None, action, f"{type(response).__name__}")
                    continue
                raise ServiceUnavailable(
                    f"could not reach {self.service} for {action}: {type(response).__name__}",
                    service=self.service,
                    hint="check the network and the api_base_url option",
                ) from response
            if (ok or _is_ok)(response):
                return response
            status = response.status_code
            if status == 401 and auth and self.token_provider and not refreshed:
                refreshed = True
                self.token_provider.invalidate()
                continue
            error = self.error(response, action=action)
            if self._should_retry(error, idempotent=idempotent, attempt=attempt):
                self._wait(attempt, error.retry_after, action, f"HTTP {status}")
                continue
            raise error

    def _should_retry(self, error: ServiceError, *, idempotent: bool, attempt: int) -> bool:
        """429 always (the vendor did nothing), 5xx only when idempotent; within limits."""
        if attempt >= self.retry.attempts:
            return False
        if not self.retry.waits_out(error.retry_after):
            return False  # e.g. a daily quota: waiting here would only hang the command
        return isinstance(error, RateLimited) or (error.retryable and idempotent)

    def error(self, response: requests.Response, *, action: str) -> ServiceError:
        """The ServiceError for a failed response (override to add vendor meaning)."""
        message, _code = self.error_parser(response)
        return error_for_status(
            response.status_code,
            service=self.service,
            vendor_message=self.redact(message) if message else message,
            hint=self.hints.get(response.status_code),
            retry_after=parse_retry_after(response.headers.get("Retry-After"), now=self.clock()),
            action=action,
        )

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request` and return the decoded JSON body (``None`` when empty)."""
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise ServiceUnavailable(
                f"{self.service} answered {kwargs.get('action') or self.redact(path)} with a "
                "body that is not JSON", service=self.service, status=response.status_code,
            ) from exc

    def _send(self, method: str, path: str, *, auth: bool,
              **kwargs: Any) -> requests.Response | requests.RequestException:
        """One try: the response, or the (redacted) exception of a failed connection."""
        headers = dict(kwargs.pop("headers", None) or {})
        if auth and self.token_provider is not None:
            headers["Authorization"] = f"Bearer {self.token_provider.token(self)}"
        kwargs.setdefault("timeout", self.timeout)
        try:
            return self.session.request(method, self.url(path), headers=headers, **kwargs)
        except requests.RequestException as exc:
            return self._redacted(exc)

    def _redacted(self, exc: requests.RequestException) -> requests.RequestException:
        """``exc``, or when its text quotes a secret, a new one of its kind without it.

        The new exception is returned, not raised, so it carries no link to the original.
        """
        text = str(exc)
        clean = self.redact(text)
        if clean == text:
            return exc
        try:
            return type(exc)(clean)
        except TypeError:
            return requests.RequestException(clean)

    def _wait(self, attempt: int, retry_after: float | None, action: str, why: str) -> None:
        delay = self.retry.delay(attempt, retry_after)
        log.info("%s: %s on %s; retrying in %.1fs", self.service, why, action, delay)
        self.sleep(delay)

    def close(self) -> None:
        """Close the underlying session."""
        self.session.close()

    def __repr__(self) -> str:
        return f"<HttpClient {self.service} {self.redact(self.base_url)}>"


def _is_ok(response: requests.Response) -> bool:
    return response.status_code < 400


class HttpBacked:
    """Mixin for an adapter or transport that talks to its vendor through :attr:`http`.

    It gives :meth:`close`: the client's session is closed when the client made it, and
    left open for the caller who passed one in. List it first among the bases so its
    ``close`` is the one used: ``class ZoomAdapter(HttpBacked, PlatformAdapter)``.
    """

    http: HttpClient

    def close(self) -> None:
        """Close the HTTP session if this object's client made it."""
        if self.http.owns_session:
            self.http.close()
