"""Email addresses: validated and normalised once, at the edge, so one mailbox is one key.

:func:`clean_email` checks an address with ``email-validator`` (the library pydantic uses;
no DNS lookups) and returns its normalised form: Unicode NFC, the domain in lower case and
as Unicode (``user@xn--mnchen-3ya.de`` becomes ``user@münchen.de``), the local part as
written (``josé@example.org`` is accepted: RFC 6531 allows it). :func:`email_key` is how
registrations are matched: the normalised address in lower case, so ``Ana@Example.ORG``,
``ana@example.org`` and an IDN domain written as A-labels or U-labels are one person.

"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

from .text import shown

__all__ = ["clean_email", "email_key"]

#: What email-validator accepts as the longest address (RFC 3696 errata 1690).
MAX_EMAIL_LENGTH = 254


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
        raise ValueError(f"'{shown(text)}' is not an email address: {exc}") from None
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
