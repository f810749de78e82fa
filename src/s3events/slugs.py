"""Plain ASCII names made from people's text: file names, room names.

:func:`ascii_slug` keeps the letters of a name as a reader would spell them without
accents (``Müßig`` → ``mussig``, ``Søren Ærø`` → ``soren-aero``), lowercase, with ``-``
between words. Letters of other scripts have no such spelling and are left out; callers
fall back to a name of their own when nothing is left.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["ascii_slug"]

#: Latin letters that Unicode does not decompose into a base letter and an accent.
_SPELLED = str.maketrans({"ß": "ss", "ẞ": "SS", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                          "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
                          "ð": "d", "Ð": "D", "þ": "th", "Þ": "Th", "ı": "i"})


def ascii_slug(text: str, limit: int) -> str:
    """``text`` as ``[a-z0-9-]`` words, at most ``limit`` characters, no dash at either end."""
    plain = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    ascii_text = plain.encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:limit].strip("-")
