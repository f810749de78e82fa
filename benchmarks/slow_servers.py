"""Slow local servers for the benchmarks: SMTP and a chat API that answer after a fixed delay.

Each runs in a process of its own (so it never competes with the sender for the interpreter
lock) and answers every message ``delay`` seconds after it arrived, with any number of
messages in flight at once, as a distant relay or a cloud API does. Every arrival is logged
with its time (``time.monotonic()``, the same clock in every process of the machine):

* :class:`SlowSmtp` — aiosmtpd; logs each message's envelope and bytes (so a baseline can
  send exactly the same bytes again);
* :class:`SlowChat` — Telegram's ``POST /bot<token>/sendMessage`` on a threading HTTP server
  (HTTP/1.1, keep-alive); logs each request body.

The chat API binds port 0 and hands the port back; the SMTP server asks the kernel for a
free port and tries another if it was taken meanwhile.
"""

from __future__ import annotations

import json
import multiprocessing
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Arrival:
    """One message as a slow server received it."""

    at: float
    key: str  # the Message-ID, or the chat id and text
    sender: str = ""
    recipient: str = ""
    data: bytes = b""


class _SmtpHandler:
    def __init__(self, delay: float, log: str) -> None:
        self.delay = delay
        self.log = open(log, "wb")  # noqa: SIM115 - closed when the server stops

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        import asyncio

        data = bytes(envelope.original_content or envelope.content)
        head = (f"{time.monotonic()!r}\t{envelope.mail_from}\t{envelope.rcpt_tos[0]}\t"
                f"{len(data)}\n").encode()
        self.log.write(head + data)
        await asyncio.sleep(self.delay)
        return "250 OK"


def _serve_smtp(delay: float, log: str, ports: Any, stop: Any) -> None:
    import socket

    from aiosmtpd.controller import Controller

    for _attempt in range(5):  # aiosmtpd takes a port number: ask the kernel for a free one
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        controller = Controller(_SmtpHandler(delay, log), hostname="127.0.0.1", port=port)
        try:
            controller.start()
            break
        except (OSError, RuntimeError):  # taken meanwhile by another process: another one
            continue
    ports.put(port)
    stop.wait()
    controller.stop()
    controller.handler.log.close()


class _ChatHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart
    server: Any

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if len(raw) < length or not raw:  # the sender died before its message was out
            return
        arrived = time.monotonic()
        with self.server.lock:
            self.server.log.write(f"{arrived!r}\t{len(raw)}\n".encode() + raw)
            self.server.count += 1
            number = self.server.count
        time.sleep(self.server.delay)
        body = json.dumps({"ok": True, "result": {"message_id": number}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _ChatServer(ThreadingHTTPServer):
    # Up to 16 senders connect at once: the default listen backlog of 5 drops connections.
    request_queue_size = 128


def _serve_chat(delay: float, log: str, ports: Any, stop: Any) -> None:
    import threading

    httpd = _ChatServer(("127.0.0.1", 0), _ChatHandler)
    httpd.daemon_threads = True
    httpd.delay, httpd.count, httpd.lock = delay, 0, threading.Lock()  # type: ignore[attr-defined]
    httpd.log = open(log, "wb")  # type: ignore[attr-defined]  # noqa: SIM115
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    ports.put(httpd.server_address[1])
    stop.wait()
    httpd.shutdown()
    with httpd.lock:  # type: ignore[attr-defined]
        httpd.log.close()  # type: ignore[attr-defined]


class _Slow:
    """A slow server in its own process; ``arrivals()`` after ``stop()``."""

    target: Any

    def __init__(self, folder: Path, *, delay: float) -> None:
        self.log = folder / f"{type(self).__name__.lower()}-{time.monotonic_ns()}.log"
        ports: Any = multiprocessing.Queue()
        self._stop = multiprocessing.Event()
        self._proc = multiprocessing.Process(
            target=type(self).target, args=(delay, str(self.log), ports, self._stop),
            daemon=True)
        self._proc.start()
        self.port = int(ports.get(timeout=30))

    def stop(self) -> None:
        """Stop the server and wait until its log is complete."""
        self._stop.set()
        self._proc.join(30)

    def __enter__(self) -> _Slow:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class SlowSmtp(_Slow):
    """An SMTP server answering each message after ``delay`` seconds."""

    target = staticmethod(_serve_smtp)

    @property
    def url(self) -> str:
        """The transport URL."""
        return f"smtp://127.0.0.1:{self.port}"

    def arrivals(self) -> list[Arrival]:
        """What it received, in order of arrival."""
        out, data, pos = [], self.log.read_bytes(), 0
        while pos < len(data):
            end = data.index(b"\n", pos)
            at, sender, rcpt, size = data[pos:end].decode().split("\t")
            body = data[end + 1:end + 1 + int(size)]
            out.append(Arrival(float(at), _message_id(body), sender, rcpt, body))
            pos = end + 1 + int(size)
        return out


class SlowChat(_Slow):
    """A chat API (Telegram's sendMessage) answering each request after ``delay`` seconds."""

    target = staticmethod(_serve_chat)

    @property
    def url(self) -> str:
        """The ``api_base_url`` for the telegram transport."""
        return f"http://127.0.0.1:{self.port}"

    def arrivals(self) -> list[Arrival]:
        """What it received, in order of arrival (``data`` is the JSON body)."""
        out, data, pos = [], self.log.read_bytes(), 0
        while pos < len(data):
            end = data.index(b"\n", pos)
            at, size = data[pos:end].decode().split("\t")
            body = data[end + 1:end + 1 + int(size)]
            sent = json.loads(body)
            out.append(Arrival(float(at), f"{sent.get('chat_id')}\t{sent.get('text')}",
                               data=body))
            pos = end + 1 + int(size)
        return out


def _message_id(data: bytes) -> str:
    head = data.split(b"\r\n\r\n", 1)[0]
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    return ""


def most_in_one_second(times: list[float]) -> int:
    """The largest number of ``times`` inside any one-second window."""
    ordered, most, start = sorted(times), 0, 0
    for end, moment in enumerate(ordered):
        while moment - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most
