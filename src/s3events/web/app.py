"""The Flask application: the event pages, the registration form, opt-in and cancel links.

Routes (``/es/…`` for every language other than the default one):

- ``GET /``, ``GET /es/`` — the page with the form; ``POST /register``, ``POST /es/register``
  stores the registration and sends its first message (the opt-in email) before answering;
  ``GET /registered`` — "check your inbox" after a registration (post, redirect, get);
- ``GET /confirm/TOKEN`` — the opt-in link: asks, with a button; ``POST /confirm/TOKEN``
  (the button) counts the registration from now on;
- ``GET /cancel/TOKEN`` — asks for confirmation; ``POST /cancel/TOKEN`` cancels;
- ``GET /preferences/TOKEN`` — the person's time zone and language with a form;
  ``POST /preferences/TOKEN`` changes them (:mod:`s3events.web.preferences`);
- ``POST /callbacks/attendance/SESSION/SIGNATURE`` — a platform's attendance report of a
  session, at the signed address provisioning gave it (see
  :mod:`s3events.attendance.callback`);
- everything else the static site has (``static/``, ``calendar/``, ``agenda.html``, ``files/``).

Every post is rate limited per address (across processes, in the state database) and needs
the form's CSRF token; a post that fills the honeypot is refused. Refused and invalid posts
store nothing. The base URL given to :func:`~s3events.web.create_app` (never the request's
Host header) makes the links in emails. :mod:`s3events.web.factory` builds the Flask app
around these handlers.
"""

from __future__ import annotations

import functools
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import flask
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response

from ..catalogs import series_catalogs
from ..errors import InputError
from ..i18n import series_language
from ..ledger import scrub_error
from ..masking import mask_credentials
from ..models import Series
from ..plugins import get_plugin_manager
from ..registrations import (
    Registration,
    UnknownRegistration,
    cancel_registration,
    confirm_opt_in,
    get_by_token,
    register,
)
from ..site import (
    PageSession,
    content_type,
    language_prefix,
    page_context,
    render_page,
)
from ..site import site_files as build_site_files
from ..store import Store, registrations, utcnow
from ..templating import phrases
from .forms import CONSENT, HONEYPOT, FormData, form_context, read_form, validate
from .mail import BackgroundDispatch, dispatch_runner
from .ratelimit import PostLimiter, RateLimit
from .security import CsrfTokens

__all__ = ["Web", "WebSettings"]

log = logging.getLogger("s3events.web")
#: The largest attendance report a platform may post (bytes).
_REPORT_LIMIT = 16 * 1024 * 1024


@dataclass
class WebSettings:
    """What the app serves and how: see :func:`s3events.web.create_app`."""

    series: Series
    store: Store
    base_url: str
    transport: str | None = None
    clock: Callable[[], datetime] = utcnow
    rate_limit: RateLimit = field(default_factory=RateLimit)
    dispatch: bool = True
    trusted_proxies: int = 0
    environ: Mapping[str, str] | None = None
    absolute_redirects: bool = False


class Web:
    """The app's state and request handlers (:mod:`s3events.web.factory` routes to them)."""

    def __init__(self, settings: WebSettings, secret: bytes) -> None:
        self.s = settings
        self.series = settings.series
        self.base_url = settings.base_url.rstrip("/")
        self.root = (urlsplit(self.base_url).path.rstrip("/") or "") + "/"
        self.pm = get_plugin_manager()
        self.catalogs = series_catalogs(self.series, pm=self.pm)
        self.files = build_site_files(self.series, base_url=self.base_url, pages=False,
                                      pm=self.pm)
        self.csrf = CsrfTokens(secret)
        self.limiter = PostLimiter(settings.store, settings.rate_limit, key=secret,
                                   series_id=self.series.id)
        self.runner = dispatch_runner(settings.store, self.series, transport=settings.transport,
                                      base_url=self.base_url, clock=settings.clock)
        self.notifier = BackgroundDispatch(self.runner)
        self._context = functools.lru_cache(maxsize=16)(self._page_context)

    # -- helpers -----------------------------------------------------------------------
    def _page_context(self, lang: str) -> dict[str, Any]:
        return page_context(self.series, lang=lang, pretty_urls=True,
                            base_url=self.base_url, root=self.root, pm=self.pm)

    def lang_of(self, lang: str | None) -> str:
        """The series' language ``lang`` names, else the default one."""
        return series_language(self.series, lang) or self.series.default_language

    def phrases(self, lang: str) -> Callable[..., str]:
        """``_(message, **values)``: a fixed phrase in ``lang``, values filled in."""
        return phrases(self.catalogs.translations(lang))

    def page_url(self, lang: str) -> str:
        """The address of the page in ``lang``, from the site's root."""
        return self.root + language_prefix(self.series, lang)

    def offered(self) -> list[str]:
        """The ids of the sessions one can still register for (not cancelled, not over)."""
        now = self.s.clock()
        return [s.id for s in self.series.sessions if not s.cancelled and s.ends_at > now]

    def full(self) -> bool:
        """True when every seat is taken (new registrations join the waiting list)."""
        capacity = self.series.registration.capacity
        if capacity is None:
            return False
        query = select(func.count()).select_from(registrations).where(
            registrations.c.series_id == self.series.id, registrations.c.status == "confirmed")
        with self.s.store.connect() as conn:
            return int(conn.execute(query).scalar_one()) >= capacity

    def csrf_token(self) -> str:
        """A CSRF token for this visitor's session (made on first use)."""
        session_id = flask.session.get("csrf")
        if not isinstance(session_id, str):
            session_id = flask.session["csrf"] = secrets.token_urlsafe(16)
        return self.csrf.issue(session_id)

    def csrf_ok(self) -> bool:
        """True when the post carries a valid token for this visitor's session."""
        session_id = flask.session.get("csrf")
        return self.csrf.check(flask.request.form.get("csrf_token"),
                               session_id if isinstance(session_id, str) else None)

    def render_index(self, lang: str, *, status: int = 200, data: FormData | None = None,
                     errors: Mapping[str, str] | None = None) -> Response:
        """The page in ``lang`` with the form (filled in again after a refused post)."""
        context = dict(self._context(lang))
        offered = set(self.offered())
        sessions: list[PageSession] = [s for s in context["sessions"] if s.id in offered]
        if self.series.registration.open:
            context["form"] = form_context(
                self.series, lang=lang, translations=self.catalogs.translations(lang),
                sessions=sessions,
                values=data.values if data else None, ticked=data.sessions if data else None,
                consent=data.consent if data else False, errors=errors,
                csrf=self.csrf_token(), full=self.full())
        return _html(self.page("index.html", context, lang), status)

    def page(self, template: str, context: Mapping[str, Any], lang: str) -> str:
        """One of the site's templates, rendered in ``lang``."""
        return render_page(template, context, translations=self.catalogs.translations(lang),
                           pm=self.pm)

    def render_message(self, lang: str, heading: str, *paragraphs: str, status: int = 200,
                       problem: bool = False, form: dict[str, Any] | None = None,
                       ) -> Response:
        """A short page: a heading, a few paragraphs, a button (``form``), a link back."""
        context = dict(self._context(lang))
        context.update(languages=[], heading=heading, problem=problem,
                       paragraphs=[p for p in paragraphs if p], form=form,
                       back=self.page_url(lang))
        return _html(self.page("message.html", context, lang), status)

    # -- the page and the form ---------------------------------------------------------
    def index(self, lang: str | None = None) -> Response:
        """``GET /`` and ``GET /LANG/``."""
        if lang is not None and (lang not in self.series.languages
                                 or lang == self.series.default_language):
            if lang == self.series.default_language:
                return flask.redirect(self.root, 308)
            raise NotFound()
        return self.render_index(lang or self.series.default_language)

    def register(self, lang: str | None = None) -> Response:
        """``POST /register``: check, store as pending, send the opt-in message."""
        lang = self._lang_in_path(lang)
        _ = self.phrases(lang)
        refused = self.refuse_post(lang)
        if refused is not None:
            return refused
        if flask.request.form.get(HONEYPOT):
            log.info("registration refused: honeypot filled")
            return self.render_message(lang, _("Your registration could not be accepted."),
                                       status=400, problem=True)
        if not self.series.registration.open:
            return self.render_index(lang, status=403)
        data = read_form(flask.request.form)
        offered = self.offered()
        errors = validate(self.series, data, translations=self.catalogs.translations(lang),
                          offered=offered)
        if errors:
            return self.render_index(lang, status=422, data=data, errors=errors)
        try:
            self.save(data, offered)
        except InputError:  # a rule the form's own checks do not know (e.g. just closed)
            return self.render_index(lang, status=422, data=data, errors={
                "email": _("Your registration could not be saved. Check the details and try "
                           "again.")})
        return flask.redirect(self.page_url(lang) + "registered", 303)

    def _lang_in_path(self, lang: str | None) -> str:
        if lang is not None and (lang not in self.series.languages
                                 or lang == self.series.default_language):
            raise NotFound()
        return lang or self.series.default_language

    def refuse_post(self, lang: str) -> Response | None:
        """The answer to a post over the rate limit or without a valid CSRF token."""
        _ = self.phrases(lang)
        if not self.limiter.allow(flask.request.remote_addr or "-"):
            log.info("post refused: rate limit")
            response = self.render_message(
                lang, _("Too many attempts"),
                _("Too many forms were sent from your address. Please wait a few minutes and "
                  "try again."), status=429, problem=True)
            response.headers["Retry-After"] = str(int(self.s.rate_limit.window))
            return response
        if not self.csrf_ok():
            log.info("post refused: missing or invalid CSRF token")
            return self.render_message(
                lang, _("This form has expired"),
                _("For your security, forms expire. Go back, reload the page and send the "
                  "form again."), status=400, problem=True)
        return None

    def save(self, data: FormData, offered: list[str]) -> None:
        """Store the registration and send what it needs now.

        A person already registered (confirmed or waiting) keeps their registration as it
        is, and is sent its status again: the page says the same in every case, so it
        tells nobody who is registered. A pending person is sent a new opt-in email. The
        message goes out while they wait; if it cannot, it stays in the ledger and a later
        dispatch sends it.
        """
        reg = register(self.s.store, self.series, data.as_registration(offered),
                       now=self.s.clock(), source="web",
                       require_opt_in=self.series.registration.double_opt_in,
                       required_consent=(CONSENT,), update_existing=False, resend_status=True)
        self.deliver([reg.id])

    def deliver(self, registration_ids: list[str]) -> None:
        """Send these people's due messages now, then what else is due in the background."""
        if not self.s.dispatch:
            return
        try:
            self.runner(registration_ids)
        except Exception as exc:  # the registration is saved; the row waits for a later run
            log.error("dispatch after a registration failed: %s",
                      scrub_error(mask_credentials(f"{type(exc).__name__}: {exc}")))
        self.after_change()

    def registered(self, lang: str | None = None) -> Response:
        """``GET /registered``: what happens next."""
        lang = self._lang_in_path(lang)
        _ = self.phrases(lang)
        full = _("All seats are taken at the moment: you join the waiting list, "
                            "and we write to you as soon as a seat becomes free.")
        if self.series.registration.double_opt_in:
            return self.render_message(
                lang, _("Check your inbox"),
                _("We will send you an email. Your registration counts once you "
                             "follow the link in it."),
                full if self.full() else "")
        return self.render_message(
            lang, _("Thank you for registering"),
            _("You will receive a confirmation by email."),
            full if self.full() else "")

    def after_change(self) -> None:
        """Send what a registration change made due (in the background)."""
        if self.s.dispatch:
            self.notifier.trigger()

    # -- links from emails -------------------------------------------------------------
    def confirm(self, token: str) -> Response:
        """``GET /confirm/TOKEN`` asks; ``POST`` (with the CSRF token) confirms.

        The opt-in link only shows a button: mail scanners that follow every link in a
        message (to check it) must not confirm registrations nobody confirmed.
        """
        reg = get_by_token(self.s.store, token, series_id=self.series.id)
        if reg is None:
            return self.invalid_link()
        lang = self.lang_of(reg.language)
        _ = self.phrases(lang)
        if flask.request.method == "POST":
            refused = self.refuse_post(lang)
            if refused is not None:
                return refused
            try:
                reg = confirm_opt_in(self.s.store, self.series, token, now=self.s.clock())
            except UnknownRegistration:  # erased in the meantime
                return self.invalid_link()
            self.after_change()
        elif reg.status == "pending":
            title = self.series.text(self.series.title, lang)
            return self.render_message(
                lang, _("Confirm your registration"),
                _("Press the button to confirm your registration for %(series)s.",
                       series=title),
                form=self.action_form(_("Confirm my registration")))
        return self.registration_status(lang, reg)

    def registration_status(self, lang: str, reg: Registration) -> Response:
        """The page after the opt-in link: confirmed, on the waiting list, or cancelled."""
        _ = self.phrases(lang)
        if reg.status == "confirmed":
            return self.render_message(
                lang, _("Your registration is confirmed"),
                _("You will receive a confirmation by email, and the link to each "
                             "of your sessions before it starts."),
                self.series.text(self.series.registration.note, lang)
                if self.series.registration.note else "")
        if reg.status == "waitlisted":
            return self.render_message(
                lang, _("You are on the waiting list"),
                _("All seats are taken. We write to you as soon as a seat becomes "
                             "free."))
        return self.render_message(
            lang, _("This registration was cancelled"),
            _("To take part, register again on the event page."))

    def action_form(self, label: str, *, danger: bool = False) -> dict[str, Any]:
        """A one-button form that posts to this page with a CSRF token."""
        return {"action": flask.request.path, "csrf": self.csrf_token(), "label": label,
                "danger": danger}

    def cancel(self, token: str) -> Response:
        """``GET /cancel/TOKEN`` asks; ``POST`` (with the CSRF token) cancels."""
        reg = get_by_token(self.s.store, token, series_id=self.series.id)
        if reg is None:
            return self.invalid_link()
        lang = self.lang_of(reg.language)
        _ = self.phrases(lang)
        if flask.request.method == "POST":
            refused = self.refuse_post(lang)
            if refused is not None:
                return refused
            cancel_registration(self.s.store, self.series, token, now=self.s.clock())
            self.after_change()
            reg = get_by_token(self.s.store, token, series_id=self.series.id) or reg
        if reg.status == "cancelled":
            return self.render_message(
                lang, _("Your registration is cancelled"),
                _("You will receive no more messages about this series. You can "
                             "register again on the event page at any time."))
        title = self.series.text(self.series.title, lang)
        return self.render_message(
            lang, _("Cancel your registration?"),
            _("You will no longer receive the messages and links of %(series)s.",
                   series=title),
            form=self.action_form(_("Yes, cancel my registration"), danger=True))

    def invalid_link(self) -> Response:
        """The answer to a confirm, cancel or preferences link that matches no registration."""
        lang = self.visitor_language()
        _ = self.phrases(lang)
        return self.render_message(
            lang, _("This link is not valid"),
            _("It may be incomplete, or the registration was deleted. Register "
                         "again on the event page if you want to take part."),
            status=404, problem=True)

    # -- platforms ---------------------------------------------------------------------
    def attendance_callback(self, session_id: str, signature: str) -> Response:
        """``POST /callbacks/attendance/SESSION/SIGNATURE``: a platform's attendance report."""
        from ..attendance.callback import CallbackRefused, receive_report
        from ..provision import load_adapter

        flask.request.max_content_length = _REPORT_LIMIT
        try:
            count = receive_report(
                self.s.store, self.series, session_id, signature, flask.request.get_data(),
                flask.request.content_type or "", now=self.s.clock(),
                adapter_factory=lambda name: load_adapter(self.series, platform=name,
                                                          environ=self.s.environ))
        except CallbackRefused as exc:
            log.info("attendance report for a session refused (%s)", exc.status)
            return Response(f"{exc}\n", status=exc.status, content_type="text/plain")
        log.info("attendance report received: %d participant(s)", count)
        self.after_change()  # follow-ups may be due now
        return Response("ok\n", content_type="text/plain")

    # -- site files --------------------------------------------------------------------
    def file(self, path: str) -> Response:
        """A file of the static site (style sheet, script, calendars, agendas, documents)."""
        if path.endswith("/index.html") or path == "index.html":
            return self.index(path.split("/")[0] if "/" in path else None)
        data = self.files.get(path)
        if data is None:
            raise NotFound()
        response = Response(data, content_type=content_type(path))
        response.headers["Cache-Control"] = "public, max-age=3600" if path.startswith(
            "static/") else "no-cache"
        return response

    def not_found(self, error: HTTPException) -> Response:
        """Any 404, as a page in the visitor's language."""
        lang = self.visitor_language()
        _ = self.phrases(lang)
        return self.render_message(lang, _("Page not found"), status=404, problem=True)

    def problem(self, status: int) -> Response:
        """A page saying the request failed on the server's side (500, or 503)."""
        lang = self.visitor_language()
        _ = self.phrases(lang)
        return self.render_message(
            lang, _("Something went wrong"),
            _("Your request could not be completed because of a problem on our side. "
              "Please try again in a few minutes."), status=status, problem=True)

    def visitor_language(self) -> str:
        """The series' language the visitor's browser prefers (else the default one)."""
        return self.lang_of(flask.request.accept_languages.best_match(self.series.languages))


def _html(text: str, status: int) -> Response:
    response = Response(text, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return response
