"""Texts in several languages, and the fallback rule that picks one.

Every human text in a series file can be a plain string (the same in every language) or a
mapping from a language code to the text::

    title: {en: "The governance of Smart Specialisation",
            es: "La gobernanza de la Especialización Inteligente"}

:func:`localize` picks the text for a requested language with this fallback:
the requested language → its base language (``es`` for ``es-MX``) → the series' default
language → the first text given.

A participant's language is always one of the series' languages: :func:`check_language`
turns what a person or a file gave (``es``, ``es-MX``, ``pt_br``) into that language or
refuses it with :class:`LanguageNotOffered`. The fixed phrases s3events writes itself
come from gettext catalogs (:mod:`s3events.catalogs`); :func:`babel_locale` and
:func:`language_name` give CLDR's data for a language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Annotated, TypeAlias

from pydantic import Field, StringConstraints

from .errors import InputError

if TYPE_CHECKING:
    from babel import Locale

    from .models import Series

__all__ = [
    "N_",
    "LanguageCode",
    "LanguageNotOffered",
    "LocalizedText",
    "babel_locale",
    "base_language",
    "check_language",
    "has_locale_data",
    "language_name",
    "localize",
    "series_language",
    "text_languages",
]

_LANG_RE = r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})*$"

LanguageCode: TypeAlias = Annotated[
    str,
    StringConstraints(pattern=_LANG_RE),
    Field(description="A BCP 47 language tag such as `en`, `es` or `pt-BR`."),
]

LocalizedText: TypeAlias = Annotated[
    str | dict[LanguageCode, str],
    Field(
        description=(
            "A text, either one string for every language or a mapping from language code "
            "to text. Fallback: requested language, its base language, the series' default "
            "language, then the first text given."
        )
    ),
]


def base_language(lang: str) -> str:
    """The base language of a tag: ``es`` for ``es-MX`` or ``es_MX``."""
    return re.split(r"[-_]", lang, maxsplit=1)[0].lower()


def localize(text: str | Mapping[str, str] | None, lang: str, default: str | None = None) -> str:
    """Pick ``text`` in ``lang``, falling back as the module docstring describes."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if not text:
        return ""
    for candidate in (lang, base_language(lang), default, base_language(default or "")):
        if candidate and candidate in text:
            return text[candidate]
    return next(iter(text.values()))


def text_languages(texts: Iterable[str | Mapping[str, str] | None]) -> set[str]:
    """Every language code used as a key in ``texts``."""
    found: set[str] = set()
    for text in texts:
        if isinstance(text, Mapping):
            found.update(text)
    return found


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it (translated where it is used)."""
    return message


class LanguageNotOffered(InputError, ValueError):
    """A participant's language that is not one of the series' languages."""

    def __init__(self, language: str, offered: Iterable[str]) -> None:
        self.language = language
        self.offered = list(offered)
        super().__init__(
            f"language '{language}' is not offered by this series; use one of "
            f"{', '.join(self.offered)}")


def _key(lang: str) -> str:
    return lang.replace("_", "-").lower()


def series_language(series: Series, lang: str | None) -> str | None:
    """The series' language that ``lang`` names, or ``None`` when it names none.

    Exact tags match first, in any spelling (``pt_br`` is ``pt-BR``); then a regional tag
    matches its base language (``es-MX`` is ``es``), and a base language matches the one
    regional variant the series declares (``pt`` is ``pt-BR`` when only that is declared).
    """
    if not lang:
        return None
    declared = {_key(code): code for code in series.languages}
    if _key(lang) in declared:
        return declared[_key(lang)]
    base = base_language(lang)
    if base in declared:
        return declared[base]
    variants = [code for code in series.languages if base_language(code) == base]
    return variants[0] if len(variants) == 1 else None


def check_language(series: Series, lang: str) -> str:
    """``lang`` as one of the series' languages; :class:`LanguageNotOffered` otherwise.

    The one rule for a participant's language, used by :func:`~s3events.register`, the
    import and the web form.
    """
    found = series_language(series, lang)
    if found is None:
        raise LanguageNotOffered(lang, series.languages)
    return found


@functools.lru_cache(maxsize=64)
def _parse_locale(lang: str) -> Locale | None:
    """CLDR's locale for a tag, else for its base language (``es`` for ``es-XX``)."""
    from babel import Locale, UnknownLocaleError  # Babel is only loaded when needed

    for tag in dict.fromkeys([lang.replace("-", "_"), base_language(lang)]):
        try:
            return Locale.parse(tag)
        except (UnknownLocaleError, ValueError):
            continue
    return None


def has_locale_data(lang: str) -> bool:
    """True when CLDR (Babel) knows ``lang``: its dates, zone and language names."""
    return _parse_locale(lang) is not None


def babel_locale(lang: str) -> Locale:
    """CLDR's locale for ``es``, ``pt-BR`` or ``pt_BR``; else its base language's, else English."""
    return _parse_locale(lang) or _parse_locale("en")  # type: ignore[return-value]


@functools.lru_cache(maxsize=64)
def language_name(code: str) -> str:
    """The language's own name for itself, capitalised: "Español", "Français", "Deutsch"."""
    locale = _parse_locale(code)
    name = str(locale.get_display_name(locale) or code) if locale is not None else code
    return name[:1].upper() + name[1:]
