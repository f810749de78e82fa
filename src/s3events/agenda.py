"""The full agenda of a series as one document, in Markdown or HTML, in one language.

This is how the "Agenda completa en Español" of a series is produced: the series' title and
description, then every session with its label, title, date and time in the series' zone
(formatted by Babel for the language, with the zone's localized name), the same session in
the main zone of each focus country, its topics, what the interactive exercise will aim at,
and its documents; then the series' information sections and practical information.

Templates live in ``templates/agenda/``; the Jinja2 environment is built on first use.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_interval, get_timezone_location

from .i18n import PHRASES, phrase
from .models import Document, Series, Session
from .timezones import get_zone, main_zone
from .zonenames import zone_label

if TYPE_CHECKING:
    import jinja2

__all__ = ["AgendaSession", "LocalTime", "agenda_context", "babel_locale", "render_agenda"]

Format = Literal["md", "html"]
_TEMPLATES = Path(__file__).parent / "templates" / "agenda"


@dataclass(frozen=True)
class LocalTime:
    """A session's time in one zone, as shown in the agenda."""

    place: str
    zone: str
    date: str
    times: str
    same_day: bool


@dataclass(frozen=True)
class AgendaSession:
    """Everything the agenda shows of one session, already in the agenda's language."""

    id: str
    label: str
    title: str
    date: str
    times: str
    zone_name: str
    cancelled: bool
    local_times: list[LocalTime] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    documents: list[tuple[str, str | None]] = field(default_factory=list)


def babel_locale(lang: str) -> Locale:
    """The Babel locale for a language tag (``es``, ``pt-BR``, ``pt_BR``); English if unknown."""
    try:
        return Locale.parse(lang.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def _local_time(start: datetime, end: datetime, zone: ZoneInfo, locale: Locale,
                reference_day: Any) -> LocalTime:
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return LocalTime(
        place=get_timezone_location(zone, locale=locale, return_city=True),
        zone=zone.key,
        date=format_date(local_start, format="full", locale=locale),
        times=format_interval(local_start, local_end, "Hm", locale=locale),
        same_day=local_start.date() == reference_day,
    )


def _focus_zones(series: Series) -> list[ZoneInfo]:
    zones: list[ZoneInfo] = []
    for country in series.focus_countries:
        name = main_zone(country)
        if name and name != series.timezone and name not in (z.key for z in zones):
            zones.append(get_zone(name))
    return zones


def _document(series: Series, document: Document, lang: str) -> tuple[str, str | None]:
    return series.text(document.title, lang), document.url or document.path


def _session(series: Series, session: Session, lang: str, locale: Locale) -> AgendaSession:
    zone = series.zone
    start, end = session.start.astimezone(zone), session.ends_at.astimezone(zone)
    return AgendaSession(
        id=session.id,
        label=series.text(session.label, lang) if session.label else "",
        title=series.text(session.title, lang),
        date=format_date(start, format="full", locale=locale),
        times=format_interval(start, end, "Hm", locale=locale),
        zone_name=zone_label(zone.key, lang),
        cancelled=session.cancelled,
        local_times=[_local_time(start, end, z, locale, start.date())
                     for z in _focus_zones(series)],
        topics=[series.text(t, lang) for t in session.topics],
        exercises=[series.text(t, lang) for t in session.exercises],
        documents=[_document(series, d, lang) for d in session.documents],
    )


def agenda_context(series: Series, *, lang: str) -> dict[str, Any]:
    """The template variables of the agenda: texts in ``lang``, sessions ready to print."""
    locale = babel_locale(lang)

    def text(value: Any) -> str:
        return series.text(value, lang) if value is not None else ""

    practical, note = text(series.practical_information), text(series.registration.note)
    return {
        "lang": lang,
        "title": text(series.title),
        "subtitle": text(series.subtitle),
        "organiser": text(series.organiser.name),
        "organiser_url": series.organiser.url,
        "audience": text(series.audience),
        "description": text(series.description) or text(series.summary),
        "sections": [(text(s.title), text(s.body)) for s in series.sections],
        "practical": practical,
        # The note is often already part of the practical information: print it once.
        "registration_note": "" if note.lower() in practical.lower() else note,
        "sessions": [_session(series, s, lang, locale) for s in series.sessions],
        "t": {key: phrase(key, lang) for key in PHRASES},
    }


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        # HTML templates (*.html.j2) escape every value; Markdown ones print text as written.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_agenda(series: Series, *, lang: str, fmt: Format = "md") -> str:
    """The full agenda of ``series`` in ``lang`` as Markdown (``md``) or HTML (``html``)."""
    if fmt not in ("md", "html"):
        raise ValueError(f"format must be md or html, not {fmt!r}")
    template = _environment().get_template(f"agenda.{fmt}.j2")
    return template.render(agenda_context(series, lang=lang))
