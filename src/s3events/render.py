"""Rendering messages: Jinja2 templates, Babel dates, one render per shared context.

Templates are packaged in ``s3events/templates/messages`` — for every kind
(``confirmation``, ``waitlisted``, ``optin``, ``link``, ``reminder``, ``update``,
``cancellation``, ``followup``, ``missed``, ``certificate``) a ``KIND.subject.txt``,
``KIND.txt``, ``KIND.html`` and ``KIND.short.txt`` (the short text for messaging apps).
A series overrides any of them with a file of the same name in its ``dispatch.templates``
folder, or for one language only with
``KIND.LANG.FORMAT`` (``link.es.html``). Every template runs in Jinja2's sandbox; HTML is
autoescaped, text is not. Fixed phrases are written ``{{ _("English text") }}`` and come
from the series' gettext catalogs (:mod:`s3events.catalogs`) through the environments of
:mod:`s3events.templating`. A message is always in one of the series' languages: the
participant's (:func:`s3events.i18n.series_language`), else — for a registration whose
language the series no longer declares — the series' default language. A declared
language without a catalog is refused when the renderer is built.

A confirmation or waiting-list message to a person whose zone was guessed
(``zone_guessed``: from the most populous zone of their country, or the series' zone) names
the zone assumed and asks them to check it: with the event page's address it links to their
own preferences page (``preferences_url``), else it asks them to write to the organiser.

Speed: everything that is the same for many participants — the kind, session, language
and time zone, and whether that zone was guessed — is rendered once, with placeholders for
the personal values (``name``, ``email``, ``join_url``, ``cancel_url``, ``confirm_url``,
``preferences_url``), which are then filled in per
participant (escaped for HTML). A template that computes with a personal value (a filter
on ``name``, say) is detected and rendered per participant instead, so the result is
always what Jinja2 itself would give. Invitations are built the same way: once per
session, language and revision, with the ATTENDEE line (and a per-person link) filled in.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from babel.dates import format_date, format_time
from babel.numbers import format_decimal
from babel.support import NullTranslations
from markupsafe import escape

from .calendar import session_invitation, to_ics
from .catalogs import Catalogs, require, series_catalogs
from .errors import InputError
from .i18n import babel_locale, series_language
from .models import ReleaseRule, Series, Session
from .templating import phrases, template_environment
from .zonenames import zone_label

__all__ = [
    "FORMATS",
    "KINDS",
    "PERSONAL_FIELDS",
    "Invitation",
    "MessageRenderer",
    "RenderedMessage",
    "render_message",
]

#: The message kinds with packaged templates.
KINDS = ("confirmation", "waitlisted", "optin", "link", "reminder", "update", "cancellation",
         "followup", "missed", "certificate")
#: Template formats of a message kind.
FORMATS = ("subject.txt", "txt", "html", "short.txt")
#: Variables filled in per participant after the shared render.
PERSONAL_FIELDS = ("name", "email", "join_url", "cancel_url", "confirm_url", "preferences_url")

_MARK_OPEN, _MARK_CLOSE = "\ue002", "\ue003"


@functools.lru_cache(maxsize=4096)
def _when(start: datetime, end: datetime, zone: ZoneInfo, lang: str) -> dict[str, str]:
    """Date, start, end and zone of a session as a participant in ``zone`` reads them."""
    locale = babel_locale(lang)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return {
        "date": format_date(local_start, "full", locale=locale),
        "start": format_time(local_start, "short", locale=locale),
        "end": format_time(local_end, "short", locale=locale),
        "zone": zone_label(zone.key, lang),
        "zone_id": zone.key,
        "iso": local_start.isoformat(),
    }


def _release_note(rule: ReleaseRule, lang: str, translations: NullTranslations) -> str:
    """When links go out, as the confirmation says it: "the day before, at 09:00 your time"."""
    locale, _ = babel_locale(lang), phrases(translations)
    if rule.local_time is not None:
        clock = format_time(rule.local_time, "short", locale=locale)
        if rule.days_before == 1:
            # Translators: completes "You will receive the link to each session %(when)s."
            return _("the day before, at %(time)s your time", time=clock)
        if rule.days_before == 0:
            return _("on the day of the session, at %(time)s your time", time=clock)
        return translations.ngettext(
            "%(days)s day before, at %(time)s your time",
            "%(days)s days before, at %(time)s your time", rule.days_before,
        ) % {"days": format_decimal(rule.days_before, locale=locale), "time": clock}
    hours = rule.days_before * 24 + rule.hours_before
    if hours <= 0:
        return _("shortly before it starts")
    if hours < 1:
        minutes = round(hours * 60)
        return translations.ngettext(
            "%(minutes)s minute before it starts", "%(minutes)s minutes before it starts",
            minutes) % {"minutes": format_decimal(minutes, locale=locale)}
    return translations.ngettext(
        "%(hours)s hour before it starts", "%(hours)s hours before it starts",
        math.ceil(hours)) % {"hours": format_decimal(hours, locale=locale)}


@dataclass(frozen=True)
class RenderedMessage:
    """A message rendered for one participant: subject, text, HTML and the short text."""

    kind: str
    language: str
    subject: str
    text: str
    html: str
    short: str
    facts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Shared:
    """The shared render of one kind for one (session, language, zone)."""

    parts: dict[str, str | None]  # format → output with markers, None: render per person
    context: dict[str, Any]
    facts: dict[str, str]


def _tokens(width: int) -> dict[str, str]:
    return {f: f"\ue000{f}{'~' * width}\ue001" for f in PERSONAL_FIELDS}


def _normalise(text: str, tokens: Mapping[str, str]) -> str:
    for name, token in tokens.items():
        text = text.replace(token, f"{_MARK_OPEN}{name}{_MARK_CLOSE}")
    return text


class MessageRenderer:
    """Renders the messages of one series, caching what participants share.

    One renderer serves a whole dispatch run: build it once, call :meth:`render` per
    participant. ``base_url`` (the event page) adds a cancel link to messages, as
    ``{base_url}/cancel/{token}``, makes the opt-in link ``{base_url}/confirm/{token}``
    and the preferences page ``{base_url}/preferences/{token}``.
    """

    def __init__(self, series: Series, *, templates: Path | None = None,
                 base_url: str | None = None, pm: Any = None) -> None:
        from .plugins import get_plugin_manager

        self.series = series
        self.templates = templates
        self.base_url = base_url.rstrip("/") if base_url else None
        self.pm = pm if pm is not None else get_plugin_manager()
        self.catalogs: Catalogs = series_catalogs(series, pm=self.pm)
        require(self.catalogs, series.languages)
        self._envs: dict[str, jinja2.Environment] = {}
        self._shared: dict[tuple[Any, ...], _Shared] = {}
        self.environment(series.default_language)  # a missing templates folder fails here

    # -- public ------------------------------------------------------------------------
    def language(self, lang: str | None) -> str:
        """The language to write in for a participant who asked for ``lang``.

        One of the series' languages: theirs, else (a language the series no longer
        declares) the series' default language.
        """
        return series_language(self.series, lang) or self.series.default_language

    def translations(self, lang: str) -> NullTranslations:
        """The catalog of ``lang`` for this series."""
        return self.catalogs.translations(lang)

    def environment(self, lang: str) -> jinja2.Environment:
        """The sandboxed template environment for messages in ``lang``."""
        env = self._envs.get(lang)
        if env is None:
            env = self._envs[lang] = template_environment(
                "messages", translations=self.translations(lang), templates=self.templates,
                pm=self.pm)
        return env

    def cancel_url(self, token: str | None) -> str | None:
        """The participant's cancel link, when the series has an event page."""
        return f"{self.base_url}/cancel/{token}" if self.base_url and token else None

    def confirm_url(self, token: str | None) -> str | None:
        """The link of an opt-in message, ``{base_url}/confirm/{token}`` (needs a base URL)."""
        return f"{self.base_url}/confirm/{token}" if self.base_url and token else None

    def preferences_url(self, token: str | None) -> str | None:
        """The participant's page to change zone and language (needs a base URL)."""
        return f"{self.base_url}/preferences/{token}" if self.base_url and token else None

    def render(self, kind: str, *, lang: str, zone: ZoneInfo, session: Session | None = None,
               sessions: Sequence[Session] = (), revision: int = 0, passcode: str | None = None,
               zone_guessed: bool = False,
               personal: Mapping[str, str | None]) -> RenderedMessage:
        """Render ``kind`` for one participant (``personal``: name, email, join_url …).

        ``zone_guessed``: the participant's zone is a guess they are asked to check.
        """
        present = tuple(f for f in PERSONAL_FIELDS if personal.get(f))
        key = (kind, lang, zone.key, zone_guessed, session.id if session else None,
               tuple(s.id for s in sessions), revision, passcode, present)
        shared = self._shared.get(key)
        if shared is None:
            context = self.context(kind, lang=lang, zone=zone, session=session,
                                   sessions=sessions, revision=revision, passcode=passcode,
                                   zone_guessed=zone_guessed)
            shared = self._shared[key] = self._render_shared(kind, lang, context, present)
        return self._personalise(kind, lang, shared, personal)

    def context(self, kind: str, *, lang: str, zone: ZoneInfo, session: Session | None,
                sessions: Sequence[Session] = (), revision: int = 0,
                passcode: str | None = None, zone_guessed: bool = False) -> dict[str, Any]:
        """The template variables that do not depend on who receives the message."""
        series = self.series
        context: dict[str, Any] = {
            "kind": kind, "lang": lang, "revision": revision, "passcode": passcode,
            "zone_name": zone_label(zone.key, lang), "zone_id": zone.key,
            "zone_guessed": zone_guessed,
            "series": {
                "id": series.id, "title": series.text(series.title, lang),
                "subtitle": series.text(series.subtitle, lang) if series.subtitle else "",
                "organiser": series.text(series.organiser.name, lang),
                "email": series.organiser.email, "url": series.organiser.url or "",
            },
            "same_zone": zone.key == series.timezone,
            "release_note": _release_note(series.dispatch.link, lang, self.translations(lang)),
            "session": None, "when": None, "organiser_when": None,
            "sessions": [self._session(s, lang, zone) for s in sessions],
            **{f: None for f in PERSONAL_FIELDS},
        }
        if session is not None:
            item = self._session(session, lang, zone)
            context.update(session=item, when=item["when"],
                           organiser_when=item["organiser_when"])
        return context

    # -- shared render -----------------------------------------------------------------
    def _session(self, session: Session, lang: str, zone: ZoneInfo) -> dict[str, Any]:
        series = self.series
        assert session.end is not None
        label = series.text(session.label, lang) if session.label else ""
        title = series.text(session.title, lang)
        _ = phrases(self.translations(lang))
        # Translators: a session's label and title, e.g. "Day 1: Introduction". Only the
        # punctuation between them is yours (French puts a space before the colon).
        full = _("%(label)s: %(title)s", label=label, title=title) if label else title
        return {
            "id": session.id, "label": label, "title": title, "full_title": full,
            "topics": [series.text(t, lang) for t in session.topics],
            "exercises": [series.text(t, lang) for t in session.exercises],
            "documents": [{"title": series.text(d.title, lang), "url": d.url}
                          for d in session.documents if d.url],
            "materials": [{"title": series.text(m.title, lang), "url": m.url}
                          for m in session.materials],
            "recording_url": session.recording_url,
            "cancelled": session.cancelled,
            "when": _when(session.start, session.end, zone, lang),
            "organiser_when": _when(session.start, session.end, series.zone, lang),
        }

    def _names(self, kind: str, lang: str, fmt: str) -> list[str]:
        return [f"{kind}.{lang}.{fmt}", f"{kind}.{fmt}"]

    def _template(self, kind: str, lang: str, fmt: str) -> jinja2.Template:
        try:
            return self.environment(lang).select_template(self._names(kind, lang, fmt))
        except jinja2.TemplatesNotFound:
            raise InputError(f"no template for message kind '{kind}' ({fmt}); known kinds: "
                             f"{', '.join(KINDS)}") from None
        except jinja2.TemplateSyntaxError as exc:
            raise _template_error(exc) from None

    def _extra(self, name: str, context: dict[str, Any]) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        for result in self.pm.hook.s3events_extra_template_vars(template=name, context=context):
            for key, value in (result or {}).items():
                if key not in context and key not in extra:
                    extra[key] = value
        return extra

    def _render_shared(self, kind: str, lang: str, context: dict[str, Any],
                       present: tuple[str, ...]) -> _Shared:
        parts: dict[str, str | None] = {}
        a, b = _tokens(1), _tokens(2)
        for fmt in FORMATS:
            template = self._template(kind, lang, fmt)
            base = {**context, **self._extra(str(template.name), context)}
            out_a = _run(template, {**base, **{f: a[f] for f in present}})
            out_b = _run(template, {**base, **{f: b[f] for f in present}})
            norm = _normalise(out_a, a)
            safe = norm == _normalise(out_b, b) and "\ue000" not in norm and "\ue001" not in norm
            parts[fmt] = norm if safe else None
        facts = {"kind": kind, "session": context["session"]["id"] if context["session"] else ""}
        if context["session"]:
            when, _ = context["when"], phrases(self.translations(lang))
            facts.update(title=context["session"]["full_title"],
                         local_time=f"{when['date']}, {when['start']} ({when['zone']})",
                         # Translators: a button that opens the meeting, in chats.
                         link_label=_("Join"))
        return _Shared(parts, context, facts)

    def _personalise(self, kind: str, lang: str, shared: _Shared,
                     personal: Mapping[str, str | None]) -> RenderedMessage:
        out: dict[str, str] = {}
        for fmt, text in shared.parts.items():
            html = fmt == "html"
            if text is None:
                template = self._template(kind, lang, fmt)
                context = {**shared.context, **self._extra(str(template.name), shared.context)}
                context.update({f: personal.get(f) for f in PERSONAL_FIELDS})
                out[fmt] = _run(template, context)
                continue
            out[fmt] = _fill(text, personal, html=html)
        facts = {**shared.facts, "link": personal.get("join_url") or ""}
        return RenderedMessage(
            kind=kind, language=lang, subject=_one_line(out["subject.txt"]),
            text=out["txt"], html=out["html"], short=out["short.txt"].strip(), facts=facts)


_MARKER = re.compile(f"{_MARK_OPEN}({'|'.join(PERSONAL_FIELDS)}){_MARK_CLOSE}")


def _fill(text: str, personal: Mapping[str, str | None], *, html: bool) -> str:
    """``text`` with each personal field's marker replaced by the person's value.

    One pass over the shared text: a value is never read again, so a name that holds the
    renderer's marker characters stays that name and cannot pull in another field.
    """
    def value(found: re.Match[str]) -> str:
        text = personal.get(found.group(1)) or ""
        return str(escape(text)) if html else text

    return _MARKER.sub(value, text)


def _one_line(text: str) -> str:
    """``text`` on one line; no-break spaces stay (French puts one before a colon)."""
    return re.sub(r"[ \t\r\n\f\v]+", " ", text).strip(" ")


def _run(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    try:
        return template.render(context)
    except jinja2.exceptions.SecurityError as exc:
        raise InputError(
            f"template {template.name}: not allowed in the template sandbox: {exc}. Message "
            "templates can use the documented variables (docs/messages.md), not Python "
            "internals.") from None
    except jinja2.TemplateError as exc:
        raise _template_error(exc, template.name) from None


def _template_error(exc: jinja2.TemplateError, name: str | None = None) -> InputError:
    where = getattr(exc, "filename", None) or getattr(exc, "name", None) or name or "template"
    line = getattr(exc, "lineno", None)
    place = f"{where}:{line}" if line else str(where)
    return InputError(f"template {place}: {exc.message or exc}")


# -- invitations ---------------------------------------------------------------------------
_NAME_TOKEN = "S3eAttendeeName"  # noqa: S105 - placeholders, not secrets
_EMAIL_TOKEN = "s3e-attendee@token.invalid"  # noqa: S105
_URL_TOKEN = "https://token.invalid/s3e-join"  # noqa: S105
_TEXT_PROPERTIES = {"DESCRIPTION", "LOCATION", "SUMMARY", "COMMENT"}
_UNFOLD = re.compile(r"\r\n[ \t]")


def fold_line(line: str) -> str:
    """Fold one iCalendar content line at 75 octets (RFC 5545 §3.1), never inside a character."""
    data = line.encode()
    if len(data) <= 75:
        return line
    pieces, start, limit = [], 0, 75
    while len(data) - start > limit:
        end = start + limit
        while data[end] & 0xC0 == 0x80:  # do not cut a UTF-8 sequence
            end -= 1
        pieces.append(data[start:end])
        start, limit = end, 74  # continuation lines start with a space
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode()


def _escape_text(value: str) -> str:
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\n", "\\n"))


def _param(value: str) -> str:
    """A quoted iCalendar parameter value (no quotes or control characters inside)."""
    return '"' + re.sub(r'["\x00-\x1f\x7f]', "", value) + '"'


@dataclass(frozen=True)
class Invitation:
    """An invitation built once, filled in per participant (ATTENDEE and join link)."""

    method: str
    head: str
    tail: str
    lines: tuple[str, ...] = ()  # unfolded, when the join link differs per person

    def fill(self, *, name: str, email: str, join_url: str | None = None) -> str:
        """The invitation for one participant, as iCalendar text with CRLF line ends."""
        attendee = fold_line(
            f"ATTENDEE;CN={_param(name)};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
            f"PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{email}")
        if not self.lines:
            return f"{self.head}{attendee}\r\n{self.tail}"
        url = join_url or ""
        out = []
        for line in self.lines:
            if line == _NAME_TOKEN:
                out.append(attendee)
                continue
            if _URL_TOKEN in line:
                prop = re.split(r"[;:]", line, maxsplit=1)[0].upper()
                line = line.replace(_URL_TOKEN,
                                    _escape_text(url) if prop in _TEXT_PROPERTIES else url)
            out.append(fold_line(line))
        return "\r\n".join(out)

    @classmethod
    def build(cls, series: Series, session: Session, *, lang: str, method: str, sequence: int,
              join_url: str | None, per_person: bool, dtstamp: datetime,
              pm: Any = None) -> Invitation:
        """Build the shared invitation (``per_person``: the join link is filled in later).

        Its text is in ``lang``, from the series' catalogs (``pm``: the plugin manager whose
        catalogs count, default the installed plugins').
        """
        cal = session_invitation(
            series, session, lang=lang, method="CANCEL" if method == "CANCEL" else "REQUEST",
            sequence=sequence, join_url=_URL_TOKEN if per_person and join_url else join_url,
            attendees=[(_NAME_TOKEN, _EMAIL_TOKEN)], dtstamp=dtstamp, pm=pm)
        lines = _UNFOLD.sub("", to_ics(cal).decode("utf-8")).split("\r\n")
        at = next(i for i, line in enumerate(lines) if line.startswith("ATTENDEE"))
        if per_person and join_url:
            return cls(method, "", "", (*lines[:at], _NAME_TOKEN, *lines[at + 1:]))
        head = "".join(fold_line(line) + "\r\n" for line in lines[:at])
        tail = "\r\n".join(fold_line(line) for line in lines[at + 1:])
        return cls(method, head, tail)


def render_message(series: Series, kind: str, *, lang: str | None = None,
                   zone: str | ZoneInfo | None = None, session: Session | None = None,
                   sessions: Sequence[Session] = (), name: str = "", email: str = "",
                   join_url: str | None = None, extra: Mapping[str, str] | None = None,
                   base_url: str | None = None, token: str | None = None,
                   zone_guessed: bool = False, templates: Path | None = None,
                   pm: Any = None) -> RenderedMessage:
    """Render one message outside a dispatch run (to try templates, or to embed s3events).

    ``lang`` is the participant's language: one of the series' languages, else the default
    one (as :meth:`MessageRenderer.language` says). ``extra`` may carry ``confirm_url``
    (for ``optin``) and ``cancel_url``; with ``base_url`` and the registration's ``token``
    the cancel link and the preferences page's address are built. ``zone_guessed``: the
    zone is a guess (a confirmation then asks the person to check it). Raises
    :class:`~s3events.catalogs.MissingCatalog` when a language of the series has no catalog.
    """
    renderer = MessageRenderer(series, templates=templates, base_url=base_url, pm=pm)
    tz = zone if isinstance(zone, ZoneInfo) else ZoneInfo(zone or series.timezone)
    personal: dict[str, str | None] = {"name": name, "email": email, "join_url": join_url,
                                       "cancel_url": renderer.cancel_url(token),
                                       "preferences_url": renderer.preferences_url(token)}
    personal.update(extra or {})
    if kind in ("confirmation", "waitlisted", "optin") and not sessions:
        sessions = [s for s in series.sessions if not s.cancelled]
    return renderer.render(kind, lang=renderer.language(lang), zone=tz, session=session,
                           sessions=sessions, zone_guessed=zone_guessed, personal=personal)
