"""The vendor API client every HTTP adapter and transport uses, and their ``close()``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ..errors import (
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)
from .bodies import ErrorParser, _default_parser, error_for_status
from .retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after
from .tokens import TokenProvider

log = logging.getLogger("s3events.http")


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
        from .. import __version__

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
        if isinstance(error, RateLimited) and not self.retry.wait_rate_limits:
            return False  # the caller pauses more than this one call (a dispatcher's channel)
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

    def pool(self, connections: int) -> None:
        """Keep up to ``connections`` connections per host, for that many calls at once.

        requests keeps 10 by default and drops the ones beyond (with a warning) when more
        calls run at once. A session passed in by the caller is left as it is.
        """
        if not self.owns_session or connections <= _POOL_DEFAULT:
            return
        adapter = HTTPAdapter(pool_connections=_POOL_DEFAULT, pool_maxsize=connections)
        for prefix in ("https://", "http://"):
            self.session.mount(prefix, adapter)

    def close(self) -> None:
        """Close the underlying session."""
        self.session.close()

    def __repr__(self) -> str:
        return f"<HttpClient {self.service} {self.redact(self.base_url)}>"


_POOL_DEFAULT = 10  # requests' own pool size per host


def _is_ok(response: requests.Response) -> bool:
    return response.status_code < 400


class HttpBacked:
    """Mixin for an adapter or transport that talks to its vendor through :attr:`http`.

    It gives :meth:`close`: the client's session is closed when the client made it, and
    left open for the caller who passed one in; and :meth:`use_connections`, which sizes
    the session's connection pool for a dispatcher sending from several threads. List it
    first among the bases so its methods are the ones used:
    ``class ZoomAdapter(HttpBacked, PlatformAdapter)``.
    """

    http: HttpClient

    def use_connections(self, count: int) -> None:
        """Pool enough connections for ``count`` calls at once on the one session."""
        self.http.pool(count)

    def close(self) -> None:
        """Close the HTTP session if this object's client made it."""
        if self.http.owns_session:
            self.http.close()
