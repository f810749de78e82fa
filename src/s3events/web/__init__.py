"""The event page with online registration, served by Flask: ``s3events serve``.

Flask is an optional extra (``pip install 's3events[web]'``); nothing here imports it until
:func:`create_app` is called. The app serves the static site of :mod:`s3events.site` with a
registration form in the page: server-side checks with messages in the page's language,
CSRF tokens, a honeypot and a per-address rate limit against bots, double opt-in by email,
capacity and waiting list as in the store, and cancel links (see :mod:`s3events.web.app`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from ..errors import ConfigurationError
from .security import RateLimit, parse_rate_limit

if TYPE_CHECKING:
    import flask

    from ..models import Series
    from ..store import Store

__all__ = ["RateLimit", "create_app", "parse_rate_limit", "require_flask"]


def require_flask() -> None:
    """Raise :class:`~s3events.errors.ConfigurationError` when Flask is not installed."""
    try:
        import flask  # noqa: F401
    except ImportError:
        raise ConfigurationError(
            "the event page server needs Flask, an optional extra: "
            "pip install 's3events[web]'") from None


def create_app(series: Series, *, store: Store, base_url: str, transport: str | None = None,
               clock: Callable[[], datetime] | None = None, rate_limit: RateLimit | None = None,
               dispatch: bool = True, trusted_proxies: int = 0,
               environ: Mapping[str, str] | None = None) -> flask.Flask:
    """The WSGI app serving ``series``' event page with registration.

    ``base_url`` is the page's public address (links in emails are built from it, never
    from a request's Host header). ``transport`` is the email transport spec (default: the
    series', else ``outbox``). ``clock`` gives the current time (default: the real clock).
    ``rate_limit`` caps posts per address (default 5 per 10 minutes). With ``dispatch``
    every registration change starts a dispatch run in the background, so confirmations
    go out at once. ``trusted_proxies`` is the number of reverse proxies in front whose
    ``X-Forwarded-For``/``-Proto`` headers are believed.
    """
    require_flask()
    from ..store import utcnow
    from .app import WebSettings, build_app

    return build_app(WebSettings(
        series=series, store=store, base_url=base_url, transport=transport,
        clock=clock or utcnow, rate_limit=rate_limit or RateLimit(), dispatch=dispatch,
        trusted_proxies=trusted_proxies, environ=environ))
