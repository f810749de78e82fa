"""The preferences page: a person changes their time zone and language from their own link.

``GET /preferences/TOKEN`` — the link a confirmation carries when the person's zone was
guessed — shows their zone and language with a form: the zone is chosen from the tz
database's zones grouped by region (CLDR's names for the continents, the catalog's for the
two oceans, cities in the page's language), the language from the series' languages, each
named in itself. ``POST`` (with the CSRF token, under the shared rate limit) changes them
with :func:`s3events.registrations.update_preferences`, which checks both values and
re-times the person's pending messages, and answers in the newly chosen language. A value
that is refused gets the form again with the field's message (422); a token that matches
nobody gets the same 404 page as a bad cancel link.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import flask
from werkzeug.wrappers import Response

from ..countries import fold
from ..errors import InputError
from ..i18n import N_, babel_locale, language_name
from ..registrations import Registration, UnknownRegistration, get_by_token, update_preferences
from ..site import zone_choices
from ..templating import translate
from ..zonenames import zone_label
from .forms import MESSAGES

if TYPE_CHECKING:
    from .app import Web

__all__ = ["PreferencesPage", "zone_groups"]

#: The tz database's areas as regions: a CLDR territory code (named by Babel in the page's
#: language), or a phrase of the catalog where CLDR has no name (the two oceans' islands).
_REGIONS: dict[str, str] = {
    "Africa": "002", "America": "019", "Antarctica": "AQ", "Arctic": "150", "Asia": "142",
    "Atlantic": N_("Atlantic Ocean"), "Australia": "009", "Europe": "150",
    "Indian": N_("Indian Ocean"), "Pacific": "009",
}
#: Longer than any zone name or city: a post with more is refused without looking it up.
_MAX_VALUE = 100
_FIELDS = ("language", "timezone")


@functools.lru_cache(maxsize=16)
def _by_region(lang: str) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    """Region key → its zones as ``(zone, label)``, sorted by city; ``""``: ungrouped."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for zone, label in zone_choices(lang):
        region = _REGIONS.get(zone.split("/", 1)[0], "") if "/" in zone else ""
        groups.setdefault(region, []).append((zone, label))
    return tuple((region, tuple(zones)) for region, zones in groups.items())


def zone_groups(lang: str, translations: Any) -> list[dict[str, Any]]:
    """The zone select's groups in ``lang``: ``{"label", "zones": [(zone, label)]}``.

    Zones without a region (``UTC``) come first, with an empty label; then the regions in
    alphabetical order of their names.
    """
    territories = babel_locale(lang).territories
    out = []
    for region, zones in _by_region(lang):
        if not region:
            label = ""
        elif region.isdigit() or region.isupper():
            label = str(territories.get(region) or region)
        else:
            label = translate(translations, region)
        out.append({"label": label, "zones": list(zones)})
    return sorted(out, key=lambda group: (group["label"] != "", fold(group["label"])))


class PreferencesPage:
    """``GET``/``POST /preferences/TOKEN``, on the app's state (:class:`~.app.Web`)."""

    def __init__(self, web: Web) -> None:
        self.web = web

    def __call__(self, token: str) -> Response:
        """Show the person's zone and language, or (``POST``) change them."""
        web = self.web
        reg = get_by_token(web.s.store, token, series_id=web.series.id)
        if reg is None:
            return web.invalid_link()
        lang = web.lang_of(reg.language)
        if flask.request.method != "POST":
            return self.show(reg, lang)
        refused = web.refuse_post(lang)
        if refused is not None:
            return refused
        return self.change(token, reg, lang)

    def change(self, token: str, reg: Registration, lang: str) -> Response:
        """Check and store the posted values; the form again with messages if refused."""
        web = self.web
        posted = {name: str(flask.request.form.get(name, "")).strip() for name in _FIELDS}
        # An over-long value is checked as an empty one: refused, with the other checked too.
        checked = {name: "" if len(value) > _MAX_VALUE else value
                   for name, value in posted.items()}
        try:
            reg = update_preferences(web.s.store, web.series, token, now=web.s.clock(),
                                     timezone=checked["timezone"], language=checked["language"])
        except UnknownRegistration:  # erased in the meantime
            return web.invalid_link()
        except InputError as exc:
            wrong = {p.path for p in exc.problems if p.path in _FIELDS} or set(_FIELDS)
            return self.show(reg, lang, status=422, posted=posted, wrong=wrong)
        web.after_change()  # a message re-timed to earlier may be due now
        return self.show(reg, web.lang_of(reg.language), saved=True)

    def show(self, reg: Registration, lang: str, *, status: int = 200, saved: bool = False,
             posted: Mapping[str, str] | None = None, wrong: set[str] | None = None,
             ) -> Response:
        """The page in ``lang``: current values, the form, and what was refused."""
        web = self.web
        translations = web.catalogs.translations(lang)
        errors = {name: translate(translations, MESSAGES[name])
                  for name in _FIELDS if name in (wrong or ())}
        context = dict(web._context(lang))
        context.update(
            languages=[], back=web.page_url(lang), saved=saved,
            guessed=reg.zone_guessed and not saved,
            current={"zone": _zone_text(reg.timezone, lang),
                     "zone_name": zone_label(reg.timezone, lang),
                     "language": language_name(web.lang_of(reg.language))},
            form=self.form(reg, lang, translations, posted or {}, errors))
        return _html(web.page("preferences.html", context, lang), status)

    def form(self, reg: Registration, lang: str, translations: Any,
             posted: Mapping[str, str], errors: Mapping[str, str]) -> dict[str, Any]:
        """The ``form`` variable: choices, what is selected, messages, the CSRF token."""
        web = self.web
        groups = zone_groups(lang, translations)
        known = {zone for group in groups for zone, _ in group["zones"]}
        zone, language = posted.get("timezone", ""), posted.get("language", "")
        zone = zone if zone in known else reg.timezone
        language = language if language in web.series.languages else web.lang_of(reg.language)
        return {
            "action": flask.request.path, "csrf": web.csrf_token(), "errors": dict(errors),
            "zone": zone, "zone_groups": groups,
            "extra_zone": None if zone in known else (zone, _zone_text(zone, lang)),
            "language": language,
            "languages": [(code, language_name(code)) for code in web.series.languages],
        }


def _html(text: str, status: int) -> Response:
    response = Response(text, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response


def _zone_text(zone: str, lang: str) -> str:
    """A zone as the page shows it: "New York time (America/New_York)"."""
    label = zone_label(zone, lang)
    return label if label == zone else f"{label} ({zone})"
