"""The ``smtp`` transport: email through an SMTP server, on reused connections.

URL forms (the password may also come from ``S3EVENTS_SMTP_URL`` as a whole)::

    smtp://user:password@host:port         plain SMTP; STARTTLS on port 587
    smtp://host:25?starttls=1              STARTTLS required (``starttls=0``: never)
    smtps://user:password@host:465         TLS from the first byte (implicit TLS)

Query options: ``starttls=0|1``, ``rate=N`` (at most N messages per second for the whole
channel; the series' ``rate_limit`` also applies), ``timeout=SECONDS`` (default 30),
``cafile=PATH`` (trust this CA bundle, e.g. a private relay's certificate). Certificates are
always verified. User and password are URL-encoded (``%40`` for ``@``).

Connections are reused from message to message; the dispatcher sends up to
``concurrency`` messages at once (4 by default), each on a connection of its own. When the
server drops a connection (``SMTPServerDisconnected``, a reset), the transport reconnects
once and sends that message again. Replies map to s3events errors: 421, and 451 for the
whole message → :class:`~s3events.errors.RateLimited` (the dispatcher pauses the channel,
then sends again), other 4xx → :class:`~s3events.errors.ServiceUnavailable` (retried later
with backoff), 5xx → :class:`~s3events.errors.InvalidRequest` (permanent), refused
credentials → :class:`~s3events.errors.AuthenticationError`, an unreachable server →
``ServiceUnavailable`` without a status (the run stops; nothing is lost). The password
never appears in messages, reprs or logs.

Internationalised addresses: domains always go out as A-labels (IDNA 2008), so
``user@münchen.de`` needs nothing from the server. A message with an address whose local
part is beyond ASCII (``josé@example.org``) is sent with ``SMTPUTF8`` (RFC 6531) when the
server offers it; when it does not, that message alone is refused here with
:class:`~s3events.errors.InvalidRequest` (permanent: it fails, with the reason, and the
connection goes on with the next message).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
import threading
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import SecretStr

from ..email import build_email, envelope_address, message_needs_smtputf8
from ..errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequest,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)
from ..hookspecs import hookimpl
from ..urls import redact_url, with_encoded_credentials
from .base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = ["SmtpOptions", "SmtpTransport", "parse_smtp_url"]


class SmtpOptions(TransportOptions):
    """Options of the ``smtp`` transport."""

    url: SecretStr
    rate_limit: float | None = None
    timeout: float = 30.0
    attach_ics: bool = True


@dataclass(frozen=True)
class SmtpTarget:
    """The parts of an SMTP URL (the password stays a secret)."""

    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    username: str | None
    password: SecretStr | None
    rate: float | None
    timeout: float | None
    cafile: str | None

    @property
    def where(self) -> str:
        """``host:port`` for messages."""
        return f"{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """Read ``smtp://`` / ``smtps://`` URLs (see the module doc).

    The user part runs to the last ``@``, so a password with an unencoded ``#``, ``/`` or
    ``?`` is read whole; errors show the URL with its password as ``***``.
    """
    try:
        parts = urlsplit(with_encoded_credentials(url))
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigurationError(
            f"transport 'smtp': cannot read the host and port of {redact_url(url)}; write it "
            "as smtp://user:password@host:port (an IPv6 host in brackets: [2001:db8::1])"
        ) from None
    if parts.scheme not in ("smtp", "smtps"):
        raise ConfigurationError(
            f"transport 'smtp': URL must start with smtp:// or smtps://, not '{parts.scheme}:'")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    implicit = parts.scheme == "smtps"
    try:
        port = port or (465 if implicit else 25)
        rate = float(query["rate"]) if "rate" in query else None
        timeout = float(query["timeout"]) if "timeout" in query else None
    except ValueError as exc:
        raise ConfigurationError(f"transport 'smtp': bad URL option: {exc}") from None
    flag = query.get("starttls")
    starttls = (not implicit) and (flag in ("1", "true", "yes") or (flag is None and port == 587))
    return SmtpTarget(
        host=host or "localhost", port=port, implicit_tls=implicit, starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=SecretStr(unquote(parts.password)) if parts.password else None,
        rate=rate, timeout=timeout, cafile=query.get("cafile"))


def _error(exc: smtplib.SMTPException, where: str) -> ServiceError:
    """Translate an SMTP reply into an s3events error (slow down, later, or never).

    421 (the server is busy and closes the connection) and 451 for the whole message
    (at MAIL FROM or DATA: "local error", the usual answer of a relay's rate limit) ask
    the sender to slow down: :class:`~s3events.errors.RateLimited`. A 4xx for one
    recipient (451 greylisting, 450 mailbox busy) is about that message only.
    """
    code, text = _reply(exc)
    message = f"SMTP server {where} answered {code}"
    whole = not isinstance(exc, smtplib.SMTPRecipientsRefused)
    if code == 421 or (code == 451 and whole):
        return RateLimited(message, service="smtp", status=code, vendor_message=text)
    if code is not None and 400 <= code < 500:
        return ServiceUnavailable(message, service="smtp", status=code, vendor_message=text)
    return InvalidRequest(message, service="smtp", status=code, vendor_message=text)


def _reply(exc: smtplib.SMTPException) -> tuple[int | None, str]:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return int(code), reply.decode("utf-8", "replace")
    if isinstance(exc, smtplib.SMTPResponseException):
        raw = exc.smtp_error
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return int(exc.smtp_code), text
    return None, str(exc)


class SmtpTransport(Transport):
    """Email through an SMTP server (see the module doc for URLs and errors).

    Safe to call from several threads: each message in flight has a connection of its own,
    taken from the transport's idle connections (or opened) and given back after the
    server's reply.
    """

    name: ClassVar[str] = "smtp"
    channel: ClassVar[str] = "email"
    options_model: ClassVar[type[TransportOptions]] = SmtpOptions
    description: ClassVar[str] = "Email via SMTP (smtp://, smtps://, STARTTLS)."
    concurrency: ClassVar[int] = 4

    def __init__(self, options: TransportOptions | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        assert isinstance(self.options, SmtpOptions)
        self.target = parse_smtp_url(self.options.url.get_secret_value())
        self._idle: list[smtplib.SMTP] = []
        self._lock = threading.Lock()

    @classmethod
    def url_options(cls, spec: str) -> dict[str, Any]:
        """Options for ``--transport smtp://…`` (``smtp`` alone: from the environment)."""
        return {"url": spec} if "://" in spec else {}

    @property
    def rate_limit(self) -> float | None:
        """``?rate=N`` from the URL, else the ``rate_limit`` option (messages per second)."""
        return self.target.rate or self.options.rate_limit  # type: ignore[attr-defined]

    # -- connections -------------------------------------------------------------------
    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.target.cafile)

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        timeout = t.timeout or self.options.timeout  # type: ignore[attr-defined]
        try:
            if t.implicit_tls:
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(t.host, t.port, timeout=timeout,
                                                      context=self._context())
            else:
                smtp = smtplib.SMTP(t.host, t.port, timeout=timeout)
                if t.starttls:
                    smtp.starttls(context=self._context())
            if t.username:
                password = t.password.get_secret_value() if t.password else ""
                smtp.login(t.username, password)
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthenticationError(
                f"SMTP server {t.where} refused the user name or password",
                service="smtp", status=exc.smtp_code,
                hint="check the user and password in the transport URL") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise ServiceUnavailable(f"SMTP server {t.where}: {exc}", service="smtp",
                                     hint="the server offers no STARTTLS or AUTH; "
                                          "try smtps:// or ?starttls=0") from None
        except smtplib.SMTPConnectError as exc:
            if exc.smtp_code == 421:  # busy, or too many connections from us: slow down
                raise _error(exc, t.where) from None
            raise _unreachable(t, exc) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise _unreachable(t, exc) from None
        return smtp

    def _checkout(self) -> smtplib.SMTP:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _checkin(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append(smtp)

    @staticmethod
    def _discard(smtp: smtplib.SMTP) -> None:
        with contextlib.suppress(OSError):
            smtp.close()

    def open(self) -> None:
        """Connect (and authenticate) once; raises when the server is unusable."""
        self._checkin(self._checkout())

    def close(self) -> None:
        """Say QUIT on every idle connection and drop them."""
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp in idle:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                self._discard(smtp)

    # -- sending -----------------------------------------------------------------------
    def prepare(self, message: OutgoingMessage) -> bytes:
        """The email's bytes, as :meth:`send` would build them (no I/O: any thread may call).

        A dispatcher builds the next messages this way while the connections wait for the
        server's replies, then hands each to :meth:`send_prepared`.
        """
        return build_email(message, attach_ics=self.options.attach_ics)  # type: ignore[attr-defined]

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one email; reconnects once if the server dropped the connection."""
        return self.send_prepared(message, self.prepare(message))

    def send_prepared(self, message: OutgoingMessage, data: Any) -> SendResult:
        """Send ``message`` as the bytes :meth:`prepare` built for it (reconnects as send)."""
        try:
            self._attempt(message, data)
        except _Dropped:
            try:
                self._attempt(message, data)
            except _Dropped:
                raise ServiceUnavailable(
                    f"SMTP server {self.target.where} closed the connection twice in a row",
                    service="smtp", hint="is the server overloaded or refusing us?") from None
        return SendResult(provider_id=None)

    def _attempt(self, message: OutgoingMessage, data: bytes) -> None:
        smtp = self._checkout()
        keep = False
        try:
            self._deliver(smtp, message, data)
            keep = True
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            raise _Dropped from None
        except smtplib.SMTPNotSupportedError:
            keep = True  # refused before MAIL FROM: the connection is as it was
            raise InvalidRequest(
                f"SMTP server {self.target.where} does not offer SMTPUTF8 (RFC 6531), which an "
                "address with characters beyond ASCII before its @ needs", service="smtp",
                hint="send through a server that offers SMTPUTF8, then run s3events retry"
            ) from None
        except smtplib.SMTPException as exc:
            keep = getattr(exc, "smtp_code", None) != 421  # 421: the server closes it
            raise _error(exc, self.target.where) from None
        finally:
            if keep:
                self._checkin(smtp)
            else:
                self._discard(smtp)

    @staticmethod
    def _deliver(smtp: smtplib.SMTP, message: OutgoingMessage, data: bytes) -> None:
        """Send ``data`` on ``smtp``; SMTPUTF8 when an address needs it (refused by
        :class:`smtplib.SMTPNotSupportedError` when the server does not offer it)."""
        sender = envelope_address(message.sender or "s3events@localhost")
        recipient = envelope_address(message.recipient)
        options: list[str] = []
        if message_needs_smtputf8(message):
            smtp.ehlo_or_helo_if_needed()
            if not smtp.has_extn("smtputf8"):  # also a server that speaks only HELO
                raise smtplib.SMTPNotSupportedError("SMTPUTF8 not supported by server")
            options = ["SMTPUTF8"]
        smtp.sendmail(sender, [recipient], data, mail_options=options)


class _Dropped(Exception):
    """The server dropped the connection before answering."""


def _unreachable(t: SmtpTarget, exc: BaseException) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"cannot reach SMTP server {t.where}: {type(exc).__name__}: {exc}",
        service="smtp", hint="is the server running and the URL right?")


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """The built-in ``smtp`` transport."""
    return [SmtpTransport]
