"""Bearer tokens: cached, refreshed before they expire, read from OAuth token responses."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from ..errors import (
    AuthenticationError,
    InvalidRequest,
)
from .bodies import json_object

if TYPE_CHECKING:
    from .client import HttpClient

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
