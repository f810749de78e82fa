"""Value types of the series model that guard what reaches links and email headers.

A series file's values end up in places where a wrong one does harm: a URL becomes a link in
the event page, the agenda, the calendar and every HTML email (a ``javascript:`` or
``data:`` URL there runs code in the reader's browser); the sender, the organiser's name and
the titles go into email headers (a line break there adds headers such as ``Bcc:`` to every
message). These annotated types refuse such values while the file is validated, with a
message that says what to write instead:

* :data:`WebAddress` — an absolute ``http://`` or ``https://`` URL with a host, no spaces or
  control characters;
* :data:`EmailAddress` — one address (``name@example.org``), checked with
  ``email-validator`` (syntax only: no DNS lookup), internationalised ones included;
* :data:`OneLineText` — a :data:`~s3events.i18n.LocalizedText` whose texts hold no line
  break or other control character (surrounding spaces and a final newline, which YAML's
  folded strings add, are trimmed).
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Any, TypeAlias
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from .i18n import LocalizedText
from .terminal import shown

__all__ = ["EmailAddress", "OneLineText", "WebAddress", "check_email", "check_web_address"]

_WEB_SCHEMES = ("http", "https")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in text)


#: Characters RFC 3986 never allows unencoded: in a link they end an HTML attribute or a
#: ``List-Unsubscribe`` header's ``<…>``.
_NOT_IN_URLS = frozenset('"<>\\^`{|}')


def check_web_address(value: str) -> str:
    """``value`` if it is an absolute http(s) URL with a host; else ``ValueError``."""
    if _has_control(value) or any(c.isspace() for c in value):
        raise ValueError(f"{shown(value)} is not a web address: it holds spaces or control "
                         "characters")
    if any(c in _NOT_IN_URLS for c in value):
        raise ValueError(f"{shown(value)} is not a web address: it holds characters a URL "
                         'never holds as they are (" < > \\ ^ ` { | }); percent-encode them')
    try:
        parts = urlsplit(value)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise ValueError(f"{shown(value)} is not a web address: its host or port cannot be "
                         "read") from None
    if parts.scheme.lower() not in _WEB_SCHEMES:
        raise ValueError(f"{shown(value)} is not a web address: only http:// and https:// "
                         "addresses are allowed (such as https://events.example.org)")
    if not host:
        raise ValueError(f"{shown(value)} has no host; write the full address, such as "
                         "https://events.example.org/s3")
    return value


def check_email(value: str) -> str:
    """``value`` if it is one valid email address (syntax only); else ``ValueError``."""
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(f"{shown(value)} is not an email address: {exc}") from None
    return value


def _one_line(value: Any) -> Any:
    if isinstance(value, str):
        return _one_line_str(value)
    return {lang: _one_line_str(text) for lang, text in value.items()}


def _one_line_str(text: str) -> str:
    trimmed = text.strip()
    if _has_control(trimmed):
        raise ValueError(f"{shown(trimmed)} must be one line: it goes into email subjects "
                         "and headers, where a line break or control character is not allowed")
    return trimmed


WebAddress: TypeAlias = Annotated[
    str,
    AfterValidator(check_web_address),
    Field(json_schema_extra={"format": "uri"}),
]
EmailAddress: TypeAlias = Annotated[
    str,
    AfterValidator(check_email),
    Field(json_schema_extra={"format": "email"}),
]
OneLineText: TypeAlias = Annotated[LocalizedText, AfterValidator(_one_line)]
