"""The ``smtp`` transport: email through an SMTP server, one connection per batch.

URL forms (the password may also come from ``S3EVENTS_SMTP_URL`` as a whole)::

    smtp://user:password@host:port         plain SMTP; STARTTLS on port 587
    smtp://host:25?starttls=1              STARTTLS required (``starttls=0``: never)
    smtps://user:password@host:465         TLS from the first byte (implicit TLS)

Query options: ``starttls=0|1``, ``rate=N`` (at most N messages per second; the series'
``dispatch.rate_limit`` also applies), ``timeout=SECONDS`` (default 30), ``cafile=PATH``
(trust this CA bundle, e.g. a private relay's certificate). Certificates are always
verified. User and password are URL-encoded (``%40`` for ``@``).

One connection is opened for a batch and reused; when the server drops it
(``SMTPServerDisconnected``, a reset), the transport reconnects once and sends that message
again. Replies map to s3events errors: 4xx → :class:`~s3events.errors.ServiceUnavailable`
(retried later with backoff), 5xx → :class:`~s3events.errors.InvalidRequest` (permanent),
refused credentials → :class:`~s3events.errors.AuthenticationError`, an unreachable server
→ ``ServiceUnavailable`` without a status (the run stops; nothing is lost). The password
never appears in messages, reprs or logs.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import SecretStr

from ..email import build_email, envelope_address, needs_smtputf8
from ..errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequest,
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
    """Translate an SMTP reply into an s3events error (4xx later, 5xx never)."""
    code, text = _reply(exc)
    message = f"SMTP server {where} answered {code}"
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
    """Email through an SMTP server (see the module doc for URLs and errors)."""

    name: ClassVar[str] = "smtp"
    channel: ClassVar[str] = "email"
    options_model: ClassVar[type[TransportOptions]] = SmtpOptions
    description: ClassVar[str] = "Email via SMTP (smtp://, smtps://, STARTTLS)."

    def __init__(self, options: TransportOptions | None = None, *,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        assert isinstance(self.options, SmtpOptions)
        self.target = parse_smtp_url(self.options.url.get_secret_value())
        rate = self.target.rate or self.options.rate_limit
        self._interval = 1.0 / rate if rate else 0.0
        self._sleep, self._clock = sleep, clock
        self._next = 0.0
        self._smtp: smtplib.SMTP | None = None

    @classmethod
    def url_options(cls, spec: str) -> dict[str, Any]:
        """Options for ``--transport smtp://…`` (``smtp`` alone: from the environment)."""
        return {"url": spec} if "://" in spec else {}

    # -- connection --------------------------------------------------------------------
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
        except (OSError, smtplib.SMTPException) as exc:
            raise ServiceUnavailable(
                f"cannot reach SMTP server {t.where}: {type(exc).__name__}: {exc}",
                service="smtp", hint="is the server running and the URL right?") from None
        return smtp

    def open(self) -> None:
        """Connect (and authenticate) for a batch; raises when the server is unusable."""
        if self._smtp is None:
            self._smtp = self._connect()

    def close(self) -> None:
        """Say QUIT and drop the connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    # -- sending -----------------------------------------------------------------------
    def _pace(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        if now < self._next:
            self._sleep(self._next - now)
            now = self._next
        self._next = now + self._interval

    def prepare(self, message: OutgoingMessage) -> bytes:
        """The email's bytes, as :meth:`send` would build them (no I/O: any thread may call).

        A dispatcher builds the next messages this way while the connection waits for the
        server's replies, then hands each to :meth:`send_prepared`.
        """
        return build_email(message, attach_ics=self.options.attach_ics)  # type: ignore[attr-defined]

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send one email; reconnects once if the server dropped the connection."""
        return self.send_prepared(message, self.prepare(message))

    def send_prepared(self, message: OutgoingMessage, data: Any) -> SendResult:
        """Send ``message`` as the bytes :meth:`prepare` built for it (reconnects as send)."""
        self._pace()
        try:
            self._deliver(message, data)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            self._smtp = None
            self._deliver(message, data)
        return SendResult(provider_id=None)

    def _deliver(self, message: OutgoingMessage, data: bytes) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        sender = envelope_address(message.sender or "s3events@localhost")
        recipient = envelope_address(message.recipient)
        options = ["SMTPUTF8"] if needs_smtputf8(message.recipient) else []
        try:
            self._smtp.sendmail(sender, [recipient], data, mail_options=options)
        except (smtplib.SMTPServerDisconnected, ConnectionError):
            raise
        except smtplib.SMTPException as exc:
            if getattr(exc, "smtp_code", None) == 421:
                self._smtp = None
            raise _error(exc, self.target.where) from None


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """The built-in ``smtp`` transport."""
    return [SmtpTransport]
