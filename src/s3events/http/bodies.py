"""Reading vendor answers: JSON bodies, error bodies, and the error for an HTTP status."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from ..errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)


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
