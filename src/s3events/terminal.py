"""Values from people, made safe to print on a terminal.

Names, email addresses, organisations and zone names come from forms and spreadsheets that
anyone can fill in. Printed as they are, they could carry rich markup (``[/bold]`` breaks a
table, ``[link=…]`` turns into a hyperlink) or terminal control sequences: ESC and CSI codes
that recolour or move the cursor, OSC 8 hyperlinks, a BEL, a carriage return that
overwrites what was printed before it, or bidi overrides that make what follows read
backwards. Every command prints such values through these helpers:

* :func:`safe` for anything handed to rich (tables, ``console.print``): control characters
  shown as escapes (``\\x1b``), rich markup escaped;
* :func:`clean` for plain output (``click.echo``, error messages): control characters shown
  as escapes, line breaks kept when asked;
* :func:`shown` for one value quoted inside a sentence, shortened when it is long;
* :func:`json_text` for JSON printed on a terminal: what :func:`json.dumps` leaves as it is
  (DEL, C1 controls, bidi overrides, line separators) written as ``\\uXXXX`` escapes, so
  the JSON means the same and shows nothing hidden.
"""

from __future__ import annotations

__all__ = ["clean", "json_text", "safe", "shown"]

#: Invisible characters that change the direction of the text after them (Trojan Source).
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
#: Line and paragraph separators, and the C1 "next line": terminals may break lines on them.
_BREAKS = frozenset("\u0085\u2028\u2029")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str, keep_newlines: bool) -> bool:
    if char in "\n\t":  # harmless in a text of several lines, odd inside one value
        return not keep_newlines
    code = ord(char)
    return code < 0x20 or 0x7F <= code < 0xA0 or char in _BIDI or char in _BREAKS


def clean(value: object, *, keep_newlines: bool = False) -> str:
    """``value`` as text with every control character shown as an escape (``\\x1b``).

    C0 and C1 controls (ESC, BEL, CR, tab …), DEL, bidi overrides and Unicode line
    separators are replaced by their escapes; ``keep_newlines`` keeps ``\\n`` and tabs, for
    messages and files of several lines. Everything else, accents and scripts included,
    stays as it is.
    """
    text = str(value)
    if all(" " <= char < "\x7f" for char in text):  # the common case: plain ASCII
        return text
    return "".join(_escape(c) if _unsafe(c, keep_newlines) else c for c in text)


def safe(value: object) -> str:
    """``value`` for rich: control characters escaped (:func:`clean`), then rich markup."""
    from rich.markup import escape

    return escape(clean(value))


def shown(value: object, *, limit: int = 60) -> str:
    """``value`` quoted for a message: ``'Europe/Brusels'``, cleaned and at most ``limit``."""
    text = clean(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"'{text}'"


def json_text(document: str) -> str:
    """JSON text with every control character :func:`clean` escapes written as ``\\uXXXX``.

    Outside strings JSON is plain ASCII and :func:`json.dumps` already escapes C0
    controls, so the remaining ones are inside strings, where the escape is the same text.
    """
    if document.isascii() and "\x7f" not in document:
        return document
    return "".join(f"\\u{ord(c):04x}" if _unsafe(c, True) else c for c in document)
