"""What keeps bots and other sites out of the registration form, and secrets out of logs.

(The limit of form posts per address is :mod:`s3events.web.ratelimit`.)

- :class:`CsrfTokens`: the form carries a token signed with the app's secret that names the
  visitor's session id (kept in the signed session cookie) and expires; a post whose token
  is missing, forged, expired or from another session is refused.
- :func:`web_secret`: ``S3EVENTS_WEB_SECRET``, else a key derived from the state
  database's random secret (so every process sharing the database agrees, and nothing
  secret is written to a file).
- :data:`SECURITY_HEADERS` and :func:`redact_path`: headers for every response, and request
  paths with the secret link tokens blanked for logs.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ..store import Store

__all__ = [
    "SECURITY_HEADERS",
    "CsrfTokens",
    "redact_path",
    "web_secret",
]

#: Sent with every response. No inline script or style is allowed: the page's script and
#: style sheet are files of the site.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # confirm and cancel URLs carry secret tokens
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}

_MIN_SECRET = 32
# Everything after /confirm/, /cancel/, /preferences/ or /callbacks/attendance/SESSION/, in
# any case and with doubled slashes too: the rest of such a path may be (part of) a secret.
_TOKEN_PATH = re.compile(
    r"(/(?:confirm|cancel|preferences)/+|/callbacks/+attendance/+[^/?#]*/+)[^?#]+",
    re.IGNORECASE)


class CsrfTokens:
    """Signed, expiring tokens bound to one session id (``itsdangerous``, which Flask uses)."""

    def __init__(self, secret: bytes, *, max_age: int = 4 * 3600) -> None:
        from itsdangerous import URLSafeTimedSerializer

        self._serializer = URLSafeTimedSerializer(secret, salt="s3events-csrf")
        self.max_age = max_age

    def issue(self, session_id: str) -> str:
        """A token for a form shown to the session ``session_id``."""
        return str(self._serializer.dumps(session_id))

    def check(self, token: str | None, session_id: str | None) -> bool:
        """True when ``token`` was issued for ``session_id`` and has not expired."""
        from itsdangerous import BadSignature

        if not token or not session_id:
            return False
        try:
            found = self._serializer.loads(token, max_age=self.max_age)
        except BadSignature:  # also covers expired tokens
            return False
        return isinstance(found, str) and hmac.compare_digest(found, session_id)


def web_secret(store: Store, environ: Mapping[str, str] | None = None) -> bytes:
    """The key that signs session cookies and CSRF tokens.

    ``S3EVENTS_WEB_SECRET`` (at least 32 characters) when set; else derived from the state
    database's random secret, made on first use.
    """
    environ = os.environ if environ is None else environ
    given = environ.get("S3EVENTS_WEB_SECRET")
    if given is not None:
        if len(given) < _MIN_SECRET:
            raise ConfigurationError(
                f"S3EVENTS_WEB_SECRET must be at least {_MIN_SECRET} characters; make one with "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'")
        return given.encode()
    from ..provision import state_secret

    secret = state_secret(store, create=True)
    assert secret is not None
    return hmac.new(secret.get_secret_value().encode(), b"s3events-web",
                    hashlib.sha256).digest()


def redact_path(path: str) -> str:
    """A request path for logs: the secret token of a person's links blanked.

    Confirm, cancel and preferences links lose their token, an attendance callback
    address its signature, and so does whatever follows a token (a path that holds one
    in any form keeps none of it).
    """
    return _TOKEN_PATH.sub(r"\1…", path)
