"""s3events-telegram: the ``telegram`` transport, sending join links with a Telegram bot.

Installing this distribution registers the transport through the ``s3events`` entry point;
a series then lists ``telegram`` in ``dispatch.channels`` and gives the bot token as
``dispatch.transports.telegram.bot_token`` or ``S3EVENTS_TELEGRAM_BOT_TOKEN``.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.transports.base import Transport

from .transport import (
    DEFAULT_API_BASE_URL,
    TelegramClient,
    TelegramOptions,
    TelegramTransport,
    chat_id,
    redact,
    telegram_payload,
    telegram_text,
)

__all__ = [
    "DEFAULT_API_BASE_URL",
    "TelegramClient",
    "TelegramOptions",
    "TelegramTransport",
    "chat_id",
    "redact",
    "s3events_register_transports",
    "telegram_payload",
    "telegram_text",
]


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """Register the ``telegram`` transport."""
    return [TelegramTransport]
