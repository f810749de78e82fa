"""Language purity checks: the phrases of each built-in catalog, and whether a text mixes them.

A *phrase* is a piece of a catalog translation between its ``%(name)s`` placeholders and
sentence stops (``.``, ``:``, ``;``, ``!``, ``?``), with surrounding spaces and punctuation
removed ("Thèmes :" gives "Thèmes"). A text written in
language L is *pure* when no phrase of another language's catalog appears in it as a whole
word sequence, ignoring phrases L's own catalog also uses (words spelled the same in both,
such as "Documents" in English and French) — once the series' own texts, people's names
and links are taken out. Since the English catalog is the msgids, a pure text also has no
msgid left untranslated. Helpers only; the tests are in test_language_purity.py.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from icalendar import Calendar

from s3events.catalogs import BUILTIN_LANGUAGES, LOCALE_DIR, read_catalog
from s3events.zonenames import PATTERNS

_PLACEHOLDER = re.compile(r"%\(\w+\)s|%%|[.:;!?](?:\s|$)")
_EDGES = " \t\n.,:;!?()[]«»\"'’–—-*"
_SPACES = re.compile(r"[\s\u00a0\u202f]+")


def normalise(text: str) -> str:
    """Spaces of every kind (no-break ones too) as single spaces."""
    return _SPACES.sub(" ", text).strip()


def fragments(translation: str) -> list[str]:
    """The phrases of one translation: the pieces between placeholders and sentence stops."""
    pieces = (normalise(p).strip(_EDGES) for p in _PLACEHOLDER.split(translation))
    return [p for p in pieces if sum(c.isalpha() for c in p) >= 2]


@functools.cache
def catalog_texts(lang: str) -> dict[str, tuple[str, ...]]:
    """msgid → every translation of it (plural forms too) in the built-in catalog."""
    catalog = read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "s3events.po")
    out: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id:
            continue
        msgid = message.id if isinstance(message.id, str) else message.id[0]
        strings = (message.string,) if isinstance(message.string, str) else message.string
        out[msgid] = tuple(s for s in strings if s)
    return out


def _zone_phrases(lang: str) -> list[str]:
    return [p for p in (normalise(x).strip(_EDGES) for x in PATTERNS[lang].split("{city}")) if p]


@functools.cache
def own_phrases(lang: str) -> frozenset[str]:
    """Every phrase of ``lang``'s catalog and zone names."""
    found = {f for texts in catalog_texts(lang).values() for t in texts for f in fragments(t)}
    return frozenset(found | set(_zone_phrases(lang)))


@functools.cache
def _own_text(lang: str) -> str:
    return " | ".join(sorted(own_phrases(lang)))


@functools.lru_cache(maxsize=4096)
def _word(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")


@functools.cache
def _foreign_pattern(lang: str) -> re.Pattern[str]:
    phrases = sorted((normalise(p) for p in foreign_phrases(lang)), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, phrases)) + r")(?!\w)")


@functools.cache
def foreign_phrases(lang: str) -> dict[str, str]:
    """Phrases of the other built-in languages that ``lang``'s own catalog never uses."""
    own = _own_text(lang)
    found: dict[str, str] = {}
    for other in BUILTIN_LANGUAGES:
        if other == lang:
            continue
        for phrase in own_phrases(other):
            if phrase not in own_phrases(lang) and not _word(phrase).search(own):
                found.setdefault(phrase, other)
    return found


@dataclass
class Cleaner:
    """Takes out of an output what is not s3events' wording: series texts, names, links."""

    texts: list[str] = field(default_factory=list)

    @classmethod
    def for_series(cls, series: Any, *extra: str) -> Cleaner:
        """Every text of ``series`` in every language, plus ``extra`` (names, addresses)."""
        values: list[str] = list(extra)
        for text in series.texts():
            if isinstance(text, dict):
                values += list(text.values())
            elif isinstance(text, str):
                values.append(text)
        for session in series.sessions:
            for document in session.documents:
                values += _values(document.title)
        pieces = {normalise(p) for v in values for p in re.split(r"\n\s*\n", v) if p.strip()}
        return cls(sorted(pieces, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        out = normalise(text)
        for piece in self.texts:
            out = out.replace(piece, " ")
        out = re.sub(r"https?://\S+", " ", out)
        return normalise(out)


def _values(text: Any) -> list[str]:
    if isinstance(text, dict):
        return list(text.values())
    return [text] if isinstance(text, str) else []


#: Options of the zone and country lists: CLDR's proper names ("Palmer Land"), not phrases.
_NAME_OPTIONS = re.compile(r'<option value="(?:[A-Z]{2}|UTC|[A-Za-z_]+/[^"]+)"[^>]*>[^<]*</option>')


def visible_html(page: str) -> str:
    """The text of an HTML page (scripts, tags and lists of place names out, entities decoded).

    Attributes people read or hear are kept: ``aria-label``, ``title``, an option group's
    ``label`` (the regions of the zone list).
    """
    page = _NAME_OPTIONS.sub(" ", page)
    page = re.sub(r"<script\b.*?</script>", " ", page, flags=re.S | re.I)
    page = re.sub(r"<!--.*?-->", " ", page, flags=re.S)
    attributes = " ".join(re.findall(
        r'(?<![\w-])(?:aria-label|title|data-yours|label)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)


def calendar_text(data: bytes | str) -> str:
    """The words of a calendar a person reads: names, summaries, descriptions, labels."""
    cal = Calendar.from_ical(data)
    words = [str(cal.get("X-WR-CALNAME", ""))]
    for event in cal.walk("VEVENT"):
        words += [str(event.get(k, "")) for k in ("SUMMARY", "DESCRIPTION", "LOCATION")]
        conference = event.get("CONFERENCE")
        if conference is not None:
            words.append(str(conference.params.get("LABEL", "")))
    return "\n".join(words)


def mixed_phrases(text: str, lang: str, clean: Cleaner) -> list[tuple[str, str]]:
    """(phrase, its language) for every other language's phrase found in ``text``."""
    body = clean(text)
    found = {m.group(0) for m in _foreign_pattern(lang).finditer(body)}
    return sorted((phrase, other) for phrase, other in foreign_phrases(lang).items()
                  if normalise(phrase) in found)


def assert_pure(text: str, lang: str, clean: Cleaner, where: str) -> None:
    """Fail, naming the phrases, when ``text`` mixes another language into ``lang``."""
    found = mixed_phrases(text, lang, clean)
    assert not found, f"{where} in {lang} has phrases of other languages: {found}"


def uncovered(outputs: Iterable[str], lang: str, *, exempt: Iterable[str] = ()) -> list[str]:
    """The msgids of ``lang`` none of whose translations shows in any of ``outputs``."""
    union = normalise(" ".join(outputs))
    missing = []
    for msgid, texts in catalog_texts(lang).items():
        if msgid in exempt:
            continue
        forms = [fragments(t) for t in texts]
        if any(not parts for parts in forms):
            continue  # only placeholders and punctuation: nothing to look for
        if not any(all(_word(p).search(union) for p in parts) for parts in forms):
            missing.append(msgid)
    return missing
