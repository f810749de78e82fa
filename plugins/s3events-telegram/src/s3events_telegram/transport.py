"""The ``telegram`` transport: each message sent by a Telegram bot with ``sendMessage``.

The recipient (the participant's ``telegram`` address) is a chat id — an integer, negative
for groups, ``-100…`` for supergroups and channels, possibly beyond 32 bits — or a public
``@username`` of a channel or supergroup. A person can only be written to after they opened a
chat with the bot and pressed *Start*; their chat id is then the id of that private chat.

Wire format: ``POST {api_base_url}/bot{bot_token}/sendMessage`` with the JSON body
``{chat_id, text, parse_mode: "HTML", link_preview_options: {is_disabled: true},
reply_markup?}``. ``text`` is the subject in bold, then the message text, HTML-escaped and
at most 4096 characters; when the message carries a join link a button opens it.

The bot token is part of the URL, so it is kept out of everything a person may see: the
errors raised here (``requests`` errors quote the URL; the client's ``redact`` hook rewrites
them without it), log records of this module and of ``urllib3`` (which logs request lines at
DEBUG level), and reprs.

Errors are ``{"ok": false, "error_code", "description", "parameters"}``: 429 is raised at
once as :class:`~s3events.errors.RateLimited` with ``parameters.retry_after`` (the flood
limit), and the dispatcher pauses the whole channel that long; ``migrate_to_chat_id``
means the group became a supergroup with a new id, 401 a bad token, 403 a participant who
blocked the bot.
``sendMessage`` has no idempotency key, so a send is never repeated after a 5xx or a timeout.

Message facts used (all optional): ``link`` (the join button) and ``link_label`` (its text,
from the series' catalog; otherwise "Join" from s3events' built-in catalog of the message's
language).
"""

from __future__ import annotations

import functools
import html
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr

from s3events.catalogs import builtin_phrase
from s3events.errors import (
    AuthenticationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)
from s3events.http import (
    HttpBacked,
    HttpClient,
    RetryPolicy,
    error_for_status,
    json_object,
    parse_retry_after,
)
from s3events.transports.base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = [
    "DEFAULT_API_BASE_URL",
    "TEXT_LIMIT",
    "TelegramClient",
    "TelegramOptions",
    "TelegramTransport",
    "chat_id",
    "redact",
    "telegram_payload",
    "telegram_text",
]

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://api.telegram.org"

#: ``sendMessage`` accepts 1–4096 characters of text after entities parsing.
TEXT_LIMIT = 4096


_TOKEN_IN_URL = re.compile(r"bot\d+:[A-Za-z0-9_-]+")
_NUMERIC_ID = re.compile(r"-?\d+")
_USERNAME = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{3,31}")


def redact(text: str, token: str | None = None) -> str:
    """``text`` with bot tokens (``bot<id>:<secret>`` in a URL, or ``token``) replaced."""
    if token:
        text = text.replace(token, "<bot-token>")
    return _TOKEN_IN_URL.sub("bot<bot-token>", text)


class _RedactTokens(logging.Filter):
    """Rewrite log records that quote a Bot API URL so the token does not reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN_IN_URL.search(message):
            record.msg, record.args = redact(message), ()
        return True


_filter_lock = threading.Lock()
_LOGGERS_FILTERED = ("urllib3.connectionpool", "urllib3.util.retry", "requests")


def _install_log_redaction() -> None:
    """Add the redacting filter to the loggers that quote request URLs (once per process)."""
    with _filter_lock:
        for name in _LOGGERS_FILTERED:
            logger = logging.getLogger(name)
            if not any(isinstance(f, _RedactTokens) for f in logger.filters):
                logger.addFilter(_RedactTokens())


class TelegramOptions(TransportOptions):
    """Options of the ``telegram`` transport (env: ``S3EVENTS_TELEGRAM_<OPTION>``)."""

    bot_token: SecretStr = Field(description="The bot's token from @BotFather (123456:ABC…).")
    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL,
        description="Bot API server (a local telegram-bot-api server, a proxy, a test server).")


def _telegram_ok(response: requests.Response) -> bool:
    body = json_object(response)
    return response.status_code < 400 and body is not None and body.get("ok") is True


class TelegramClient(HttpClient):
    """An :class:`~s3events.http.HttpClient` for the Bot API: error bodies, no token leaks.

    ``token`` is the bot token the URLs carry; the client's ``redact`` hook removes it (and
    anything shaped like a bot token) from what it raises.
    """

    def __init__(self, *args: Any, token: str, **kwargs: Any) -> None:
        super().__init__(*args, redact=functools.partial(redact, token=token), **kwargs)

    def error(self, response: requests.Response, *, action: str) -> ServiceError:
        """The s3events error for a Bot API error answer."""
        body = json_object(response) or {}
        status = response.status_code
        description = self.redact(str(body.get("description") or response.reason or ""))
        raw = body.get("parameters")
        parameters: dict[str, Any] = raw if isinstance(raw, dict) else {}
        context: dict[str, Any] = {"service": self.service, "status": status,
                                   "vendor_message": description or None}
        new_id = parameters.get("migrate_to_chat_id")
        if new_id is not None:
            return InvalidRequest(
                f"telegram: the group became a supergroup with chat id {new_id}", **context,
                hint=f"change the participant's telegram address to {new_id}")
        if status == 429:
            wait = parameters.get("retry_after")
            retry_after = (float(wait) if isinstance(wait, (int, float))
                           else parse_retry_after(response.headers.get("Retry-After")))
            return RateLimited(f"telegram is rate limiting {action} (HTTP 429)",
                               retry_after=retry_after, **context)
        return _status_error(status, action=action, description=description, context=context)


def _status_error(status: int, *, action: str, description: str,
                  context: dict[str, Any]) -> ServiceError:
    if status in (401, 404):
        return AuthenticationError(
            f"telegram refused the bot token (HTTP {status}) for {action}", **context,
            hint="check bot_token: the token @BotFather gave for the bot (/token), and "
                 "api_base_url")
    if status == 403:
        return PermissionDenied(
            f"telegram: the bot may not write to this chat (HTTP 403) for {action}", **context,
            hint="the participant blocked the bot or never pressed Start in a chat with it, "
                 "or the bot is not a member (an admin, for channels) of the group")
    if status == 400 and "chat not found" in description.lower():
        return NotFound(f"telegram: chat not found for {action}", **context,
                        hint="check the participant's telegram chat id; a person must first "
                             "open a chat with the bot and press Start")
    return error_for_status(status, service=str(context["service"]),
                            vendor_message=description or None, action=action)


def chat_id(recipient: str) -> int | str:
    """The ``chat_id`` for a recipient: an ``int`` for numeric ids, else ``@username``."""
    value = recipient.strip()
    if _NUMERIC_ID.fullmatch(value):
        return int(value)
    if _USERNAME.fullmatch(value):
        return value if value.startswith("@") else f"@{value}"
    raise InvalidRequest(
        "telegram: the participant's address is neither a chat id nor a @username",
        service="telegram",
        hint="give a numeric chat id (e.g. 123456789 or -1001234567890) or @channelname")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-16 units (Telegram's measure), ending in …."""
    if _utf16_len(text) <= limit:
        return text
    cut = max(0, limit - 1)
    while cut and _utf16_len(text[:cut]) > limit - 1:
        cut -= 1
    return text[:cut].rstrip() + "…"


def telegram_text(message: OutgoingMessage) -> str:
    """The HTML ``text`` for ``message``: bold subject, then the escaped text, ≤ 4096."""
    text = message.text.strip()
    subject = message.subject.strip()
    head = subject if subject and not text.startswith(subject) else ""
    budget = TEXT_LIMIT - (_utf16_len(head) + 2 if head else 0)
    body = html.escape(_truncate(text, max(budget, 1)), quote=False)
    if not head:
        return body
    return f"<b>{html.escape(_truncate(head, TEXT_LIMIT - 3), quote=False)}</b>\n\n{body}"


def join_label(message: OutgoingMessage) -> str:
    """The join button's text: ``facts["link_label"]`` or "Join" in the message's language."""
    return message.facts.get("link_label") or builtin_phrase(message.language, "Join")


def telegram_payload(message: OutgoingMessage) -> dict[str, Any]:
    """The ``sendMessage`` JSON body for ``message``."""
    if not (message.text.strip() or message.subject.strip()):
        raise InvalidRequest("telegram: the message is empty", service="telegram")
    body: dict[str, Any] = {
        "chat_id": chat_id(message.recipient),
        "text": telegram_text(message),
        "parse_mode": "HTML",
        "link_preview_options": {"is_disabled": True},
    }
    link = message.facts.get("link")
    if link:
        body["reply_markup"] = {"inline_keyboard": [[{"text": join_label(message),
                                                      "url": link}]]}
    return body


class TelegramTransport(HttpBacked, Transport):
    """Send messages to Telegram chats with a bot. ``provider_id`` is ``result.message_id``."""

    name: ClassVar[str] = "telegram"
    channel: ClassVar[str] = "telegram"
    options_model: ClassVar[type[TransportOptions]] = TelegramOptions
    description: ClassVar[str] = "Telegram: Bot API sendMessage with a bot token"
    #: Stateless calls on one pooled requests.Session: safe from several threads.
    concurrency: ClassVar[int] = 4

    options: TelegramOptions

    def __init__(
        self,
        options: TelegramOptions | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(options, **kwargs)
        _install_log_redaction()
        self.http = TelegramClient(
            "telegram", self.options.api_base_url, session=session, sleep=sleep,
            retry=RetryPolicy(wait_rate_limits=False),
            token=self.options.bot_token.get_secret_value())

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send ``message`` to its chat; raise an s3events error on failure."""
        body = telegram_payload(message)
        token = self.options.bot_token.get_secret_value()
        data = self.http.json("POST", f"bot{token}/sendMessage", json=body,
                                action="sendMessage", ok=_telegram_ok)
        result = data.get("result") if isinstance(data, dict) else None
        message_id = result.get("message_id") if isinstance(result, dict) else None
        if message_id is None:
            raise ServiceUnavailable("telegram answered sendMessage without a message_id",
                                     service="telegram", status=200)
        log.debug("telegram: sent %s", message.key)
        return SendResult(provider_id=str(message_id))
