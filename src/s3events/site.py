"""The event page of a series as a static site: one page per language, calendars, agendas.

:func:`build_site` (``s3events site SERIES -o DIR``) writes::

    index.html                         the page in the series' default language
    LANG/index.html                    the page in each other language (es/index.html …)
    [LANG/]agenda.html                 the full agenda in that language (s3events.agenda)
    [LANG/]calendar/SERIES.ics         the whole series, METHOD:PUBLISH
    [LANG/]calendar/SERIES-SESSION.ics one session, for "Add to calendar"
    files/PATH                         documents given by ``path`` next to the series file
    static/site.css, static/site.js    the style sheet and the small local-time script

Each page shows the series' texts in its language, the focus countries named in it, and
every session with its date and time in the organiser's zone formatted by Babel
("jueves, 28 de octubre de 2021, 17:00–19:30 (hora de Bruselas)"). Each session element
carries its start and end as UTC ISO strings in ``data-start``/``data-end``; ``site.js``
adds the same session in the visitor's own zone with the browser's ``Intl`` API. Fixed
phrases come from the series' gettext catalogs (:mod:`s3events.catalogs`), through the
``site`` environment of :mod:`s3events.templating` (which the web app's pages share).

``s3events serve`` (:mod:`s3events.web`) serves the same files and pages, with the
registration form in the page.
"""

from __future__ import annotations

import functools
import json
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale
from babel.dates import format_interval
from markupsafe import Markup

from .agenda import AgendaSession, LocalTime, agenda_context, render_agenda
from .calendar import series_calendar, to_ics
from .catalogs import require, series_catalogs
from .countries import country_name, country_zones, fold
from .errors import InputError
from .i18n import babel_locale, language_name
from .models import Document, Series, Session
from .templating import TEMPLATES_DIR, template_environment
from .zonenames import zone_city, zone_label, zone_pattern

if TYPE_CHECKING:
    from babel.support import NullTranslations

__all__ = [
    "STATIC_FILES",
    "PageSession",
    "build_site",
    "content_type",
    "language_prefix",
    "page_context",
    "render_page",
    "site_files",
    "zone_choices",
    "zone_label",
]

_TEMPLATES = TEMPLATES_DIR / "site"
#: The files under ``templates/site/static`` every site gets.
STATIC_FILES = ("site.css", "site.js")
_UTC = timezone.utc


# -- zones (named as everywhere: s3events.zonenames) -----------------------------------------
@functools.lru_cache(maxsize=1)
def _canonical_zones() -> tuple[str, ...]:
    codes = [c for c in Locale.parse("en").territories
             if isinstance(c, str) and len(c) == 2 and c.isalpha()]
    zones = {zone for code in codes for zone in country_zones(code)}
    return tuple(sorted(zones | {"UTC"}))


@functools.lru_cache(maxsize=16)
def zone_choices(lang: str) -> tuple[tuple[str, str], ...]:
    """Every location-based zone as ``(IANA name, label)``, sorted by the city in ``lang``.

    The label starts with the city ("Lima (America/Lima)") so typing a city's first
    letters in the select finds it.
    """
    rows = [(zone_city(z, lang), z) for z in _canonical_zones()]
    rows.sort(key=lambda row: (fold(row[0]), row[1]))
    return tuple((zone, f"{city} ({zone})" if city != zone else zone) for city, zone in rows)


def _zone_names_json(lang: str) -> Markup:
    """Zone → its label in ``lang`` ("hora de Tokio"), as JSON safe inside a ``<script>``."""
    names = {zone: zone_label(zone, lang) for zone in _canonical_zones()}
    text = json.dumps(names, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(safe)  # noqa: S704 - JSON with <, > and & escaped: inert in <script>


# -- paths -----------------------------------------------------------------------------------
def language_prefix(series: Series, lang: str) -> str:
    """The folder of a language's pages: ``""`` for the default language, else ``"es/"``."""
    return "" if lang == series.default_language else f"{lang}/"


def _calendar_name(series: Series, session: Session | None = None) -> str:
    return f"calendar/{series.id}-{session.id}.ics" if session else f"calendar/{series.id}.ics"


def _document_path(series: Series, session: Session, document: Document) -> tuple[str, Path]:
    """The site path (``files/…``) and the source file of a document given by ``path``."""
    assert document.path is not None
    where = f"session '{session.id}', document '{document.id}'"
    if series.source is None:
        raise InputError(f"{where}: a document 'path' needs the series file's folder; load "
                         "the series from its file or give the document a 'url'")
    folder = series.source.parent.resolve()
    source = (folder / document.path).resolve()
    if Path(document.path).is_absolute() or not source.is_relative_to(folder):
        raise InputError(f"{series.source}: {where}: path '{document.path}' must be a file "
                         "in the series file's folder or below it")
    if not source.is_file():
        raise InputError(f"{series.source}: {where}: file '{document.path}' not found next to "
                         "the series file")
    return "files/" + source.relative_to(folder).as_posix(), source


# -- the page --------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageSession:
    """One session as the page shows it, in the page's language."""

    id: str
    label: str
    title: str
    date: str
    times: str
    zone: str
    start: str
    end: str
    cancelled: bool
    ended: bool
    local_times: list[LocalTime] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    exercises: list[str] = field(default_factory=list)
    documents: list[dict[str, str | None]] = field(default_factory=list)
    calendar: str = ""


def _iso(moment: datetime) -> str:
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _documents(series: Series, session: Session, lang: str, root: str) -> list[dict[str, Any]]:
    out = []
    for document in session.documents:
        href = document.url
        if document.path is not None:
            href = root + _document_path(series, session, document)[0]
        out.append({"title": series.text(document.title, lang), "href": href,
                    "lang": document.language})
    return out


def _page_session(series: Series, session: Session, item: AgendaSession, *, lang: str,
                  root: str, now: datetime | None) -> PageSession:
    return PageSession(
        id=session.id, label=item.label, title=item.title, date=item.date, times=item.times,
        zone=zone_label(series.timezone, lang), start=_iso(session.start),
        end=_iso(session.ends_at), cancelled=session.cancelled,
        ended=now is not None and session.ends_at <= now, local_times=item.local_times,
        topics=item.topics, exercises=item.exercises,
        documents=_documents(series, session, lang, root),
        calendar=_calendar_name(series, session),
    )


def _languages(series: Series, lang: str, root: str, index: str) -> list[dict[str, Any]]:
    return [{"code": code, "name": language_name(code), "current": code == lang,
             "href": root + language_prefix(series, code) + index or "./"}
            for code in series.languages]


def _window(series: Series, lang: str) -> str:
    if series.window is None:
        return ""
    return str(format_interval(series.window.start, series.window.end, "yMMMd",
                               locale=babel_locale(lang)))


def page_context(series: Series, *, lang: str, pretty_urls: bool = False,
                 base_url: str | None = None, root: str | None = None,
                 now: datetime | None = None, pm: Any = None) -> dict[str, Any]:
    """The template variables of the page in ``lang``.

    ``pretty_urls`` links pages as ``es/`` (a server) instead of ``es/index.html`` (files);
    ``base_url`` makes the language alternates absolute; ``root`` is the site's root as
    seen from the page (default: relative, ``""`` or ``"../"``); ``now`` marks ended
    sessions; ``pm`` is the plugin manager whose catalogs count.
    """
    agenda = agenda_context(series, lang=lang, pm=pm)
    if root is None:
        root = "../" if language_prefix(series, lang) else ""
    index = "" if pretty_urls else "index.html"
    sessions = [_page_session(series, s, item, lang=lang, root=root, now=now)
                for s, item in zip(series.sessions, agenda["sessions"], strict=True)]
    locale = babel_locale(lang)
    base = base_url.rstrip("/") + "/" if base_url else None
    return {
        **agenda,
        "lang": lang,
        "dir": "rtl" if locale.character_order == "right-to-left" else "ltr",
        "root": root,
        "index": index,
        "base_url": base,
        "languages": _languages(series, lang, root, index),
        "alternates": [{"code": code, "href": (base or root) + language_prefix(series, code)
                        + index} for code in series.languages],
        "summary": series.text(series.summary, lang) if series.summary else "",
        "countries": [country_name(code, lang) for code in series.focus_countries],
        "window": _window(series, lang),
        "zone": series.timezone,
        "zone_label": zone_label(series.timezone, lang),
        "zone_pattern": zone_pattern(lang),
        "sessions": sessions,
        "sections_with_ids": [{"id": s.id, "title": series.text(s.title, lang),
                               "body": series.text(s.body, lang)} for s in series.sections],
        "series_calendar": _calendar_name(series),
        "zone_names": _zone_names_json(lang),
        "note": series.text(series.registration.note, lang) if series.registration.note
        else "",
        "registration_open": series.registration.open,
        "form": None,
    }


def render_page(template: str, context: Mapping[str, Any], *, translations: NullTranslations,
                pm: Any = None) -> str:
    """Render one of the site's templates (``index.html``, ``message.html`` …).

    ``translations`` is the catalog of the page's language; ``pm`` the plugin manager
    whose ``prepare_jinja2_environment`` hooks apply (default: the installed plugins').
    """
    env = template_environment("site", translations=translations, pm=pm)
    return env.get_template(template).render(context)


# -- files -----------------------------------------------------------------------------------
def _with_document_urls(series: Series, lang: str) -> Series:
    """The series with each ``path`` document pointing at its copy in the site."""
    root = "../" if language_prefix(series, lang) else ""
    sessions = []
    for session in series.sessions:
        documents = [d.model_copy(update={"url": root + _document_path(series, session, d)[0]})
                     if d.path is not None else d for d in session.documents]
        sessions.append(session.model_copy(update={"documents": documents}))
    return series.model_copy(update={"sessions": sessions})


def _calendars(series: Series, lang: str, now: datetime, pm: Any) -> dict[str, bytes]:
    files = {_calendar_name(series): to_ics(series_calendar(series, lang=lang, dtstamp=now,
                                                            pm=pm))}
    for session in series.sessions:
        one = series.model_copy(update={"sessions": [session]})
        files[_calendar_name(series, session)] = to_ics(
            series_calendar(one, lang=lang, dtstamp=now, pm=pm))
    return files


def site_files(series: Series, *, base_url: str | None = None, now: datetime | None = None,
               pages: bool = True, pm: Any = None) -> dict[str, bytes]:
    """Every file of the site by its path (``es/index.html``, ``static/site.css`` …).

    ``pages=False`` leaves out the ``index.html`` pages (the web app renders them itself).
    ``pm`` is the plugin manager whose catalogs and template hooks apply (default: the
    installed plugins'). A series language without a catalog is refused.
    """
    now = now or datetime.now(_UTC)
    catalogs = series_catalogs(series, pm=pm)
    require(catalogs, series.languages)
    files: dict[str, bytes] = {}
    for name in STATIC_FILES:
        files[f"static/{name}"] = (_TEMPLATES / "static" / name).read_bytes()
    for session in series.sessions:
        for document in session.documents:
            if document.path is not None:
                target, source = _document_path(series, session, document)
                files[target] = source.read_bytes()
    for lang in series.languages:
        prefix = language_prefix(series, lang)
        if pages:
            context = page_context(series, lang=lang, base_url=base_url, pm=pm)
            files[prefix + "index.html"] = render_page(
                "index.html", context, translations=catalogs.translations(lang),
                pm=pm).encode()
        agenda = render_agenda(_with_document_urls(series, lang), lang=lang, fmt="html", pm=pm)
        files[prefix + "agenda.html"] = agenda.encode()
        for name, data in _calendars(series, lang, now, pm).items():
            files[prefix + name] = data
    return files


def content_type(path: str) -> str:
    """The Content-Type a server should give a site file (text as UTF-8)."""
    if path.endswith(".ics"):
        return "text/calendar; charset=utf-8"
    if path.endswith((".md", ".txt")):
        return "text/plain; charset=utf-8"  # shown in the browser, not downloaded
    guessed = mimetypes.guess_type(path)[0] or "application/octet-stream"
    text = guessed.startswith("text/") or guessed in ("application/javascript", "text/javascript")
    return f"{guessed}; charset=utf-8" if text else guessed


def build_site(series: Series, out: str | Path, *, base_url: str | None = None,
               now: datetime | None = None, pm: Any = None) -> list[Path]:
    """Write the static site of ``series`` into the folder ``out``; return the files written."""
    folder = Path(out)
    written = []
    for name, data in sorted(site_files(series, base_url=base_url, now=now, pm=pm).items()):
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    return written
