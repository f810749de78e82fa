"""Certificates as PDF: a page laid out from a few lines of text, in an embedded font.

The wording comes from the template ``certificate.pdf.txt`` (a series may override it, for
one language too, like message templates); each of its lines is one block of the page:

``# text``
    the heading;
``## text``
    the person's name, large;
``### text``
    the series' title;
``- text``
    an item of the list of sessions;
``~ text``
    small print at the bottom (the verification code);
any other text
    a paragraph. Empty lines add space.

The page is A4 landscape, every block centred. The font is DejaVu Serif, embedded
(subset): accents and Greek and Cyrillic letters come out as written, and text extractors
read them back. Letters it lacks (Arabic, Chinese, Japanese, Korean, Indic scripts …) come
from the ``fonts`` given (the series' ``fonts``), tried in order; a page that needs a letter
no font has is refused (:class:`~s3events.errors.CertificateFontError`), never printed with
a blank. Right-to-left and other complex scripts are shaped with HarfBuzz. The file is the
same every time for the same content (its dates are fixed), so a certificate sent again is
the same document.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CertificateFontError

if TYPE_CHECKING:
    from fpdf import FPDF

__all__ = ["font_coverage", "missing_scripts", "render_pdf"]

_FONTS = resources.files("s3events") / "fonts"
_FAMILY = "DejaVuSerif"
_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
# (size, bold, line height in mm)
_STYLES: dict[str, tuple[float, bool, float]] = {
    "#": (30, True, 14), "##": (26, True, 13), "###": (17, True, 9), "-": (12, False, 6.5),
    "~": (9, False, 5), "": (13, False, 7)}


def _block(line: str) -> tuple[str, str]:
    for mark in ("###", "##", "#", "-", "~"):
        if line.startswith(mark + " ") or line == mark:
            return mark, line[len(mark):].strip()
    return "", line.strip()


#: Scripts HarfBuzz must shape (joining letters, reordered vowels) besides right-to-left ones.
_COMPLEX = ("DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI", "ORIYA", "TAMIL", "TELUGU",
            "KANNADA", "MALAYALAM", "SINHALA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")
#: The first word of a character's Unicode name, as the script a message names.
_SCRIPT_NAMES = {"CJK": "CJK (Chinese, Japanese, Korean)", "HIRAGANA": "Japanese kana",
                 "KATAKANA": "Japanese kana", "HANGUL": "Korean (Hangul)"}


@functools.lru_cache(maxsize=16)
def font_coverage(path: str) -> frozenset[int]:
    """The code points a font file has glyphs for (its best Unicode cmap)."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        with TTFont(path, lazy=True) as font:
            return frozenset(font.getBestCmap() or {})
    except (OSError, TTLibError, AssertionError) as exc:
        raise CertificateFontError(f"font {path} cannot be read: {exc}") from None


def _builtin() -> frozenset[int]:
    with resources.as_file(_FONTS / "DejaVuSerif.ttf") as regular, \
            resources.as_file(_FONTS / "DejaVuSerif-Bold.ttf") as bold:
        return font_coverage(str(regular)) & font_coverage(str(bold))


def missing_scripts(text: str, fonts: Sequence[Path] = ()) -> tuple[str, ...]:
    """The scripts of the letters in ``text`` that neither DejaVu Serif nor ``fonts`` has."""
    covered = _builtin().union(*(font_coverage(str(f)) for f in fonts))
    scripts = set()
    for char in set(text):
        if ord(char) in covered or unicodedata.category(char)[0] in "ZC":
            continue  # spaces, controls, format marks (ZWJ, bidi marks) need no glyph
        word = unicodedata.name(char, "UNKNOWN").split()[0]
        scripts.add(_SCRIPT_NAMES.get(word, word.title()))
    return tuple(sorted(scripts))


def _needs_shaping(text: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL")
               or unicodedata.name(c, "").startswith(_COMPLEX) for c in text if ord(c) > 0x58F)


def render_pdf(text: str, *, title: str, author: str, language: str,
               created: datetime | None = None, fonts: Sequence[Path] = ()) -> bytes:
    """The PDF of a certificate whose page is described by ``text`` (see the module doc).

    Everything stays on one page: a long list of sessions is set smaller until it fits.
    ``fonts`` are tried, in order, for letters DejaVu Serif lacks; raises
    :class:`~s3events.errors.CertificateFontError` when some letter is in none of them.
    """
    missing = missing_scripts(text, fonts)
    if missing:
        raise CertificateFontError(
            f"the certificate needs {', '.join(missing)} letters that no certificate font "
            "has: add a font file that has them to the series' `fonts` (for example Noto "
            "Naskh Arabic, Noto Serif JP, Noto Serif KR or Noto Serif SC, from "
            "fonts.google.com/noto), then write or send the certificates again",
            scripts=missing)
    for scale in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5):
        pdf = _layout(text, scale, title=title, author=author, language=language,
                      created=created, fonts=fonts)
        if pdf.page == 1:
            break
    return bytes(pdf.output())


def _layout(text: str, scale: float, *, title: str, author: str, language: str,
            created: datetime | None, fonts: Sequence[Path]) -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(orientation="L", unit="mm", format="A4")
    with resources.as_file(_FONTS / "DejaVuSerif.ttf") as regular, \
            resources.as_file(_FONTS / "DejaVuSerif-Bold.ttf") as bold:
        pdf.add_font(_FAMILY, "", str(regular))
        pdf.add_font(_FAMILY, "B", str(bold))
    if fonts:
        families = [f"s3events-fallback-{i}" for i in range(len(fonts))]
        for family, path in zip(families, fonts, strict=True):
            pdf.add_font(family, "", str(path))
        pdf.set_fallback_fonts(families, exact_match=False)
    if _needs_shaping(text):
        pdf.set_text_shaping(True)
    pdf.set_creation_date(created or _EPOCH)
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creator("s3events")
    pdf.set_lang(language)
    pdf.set_margins(25, 22, 25)
    pdf.set_auto_page_break(True, margin=16)
    pdf.add_page()
    _frame(pdf)
    small = [line for line in text.splitlines() if _block(line)[0] == "~"]
    for line in text.splitlines():
        mark, content = _block(line)
        if mark != "~":
            _write(pdf, mark, content, scale)
    footer = pdf.h - 20 - _STYLES["~"][2] * len(small)
    pdf.set_y(max(pdf.get_y() + 4, footer))
    for line in small:
        _write(pdf, "~", _block(line)[1], 1.0)
    return pdf


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(11, 92, 171)
    pdf.set_line_width(0.8)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_line_width(0.3)
    pdf.rect(13, 13, pdf.w - 26, pdf.h - 26)


def _write(pdf: FPDF, mark: str, content: str, scale: float) -> None:
    size, bold, height = _STYLES[mark]
    size, height = size * (scale if mark != "~" else 1), height * scale
    if not content:
        pdf.ln(height / 2)
        return
    pdf.set_font(_FAMILY, "B" if bold else "", size)
    colour = (11, 92, 171) if mark in ("#", "##") else (26, 26, 26)
    pdf.set_text_color(*colour)
    pdf.multi_cell(0, height, content, align="C", new_x="LMARGIN", new_y="NEXT")
    if mark == "-":
        pdf.ln(1.5 * scale)
