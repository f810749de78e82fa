"""The ``acme-chat`` transport: messages posted to people on Acme Chat, the in-house chat.

Acme Chat is an (invented) in-house messaging service with one call::

    POST {api_base_url}/messages
    Authorization: Bearer <token>
    {"to": "<work email>", "text": "…", "idempotency_key": "…"}

    200 {"id": "msg_…"}

Acme Chat knows people by their work email, so the transport delivers on the ``email``
channel: a series that sets ``dispatch.transport: acme-chat`` sends every message (the
confirmation, the join link the day before, updates, cancellations) as an Acme Chat message
instead of an email.

``idempotency_key`` is derived from the ledger key of the message, which is the same on
every retry of one message: Acme Chat delivers a message once however often it is posted,
so a send may safely be repeated after a 5xx or a dropped connection. HTTP 429 carries
``Retry-After``: short waits are waited out, longer ones are raised as
:class:`~s3events.errors.RateLimited` and the dispatcher tries again that much later.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr

from s3events.errors import InvalidRequest, ServiceUnavailable
from s3events.http import HttpClient, RetryPolicy
from s3events.transports.base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = ["DEFAULT_API_BASE_URL", "AcmeChatOptions", "AcmeChatTransport", "chat_body",
           "idempotency_key"]

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://chat.acme.example/api"

#: Advice for the person running s3events, by HTTP status.
HINTS = {
    401: "check the token option (or S3EVENTS_ACME_CHAT_TOKEN): a bot token from the Acme "
         "Chat admin console",
    403: "the bot token needs the 'messages:send' permission",
    404: "no Acme Chat user has this work email address (or api_base_url is wrong)",
}


class AcmeChatOptions(TransportOptions):
    """Options of the ``acme-chat`` transport (environment: ``S3EVENTS_ACME_CHAT_<OPTION>``)."""

    token: SecretStr = Field(description="Bot token from the Acme Chat admin console.")
    api_base_url: str = Field(default=DEFAULT_API_BASE_URL,
                              description="Base URL of the Acme Chat API.")
    max_wait: float = Field(default=60.0, ge=0, description=(
        "Longest Retry-After (seconds) waited out during a send; longer ones are left to "
        "the dispatcher's next run."))


def idempotency_key(ledger_key: str) -> str:
    """The Acme Chat idempotency key for one message: the same on every retry of it."""
    return "s3e-" + hashlib.sha256(ledger_key.encode()).hexdigest()[:40]


def chat_body(message: OutgoingMessage) -> dict[str, Any]:
    """The ``POST /messages`` body: the subject as the first line, then the text."""
    text = message.text.strip()
    subject = message.subject.strip()
    if subject and not text.startswith(subject):
        text = f"{subject}\n\n{text}"
    return {"to": message.recipient.strip(), "text": text,
            "idempotency_key": idempotency_key(message.key)}


class AcmeChatTransport(Transport):
    """Send each message to its recipient's Acme Chat account, by work email."""

    name: ClassVar[str] = "acme-chat"
    channel: ClassVar[str] = "email"  # Acme Chat addresses people by their work email
    options_model: ClassVar[type[TransportOptions]] = AcmeChatOptions
    description: ClassVar[str] = "Acme Chat, the in-house chat (people by work email)"

    options: AcmeChatOptions

    def __init__(self, options: TransportOptions | None = None, *,
                 session: requests.Session | None = None,
                 sleep: Callable[[float], None] = time.sleep, **kwargs: Any) -> None:
        if not isinstance(options, AcmeChatOptions):
            raise TypeError("AcmeChatTransport needs AcmeChatOptions "
                            "(build it with AcmeChatTransport.from_options)")
        super().__init__(options, **kwargs)
        self._owns_session = session is None
        self.http = HttpClient(self.name, options.api_base_url, session=session, sleep=sleep,
                               hints=HINTS, retry=RetryPolicy(max_wait=options.max_wait))

    def send(self, message: OutgoingMessage) -> SendResult:
        """Post ``message``; its ledger key makes a repeated post deliver it once."""
        if not message.recipient.strip():
            raise InvalidRequest("acme-chat: the message has no recipient", service=self.name)
        headers = {"Authorization": f"Bearer {self.options.token.get_secret_value()}"}
        data = self.http.json("POST", "/messages", json=chat_body(message), headers=headers,
                              idempotent=True, action=f"sending a {message.kind} message")
        provider_id = data.get("id") if isinstance(data, dict) else None
        if not isinstance(provider_id, str) or not provider_id:
            raise ServiceUnavailable("acme-chat answered without a message id",
                                     service=self.name)
        log.debug("acme-chat: sent %s as %s", message.key, provider_id)
        return SendResult(provider_id=provider_id)

    def close(self) -> None:
        """Close the HTTP session if this transport made it."""
        if self._owns_session:
            self.http.close()
