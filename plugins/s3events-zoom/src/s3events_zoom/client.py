"""HTTP for the Zoom adapter: the Server-to-Server OAuth token and Zoom's error signals.

Zoom's Server-to-Server OAuth apps get a token with the ``account_credentials`` grant and
HTTP Basic client authentication. There is no refresh token: a new token is fetched when
the cached one is within a minute of ``expires_in`` (or after a 401).

Zoom signals two kinds of rate limit with HTTP 429. The per-second kind carries
``Retry-After`` in seconds and is retried by :class:`~s3events.http.HttpClient`. The daily
kind (100 meeting creates and updates per host and day) carries ``Retry-After`` as an ISO
timestamp (or nothing) and is raised at once as :class:`~s3events.errors.RateLimited`, with
the time it resets: retrying within the same run cannot succeed.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import requests

from s3events.errors import NotFound, RateLimited, ServiceError
from s3events.http import (
    HttpClient,
    Token,
    TokenProvider,
    error_body,
    error_for_status,
    parse_retry_after,
)

__all__ = ["HINTS", "ZoomHttpClient", "ZoomTokenProvider", "parse_zoom_error"]

SERVICE = "zoom"

#: Advice per HTTP status, shown with the error.
HINTS: dict[int, str] = {
    401: (
        "check account_id, client_id and client_secret of the Zoom Server-to-Server OAuth "
        "app (S3EVENTS_ZOOM_ACCOUNT_ID, S3EVENTS_ZOOM_CLIENT_ID, S3EVENTS_ZOOM_CLIENT_SECRET) "
        "and that the app is activated in the Zoom App Marketplace"
    ),
    403: (
        "add the scopes meeting:write:meeting:admin, meeting:update:meeting:admin, "
        "meeting:delete:meeting:admin, meeting:read:meeting:admin and "
        "meeting:read:list_meetings:admin (classic apps: meeting:write:admin and "
        "meeting:read:admin) to the Server-to-Server OAuth app, then check that user_id "
        "names a licensed user of the same account"
    ),
}

USER_HINT = "check the user_id option: the host's email address or Zoom user id"
DAILY_HINT = (
    "Zoom allows 100 meeting creates and updates per host and day; run provisioning again "
    "after the reset (meetings made so far are kept), or spread sessions over several hosts"
)
#: Zoom error codes meaning "this meeting is not there" (whatever the HTTP status).
MEETING_GONE_CODES = frozenset({3001})
USER_GONE_CODES = frozenset({1001})


def parse_zoom_error(response: requests.Response) -> tuple[str | None, str | None]:
    """(message, code) from a Zoom error body, including field-level validation errors."""
    body = error_body(response)
    if not isinstance(body, dict):
        return (body, None)
    message = body.get("message") or body.get("reason") or body.get("error_description")
    message = message or body.get("error")
    details = [
        f"{item.get('field')}: {item.get('message')}"
        for item in body.get("errors") or ()
        if isinstance(item, dict)
    ]
    if details:
        message = f"{message or 'invalid request'} ({'; '.join(details)})"
    code = body.get("code")
    return (str(message) if message else None, str(code) if code is not None else None)


def is_daily_limit(response: requests.Response) -> bool:
    """True for Zoom's daily-limit 429 (header ``X-RateLimit-Type: Daily-limit`` or message)."""
    if response.status_code != 429:
        return False
    if response.headers.get("X-RateLimit-Type", "").lower().startswith("daily"):
        return True
    message, _code = parse_zoom_error(response)
    return bool(message and "daily" in message.lower())


class ZoomTokenProvider(TokenProvider):
    """Server-to-Server OAuth: ``grant_type=account_credentials``, Basic client auth."""

    def __init__(
        self,
        *,
        token_url: str,
        account_id: str,
        client_id: str,
        client_secret: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self._token_url = token_url
        self._account_id = account_id
        pair = f"{client_id}:{client_secret}".encode()
        self._basic = "Basic " + base64.b64encode(pair).decode("ascii")

    def fetch(self, client: HttpClient) -> Token:
        """Ask Zoom for a new access token (there is no refresh token)."""
        return self.request_token(
            client, self._token_url,
            {"grant_type": "account_credentials", "account_id": self._account_id},
            headers={"Authorization": self._basic}, service=SERVICE, vendor="Zoom",
            hint=HINTS[401], refused="Zoom refused the Server-to-Server OAuth credentials")


class ZoomHttpClient(HttpClient):
    """:class:`~s3events.http.HttpClient` with Zoom's error codes and daily rate limit."""

    def __init__(self, base_url: str, *, clock: Callable[[], float] = time.time,
                 **kwargs: Any) -> None:
        super().__init__(SERVICE, base_url, hints=HINTS, error_parser=parse_zoom_error,
                         clock=clock, **kwargs)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """As :meth:`HttpClient.request`, but a daily-limit 429 is raised without retrying."""
        ok = kwargs.pop("ok", None) or (lambda r: r.status_code < 400)
        response = super().request(
            method, path, ok=lambda r: ok(r) or is_daily_limit(r), **kwargs
        )
        if is_daily_limit(response):
            raise self.daily_limit_error(response)
        return response

    def error(self, response: requests.Response, *, action: str) -> ServiceError:
        """Map a failed response, reading Retry-After with the injected clock."""
        message, code = self.error_parser(response)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=self.clock())
        status = response.status_code
        code_num = int(code) if code and code.isdigit() else None
        if code_num in MEETING_GONE_CODES:
            return NotFound(f"Zoom: the meeting does not exist or has expired ({action})",
                            service=SERVICE, status=status, vendor_message=message)
        hint = USER_HINT if code_num in USER_GONE_CODES else self.hints.get(status)
        return error_for_status(status, service=SERVICE, vendor_message=message, hint=hint,
                                retry_after=retry_after, action=action)

    def daily_limit_error(self, response: requests.Response) -> RateLimited:
        """The error for Zoom's daily create/update limit, saying when it resets."""
        message, _code = self.error_parser(response)
        now = self.clock()
        wait = parse_retry_after(response.headers.get("Retry-After"), now=now)
        if wait is None:  # Zoom resets the daily count at 00:00 UTC
            wait = 86400.0 - (now % 86400.0)
        resets = datetime.fromtimestamp(now + wait, tz=timezone.utc)
        return RateLimited(
            "Zoom's daily limit of meeting creates and updates for this host is used up; "
            f"it resets at {resets:%Y-%m-%d %H:%M} UTC",
            service=SERVICE, status=429, vendor_message=message, hint=DAILY_HINT,
            retry_after=wait,
        )
