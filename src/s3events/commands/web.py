"""Event page commands: ``site`` (a static site) and ``serve`` (the page with registration).

Thin layers over :func:`s3events.site.build_site` and :func:`s3events.web.create_app`.
``serve`` needs Flask and waitress (the ``web`` extra: ``pip install -e '.[web]'`` in a
clone of s3events) and says so when they are missing.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from ..cli import now_option, parse_now, series_argument, state_option
from ..errors import InputError
from .core import _load

__all__ = ["serve", "site"]

_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@series_argument
@click.option("-o", "--output", "output", metavar="DIR", required=True,
              type=click.Path(file_okay=False, writable=True),
              help="Folder to write the site into (created if needed).")
@click.option("--base-url", "base_url", metavar="URL", default=None,
              help="Where the site will be published; makes the language alternates absolute.")
@now_option
def site(series_path: str, output: str, base_url: str | None, now: str | None) -> None:
    """Build the static event page of a series: one page per language, agendas, calendars.

    Open DIR/index.html in a browser, or publish DIR on any web server. Sessions are shown
    in the organiser's time zone and, in the browser, in the visitor's own.
    """
    from ..site import build_site

    series = _load(series_path)
    written = build_site(series, output, base_url=base_url, now=parse_now(now))
    click.echo(f"wrote {len(written)} files to {output} (start page: {output}/index.html)",
               err=True)


def _clock(now: str | None) -> Callable[[], datetime] | None:
    """With ``--now``, a clock that starts there and runs at the real pace."""
    if not now:
        return None
    start, real = parse_now(now), parse_now(None)

    def clock() -> datetime:
        return start + (parse_now(None) - real)

    return clock


def _base_url(host: str, port: int, given: str | None) -> str:
    """The page's public address: ``given`` (option, environment or series), else local."""
    if given:
        if not given.startswith(("http://", "https://")):
            raise InputError(f"--base-url {given!r} must start with http:// or https://")
        return given.rstrip("/")
    if host not in _LOOPBACK:
        raise InputError("--base-url is needed when serving on a public address: the links "
                         "in emails are built from it (e.g. https://events.example.org)")
    return f"http://{'[::1]' if host == '::1' else host}:{port}"


@click.command()
@series_argument
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@state_option
@click.option("--transport", "transport", metavar="URL", default=None,
              help="Email transport: smtp://…, smtps://…, outbox:PATH or console "
                   "(default: the series' dispatch.transport, else outbox).")
@click.option("--base-url", "base_url", metavar="URL", default=None, envvar="S3EVENTS_BASE_URL",
              help="The page's public address, used in the links of emails "
                   "(default: $S3EVENTS_BASE_URL, else the series' dispatch.base_url, else "
                   "http://HOST:PORT).")
@click.option("--rate-limit", "rate_limit", metavar="N/SECONDS", default="5/600",
              show_default=True, help="Form posts allowed per address in a sliding window.")
@click.option("--proxies", "proxies", default=0, show_default=True, type=click.IntRange(0, 5),
              help="Reverse proxies in front whose X-Forwarded-For/-Proto are trusted.")
@click.option("--dispatch/--no-dispatch", "dispatch", default=True, show_default=True,
              help="Send the opt-in email while the person waits and confirmations right "
                   "after each change (else `s3events dispatch` from cron sends them).")
@click.option("--threads", "threads", default=8, show_default=True,
              type=click.IntRange(1, 256), help="Requests served at once.")
@now_option
def serve(series_path: str, host: str, port: int, state: str | None, transport: str | None,
          base_url: str | None, rate_limit: str, proxies: int, dispatch: bool, threads: int,
          now: str | None) -> None:
    """Serve the event page with online registration (needs the web extra).

    Install the extra from a clone of s3events: `pip install -e '.[web]'`.

    Runs on waitress, a production WSGI server. Registrations land in the state database
    as pending; the emailed link confirms them (double opt-in), and the cancel link in
    every message cancels them. Set S3EVENTS_WEB_SECRET in production (see docs/web.md).
    """
    from ..store import open_store
    from ..web import create_app, parse_rate_limit, require_flask
    from ..web.server import listen

    require_flask()
    try:
        limit = parse_rate_limit(rate_limit)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--rate-limit") from None
    series = _load(series_path)
    given = base_url or series.dispatch.base_url
    _base_url(host, port, given)  # refuse a public address without one before listening
    sock = listen(host, port)  # port 0: the port chosen here is the one in the links
    try:
        url = _base_url(host, sock.getsockname()[1], given)
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
        with open_store(state) as store:
            app = create_app(series, store=store, base_url=url, transport=transport,
                             clock=_clock(now), rate_limit=limit, dispatch=dispatch,
                             trusted_proxies=proxies, absolute_redirects=given is not None)
            _run(app, sock, url, threads)
    finally:
        sock.close()


def _run(app: Any, sock: socket.socket, url: str, threads: int) -> None:
    from ..web.server import make_server

    server = make_server(app, sock=sock, threads=threads)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    click.echo(f"serving on http://{shown}:{port}/ (links in emails: {url}/); Ctrl+C stops",
               err=True)
    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _interrupt) if main else None  # systemd's stop
    try:
        server.serve_forever()  # returns on Ctrl+C or SIGTERM
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
        click.echo("stopped", err=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
