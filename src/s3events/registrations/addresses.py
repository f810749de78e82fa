"""Email addresses: validated and normalised once, at the edge, so one mailbox is one key.

:func:`clean_email` checks an address with ``email-validator`` (the library pydantic uses;
no DNS lookups) and returns its normalised form: Unicode NFC, the domain in lower case and
as Unicode (``user@xn--mnchen-3ya.de`` becomes ``user@münchen.de``), the local part as
written (``josé@example.org`` is accepted: RFC 6531 allows it). :func:`email_key` is how
registrations are matched: the normalised address in lower case, so ``Ana@Example.ORG``,
``ana@example.org`` and an IDN domain written as A-labels or U-labels are one person.


Checking a domain is two thirds of email-validator's work, and a file holds few domains
(thousands of people at one university), so :func:`remember_domains` memoises
email-validator's own domain check, a pure function of the domain: the result is the same,
each domain is checked once.
"""

from __future__ import annotations

import functools
import importlib
import unicodedata
from typing import Any

from email_validator import EmailNotValidError, validate_email

from ..terminal import shown

__all__ = ["clean_email", "email_key"]

#: What email-validator accepts as the longest address (RFC 3696 errata 1690).
MAX_EMAIL_LENGTH = 254


def remember_domains() -> None:
    """Memoise email-validator's domain check (same answers, each domain checked once).

    The check is looked up by name in the module that calls it; if a release of
    email-validator names it otherwise, nothing changes and every address is checked in
    full, as before.
    """
    module = importlib.import_module("email_validator.validate_email")
    check: Any = getattr(module, "validate_email_domain_name", None)
    if check is None or hasattr(check, "cache_info"):
        return

    @functools.lru_cache(maxsize=8192)
    def cached(domain: str, **options: Any) -> Any:
        return check(domain, **options)

    def remembered(domain: str, **options: Any) -> dict[str, Any]:
        return dict(cached(domain, **options))  # a copy: callers may not change ours

    remembered.cache_info = cached.cache_info  # type: ignore[attr-defined]
    setattr(module, "validate_email_domain_name", remembered)  # noqa: B010 - a library name


remember_domains()


def clean_email(value: str) -> str:
    """The normalised address, or ``ValueError`` with email-validator's reason."""
    text = unicodedata.normalize("NFC", value.strip()).removeprefix("mailto:").strip()
    if not text:
        raise ValueError("an email address is required")
    if len(text) > MAX_EMAIL_LENGTH:
        raise ValueError(f"is {len(text)} characters long; an email address has at most "
                         f"{MAX_EMAIL_LENGTH}")
    try:
        checked = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{shown(text)} is not an email address: {exc}") from None
    return checked.normalized


def email_key(email: str) -> str:
    """How addresses are compared: the normalised form in lower case.

    An address that does not validate (stored before validation was this strict) is
    compared trimmed and in lower case, as it always was.
    """
    try:
        return clean_email(email).lower()
    except ValueError:
        return email.strip().lower()
