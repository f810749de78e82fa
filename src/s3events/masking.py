"""Masking what looks like a credential in text that came from outside, such as a vendor's
error body, before it reaches an error message, the ledger or a log.

A vendor may echo what it was sent — a client secret, a bearer token, a password — in the
error it answers with. :func:`mask_credentials` replaces with ``***``:

- the credentials of an ``Authorization`` scheme (``Bearer …``, ``Basic …``, ``Digest …``);
- the value after a credential-like name (``client_secret=…``, ``"password": "…"``,
  ``api_key: …``, ``access_token …``);
- the password in a URL (``scheme://user:password@host``);
- any run of 20 or more letters, digits and ``-_~+/=`` with a digit and a lower-case
  letter in it: random tokens look like that, words and identifiers such as
  ``S3EVENTS_ZOOM_CLIENT_SECRET`` do not. A vendor's trace or request id
  (``fbtrace_id …``, ``request_id: …``) is kept for its support desk.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "mask_credentials"]

#: What a masked value becomes.
MASK = "***"

_SCHEMES = r"(Bearer|Basic|Digest)"
_SCHEME = re.compile(rf"\b{_SCHEMES}\s+[A-Za-z0-9\-._~+/=:]{{6,}}", re.IGNORECASE)
_NAMES = (r"[\w-]*(?:secret|passw(?:or)?d|pwd|token|api[_-]?key|apikey|auth[_-]?key|"
          r"authori[sz]ation|credentials?|signature|private[_-]?key)[\w-]*")
_NAMED = re.compile(
    rf"\b({_NAMES})(\"?'?\s*[:=]\s*\"?'?)(?!{re.escape(MASK)}|{_SCHEMES}\s)"
    rf"([^\s\"',;&}}\]]+)", re.IGNORECASE)
_NAMED_SPACED = re.compile(
    rf"\b({_NAMES})(\s+)(?=[^\s\"',;&]*\d)(?!{re.escape(MASK)})([^\s\"',;&]{{8,}})",
    re.IGNORECASE)
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(@)", re.IGNORECASE)
_RUN_CHARS = r"A-Za-z0-9\-_~+/="
# A vendor's trace or request id is kept: it is what their support desk asks for.
_RANDOM = re.compile(
    r"(?P<label>\b(?i:[\w-]*(?:trace|request|correlation|tracking|incident)[_ -]?id)\b"
    r"[\"']?\s*[:=]?\s*[\"']?)?"
    rf"(?<![{_RUN_CHARS}])(?=[{_RUN_CHARS}]*\d)(?=[{_RUN_CHARS}]*[a-z])"
    rf"[{_RUN_CHARS}]{{20,}}(?![{_RUN_CHARS}])")


def mask_credentials(text: str) -> str:
    """``text`` with everything that looks like a credential replaced by ``***``."""
    text = _SCHEME.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _URL_PASSWORD.sub(rf"\1{MASK}\2", text)
    text = _NAMED.sub(rf"\1\2{MASK}", text)
    text = _NAMED_SPACED.sub(rf"\1\2{MASK}", text)
    return _RANDOM.sub(_mask_random, text)


def _mask_random(match: re.Match[str]) -> str:
    value = match.group()
    if match.group("label"):
        return value
    if "/" in value and not re.search(r"[A-Za-z0-9]{20}", value.replace("/", "")):
        return value  # a path such as /v2/users/me/meetings, not a token
    return MASK
