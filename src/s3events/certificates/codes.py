"""Verification codes of certificates: signed with the state secret, short enough to type.

A code is an HMAC-SHA-256 of the series, the registration and the sessions the certificate
lists, under a key derived from the state database's random secret, cut to 80 bits and
written in Crockford's base32 in four groups (``7K3M-Q9XD-2PRA-WN4E``). Nobody without the
state database can make one, and changing any character (or the sessions it lists) makes
it fail. Typing is forgiving: case, spaces and dashes do not matter, and ``O``, ``I`` and
``L`` read as ``0``, ``1`` and ``1``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

from pydantic import SecretStr

from ..errors import InputError

__all__ = ["certificate_code", "codes_equal", "normalise_code"]

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LENGTH = 16
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def _key(secret: SecretStr) -> bytes:
    return hmac.new(secret.get_secret_value().encode(), b"s3events-certificates",
                    hashlib.sha256).digest()


def certificate_code(secret: SecretStr, series_id: str, registration_id: str,
                     session_ids: Iterable[str]) -> str:
    """The code of one person's certificate listing ``session_ids``."""
    message = "\x00".join([series_id, registration_id, *sorted(session_ids)]).encode()
    number = int.from_bytes(hmac.new(_key(secret), message, hashlib.sha256).digest()[:10],
                            "big")
    chars = []
    for _ in range(_LENGTH):
        number, digit = divmod(number, 32)
        chars.append(_ALPHABET[digit])
    text = "".join(reversed(chars))
    return "-".join(text[i:i + 4] for i in range(0, _LENGTH, 4))


def normalise_code(text: str) -> str:
    """A typed code in its canonical form; :class:`InputError` if it cannot be one."""
    bare = "".join(text.upper().split()).replace("-", "").translate(_TYPED)
    if len(bare) != _LENGTH or any(c not in _ALPHABET for c in bare):
        raise InputError(f"'{text.strip()}' is not a certificate code: those are 16 letters "
                         "and digits, such as 7K3M-Q9XD-2PRA-WN4E")
    return "-".join(bare[i:i + 4] for i in range(0, _LENGTH, 4))


def codes_equal(a: str, b: str) -> bool:
    """Compare two canonical codes in constant time."""
    return hmac.compare_digest(a.encode(), b.encode())
