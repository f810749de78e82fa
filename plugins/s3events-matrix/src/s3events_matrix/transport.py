"""The ``matrix`` transport: each message sent to a Matrix room by a bot account.

The recipient (the participant's ``matrix`` address) is a room id (``!abc:example.org``) or a
room alias (``#seminar:example.org``, resolved once through the room directory). The bot
account must be a member of the room.

Wire format: ``PUT {homeserver}/_matrix/client/v3/rooms/{roomId}/send/m.room.message/{txnId}``
with ``Authorization: Bearer <access_token>`` and the content ``{msgtype: "m.text", body,
format: "org.matrix.custom.html", formatted_body}``: the subject in bold, then the text, links
made clickable.

**Applied once.** The transaction id is derived from the message's ledger ``key`` and the room
(:func:`transaction_id`), so every retry of one message — by this transport after a 5xx or a
timeout, or by the dispatcher after a crash — carries the same ``txnId``, and the homeserver
returns the first event instead of posting a second one. That makes the ``PUT`` safe to
repeat, and it is repeated on 5xx and connection errors.

Rate limits: 429 ``M_LIMIT_EXCEEDED``; the wait is the ``Retry-After`` header when present,
else ``retry_after_ms`` from the body. It is raised at once as
:class:`~s3events.errors.RateLimited`: the dispatcher pauses the whole channel that long, then
sends again (with the same ``txnId``). 403 ``M_FORBIDDEN`` means the bot is not in the room.

Message facts used (optional): ``link``, appended to the text when the text does not carry it.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar
from urllib.parse import quote

import requests
from pydantic import Field, SecretStr, field_validator, model_validator

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
    "CLIENT_API",
    "MatrixClient",
    "MatrixOptions",
    "MatrixTransport",
    "matrix_content",
    "transaction_id",
]

log = logging.getLogger(__name__)

CLIENT_API = "_matrix/client/v3"

_URL = re.compile(r"https?://[^\s<>\"]+")
_TRAILING = ".,;:!?)]}'"


class MatrixOptions(TransportOptions):
    """Options of the ``matrix`` transport (env: ``S3EVENTS_MATRIX_<OPTION>``).

    ``api_base_url`` is accepted as another name for ``homeserver``; when both are set,
    requests go to ``api_base_url`` (a proxy or a test server).
    """

    homeserver: str = Field(description="The homeserver's client URL, e.g. https://matrix.org.")
    access_token: SecretStr = Field(description="The bot account's access token.")
    api_base_url: str | None = Field(
        default=None, description="Where requests go, if not the homeserver URL.")

    @model_validator(mode="before")
    @classmethod
    def _alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("homeserver") and data.get("api_base_url"):
            return {**data, "homeserver": data["api_base_url"]}
        return data

    @field_validator("homeserver", "api_base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("https://", "http://")):
            raise ValueError("must be the homeserver's URL, e.g. https://matrix.example.org")
        return value

    @property
    def base_url(self) -> str:
        """Where requests go: ``api_base_url`` when set, else ``homeserver``."""
        return self.api_base_url or self.homeserver


def transaction_id(key: str, room_id: str) -> str:
    """The ``txnId`` of one message to one room: the same for every retry of that message."""
    digest = hashlib.sha256(f"{key}\n{room_id}".encode()).hexdigest()
    return f"s3e-{digest[:32]}"


def _linkify(text: str) -> str:
    """``text`` as HTML: escaped, URLs as links, line breaks as ``<br/>``."""
    parts: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        parts.append(html.escape(text[position:match.start()], quote=False))
        parts.append(f'<a href="{html.escape(url)}">{html.escape(url, quote=False)}</a>')
        position = match.start() + len(url)
    parts.append(html.escape(text[position:], quote=False))
    return "".join(parts).replace("\n", "<br/>")


def matrix_content(message: OutgoingMessage) -> dict[str, str]:
    """The ``m.room.message`` content for ``message``: plain ``body`` and HTML."""
    text = message.text.strip()
    subject = message.subject.strip()
    link = message.facts.get("link")
    if link and link not in text:
        text = f"{text}\n{link}" if text else link
    if not (text or subject):
        raise InvalidRequest("matrix: the message is empty", service="matrix")
    head = subject if subject and not text.startswith(subject) else ""
    body = f"{head}\n\n{text}" if head else text
    formatted = _linkify(text)
    if head:
        formatted = f"<strong>{html.escape(head, quote=False)}</strong><br/><br/>{formatted}"
    return {"msgtype": "m.text", "body": body, "format": "org.matrix.custom.html",
            "formatted_body": formatted}


class MatrixClient(HttpClient):
    """An :class:`~s3events.http.HttpClient` that reads Matrix ``errcode`` bodies."""

    def error(self, response: requests.Response, *, action: str) -> ServiceError:
        """The s3events error for a Matrix error answer."""
        body = json_object(response) or {}
        errcode = str(body.get("errcode") or "")
        vendor = " ".join(p for p in (errcode, str(body.get("error") or "")) if p) or None
        context: dict[str, Any] = {"service": self.service, "status": response.status_code,
                                   "vendor_message": vendor}
        if response.status_code == 429 or errcode == "M_LIMIT_EXCEEDED":
            return RateLimited(f"matrix is rate limiting {action}",
                               retry_after=_retry_after(response, body), **context)
        if errcode == "M_FORBIDDEN" or response.status_code == 403:
            return PermissionDenied(
                f"matrix: the bot may not post in this room ({action})", **context,
                hint="the bot account must join the room: invite it, then accept the "
                     "invitation as the bot (and it needs the power level to post)")
        if errcode in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN") or response.status_code == 401:
            hint = ("the access token expired (soft logout): log the bot in again"
                    if body.get("soft_logout") else "check the access_token option")
            return AuthenticationError(f"matrix refused the access token for {action}",
                                       hint=hint, **context)
        if errcode == "M_NOT_FOUND" or response.status_code == 404:
            return NotFound(f"matrix: not found during {action}", **context,
                            hint="check the participant's matrix room id or alias")
        return error_for_status(response.status_code, service=self.service,
                                vendor_message=vendor, action=action)


def _retry_after(response: requests.Response, body: dict[str, Any]) -> float | None:
    """``Retry-After`` first (seconds or a date), then the deprecated ``retry_after_ms``."""
    header = parse_retry_after(response.headers.get("Retry-After"))
    if header is not None:
        return header
    millis = body.get("retry_after_ms")
    return float(millis) / 1000 if isinstance(millis, (int, float)) else None


class MatrixTransport(HttpBacked, Transport):
    """Send messages to Matrix rooms, once each. ``provider_id`` is the ``event_id``."""

    name: ClassVar[str] = "matrix"
    channel: ClassVar[str] = "matrix"
    options_model: ClassVar[type[TransportOptions]] = MatrixOptions
    description: ClassVar[str] = "Matrix: room messages by a bot account, idempotent sends"
    #: One pooled requests.Session; the alias cache takes a lock: safe from several threads.
    concurrency: ClassVar[int] = 4

    options: MatrixOptions

    def __init__(
        self,
        options: MatrixOptions | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(options, **kwargs)
        self._rooms: dict[str, str] = {}
        self._rooms_lock = threading.Lock()
        self.http = MatrixClient("matrix", self.options.base_url, session=session, sleep=sleep,
                                 retry=RetryPolicy(wait_rate_limits=False))

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send ``message`` to its room; a repeated send of one key is applied once."""
        content = matrix_content(message)
        room_id = self.room_id(message.recipient)
        txn = transaction_id(message.key, room_id)
        path = f"{CLIENT_API}/rooms/{quote(room_id, safe='')}/send/m.room.message/{txn}"
        data = self.http.json("PUT", path, json=content, headers=self._auth(),
                                action="send to room")
        event_id = data.get("event_id") if isinstance(data, dict) else None
        if not isinstance(event_id, str):
            raise ServiceUnavailable("matrix answered without an event_id", service="matrix",
                                     status=200)
        log.debug("matrix: sent %s", message.key)
        return SendResult(provider_id=event_id)

    def room_id(self, address: str) -> str:
        """The room id for a participant address: ``!id:server`` or ``#alias:server``."""
        address = address.strip()
        if address.startswith("!") and ":" in address:
            return address
        if not (address.startswith("#") and ":" in address):
            raise InvalidRequest(
                "matrix: the participant's address is not a room id or alias",
                service="matrix",
                hint="give a room id (!abc:example.org) or alias (#room:example.org) the bot "
                     "has joined")
        with self._rooms_lock:
            known = self._rooms.get(address)
        if known is None:  # two threads may resolve one alias at once: the same answer
            known = self._resolve(address)
            with self._rooms_lock:
                self._rooms[address] = known
        return known

    def _resolve(self, alias: str) -> str:
        data = self.http.json("GET", f"{CLIENT_API}/directory/room/{quote(alias, safe='')}",
                                headers=self._auth(), action="resolve room alias")
        room_id = data.get("room_id") if isinstance(data, dict) else None
        if not isinstance(room_id, str):
            raise ServiceUnavailable("matrix answered the alias lookup without a room_id",
                                     service="matrix", status=200)
        return room_id

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.options.access_token.get_secret_value()}"}
