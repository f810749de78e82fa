"""The WSGI server of ``s3events serve``: waitress, with log lines that hold no personal data.

waitress (pure Python, made for production) serves the app with a pool of threads. It
answers malformed requests itself (a bad request line, TLS bytes sent to the plain port,
an over-long header: 400 or 431, then closes), names itself ``s3events`` in the ``Server``
header with no version, and keeps request headers and bodies within bounds.

:class:`AccessLog` writes one line per request, ``METHOD path status``: no client address,
no query string, the secret token of confirm, cancel and callback paths blanked
(:func:`~s3events.web.security.redact_path`) and so is anything that looks like an email
address, control characters escaped, so a request cannot forge log lines. An exception
that escapes the app is logged by its type and where it happened, never by its message
(which may quote personal data), and answered 500.
waitress' own log records go through :class:`ScrubLog`, which does the same to them.
"""

from __future__ import annotations

import logging
import re
import socket
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import Any

from ..errors import InputError
from .security import redact_path

__all__ = ["AccessLog", "ScrubLog", "Server", "describe_exception", "listen", "make_server"]

log = logging.getLogger("s3events.web")

#: The largest request head (request line and headers) the server reads, in bytes.
MAX_HEADER = 32 * 1024
#: The largest request body it reads (an attendance report is the largest kind).
MAX_BODY = 17 * 1024 * 1024
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_EMAIL = re.compile(r"[^\s/@?#]+@[^\s/@?#]+")
_ADDRESS = re.compile(
    r"(?<![\w.:])(?:\d{1,3}(?:\.\d{1,3}){3}|\[?[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}\]?)"
    r"(?::\d+)?(?![\w.:])")
_PATH_LIKE = re.compile(r"\S*/\S*")


def loggable_path(path: str, *, limit: int = 200) -> str:
    """``path`` as a log line may show it: tokens and email addresses blanked, control
    characters escaped."""
    path = _EMAIL.sub("<address>", redact_path(path))
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", path)
    return shown if len(shown) <= limit else shown[:limit] + "…"


def describe_exception(exc: BaseException) -> str:
    """An exception for logs: its types and where it arose, never its message.

    Messages of database drivers and vendors may quote values (a name, an address, a
    token); the types, the innermost frames of s3events and the frame that raised are
    enough to find the fault.
    """
    chain = [_type_name(exc)]
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 4:
        chain.append(_type_name(cause))
        cause = cause.__cause__ or cause.__context__
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "/s3events/" in f.filename.replace("\\", "/")][-3:]
    where = [_frame(f) for f in reversed(ours)]
    if frames and frames[-1] not in ours:
        where.append(f"raised in {_frame(frames[-1])}")
    return " from ".join(chain) + (f" (at {'; '.join(where)})" if where else "")


def _type_name(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}")


def _frame(frame: traceback.FrameSummary) -> str:
    parts = frame.filename.replace("\\", "/").split("/")
    return f"{'/'.join(parts[-2:])}:{frame.lineno} in {frame.name}"


class AccessLog:
    """WSGI middleware: one log line per request, and no exception reaches the server."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any],
                 start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = _CONTROL.sub("?", str(environ.get("REQUEST_METHOD", "-")))[:16]
        path = _wsgi_text(environ.get("SCRIPT_NAME", "")) + _wsgi_text(
            environ.get("PATH_INFO", ""))
        status: list[str] = []

        def start(code: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status[:] = [code.split(" ", 1)[0]]
            return start_response(code, headers, exc_info)

        try:
            body = self.app(environ, start)
        except Exception as exc:
            log.error("%s %s failed: %s", method, loggable_path(path), describe_exception(exc))
            start_response("500 Internal Server Error",
                           [("Content-Type", "text/plain; charset=utf-8")], _exc_info(exc))
            status[:] = ["500"]
            body = [b"Internal Server Error\n"]
        log.info("%s %s %s", method, loggable_path(path), status[0] if status else "-")
        return body


def _exc_info(exc: BaseException) -> tuple[type[BaseException], BaseException, Any]:
    return (type(exc), exc, exc.__traceback__)


def _wsgi_text(value: object) -> str:
    """A WSGI environ string (bytes as latin-1) as the UTF-8 text it carries."""
    text = str(value)
    try:
        return text.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return text


class ScrubLog(logging.Filter):
    """Takes client addresses, link tokens and exception messages out of waitress' records."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite ``record`` in place; keep it."""
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f" — {describe_exception(record.exc_info[1])}"
        text = _PATH_LIKE.sub(lambda m: loggable_path(m.group(), limit=120), text)
        text = _ADDRESS.sub("<address>", text)
        record.msg, record.args = _CONTROL.sub("?", text), ()
        record.exc_info = record.exc_text = None
        record.stack_info = None
        return True


# What a request may start with: optional blank lines, then a method (an RFC 9110 token)
# followed by a space, or the beginning of one when no more has arrived yet.
_PLAUSIBLE = re.compile(rb"[\r\n]*[!#$%&'*+\-.^_`|~0-9A-Za-z]{0,32}(?: |\Z)")


def _channel_class() -> type:
    """waitress' connection handler, refusing at once what cannot be HTTP/1.0 or 1.1.

    waitress reads a request head until its blank line; TLS bytes sent to the plain port
    never have one, so the connection would hang until it times out. Here the first bytes
    must look like a request line (else 400 and close), and a version other than 1.0 or
    1.1 (``HTTP/9.9``, or none at all: HTTP/0.9) is answered 400 too.
    """
    from waitress.channel import HTTPChannel
    from waitress.parser import HTTPRequestParser, ParsingError
    from waitress.utilities import BadRequest

    class Parser(HTTPRequestParser):
        def received(self, data: bytes) -> int:
            head = self.header_plus + data
            if self.body_rcv is None and not self.completed and not _PLAUSIBLE.match(
                    head[:64]):
                super().parse_header(b"GET / HTTP/1.0\r\n")
                self.error = BadRequest("this is not an HTTP request")
                self.completed = True
                return len(data)
            consumed: int = super().received(data)
            return consumed

        def parse_header(self, header_plus: bytes) -> None:
            super().parse_header(header_plus)
            if self.version not in ("1.0", "1.1"):
                raise ParsingError("only HTTP/1.0 and HTTP/1.1 are served")

    class Channel(HTTPChannel):
        parser_class = Parser

    return Channel


def _scrub_waitress_logs() -> None:
    """Put :class:`ScrubLog` on waitress' loggers (once)."""
    for name in ("waitress", "waitress.queue"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubLog) for f in logger.filters):
            logger.addFilter(ScrubLog())


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on ``host:port`` (port 0: a free one, chosen once, here).

    A host that does not resolve or a port that is taken raises
    :class:`~s3events.errors.InputError` saying so.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except (OSError, IndexError) as exc:
        raise InputError(f"cannot listen on {host}: {_reason(exc)}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise InputError(f"cannot listen on {host}:{port}: {_reason(exc)}") from None
    return sock


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


class Server:
    """waitress serving one WSGI app on one listening socket.

    :meth:`serve_forever` runs until Ctrl+C (or :meth:`shutdown` from another thread).
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], sock: socket.socket, *,
                 threads: int = 8) -> None:
        from waitress.server import BaseWSGIServer, create_server

        _scrub_waitress_logs()
        self.socket = sock
        server = create_server(
            AccessLog(app), sockets=[sock], threads=threads, ident="s3events",
            max_request_header_size=MAX_HEADER, max_request_body_size=MAX_BODY,
            clear_untrusted_proxy_headers=False,  # the app's --proxies setting decides
            expose_tracebacks=False, log_socket_errors=False, channel_timeout=60)
        assert isinstance(server, BaseWSGIServer)  # one socket: one server
        server.channel_class = _channel_class()
        self._server: Any = server

    @property
    def port(self) -> int:
        """The port the server listens on."""
        port: int = self.socket.getsockname()[1]
        return port

    def serve_forever(self) -> None:
        """Serve until interrupted; then stop the worker threads."""
        self._server.run()

    def shutdown(self) -> None:
        """Stop serving (from another thread): stop the workers, then close every connection.

        The workers go first: one that finishes a request wakes the serving loop through its
        trigger, which must still be open then. The call returns once the loop has closed
        everything, so :meth:`close` never pulls the socket from under a running loop.
        """
        server = self._server
        server.task_dispatcher.shutdown(timeout=5)
        closed = threading.Event()

        def close_all() -> None:
            for dispatcher in list(server._map.values()):
                dispatcher.close()
            closed.set()

        server.trigger.pull_trigger(close_all)
        closed.wait(5)

    def close(self) -> None:
        """Release the listening socket."""
        self.socket.close()


def make_server(app: Callable[..., Iterable[bytes]], *, host: str = "127.0.0.1",
                port: int = 0, sock: socket.socket | None = None, threads: int = 8) -> Server:
    """A :class:`Server` for ``app`` on ``sock``, else on a new socket on ``host:port``."""
    return Server(app, sock if sock is not None else listen(host, port), threads=threads)
