"""HTTP for the Microsoft Teams adapter: the app-only Graph token and Graph's error hints.

The token comes from the Microsoft identity platform with the client-credentials grant and
the scope ``<graph host>/.default`` (``https://graph.microsoft.com/.default`` for the global
cloud; derived from ``api_base_url`` so national clouds work too). There is no refresh
token: a new token is requested a minute before ``expires_in`` ends, or after a 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from s3events.http import HttpClient, Token, TokenProvider

__all__ = ["HINTS", "USER_HINT", "GraphTokenProvider", "graph_scope"]

SERVICE = "msteams"

#: Advice per HTTP status, shown with the error.
HINTS: dict[int, str] = {
    401: (
        "check tenant_id, client_id and client_secret of the Microsoft Entra app "
        "registration (S3EVENTS_MSTEAMS_TENANT_ID, S3EVENTS_MSTEAMS_CLIENT_ID, "
        "S3EVENTS_MSTEAMS_CLIENT_SECRET); client secrets expire, so make a new one when it has"
    ),
    403: (
        "give the app the application permission OnlineMeetings.ReadWrite.All with admin "
        "consent, and have a Teams admin allow it to act for the organiser with an "
        "application access policy: New-CsApplicationAccessPolicy -Identity s3events "
        "-AppIds <client_id>, then Grant-CsApplicationAccessPolicy -PolicyName s3events "
        "-Identity <user_id> (or -Global); changes take up to 30 minutes"
    ),
}

#: Advice when the organiser cannot be found.
USER_HINT = "check user_id: the organiser's Microsoft Entra object id"


def graph_scope(api_base_url: str) -> str:
    """``https://graph.microsoft.com/.default`` for ``https://graph.microsoft.com/v1.0``."""
    parts = urlsplit(api_base_url)
    return f"{parts.scheme}://{parts.netloc}/.default"


class GraphTokenProvider(TokenProvider):
    """App-only Microsoft Graph tokens (client credentials)."""

    def __init__(
        self,
        *,
        token_url: str,
        client_id: str,
        client_secret: str,
        scope: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(clock=clock)
        self._token_url = token_url
        self._form = {"client_id": client_id, "client_secret": client_secret,
                      "scope": scope, "grant_type": "client_credentials"}

    def fetch(self, client: HttpClient) -> Token:
        """Request a new app-only token."""
        return self.request_token(
            client, self._token_url, self._form, service=SERVICE, vendor="Microsoft Entra",
            hint=HINTS[401], refused="Microsoft Entra refused the app's credentials")
