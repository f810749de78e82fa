"""Matching participants to registrations: by platform identity, then email, then name.

1. **identity** — the platform's id of the participant is a registration's id. BigBlueButton
   joins carry the registration's own id as ``userID``, so this match is exact.
2. **email** — the email the platform reports, compared as registrations are
   (:func:`s3events.registrations.addresses.email_key`: without case, and an
   internationalised domain in either form — ``münchen.de`` or ``xn--mnchen-3ya.de``).
3. **name** — the display name, compared without case, accents, punctuation, extra spaces or
   word order ("PEÑA, José" is "José Peña"); an apostrophe joins ("O'Brien" is "OBrien"),
   and a name written only in Chinese, Japanese or Korean characters is compared without
   its spaces ("山田 太郎" is "山田太郎"). A name in the form "Shown name (Other name)"
   — Zoom's "Name (Original Name)", Teams' "(Guest)" — is tried whole, then each part. A
   name that fits two registrations is no match: the participant is listed as unmatched.

Participants that fit no registration stay in the report as *unmatched*.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select

from ..registrations.addresses import email_key as registration_email_key
from ..store import Store, registrations
from .records import Attendee

__all__ = ["MatchedBy", "Matcher", "email_key", "name_key", "name_variants"]

MatchedBy = Literal["identity", "email", "name"]
_PARENS = re.compile(r"^(.*?)\s*\(([^()]*)\)\s*$")
_WORD = re.compile(r"[^\W_]+")
#: Apostrophes inside a name join its parts: O'Brien, N’Diaye, D`Angelo.
_APOSTROPHES = re.compile("['\u2019\u02bc\u2018`\u00b4]")
#: Scripts written without spaces between the parts of a name.
_UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


def email_key(email: str | None) -> str | None:
    """How emails are compared: as registrations are (``None`` when there is none)."""
    if not email or "@" not in email:
        return None
    return registration_email_key(email)


def name_key(name: str) -> str:
    """A name without case, accents, punctuation, spacing or word order."""
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", name.casefold()))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = _WORD.findall(plain)
    if words and all(_unspaced(c) for word in words for c in word):
        return "".join(sorted("".join(words)))  # its characters, in any spacing and order
    return " ".join(sorted(words))


def _unspaced(char: str) -> bool:
    return unicodedata.name(char, "").startswith(_UNSPACED_SCRIPTS)


def name_variants(name: str) -> list[str]:
    """The keys a display name is tried with: whole, then the parts of "A (B)"."""
    keys = [name_key(name)]
    found = _PARENS.match(name.strip())
    if found:
        keys += [name_key(found.group(1)), name_key(found.group(2))]
    return [k for i, k in enumerate(keys) if k and k not in keys[:i]]


@dataclass(frozen=True)
class Match:
    """The registration a participant is, and how that was found."""

    registration_id: str
    matched_by: MatchedBy


class Matcher:
    """Matches participants against the registrations of one series."""

    def __init__(self, people: Iterable[tuple[str, str, str]]) -> None:
        self.ids: set[str] = set()
        self.by_email: dict[str, str] = {}
        by_name: dict[str, set[str]] = defaultdict(set)
        for reg_id, email, name in people:
            self.ids.add(reg_id)
            key = email_key(email)
            if key:
                self.by_email[key] = reg_id
            by_name[name_key(name)].add(reg_id)
        self.by_name = {k: next(iter(v)) for k, v in by_name.items() if len(v) == 1 and k}
        self.ambiguous = {k for k, v in by_name.items() if len(v) > 1}

    @classmethod
    def for_series(cls, store: Store, series_id: str) -> Matcher:
        """A matcher for every registration of the series (any status)."""
        query = select(registrations.c.id, registrations.c.email, registrations.c.name).where(
            registrations.c.series_id == series_id)
        with store.connect() as conn:
            return cls((r.id, r.email, r.name) for r in conn.execute(query))

    def match(self, attendee: Attendee) -> Match | None:
        """The registration ``attendee`` is, or ``None``."""
        if attendee.identity and attendee.identity in self.ids:
            return Match(attendee.identity, "identity")
        key = email_key(attendee.email)
        if key and key in self.by_email:
            return Match(self.by_email[key], "email")
        found = {self.by_name[k] for k in name_variants(attendee.name) if k in self.by_name}
        if len(found) == 1 and not any(k in self.ambiguous
                                       for k in name_variants(attendee.name)[:1]):
            return Match(found.pop(), "name")
        return None
