"""A threaded WSGI server for ``s3events serve`` whose log lines hold no personal data.

Werkzeug's development server logs each request with the client's address and the full
path; here the address is left out and the secret token of confirm and cancel links is
blanked (:func:`~s3events.web.security.redact_path`). For production, run the app behind
a reverse proxy (docs/web.md).
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler
from werkzeug.serving import make_server as _make_server

from .security import redact_path

__all__ = ["QuietRequestHandler", "make_server"]

log = logging.getLogger("s3events.web")


class QuietRequestHandler(WSGIRequestHandler):
    """Logs ``METHOD path status`` only: no client address, no link tokens."""

    def address_string(self) -> str:
        """The client as logs show it: not at all."""
        return "-"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request, without personal data."""
        status = getattr(code, "value", code)
        log.info("%s %s %s", self.command, redact_path(self.path.split("?", 1)[0]), status)

    def log(self, type: str, message: str, *args: Any) -> None:
        """Werkzeug's other messages (errors), with paths redacted."""
        text = message % args if args else message
        getattr(log, type if type in ("info", "warning", "error") else "info")(
            "%s", redact_path(text))


def make_server(host: str, port: int, app: Any) -> BaseWSGIServer:
    """A threaded server for ``app`` on ``host:port`` (port 0: a free one)."""
    return _make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)
