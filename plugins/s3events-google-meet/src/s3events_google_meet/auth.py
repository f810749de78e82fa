"""Google OAuth 2.0 access tokens: a service account with delegation, or a refresh token.

Both providers cache the token and refresh it 60 seconds before ``expires_in`` says it ends
(see :class:`s3events.http.TokenProvider`).

* :class:`ServiceAccountTokens` signs an RS256 JWT with the service account's private key
  (``iss`` = the account's ``client_email``, ``sub`` = the Workspace user to act as,
  ``scope``, ``aud`` = the token URL, ``iat``, ``exp`` one hour later) and exchanges it with
  ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``. Each provider asks for one
  scope (Calendar for events, Meet for attendance), so a delegation without the Meet scope
  still lets s3events make meetings.
* :class:`RefreshTokenTokens` exchanges a user's refresh token
  (``grant_type=refresh_token``) with the OAuth client's id and secret.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from pydantic import SecretStr

from s3events.errors import ConfigurationError
from s3events.http import HttpClient, Token, TokenProvider

from .client import CALENDAR_SCOPE

__all__ = [
    "CALENDAR_SCOPE",
    "JWT_BEARER",
    "RefreshTokenTokens",
    "ServiceAccountKey",
    "ServiceAccountTokens",
    "load_service_account_key",
]

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Google accepts assertions valid for at most one hour.
ASSERTION_LIFETIME = 3600

KEY_HINT = ("download a JSON key of the service account (Google Cloud console → IAM & Admin → "
            "Service accounts → Keys → Add key → JSON) and point service_account_file at it")


@dataclass(frozen=True)
class ServiceAccountKey:
    """The parts of a service-account key file s3events uses; the private key stays hidden."""

    client_email: str
    private_key: SecretStr = field(repr=False)
    private_key_id: str | None = None


def load_service_account_key(path: Path) -> ServiceAccountKey:
    """Read a service-account JSON key file; ConfigurationError (never its contents) if unusable."""
    where = f"platform 'google-meet': service_account_file {str(path)!r}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{where} cannot be read ({exc.strerror}); {KEY_HINT}") from None
    except ValueError:
        raise ConfigurationError(f"{where} is not a JSON key file; {KEY_HINT}") from None
    if not isinstance(data, dict) or data.get("type", "service_account") != "service_account":
        raise ConfigurationError(f"{where} is not a service-account key; {KEY_HINT}")
    missing = [key for key in ("client_email", "private_key") if not data.get(key)]
    if missing:
        raise ConfigurationError(f"{where} lacks {', '.join(missing)}; {KEY_HINT}")
    return ServiceAccountKey(str(data["client_email"]), SecretStr(str(data["private_key"])),
                             str(data["private_key_id"]) if data.get("private_key_id") else None)


class _GoogleTokens(TokenProvider):
    """Shared token exchange at ``token_url`` (a form POST, safe to retry)."""

    def __init__(self, *, token_url: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(clock=clock)
        self.token_url = token_url

    def _exchange(self, client: HttpClient, form: Mapping[str, str]) -> Token:
        # Google's token errors are explained by GoogleHttpClient, so no ``refused`` here.
        return self.request_token(client, self.token_url, form, action="token request",
                                  service="google-meet", vendor="Google",
                                  hint="check the token_url option", default_expires_in=3600)


class ServiceAccountTokens(_GoogleTokens):
    """Tokens for ``subject``, obtained with a service account's signed JWT (delegation)."""

    def __init__(self, key_file: Path, subject: str, *, token_url: str,
                 clock: Callable[[], float] = time.time, scope: str = CALENDAR_SCOPE) -> None:
        super().__init__(token_url=token_url, clock=clock)
        self.key_file = key_file
        self.subject = subject
        self.scope = scope
        self._key: ServiceAccountKey | None = None

    def assertion(self) -> str:
        """The signed JWT for the token request (read the key file on first use)."""
        if self._key is None:
            self._key = load_service_account_key(self.key_file)
        now = int(self._clock())
        claims: dict[str, Any] = {
            "iss": self._key.client_email, "sub": self.subject, "scope": self.scope,
            "aud": self.token_url, "iat": now, "exp": now + ASSERTION_LIFETIME,
        }
        headers = {"kid": self._key.private_key_id} if self._key.private_key_id else None
        try:
            return jwt.encode(claims, self._key.private_key.get_secret_value(),
                              algorithm="RS256", headers=headers)
        except (ValueError, TypeError, jwt.PyJWTError):
            raise ConfigurationError(
                f"platform 'google-meet': the private key in service_account_file "
                f"{str(self.key_file)!r} cannot sign; {KEY_HINT}") from None

    def fetch(self, client: HttpClient) -> Token:
        """Exchange a fresh assertion for an access token."""
        return self._exchange(client, {"grant_type": JWT_BEARER, "assertion": self.assertion()})


class RefreshTokenTokens(_GoogleTokens):
    """Tokens from a user's refresh token and the OAuth client that obtained it."""

    def __init__(self, client_id: str, client_secret: SecretStr, refresh_token: SecretStr, *,
                 token_url: str, clock: Callable[[], float] = time.time) -> None:
        super().__init__(token_url=token_url, clock=clock)
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token

    def fetch(self, client: HttpClient) -> Token:
        """Exchange the refresh token for an access token."""
        return self._exchange(client, {
            "grant_type": "refresh_token", "client_id": self.client_id,
            "client_secret": self._client_secret.get_secret_value(),
            "refresh_token": self._refresh_token.get_secret_value(),
        })
