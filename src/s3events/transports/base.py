"""What a transport is: one rendered message to one address on one channel, and ``send``.

The dispatcher renders each message once per (session, kind, language, zone), personalises
it, and hands an :class:`OutgoingMessage` to the transport registered for the channel.
Transports are registered by plugins through
:func:`~s3events.hookspecs.s3events_register_transports`.

A transport raises :class:`~s3events.errors.ServiceError` subclasses: ``RateLimited``
pauses the whole channel for its ``retry_after`` (then the message is sent again),
``ServiceUnavailable`` is retried later by the dispatcher, anything else marks the message
failed after its attempts. ``key`` is stable per ledger row: transports with an idempotency
mechanism (Matrix transaction ids) must derive it from ``key`` so a retried send is applied
once.

The dispatcher sends up to :attr:`Transport.concurrency` messages of a channel at once, from
as many threads, through **one** transport object: a transport whose ``concurrency`` is above
1 must be safe to call from several threads (the built-in ``smtp`` keeps one connection per
message in flight; HTTP transports share one pooled ``requests.Session``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Attachment", "OutgoingMessage", "SendResult", "Transport", "TransportOptions"]


class Attachment(BaseModel):
    """A file sent with an email (a certificate of attendance); other channels ignore it."""

    model_config = ConfigDict(frozen=True)

    filename: str
    content_type: str = "application/octet-stream"
    data: bytes = Field(repr=False)


class OutgoingMessage(BaseModel):
    """One message for one recipient on one channel, ready to send.

    ``text`` is always present; ``html`` and ``calendar`` (an iCalendar document with
    ``calendar_method``) are used by channels that can carry them. ``facts`` holds the
    structured parts a template-based channel needs (session title, local date and time,
    link) — WhatsApp templates, for example. ``attachments`` are files that email carries
    (the certificate of attendance).
    """

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="Ledger key: stable across retries of this message.")
    channel: str = Field(description="email, whatsapp, telegram, slack, matrix, …")
    kind: str = Field(description="confirmation, link, reminder, update, cancellation, optin, "
                      "followup, missed, certificate")
    recipient: str = Field(description="Address on the channel: email, E.164, chat/room id.")
    recipient_name: str = ""
    language: str = "en"
    subject: str = ""
    text: str
    html: str | None = None
    calendar: str | None = None
    calendar_method: str | None = None
    sender: str | None = None
    sender_name: str | None = None
    reply_to: str | None = Field(
        default=None, description="Email: where replies go (the organiser, when the sender "
        "is another address).")
    message_id: str | None = Field(default=None, description="Email Message-ID, from the key.")
    headers: dict[str, str] = Field(default_factory=dict)
    facts: dict[str, str] = Field(default_factory=dict)
    attachments: tuple[Attachment, ...] = Field(
        default=(), description="Files for email (a certificate); other channels ignore them.")

    def __repr__(self) -> str:  # personal data stays out of reprs
        return f"<OutgoingMessage {self.kind} {self.channel} key={self.key}>"

    __str__ = __repr__


class SendResult(BaseModel):
    """What the transport reports after a successful send."""

    model_config = ConfigDict(frozen=True)

    provider_id: str | None = Field(default=None, description="Vendor message id, if any.")


class TransportOptions(BaseModel):
    """Base of every transport's options model. Secrets are :class:`~pydantic.SecretStr`."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Transport(ABC):
    """Base class of transports.

    Subclasses set ``name`` (``smtp``, ``slack`` …), ``channel`` (the kind of address they
    deliver to: ``email`` for smtp, outbox and console) and ``options_model``, and implement
    :meth:`send`. A transport used as a context manager may keep one connection open for a
    batch.

    ``concurrency`` is how many messages the dispatcher keeps in flight on the channel at
    once unless the series or ``--concurrency`` says otherwise (1, the default, for
    transports not written to be called from several threads); ``max_concurrency``, when
    set, is a ceiling no setting can pass (a vendor library that is not thread-safe).
    """

    name: ClassVar[str]
    channel: ClassVar[str]
    options_model: ClassVar[type[TransportOptions]] = TransportOptions
    description: ClassVar[str] = ""
    concurrency: ClassVar[int] = 1
    max_concurrency: ClassVar[int | None] = None

    def __init__(self, options: TransportOptions | None = None, **kwargs: Any) -> None:
        self.options = options if options is not None else self.options_model()

    @classmethod
    def from_options(
        cls, options: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> Transport:
        """Build the transport from file options overlaid by ``S3EVENTS_<NAME>_<OPTION>``."""
        from ..config import resolve_options

        return cls(resolve_options("transport", cls.name, cls.options_model, options, environ),
                   **kwargs)

    @classmethod
    def url_options(cls, spec: str) -> dict[str, Any]:
        """The options given in ``--transport NAME:REST`` (``spec`` is the whole value).

        The default reads ``REST`` as ``option=value`` pairs joined by ``&``, values
        percent-encoded as in a URL query (``acme-chat:api_base_url=https%3A//chat.example/
        api&max_wait=10``); ``NAME`` alone gives no options. An option the transport does
        not have, or text that is not such pairs, is a
        :class:`~s3events.errors.ConfigurationError` naming the options there are (never
        the value, which may be a secret). Override it to read a shorter form, as ``smtp``
        (``smtp://…``) and ``outbox`` (``outbox:PATH``) do.
        """
        from ..errors import ConfigurationError

        rest = spec.partition(":")[2]
        if not rest.strip():
            return {}
        known = sorted(cls.options_model.model_fields)
        usage = (f"transport '{cls.name}': --transport {cls.name}:REST takes option=value "
                 f"pairs joined by '&' (options: {', '.join(known) or 'none'})")
        try:
            pairs = parse_qsl(rest.removeprefix("//"), keep_blank_values=True,
                              strict_parsing=True)
        except ValueError:
            raise ConfigurationError(usage) from None
        unknown = sorted({key for key, _ in pairs} - set(known))
        if unknown:
            raise ConfigurationError(f"{usage}; unknown: {', '.join(unknown)}")
        return dict(pairs)

    @property
    def rate_limit(self) -> float | None:
        """The transport's own ceiling in messages per second, if it has one (default: none).

        The dispatcher uses the lowest of this and the series' ``rate_limit`` for the
        whole channel (``smtp`` takes it from ``?rate=N`` in its URL).
        """
        return None

    def use_connections(self, count: int) -> None:
        """Get ready for up to ``count`` messages in flight at once (default: nothing).

        Called by the dispatcher before :meth:`open` when it sends from ``count`` threads;
        HTTP transports size their connection pool with it.
        """

    @abstractmethod
    def send(self, message: OutgoingMessage) -> SendResult:
        """Deliver ``message``; raise a :class:`~s3events.errors.ServiceError` on failure."""

    def prepare(self, message: OutgoingMessage) -> Any:
        """Do a message's CPU work ahead of sending it, such as serialising it (default: none).

        The dispatcher calls this in a helper thread a few messages ahead of the one being
        sent, then hands the result to :meth:`send_prepared`. It must not do I/O.
        """
        return None

    def send_prepared(self, message: OutgoingMessage, prepared: Any) -> SendResult:
        """Send ``message`` with what :meth:`prepare` returned for it (default: :meth:`send`)."""
        return self.send(message)

    def send_many(self, messages: Iterable[OutgoingMessage]) -> Iterator[SendResult]:
        """Send several messages, reusing a connection where the transport can."""
        for message in messages:
            yield self.send(message)

    def open(self) -> None:
        """Open a connection for a batch (default: nothing to do)."""

    def close(self) -> None:
        """Close the batch connection."""

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} options={self.options!r}>"
