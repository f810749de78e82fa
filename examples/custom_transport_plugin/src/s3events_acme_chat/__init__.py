"""s3events-acme-chat: the ``acme-chat`` transport, messages on the in-house Acme Chat service.

Installing this distribution registers the transport through the ``s3events`` entry point
(``acme-chat = "s3events_acme_chat"`` in its ``pyproject.toml``): s3events imports this
module and calls the hook below. A series then says ``dispatch.transport: acme-chat`` and
gives the bot token as ``S3EVENTS_ACME_CHAT_TOKEN``.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.transports.base import Transport

from .transport import (
    DEFAULT_API_BASE_URL,
    AcmeChatOptions,
    AcmeChatTransport,
    chat_body,
    idempotency_key,
)

__all__ = [
    "DEFAULT_API_BASE_URL",
    "AcmeChatOptions",
    "AcmeChatTransport",
    "chat_body",
    "idempotency_key",
    "s3events_register_transports",
]


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """Register the ``acme-chat`` transport."""
    return [AcmeChatTransport]
