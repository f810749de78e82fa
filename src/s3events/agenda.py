"""The full agenda of a series as one document, in Markdown or HTML, in one language.

This is how the "Agenda completa en Español" of a series is produced: the series' title and
description, then every session with its label, title, date and time in the series' zone
(formatted by Babel for the language, with the zone's localized name), the same session in
the main zone of each focus country, its topics, what the interactive exercise will aim at,
and its documents; then the series' information sections and practical information.

Templates live in ``templates/agenda/``; the environment comes from
:func:`s3events.templating.template_environment` (one per language, with the series'
gettext catalog: headings such as "Topics:" are in the agenda's language).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_interval, get_timezone_location

from .catalogs import series_catalogs
from .errors import InputError
from .i18n import babel_locale
from .models import Document, Series, Session
from .templating import phrases, template_environment
from .timezones import get_zone, main_zone
from .zonenames import zone_label

if TYPE_CHECKING:
    from babel import Locale
    from babel.support import NullTranslations

__all__ = ["AgendaSession", "LocalTime", "agenda_context", "render_agenda"]

Format = Literal["md", "html"]


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
    full_title: str
    date: str
    times: str
    zone_name: str
    cancelled: bool
    local_times: list[LocalTime] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    documents: list[tuple[str, str | None]] = field(default_factory=list)


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


def _session(series: Series, session: Session, lang: str, locale: Locale,
             tr: NullTranslations) -> AgendaSession:
    zone = series.zone
    start, end = session.start.astimezone(zone), session.ends_at.astimezone(zone)
    label = series.text(session.label, lang) if session.label else ""
    title = series.text(session.title, lang)
    _ = phrases(tr)
    return AgendaSession(
        id=session.id,
        label=label,
        title=title,
        full_title=_("%(label)s: %(title)s", label=label, title=title) if label else title,
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


def agenda_context(series: Series, *, lang: str, pm: Any = None) -> dict[str, Any]:
    """The template variables of the agenda: texts in ``lang``, sessions ready to print.

    ``pm`` is the plugin manager whose catalogs count (default: the installed plugins').
    """
    locale = babel_locale(lang)
    tr = series_catalogs(series, pm=pm).translations(lang)

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
        "sessions": [_session(series, s, lang, locale, tr) for s in series.sessions],
    }


def render_agenda(series: Series, *, lang: str, fmt: Format = "md", pm: Any = None) -> str:
    """The full agenda of ``series`` in ``lang`` as Markdown (``md``) or HTML (``html``).

    ``pm`` is the plugin manager: its catalogs and ``prepare_jinja2_environment`` hooks
    apply (default: the installed plugins').
    """
    if fmt not in ("md", "html"):
        raise InputError(f"format must be md or html, not {fmt!r}")
    tr = series_catalogs(series, pm=pm).translations(lang)
    env = template_environment("agenda", translations=tr, pm=pm)
    return env.get_template(f"agenda.{fmt}.j2").render(agenda_context(series, lang=lang, pm=pm))
