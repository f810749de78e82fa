"""HTTP for Google Calendar and Google Meet: Google's error bodies mapped to s3events errors.

Google answers API errors as
``{"error": {"errors": [{"reason": …}], "code": …, "message": …}}`` and token-endpoint errors
as ``{"error": "invalid_grant", "error_description": …}``. Google signals some rate limits
with **403** (reasons ``userRateLimitExceeded``, ``rateLimitExceeded``, ``quotaExceeded``):
those become :class:`~s3events.errors.RateLimited`, which :class:`~s3events.http.HttpClient`
retries with backoff; every other 403 is :class:`~s3events.errors.PermissionDenied`.

The hints name the OAuth scope the client's token carries: the Calendar scope for events,
the Meet scope (``meetings.space.readonly``) for attendance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from s3events.errors import AuthenticationError, RateLimited, ServiceError
from s3events.http import HttpClient, error_body, error_for_status, parse_retry_after

__all__ = [
    "CALENDAR_SCOPE",
    "MEET_SCOPE",
    "RATE_LIMIT_REASONS",
    "GoogleError",
    "GoogleHttpClient",
    "parse_google_error",
]

RATE_LIMIT_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"})
CALENDAR_SCOPE = "https://www.googleapis.com/auth/calendar.events"
#: Read the conferences (who took part, when) of the user's Meet spaces.
MEET_SCOPE = "https://www.googleapis.com/auth/meetings.space.readonly"

SCOPE_HINT = (
    "check that the subject (or the user who granted the refresh token) may write to "
    "calendar_id, and that domain-wide delegation for the service account's client id "
    f"includes the scope {CALENDAR_SCOPE} (Admin console → "
    "Security → Access and data control → API controls → Domain-wide delegation)")
CONFERENCE_HINT = (
    "Google creates Meet links only for a real user: use domain-wide delegation "
    "(service_account_file + subject) or a user's refresh token; a service account without "
    "delegation cannot create Meet links")
HINTS = {
    401: "check the credentials: service_account_file and subject, or client_id, "
         "client_secret and refresh_token",
    403: SCOPE_HINT,
    404: "check calendar_id: the subject must be able to see that calendar",
}
TOKEN_HINTS = {
    "unauthorized_client": "the service account may not act for the subject: in the Admin "
        "console (Security → Access and data control → API controls → Domain-wide delegation) "
        f"add its client id with the scope {CALENDAR_SCOPE}",
    "invalid_grant": "for a service account: subject must be a user of the Workspace domain "
        "and this computer's clock must be right; for a refresh token: it was revoked or has "
        "expired, obtain a new one",
    "invalid_client": "check client_id and client_secret (Google Cloud console → APIs & "
        "Services → Credentials)",
}


@dataclass(frozen=True)
class GoogleError:
    """What a Google error body says: its message, its ``reason`` codes, an OAuth error code."""

    message: str | None = None
    reasons: frozenset[str] = frozenset()
    oauth_error: str | None = None


def parse_google_error(response: requests.Response) -> GoogleError:
    """Read an API or token-endpoint error body; an unreadable body gives its text only."""
    body = error_body(response)
    if not isinstance(body, dict):
        return GoogleError(message=body)
    error = body.get("error")
    if isinstance(error, str):
        return GoogleError(message=str(body.get("error_description") or error), oauth_error=error)
    if not isinstance(error, dict):
        return GoogleError()
    items = error.get("errors")
    items = items if isinstance(items, list) else []
    reasons = frozenset(str(item["reason"]) for item in items
                        if isinstance(item, dict) and item.get("reason"))
    return GoogleError(message=str(error.get("message") or "") or None, reasons=reasons)


MEET_HINTS = {
    401: HINTS[401],
    403: "reading attendance needs the Google Meet REST API enabled in the Cloud project "
         f"(APIs & Services → Library → Google Meet REST API) and the scope {MEET_SCOPE}: "
         "in the domain-wide delegation of the service account's client id, or granted "
         "with the refresh token; the subject must be the meeting's organiser",
    404: "the conference is not there: Google keeps conference records 30 days after the "
         "meeting, or import the participant report: s3events attendance import SERIES "
         "FILE --session ID",
}


def _token_hints(scope: str) -> dict[str, str]:
    """TOKEN_HINTS, naming ``scope`` where the delegation is at fault."""
    hints = dict(TOKEN_HINTS)
    hints["unauthorized_client"] = hints["unauthorized_client"].replace(CALENDAR_SCOPE, scope)
    return hints


class GoogleHttpClient(HttpClient):
    """:class:`~s3events.http.HttpClient` that reads Google's error bodies.

    ``scope`` is the OAuth scope of the client's token (the Calendar scope by default); hints
    about delegation name it. ``hints`` replace the Calendar hints per HTTP status.
    """

    def __init__(self, service: str, base_url: str, *, scope: str = CALENDAR_SCOPE,
                 **kwargs: Any) -> None:
        super().__init__(service, base_url, **kwargs)
        self.scope = scope
        self.token_hints = _token_hints(scope)

    def error(self, response: requests.Response, *, action: str) -> ServiceError:
        """The s3events error for a failed Google response, with the vendor's reason."""
        info = parse_google_error(response)
        status = response.status_code
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if info.oauth_error is not None and status < 500:
            return AuthenticationError(
                f"Google refused the credentials during {action} ({info.oauth_error})",
                service=self.service, status=status, vendor_message=info.message,
                hint=self.token_hints.get(info.oauth_error, HINTS[401]))
        if status == 403 and info.reasons & RATE_LIMIT_REASONS:
            reason = sorted(info.reasons & RATE_LIMIT_REASONS)[0]
            return RateLimited(
                f"Google Calendar is rate limiting {action} (HTTP 403 {reason})",
                service=self.service, status=status, vendor_message=info.message,
                retry_after=retry_after,
                hint="wait and run again; Google counts requests per user and per project")
        return error_for_status(status, service=self.service, vendor_message=info.message,
                                hint=self._hint(status, info), retry_after=retry_after,
                                action=action)

    def _hint(self, status: int, info: GoogleError) -> str | None:
        if status == 400 and "conference type" in (info.message or "").lower():
            return CONFERENCE_HINT
        return self.hints.get(status) or HINTS.get(status)
