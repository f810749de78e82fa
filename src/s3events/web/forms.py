"""The registration form: its choices, what a post means, and messages in the page's language.

The checks are the store's own (:func:`s3events.registrations.clean_fields`), plus what
only a form has (a language and sessions from the lists offered, lengths); each problem
becomes a message from the series' gettext catalog in the page's language, shown next to
its field and in a summary. Languages are offered by their own names ("Français").
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from babel import Locale

from ..countries import UnknownName, country_code, country_name, fold
from ..i18n import N_, language_name
from ..registrations import SECTORS, clean_fields
from ..site import PageSession, zone_choices
from ..templating import phrases, translate

if TYPE_CHECKING:
    from babel.support import NullTranslations

    from ..models import Series

__all__ = [
    "FIELDS",
    "HONEYPOT",
    "FormData",
    "country_choices",
    "form_context",
    "read_form",
    "validate",
]

#: The form's fields, in the order they are shown (and errors are listed).
FIELDS = ("name", "email", "language", "timezone", "country", "organisation", "sector",
          "sessions", "consent")
#: The field people never see; a post that fills it is a bot's.
HONEYPOT = "website"
#: Consent every web registration gives, as stored in the registration.
CONSENT = "data_processing"
_MAX_TEXT = 200
_MAX_EMAIL = 254  # the longest address SMTP carries (RFC 5321 path limit)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _space(match: re.Match[str]) -> str:
    return " " if match.group() in "\t\r\n" else ""

#: The message shown for each problem, by field (``name_long``: a name over 200 characters).
MESSAGES = {
    "name": N_("Enter your name."),
    "name_long": N_("Your name is too long: use at most 200 characters."),
    "email": N_("Enter your email address, such as name@example.org."),
    "language": N_("Choose one of the languages in the list."),
    "timezone": N_("Choose your time zone from the list."),
    "country": N_("Choose a country from the list."),
    "organisation": N_("The name of the organisation is too long: use at most 200 "
                       "characters."),
    "sector": N_("Choose a sector from the list."),
    "sessions": N_("Choose at least one of the sessions."),
    "consent": N_("Tick the box to agree, or we cannot send you the links."),
}
_SECTOR_LABELS = {
    "public-administration": N_("Public administration"),
    "academia": N_("Academia and research"),
    "ngo": N_("Non-governmental organisation"),
    "private-consultancy": N_("Private consultancy"),
    "other": N_("Other"),
}


@dataclass(frozen=True)
class FormData:
    """A post read from the form: the values typed and the sessions ticked."""

    values: dict[str, str]
    sessions: list[str]
    consent: bool

    def as_registration(self, offered: Sequence[str]) -> dict[str, Any]:
        """The fields :func:`~s3events.registrations.register` reads.

        Ticking every session offered means all sessions (later ones included).
        """
        chosen = "all" if set(offered) <= set(self.sessions) else list(self.sessions)
        return {**self.values, "sessions": chosen, "consent": "yes" if self.consent else ""}


def read_form(form: Any) -> FormData:
    """Read a Werkzeug ``MultiDict`` (or a mapping of lists) into :class:`FormData`.

    Control characters, which no one types into a field (a NUL byte, an escape), are
    taken out of the texts; tabs and line breaks become spaces. The email address is kept
    as sent (:func:`validate` refuses one with a control character).
    """
    def one(name: str) -> str:
        value = form.get(name, "")
        if value is None:
            return ""
        return str(value).strip() if name == "email" else _CONTROL.sub(
            _space, str(value)).strip()

    values = {name: one(name) for name in FIELDS if name not in ("sessions", "consent")}
    sessions = [str(s) for s in form.getlist("sessions")] if hasattr(form, "getlist") else list(
        form.get("sessions") or [])
    return FormData(values, sessions, one("consent") == "yes")


def validate(series: Series, data: FormData, *, translations: NullTranslations,
             offered: Sequence[str]) -> dict[str, str]:
    """Problems of a post as ``{field: message}``, in the form's order; {} if none.

    ``translations`` is the catalog of the page's language.
    """
    problems: dict[str, str] = {}
    values = data.values
    if len(values["email"]) > _MAX_EMAIL or _CONTROL.search(values["email"]):
        problems["email"] = "email"
    if len(values["name"]) > _MAX_TEXT:
        problems["name"] = "name_long"
    if len(values["organisation"]) > _MAX_TEXT:
        problems["organisation"] = "organisation"
    if values["language"] not in series.languages:
        problems["language"] = "language"
    if not values["timezone"]:
        problems["timezone"] = "timezone"
    if values["sector"] and values["sector"] not in SECTORS:
        problems["sector"] = "sector"
    if not data.sessions or not set(data.sessions) <= set(offered):
        problems["sessions"] = "sessions"
    checked = {**values, "language": values["language"] or series.default_language,
               "sessions": "all", "consent": "yes" if data.consent else ""}
    _, found = clean_fields(series, checked, required_consent=(CONSENT,))
    for name, _reason in found:
        if name in MESSAGES and name not in problems:
            problems[name] = name
    return {name: translate(translations, MESSAGES[problems[name]])
            for name in FIELDS if name in problems}


@functools.lru_cache(maxsize=16)
def country_choices(lang: str) -> tuple[tuple[str, str], ...]:
    """Every ISO 3166 country as ``(code, name in lang)``, sorted by name."""
    found = []
    for code in Locale.parse("en").territories:
        if not isinstance(code, str) or len(code) != 2 or not code.isalpha():
            continue
        try:
            if country_code(code) != code:
                continue
        except UnknownName:
            continue
        found.append((code, country_name(code, lang)))
    return tuple(sorted(found, key=lambda row: fold(row[1])))


@functools.lru_cache(maxsize=16)
def _zone_set(lang: str) -> frozenset[str]:
    return frozenset(zone for zone, _ in zone_choices(lang))


def _language_choices(series: Series) -> list[tuple[str, str]]:
    return [(code, language_name(code)) for code in series.languages]


def form_context(series: Series, *, lang: str, translations: NullTranslations,
                 sessions: Sequence[PageSession],
                 values: Mapping[str, str] | None = None, ticked: Sequence[str] | None = None,
                 consent: bool = False, errors: Mapping[str, str] | None = None,
                 csrf: str, full: bool) -> dict[str, Any]:
    """The ``form`` variable of the page template.

    ``sessions`` are the sessions offered (not cancelled, not over); with no ``values`` (a
    first visit) every one is ticked and the time zone is left for the browser to choose.
    ``translations`` is the catalog of the page's language ``lang``.
    """
    first = values is None
    shown = {name: "" for name in FIELDS}
    shown.update(language=lang, timezone=series.timezone)
    shown.update(values or {})
    chosen = set(ticked) if ticked is not None else {s.id for s in sessions}
    return {
        "action": "register",
        "data": {**shown, "consent": consent},
        "errors": dict(errors or {}),
        "csrf": csrf,
        "honeypot": HONEYPOT,
        "languages": _language_choices(series),
        "zones": zone_choices(lang),
        "zone_names": _zone_set(lang),
        "detect_zone": first,
        "countries": country_choices(lang),
        "sectors": [(s, translate(translations, _SECTOR_LABELS[s])) for s in SECTORS],
        "sessions": [{"id": s.id, "checked": s.id in chosen,
                      "label": _session_label(s, translations)} for s in sessions],
        "full": full,
    }


def _session_label(session: PageSession, translations: NullTranslations) -> str:
    _ = phrases(translations)
    title = _("%(label)s: %(title)s", label=session.label, title=session.title) \
        if session.label else session.title
    return f"{title} — {session.date}"
