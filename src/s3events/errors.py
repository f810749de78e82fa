"""The errors s3events raises, in one tree.

Every error a caller should handle derives from :class:`S3EventsError`. Errors carry
context (file and line, platform and session, HTTP status, the vendor's own message) as
attributes, and their ``str()`` is a sentence meant for a person::

    S3EventsError
    ├── SeriesError            a series file that cannot be used (every problem listed)
    ├── InputError             other bad input: registrations file, CLI value, template
    │   └── MissingStateError      a command that reads the state found no state database
    ├── ConfigurationError     a platform or transport is missing an option, or is unknown
    ├── PluginError            a plugin failed to load, or two plugins claim one name
    ├── StoreError             the state database cannot be opened or is from a newer version
    ├── CertificateFontError   a certificate needs letters no certificate font has
    └── ServiceError           a remote service (video platform, messaging API, SMTP) failed
        ├── AuthenticationError    credentials refused (HTTP 401, bad token)
        ├── PermissionDenied       authenticated, but not allowed (HTTP 403), with the vendor's hint
        ├── NotFound               the meeting or message is not there (HTTP 404 / 410)
        ├── InvalidRequest         the service rejected what we sent (HTTP 400, 409, 422 …)
        ├── RateLimited            slow down (HTTP 429 or a vendor signal); ``retry_after`` seconds
        └── ServiceUnavailable     the service is down or unreachable (5xx, timeouts, no route)

Third-party exceptions are translated at the boundary with ``raise ... from exc`` so the
original stays available as ``__cause__``. The CLI turns :class:`InputError`,
:class:`SeriesError` and :class:`ConfigurationError` into exit status 2 and every other
:class:`S3EventsError` into exit status 1, printing only the message.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from .masking import mask_credentials

__all__ = [
    "AuthenticationError",
    "CertificateFontError",
    "ConfigurationError",
    "InputError",
    "InvalidRequest",
    "MissingStateError",
    "NotFound",
    "PermissionDenied",
    "PluginError",
    "Problem",
    "RateLimited",
    "S3EventsError",
    "SeriesError",
    "ServiceError",
    "ServiceUnavailable",
    "StoreError",
]


class S3EventsError(Exception):
    """Base class of every error s3events raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file: where it is, and what to do about it."""

    message: str
    file: str | None = None
    line: int | None = None
    path: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        field = f" {self.path}:" if self.path else ""
        prefix = f"{where}:" if where else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{prefix}{field} {tag}{self.message}".strip()


class InputError(S3EventsError):
    """Bad input from a person: a file, a row, an option value. Exit status 2."""

    def __init__(self, message: str, *, problems: Iterable[Problem] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class SeriesError(InputError):
    """A series file has errors. ``problems`` lists every one, with file, line and field."""

    def __init__(self, problems: Iterable[Problem], *, file: str | None = None) -> None:
        problems = list(problems)
        errors = [p for p in problems if p.severity == "error"]
        head = f"{file or 'series'}: {len(errors)} problem(s)"
        super().__init__("\n".join([head, *(f"  {p}" for p in problems)]), problems=problems)
        self.file = file

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class ConfigurationError(InputError):
    """A platform, transport or option is unknown or missing. Exit status 2."""


class MissingStateError(InputError):
    """No state database where one was named: nothing was provisioned or imported there yet.

    Commands that only read the state raise it instead of creating an empty database, so
    a typo in ``--state`` or a forgotten ``S3EVENTS_STATE`` is an error (exit status 2), not
    a run that finds nothing to do. ``where`` is the path or URL as given, without password.
    """

    def __init__(self, where: str) -> None:
        super().__init__(f"no state database at {where}: run provision or registrations "
                         "import first")
        self.where = where


class PluginError(S3EventsError):
    """A plugin could not be loaded, or registers a name another plugin already has."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        super().__init__(message)
        self.plugin = plugin


class StoreError(S3EventsError):
    """The state database cannot be used."""


class CertificateFontError(S3EventsError):
    """A certificate needs letters that no certificate font has (see the series' ``fonts``).

    It concerns one person's certificate, so a dispatch run fails that message alone and
    goes on; ``scripts`` names the writing systems missing (``Arabic``, ``CJK`` …), never
    the person. ``written`` holds what :func:`~s3events.certificates.write_certificates`
    wrote for the others.
    """

    def __init__(self, message: str, *, scripts: tuple[str, ...] = (),
                 written: list[Any] | None = None) -> None:
        super().__init__(message)
        self.scripts = scripts
        self.written = written or []


class ServiceError(S3EventsError):
    """A remote service failed. Subclasses say how; attributes say where.

    ``service`` is the platform or transport name (``zoom``, ``smtp`` …), ``status`` the HTTP
    status when there was one, ``vendor_message`` what the vendor said (anything in it that
    looks like a credential masked: vendors echo what they were sent), ``hint`` what the
    person running s3events can do about it, ``session_id`` the session being worked on.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        service: str | None = None,
        status: int | None = None,
        vendor_message: str | None = None,
        hint: str | None = None,
        session_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.service = service
        self.status = status
        self.vendor_message = mask_credentials(vendor_message) if vendor_message else (
            vendor_message)
        self.hint = hint
        self.session_id = session_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [super().__str__()]
        if self.vendor_message and self.vendor_message not in parts[0]:
            parts.append(f"({self.service or 'service'} said: {self.vendor_message})")
        if self.session_id:
            parts.append(f"[session {self.session_id}]")
        if self.hint:
            parts.append(f"— {self.hint}")
        return " ".join(parts)


class AuthenticationError(ServiceError):
    """The service refused our credentials. Check the client id, secret or token."""


class PermissionDenied(ServiceError):
    """Authenticated, but not allowed to do this. ``hint`` names the missing scope or policy."""


class NotFound(ServiceError):
    """The meeting or resource does not exist (any more)."""


class InvalidRequest(ServiceError):
    """The service rejected the request as invalid. Retrying the same request will not help."""


class RateLimited(ServiceError):
    """The service asked us to slow down. ``retry_after`` is in seconds when it said."""

    retryable = True


class ServiceUnavailable(ServiceError):
    """The service is down, timed out, or could not be reached."""

    retryable = True
