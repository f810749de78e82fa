"""The Flask app around the handlers of :mod:`s3events.web.app`: routes, answers, error pages.

- Routes take a language only from the series' languages, so every other first path
  segment (``/agenda.html``, ``/static/…``) is a file of the site.
- ``Location`` headers never follow the request's ``Host`` header: every redirect (the
  app's own and Werkzeug's, such as ``/es`` → ``/es/``) is rewritten to a path on the
  page's base URL — absolute when the page has a configured public address, else a
  relative reference that can only stay on the same site.
- A database that cannot be used (locked, down) gets a page in the visitor's language
  with 503 and ``Retry-After``; any other error a page with 500. Either is logged with
  the request's path (tokens blanked), the error's type and where it happened, never its
  message: database and vendor messages may quote what a person typed.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import flask
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import InternalServerError
from werkzeug.wrappers import Response

from ..errors import StoreError
from .app import Web, WebSettings
from .preferences import PreferencesPage
from .security import SECURITY_HEADERS, web_secret
from .server import describe_exception, loggable_path

__all__ = ["build_app", "safe_location"]

log = logging.getLogger("s3events.web")
_SAFE_PATH = "/%:@!$&'()*+,;=-._~"


class _App(flask.Flask):
    """Flask, logging an unhandled error without its message and without link tokens."""

    def log_exception(self, exc_info: Any) -> None:
        """One line: method, path (tokens blanked), the error's type and where it arose."""
        exc = exc_info[1] if isinstance(exc_info, tuple) else None
        log.error("%s %s failed: %s", flask.request.method, loggable_path(flask.request.path),
                  describe_exception(exc) if exc is not None else "unknown error")


def safe_location(target: str, *, request_path: str, origin: str | None) -> str:
    """A ``Location`` for ``target`` that stays on the page's own site.

    The scheme and host of ``target`` are dropped; its path (resolved against
    ``request_path`` when relative) is kept, percent-encoded, with leading slashes
    collapsed, so no browser reads it as another host (``//evil.example``,
    ``/\\evil.example``). With ``origin`` (``https://events.example.org``) the result is
    absolute on it.
    """
    parts = urlsplit(urljoin(request_path, target))
    path = "/" + quote(parts.path.replace("\\", "/"), safe=_SAFE_PATH).lstrip("/")
    query = f"?{quote(parts.query, safe=_SAFE_PATH + '?')}" if parts.query else ""
    return f"{origin or ''}{path}{query}"


def _origin(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


def _routes(app: flask.Flask, web: Web) -> None:
    langs = ",".join(re.escape(lang) for lang in web.series.languages)
    lang = f"<any({langs}):lang>"
    add = app.add_url_rule
    add("/", "index", web.index)
    add(f"/{lang}/", "index_lang", web.index)
    add("/register", "register", web.register, methods=["POST"])
    add(f"/{lang}/register", "register_lang", web.register, methods=["POST"])
    add("/registered", "registered", web.registered)
    add(f"/{lang}/registered", "registered_lang", web.registered)
    add("/confirm/<token>", "confirm", web.confirm, methods=["GET", "POST"])
    add("/cancel/<token>", "cancel", web.cancel, methods=["GET", "POST"])
    add("/preferences/<token>", "preferences", PreferencesPage(web), methods=["GET", "POST"])
    add("/callbacks/attendance/<session_id>/<signature>", "attendance_callback",
        web.attendance_callback, methods=["POST"])
    add("/<path:path>", "file", web.file)


def _answers(app: flask.Flask, web: Web, origin: str | None) -> None:
    def finish(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        location = response.headers.get("Location")
        if location is not None:
            response.headers["Location"] = safe_location(
                location, request_path=flask.request.path, origin=origin)
        return response

    def unavailable(exc: Exception) -> Response:
        log.error("%s %s failed: %s", flask.request.method, loggable_path(flask.request.path),
                  describe_exception(exc))
        response = web.problem(503)
        response.headers["Retry-After"] = "60"
        return response

    def failed(exc: InternalServerError) -> Response:
        return web.problem(500)

    app.register_error_handler(StoreError, unavailable)
    app.register_error_handler(SQLAlchemyError, unavailable)
    app.register_error_handler(InternalServerError, failed)
    app.register_error_handler(404, web.not_found)
    app.after_request(finish)


def build_app(settings: WebSettings) -> flask.Flask:
    """The Flask app for ``settings`` (use :func:`s3events.web.create_app`)."""
    secret = web_secret(settings.store, settings.environ)
    web = Web(settings, secret)
    app = _App("s3events.web", static_folder=None)
    app.secret_key = secret
    app.config.update(
        SESSION_COOKIE_NAME="s3e_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
        SESSION_COOKIE_PATH=web.root, MAX_CONTENT_LENGTH=64 * 1024,
    )
    _routes(app, web)
    _answers(app, web, _origin(web.base_url) if settings.absolute_redirects else None)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)  # type: ignore[method-assign]
    app.extensions["s3events"] = web
    return app
