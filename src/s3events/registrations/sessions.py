"""Which sessions a person chose, from the answer a form tool exported.

An answer names sessions by id (``day-1``), label or title in any of the series' languages
("Día 1", "Day 1"), or date ("21 October", "jueves 21 de octubre", "2021-10-21",
"21/10"), as the tools write multiple choices: separated by ``;`` (Microsoft Forms),
``, `` (Google Forms, Typeform), or new lines (Jotform). A choice that carries more than
one name ("Day 1 – Thursday 21 October: Opening") counts when all the names it holds point
to the same session. Every comma-separated choice must name a session ("Day 1, Nonsense"
reports "Nonsense", a form's "Other" answer), except words of the sessions' own names
around a comma ("Thursday, 21 October"). Empty, "all", "todas", "toutes", "alle",
"tutte" … mean every session (``None``).

Names that two sessions share (two sessions on one day share their date) are left out, so
they never pick the wrong one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton

from ..countries import fold
from ..terminal import shown

if TYPE_CHECKING:
    from ..models import Series

__all__ = ["ALL_SESSIONS", "parse_sessions", "session_names"]

#: Answers that mean every session (compared after :func:`~s3events.countries.fold`).
ALL_SESSIONS = frozenset(fold(text) for text in (
    "", "*", "all", "all sessions", "all of them", "every session", "todas", "todos",
    "todas las sesiones", "todas as sessoes", "todas as sessões", "toutes",
    "toutes les séances", "toutes les sessions", "alle", "alle Sitzungen", "alle Termine",
    "tutte", "tutti", "tutte le sessioni"))

_SKELETONS = ("yMMMMd", "MMMMd", "MMMd", "yMMMd", "MMMMEEEEd", "yMMMMEEEEd", "MMMEd")
_SPLIT = re.compile(r"[;\n\r]+")
_BOTH_ORDERS = ("d MMMM", "EEEE d MMMM", "d MMMM y", "EEEE d MMMM y", "MMMM d", "EEEE MMMM d",
                "d MMM", "EEE d MMM")


def _date_names(day: date, languages: Sequence[str]) -> set[str]:
    """A day written the ways people and form tools write it, in these languages."""
    names = {day.isoformat(), f"{day.day}/{day.month}/{day.year}", f"{day.day}/{day.month}",
             f"{day.month}/{day.day}/{day.year}", f"{day.day:02d}/{day.month:02d}/{day.year}",
             f"{day.day:02d}/{day.month:02d}", f"{day.day}.{day.month}.{day.year}",
             f"{day.day:02d}.{day.month:02d}.{day.year}", f"{day.day}.{day.month}."}
    for lang in dict.fromkeys(("en", *languages)):
        try:
            locale = Locale.parse(lang.replace("-", "_"))
        except (UnknownLocaleError, ValueError):
            continue
        names.update(format_date(day, style, locale=locale)
                     for style in ("full", "long", "medium"))
        names.update(format_skeleton(skeleton, day, locale=locale) for skeleton in _SKELETONS)
        # both orders of day and month, whatever the locale's own ("Sunday 10 March" in an
        # English form written in the UK, "March 10" in one written in the US)
        names.update(format_date(day, pattern, locale=locale) for pattern in _BOTH_ORDERS)
    return names


def _texts(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [str(v) for v in value.values()]
    return [str(value)] if value else []


@functools.lru_cache(maxsize=32)
def _names(key: tuple[tuple[str, tuple[str, ...], date], ...],
           languages: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, set[str]] = {}
    for session_id, texts, day in key:
        for text in (session_id, *texts, *_date_names(day, languages)):
            name = fold(text)
            if name:
                found.setdefault(name, set()).add(session_id)
    return {name: next(iter(ids)) for name, ids in found.items() if len(ids) == 1}


def session_names(series: Series) -> dict[str, str]:
    """Folded name (id, label, title or date) → session id, for names only one session has."""
    zone = series.zone
    key = tuple((s.id, tuple(_texts(s.label) + _texts(s.title)),
                 s.start.astimezone(zone).date()) for s in series.sessions)
    return _names(key, tuple(series.languages))


def _contained(names: dict[str, str], text: str) -> set[str]:
    """The sessions of every name found as whole words inside ``text``."""
    padded = f" {text} "
    return {sid for name, sid in names.items() if f" {name} " in padded}


def _match(names: dict[str, str], text: str) -> set[str] | None:
    """The sessions one choice names, or None when it names none (or several)."""
    key = fold(text)
    if key in names:
        return {names[key]}
    inside = _contained(names, key)
    if len(inside) == 1:
        return inside
    tokens = [names.get(token) for token in key.split()]
    if tokens and all(tokens):
        return {t for t in tokens if t}
    return None


_VOCABULARIES: dict[int, tuple[dict[str, str], frozenset[str]]] = {}


def _vocabulary(names: dict[str, str]) -> frozenset[str]:
    """Every word of the sessions' names (the tables are cached, so one set per table)."""
    kept = _VOCABULARIES.get(id(names))
    if kept is None or kept[0] is not names:
        kept = (names, frozenset(w for name in names for w in name.split()))
        _VOCABULARIES.clear()
        _VOCABULARIES[id(names)] = kept
    return kept[1]


def _choices(names: dict[str, str], part: str) -> tuple[set[str], list[str]]:
    """Sessions in one ``;``- or line-separated part, whose choices may be joined by commas.

    With commas, each choice must name a session: "Day 1, Nonsense" (a form's "Other"
    answer beside a choice) reports "Nonsense"; a choice whose own text holds a comma
    ("Thursday, 21 October") is read across it. Only when no comma-separated piece names
    anything is the whole part read as one choice.
    """
    whole = _match(names, part)
    if whole is not None and ("," not in part or fold(part) in names):
        return whole, []  # one choice, or one name with commas ("Thursday, October 28, 2021")
    chosen: set[str] = set()
    unknown: list[str] = []
    buffer: list[str] = []
    for piece in part.split(","):
        buffer.append(piece)
        found = _match(names, ",".join(buffer))
        if found is None:
            continue
        before = ",".join(buffer[:-1]).strip()
        if before and not set(fold(before).split()) <= _vocabulary(names):
            unknown.append(before)  # "Nonsense, Day 2": not the start of "Thursday, 21 Oct"
        chosen |= found
        buffer = []
    if buffer and ",".join(buffer).strip():
        unknown.append(",".join(buffer).strip())
    if not chosen and whole is not None:
        return whole, []
    return chosen, unknown


def parse_sessions(series: Series, value: Any) -> list[str] | None:
    """The session ids an answer names, in series order; ``None`` for all sessions.

    Raises ``ValueError`` naming the parts that match no session.
    """
    if value is None:
        return None
    parts = ([str(v) for v in value] if isinstance(value, (list, tuple))
             else _SPLIT.split(str(value)))
    parts = [p.strip() for p in parts if p.strip()]
    if not parts or (len(parts) == 1 and fold(parts[0]) in ALL_SESSIONS):
        return None
    names = session_names(series)
    chosen: set[str] = set()
    unknown: list[str] = []
    for part in parts:
        found, missing = _choices(names, part)
        chosen |= found
        unknown += missing
    if unknown:
        names_given = ", ".join(shown(u, limit=80) for u in unknown)
        raise ValueError(f"unknown session {names_given}; the sessions are "
                         f"{', '.join(s.id for s in series.sessions)}")
    return [s.id for s in series.sessions if s.id in chosen] or None


def names_sessions(series: Series, value: str) -> bool:
    """Whether an answer names sessions (and not only "all"): to recognise a column."""
    try:
        return parse_sessions(series, value) is not None
    except ValueError:
        return False
