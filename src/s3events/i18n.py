"""Texts in several languages, and the fallback rule that picks one.

Every human text in a series file can be a plain string (the same in every language) or a
mapping from a language code to the text::

    title: {en: "The governance of Smart Specialisation",
            es: "La gobernanza de la Especialización Inteligente"}

:func:`localize` picks the text for a requested language with this fallback:
the requested language → its base language (``es`` for ``es-MX``) → the series' default
language → the first text given.

The fixed phrases s3events itself writes (headings of agendas and calendar descriptions)
live in :data:`PHRASES` and are picked with :func:`phrase`, in English, Spanish and
Portuguese, falling back to English.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, TypeAlias

from pydantic import Field, StringConstraints

__all__ = [
    "PHRASES",
    "LanguageCode",
    "LocalizedText",
    "base_language",
    "localize",
    "phrase",
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


#: Phrases s3events writes itself, by key and language. English is the fallback.
PHRASES: dict[str, dict[str, str]] = {
    "topics": {"en": "Topics", "es": "Temas", "pt": "Temas"},
    "exercises": {
        "en": "Interactive exercise will aim at:",
        "es": "El ejercicio interactivo tendrá como objetivo:",
        "pt": "O exercício interativo terá como objetivo:",
    },
    "documents": {"en": "Documents", "es": "Documentos", "pt": "Documentos"},
    "programme": {"en": "Programme", "es": "Programa", "pt": "Programação"},
    "audience": {"en": "Audience", "es": "Público", "pt": "Público"},
    "practical": {
        "en": "Practical information",
        "es": "Información práctica",
        "pt": "Informações práticas",
    },
    "registration": {"en": "Registration", "es": "Inscripción", "pt": "Inscrição"},
    "local_times": {"en": "Local times", "es": "Horarios locales", "pt": "Horários locais"},
    "join": {"en": "Join", "es": "Enlace de conexión", "pt": "Link de acesso"},
    "online": {"en": "Online", "es": "En línea", "pt": "Online"},
    "cancelled": {"en": "Cancelled", "es": "Cancelada", "pt": "Cancelada"},
}


def phrase(key: str, lang: str) -> str:
    """The fixed phrase ``key`` in ``lang`` (or its base language), else in English.

    Raises ``KeyError`` for a key that is not in :data:`PHRASES`.
    """
    texts = PHRASES[key]
    return texts.get(lang) or texts.get(base_language(lang)) or texts["en"]
