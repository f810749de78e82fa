"""The event page with online registration, served by Flask: ``s3events serve``.

Flask is an optional extra (``pip install -e '.[web]'`` in a clone of s3events); nothing
here imports it until :func:`create_app` is called. The app serves the static site of
:mod:`s3events.site` with a registration form in the page: server-side checks with
messages in the page's language, CSRF tokens, a honeypot and a per-address rate limit
against bots, double opt-in by email, capacity and waiting list as in the store, cancel
links, and a page where a person changes their time zone and language (see
:mod:`s3events.web.app`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from .ratelimit import RateLimit, parse_rate_limit

if TYPE_CHECKING:
    import flask

    from ..models import Series
    from ..store import Store

__all__ = ["RateLimit", "app_from_environment", "create_app", "parse_rate_limit",
           "require_flask"]


def require_flask() -> None:
    """Raise :class:`~s3events.errors.ConfigurationError` when Flask is not installed."""
    try:
        import flask  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "the event page server needs Flask, from the web extra: pip install -e "
            "'.[web]' in s3events' folder") from None


def create_app(series: Series, *, store: Store, base_url: str, transport: str | None = None,
               clock: Callable[[], datetime] | None = None, rate_limit: RateLimit | None = None,
               dispatch: bool = True, trusted_proxies: int = 0,
               environ: Mapping[str, str] | None = None,
               absolute_redirects: bool | None = None) -> flask.Flask:
    """The WSGI app serving ``series``' event page with registration.

    ``base_url`` is the page's public address (links in emails are built from it, never
    from a request's Host header). ``transport`` is the email transport spec (default: the
    series', else ``outbox``). ``clock`` gives the current time (default: the real clock).
    ``rate_limit`` caps posts per address (default 5 per 10 minutes). With ``dispatch`` a
    new registration's opt-in email is sent while the person waits (a dispatch run for
    that person), and every change starts a dispatch run in the background, so
    confirmations go out at once; without it everything waits for ``s3events dispatch``.
    ``trusted_proxies`` is the number of reverse proxies in front whose
    ``X-Forwarded-For``/``-Proto`` headers are believed. Redirects never follow the
    request's ``Host`` header: with ``absolute_redirects`` their ``Location`` is absolute
    on ``base_url``'s host, else a path on the same site (default: absolute when the series
    sets ``dispatch.base_url``).
    """
    require_flask()
    from ..store import utcnow
    from .app import WebSettings
    from .factory import build_app

    return build_app(WebSettings(
        series=series, store=store, base_url=base_url, transport=transport,
        clock=clock or utcnow, rate_limit=rate_limit or RateLimit(), dispatch=dispatch,
        trusted_proxies=trusted_proxies, environ=environ,
        absolute_redirects=(series.dispatch.base_url is not None if absolute_redirects is None
                            else absolute_redirects)))


def app_from_environment(environ: Mapping[str, str] | None = None) -> flask.Flask:
    """The app configured from the environment, for WSGI servers.

    ``gunicorn --threads 8 's3events.web:app_from_environment()'``. Reads
    ``S3EVENTS_SERIES`` (the series file, required), ``S3EVENTS_BASE_URL`` (required unless
    the series sets ``dispatch.base_url``), ``S3EVENTS_STATE``, ``S3EVENTS_TRANSPORT``,
    ``S3EVENTS_WEB_RATE_LIMIT`` (``N/SECONDS``), ``S3EVENTS_WEB_PROXIES`` (trusted reverse
    proxies) and ``S3EVENTS_WEB_DISPATCH`` (``0`` leaves sending to ``s3events dispatch``).
    """
    from ..loading import load_series
    from ..store import open_store

    env = os.environ if environ is None else environ
    if not env.get("S3EVENTS_SERIES"):
        raise ConfigurationError("set S3EVENTS_SERIES (and S3EVENTS_BASE_URL) to serve the "
                                 "event page (see docs/web.md)")
    try:
        limit = parse_rate_limit(env.get("S3EVENTS_WEB_RATE_LIMIT", "5/600"))
        proxies = int(env.get("S3EVENTS_WEB_PROXIES", "0"))
    except ValueError as exc:
        raise ConfigurationError(f"S3EVENTS_WEB_RATE_LIMIT or S3EVENTS_WEB_PROXIES: {exc}"
                                 ) from None
    series = load_series(env["S3EVENTS_SERIES"])
    base_url = env.get("S3EVENTS_BASE_URL") or series.dispatch.base_url
    if not base_url:
        raise ConfigurationError("set S3EVENTS_BASE_URL (or dispatch.base_url in the series) "
                                 "to serve the event page: links in emails start with it")
    return create_app(series, store=open_store(env.get("S3EVENTS_STATE"), environ=env),
                      base_url=base_url, transport=env.get("S3EVENTS_TRANSPORT"),
                      rate_limit=limit, trusted_proxies=proxies,
                      dispatch=env.get("S3EVENTS_WEB_DISPATCH", "1") != "0", environ=env,
                      absolute_redirects=True)
