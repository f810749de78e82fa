"""Text from people, checked before it is stored.

:func:`clean_text` is how every free-text value of a registration is read: Unicode NFC,
spaces collapsed, no control characters (a NUL byte, an escape sequence, bytes that were
not valid in the file's encoding), no longer than its column. Values quoted in messages go
through :func:`s3events.terminal.shown`, so nothing in them can act on a terminal.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

__all__ = ["CONTROL", "TextTooLong", "clean_text"]

#: C0 and C1 control characters but tab and line ends (which become spaces), and the
#: lone surrogates that stand for bytes the file's encoding could not read.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


class TextTooLong(ValueError):
    """A value longer than its limit: refused, never cut (``length`` and ``limit`` say why)."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"is {length} characters long; the limit is {limit}")
        self.length, self.limit = length, limit

    def refusing(self, unit: str) -> str:
        """The message, saying what was refused for it (``row``, ``registration``)."""
        return (f"is {self.length} characters long; the limit is {self.limit} and a longer "
                f"value is not cut, so the {unit} was refused: shorten it")


def _what(char: str) -> str:
    if char == "\x00":
        return "a NUL byte"
    if "\ud800" <= char <= "\udfff":
        return "bytes that are not valid in the file's encoding"
    return f"the control character U+{ord(char):04X}"


def clean_text(value: Any, limit: int = 256) -> str:
    """Trimmed NFC text with spaces collapsed; ValueError for control characters, and
    :class:`TextTooLong` for a text longer than ``limit``."""
    if not value:
        return ""
    raw = str(value)
    found = CONTROL.search(raw)
    if found:
        raise ValueError(f"contains {_what(found.group())}; remove it and import again")
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if len(text) > limit:
        raise TextTooLong(len(text), limit)
    return text
