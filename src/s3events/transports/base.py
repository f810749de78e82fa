"""What a transport is: one rendered message to one address on one channel, and ``send``.

The dispatcher renders each message once per (session, kind, language, zone), personalises
it, and hands an :class:`OutgoingMessage` to the transport registered for the channel.
Transports are registered by plugins through
:func:`~s3events.hookspecs.s3events_register_transports`.

A transport raises :class:`~s3events.errors.ServiceError` subclasses: ``RateLimited`` and
``ServiceUnavailable`` are retried later by the dispatcher, anything else marks the message
failed after its attempts. ``key`` is stable per ledger row: transports with an idempotency
mechanism (Matrix transaction ids) must derive it from ``key`` so a retried send is applied
once.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

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
    """

    name: ClassVar[str]
    channel: ClassVar[str]
    options_model: ClassVar[type[TransportOptions]] = TransportOptions
    description: ClassVar[str] = ""

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
