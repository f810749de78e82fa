"""HTTP for the Webex adapter: the access token (given, or refreshed) and Webex error bodies.

Two ways to authenticate:

* ``access_token`` alone: used as given until Webex refuses it (a personal access token
  lasts 12 hours, so this is for trying things out);
* ``client_id`` + ``client_secret`` + ``refresh_token`` (an integration or service app): the
  adapter gets access tokens with ``grant_type=refresh_token`` from ``token_url``, caches
  each for its ``expires_in`` (less a minute) and gets a new one after a 401. When Webex
  answers with a new refresh token, it is used for the rest of the run; the operator
  stores it (see the README).

Webex counts failed requests against its scheduling quota, so 4xx answers other than 429
are never retried.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import requests

from s3events.errors import AuthenticationError
from s3events.http import HttpClient, Token, TokenProvider, error_body, json_object

__all__ = ["HINTS", "WebexTokenProvider", "parse_webex_error"]

SERVICE = "webex"

#: Advice per HTTP status, shown with the error.
HINTS: dict[int, str] = {
    401: (
        "Webex refused the token: a personal access token lasts 12 hours; for real use give "
        "client_id, client_secret and refresh_token of a Webex integration or service app "
        "(S3EVENTS_WEBEX_CLIENT_ID, S3EVENTS_WEBEX_CLIENT_SECRET, S3EVENTS_WEBEX_REFRESH_TOKEN)"
    ),
    403: (
        "the token needs the scopes meeting:schedules_write and meeting:schedules_read, and "
        "for attendance meeting:participants_read (with host_email: "
        "meeting:admin_schedule_write, meeting:admin_schedule_read and "
        "meeting:admin_participants_read), and the host needs a Webex Meetings licence on "
        "the site"
    ),
}

REFRESH_HINT = (
    "check client_id and client_secret; a refresh token expires after 90 days without use or "
    "when the integration is re-authorised: authorise it again and set the new refresh_token "
    "(S3EVENTS_WEBEX_REFRESH_TOKEN)"
)


def parse_webex_error(response: requests.Response) -> tuple[str | None, str | None]:
    """(message with details and trackingId, None) from a Webex error body."""
    body = error_body(response)
    if not isinstance(body, dict):
        return (body, None)
    message = body.get("message") or body.get("error_description") or body.get("error")
    details = [str(e.get("description")) for e in body.get("errors") or ()
               if isinstance(e, dict) and e.get("description")]
    if details:
        text = f"{message or 'invalid request'}: {'; '.join(details)}"
    else:
        text = str(message) if message else ""
    if body.get("trackingId"):
        text = f"{text} (trackingId {body['trackingId']})"
    return (text or None, None)


class WebexTokenProvider(TokenProvider):
    """A given access token, or one obtained with the refresh-token grant."""

    def __init__(
        self,
        *,
        token_url: str,
        access_token: str | None,
        client_id: str | None,
        client_secret: str | None,
        refresh_token: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self._token_url = token_url
        self._client = (client_id, client_secret) if client_id and client_secret else None
        self._refresh_token = refresh_token
        self._given = access_token
        if access_token:  # a given token has no known expiry: use it until it is refused
            self._token = Token(value=access_token, expires_at=math.inf)

    @property
    def refreshes(self) -> bool:
        """True when the adapter can get new access tokens itself."""
        return self._client is not None and bool(self._refresh_token)

    def fetch(self, client: HttpClient) -> Token:
        """Refresh the access token (or refuse, when only a given token is configured)."""
        if self._client is None or not self._refresh_token:
            raise AuthenticationError(
                "Webex refused the access token", service=SERVICE, status=401, hint=HINTS[401])
        client_id, client_secret = self._client
        return self.request_token(
            client, self._token_url,
            {"grant_type": "refresh_token", "client_id": client_id,
             "client_secret": client_secret, "refresh_token": self._refresh_token},
            action="the token refresh", service=SERVICE, vendor="Webex", hint=REFRESH_HINT,
            refused="Webex refused to refresh the access token")

    def token_from_response(self, response: requests.Response, **kwargs: Any) -> Token:
        """The access token; a new refresh token in the answer is kept for this run."""
        token = super().token_from_response(response, **kwargs)
        new_refresh = (json_object(response) or {}).get("refresh_token")
        if isinstance(new_refresh, str) and new_refresh:
            self._refresh_token = new_refresh  # kept for this run; the operator persists it
        return token
