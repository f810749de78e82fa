"""The ``slack`` transport: each message posted with ``chat.postMessage`` by a Slack app's bot.

The recipient (the participant's ``slack`` address) is a member id (``U…``; the message
arrives in the app's direct-message conversation with that person) or a conversation id
(``C…`` public channel, ``G…`` private channel, ``D…`` direct message).

Wire format: a JSON body ``{channel, text, blocks?, unfurl_links: false}`` with the bot token
in an ``Authorization: Bearer`` header. Slack's archived OpenAPI document (2021) still shows
the token as a ``token`` header or form field and every parameter as a form field; Slack
documents JSON bodies with the Bearer header for every Web API write method, which is what
is sent here. The body's fields are the ``chat.postMessage`` parameters of that document.

Slack answers Web API errors with HTTP 200 and ``{"ok": false, "error": "<code>"}``; the codes
are mapped to :mod:`s3events.errors` below, with a hint for the person running s3events.
HTTP 429 carries ``Retry-After`` in seconds: it is raised at once as
:class:`~s3events.errors.RateLimited`, and the dispatcher pauses the whole channel that long.
``chat.postMessage`` has no idempotency key, so a send is never repeated after a 5xx or a
timeout; the dispatcher's ledger decides what happens next.

Message facts used (all optional): ``link`` (adds a button opening the join link) and
``link_label`` (the button's text, from the series' catalog; otherwise "Join" from
s3events' built-in catalog of the message's language).
"""

from __future__ import annotations

import logging
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
from s3events.http import HttpBacked, HttpClient, RetryPolicy, json_object, parse_retry_after
from s3events.transports.base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = [
    "DEFAULT_API_BASE_URL", "SlackClient", "SlackOptions", "SlackTransport", "join_label",
    "slack_payload",
]

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://slack.com/api"

#: Slack renders at most 3000 characters in a section block; longer messages go as text only.
SECTION_LIMIT = 3000


_REINSTALL = "reinstall the Slack app to the workspace and use its new bot token (xoxb-…)"

#: Web API error code → (error class, hint for the person running s3events).
ERROR_CODES: dict[str, tuple[type[ServiceError], str | None]] = {
    "invalid_auth": (AuthenticationError, "check the token option: the bot token (xoxb-…) of "
                     "an installed Slack app"),
    "not_authed": (AuthenticationError, "set the token option or S3EVENTS_SLACK_TOKEN"),
    "account_inactive": (AuthenticationError, _REINSTALL),
    "token_revoked": (AuthenticationError, _REINSTALL),
    "token_expired": (AuthenticationError, _REINSTALL),
    "missing_scope": (PermissionDenied, "add the chat:write bot scope to the Slack app, then "
                      "reinstall it to the workspace"),
    "not_allowed_token_type": (PermissionDenied, "use a bot token (xoxb-…), not a user or "
                               "app-level token"),
    "not_in_channel": (PermissionDenied, "invite the app to the channel (/invite @app) or add "
                       "the chat:write.public scope"),
    "restricted_action": (PermissionDenied, "a workspace admin restricts posting in this "
                          "channel"),
    "channel_not_found": (NotFound, "check the participant's slack address: a member id (U…) "
                          "or channel id (C…) of the workspace the app is installed in"),
    "is_archived": (InvalidRequest, "the channel is archived; give the participant another "
                    "slack address"),
    "msg_too_long": (InvalidRequest, "shorten the message template for the slack channel"),
    "no_text": (InvalidRequest, None),
    "invalid_blocks": (InvalidRequest, None),
    "ratelimited": (RateLimited, None),
    "rate_limited": (RateLimited, None),
    "fatal_error": (ServiceUnavailable, None),
    "internal_error": (ServiceUnavailable, None),
    "service_unavailable": (ServiceUnavailable, None),
    "request_timeout": (ServiceUnavailable, None),
}


class SlackOptions(TransportOptions):
    """Options of the ``slack`` transport (env: ``S3EVENTS_SLACK_<OPTION>``)."""

    token: SecretStr = Field(
        description="Bot token (xoxb-…) of a Slack app with the chat:write scope.")
    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL, description="Web API base URL (a proxy or a test server).")


def _slack_ok(response: requests.Response) -> bool:
    body = json_object(response)
    return response.status_code == 200 and body is not None and body.get("ok") is True


class SlackClient(HttpClient):
    """An :class:`~s3events.http.HttpClient` that reads Slack's ``ok: false`` error codes."""

    def error(self, response: requests.Response, *, action: str) -> ServiceError:
        """The s3events error for a Slack answer that is not ``ok: true``."""
        body = json_object(response) or {}
        code = body.get("error")
        if response.status_code != 200:
            return super().error(response, action=action)
        if not isinstance(code, str):
            return ServiceUnavailable(
                f"slack answered {action} with HTTP 200 but no Web API result",
                service=self.service, status=200,
                hint="check the api_base_url option (it must end in /api)")
        cls, hint = ERROR_CODES.get(code, (InvalidRequest, None))
        if code == "missing_scope" and body.get("needed"):
            hint = (f"add the {body['needed']} bot scope to the Slack app, then reinstall it "
                    "to the workspace")
        return cls(f"slack refused {action}: {code}", service=self.service, status=200,
                   vendor_message=code, hint=hint,
                   retry_after=parse_retry_after(response.headers.get("Retry-After")))


def _escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn(message: OutgoingMessage) -> str:
    text = _escape(message.text.strip())
    subject = message.subject.strip()
    if subject and not message.text.lstrip().startswith(subject):
        return f"*{_escape(subject)}*\n{text}"
    return text


def join_label(message: OutgoingMessage) -> str:
    """The join button's text: ``facts["link_label"]`` or "Join" in the message's language."""
    return message.facts.get("link_label") or builtin_phrase(message.language, "Join")


def slack_payload(message: OutgoingMessage) -> dict[str, Any]:
    """The ``chat.postMessage`` JSON body for ``message``."""
    text = _mrkdwn(message)
    body: dict[str, Any] = {"channel": message.recipient.strip(), "text": text,
                            "unfurl_links": False}
    link = message.facts.get("link")
    if link and len(text) <= SECTION_LIMIT:
        body["blocks"] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "actions", "elements": [{
                "type": "button", "text": {"type": "plain_text", "text": join_label(message)},
                "url": link, "action_id": "s3events-join",
            }]},
        ]
    return body


class SlackTransport(HttpBacked, Transport):
    """Send messages to Slack members or channels with ``chat.postMessage``.

    ``provider_id`` of a send is ``"<channel>:<ts>"``: the conversation Slack posted in (a
    ``D…`` id when the recipient is a member) and the message timestamp, kept as a string.
    """

    name: ClassVar[str] = "slack"
    channel: ClassVar[str] = "slack"
    options_model: ClassVar[type[TransportOptions]] = SlackOptions
    description: ClassVar[str] = "Slack: chat.postMessage by a Slack app's bot token"
    #: Stateless calls on one pooled requests.Session: safe from several threads.
    concurrency: ClassVar[int] = 4

    options: SlackOptions

    def __init__(
        self,
        options: SlackOptions | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(options, **kwargs)
        self.http = SlackClient("slack", self.options.api_base_url, session=session,
                                sleep=sleep, retry=RetryPolicy(wait_rate_limits=False))

    def send(self, message: OutgoingMessage) -> SendResult:
        """Post ``message`` to its recipient; raise an s3events error on failure."""
        if not message.recipient.strip():
            raise InvalidRequest("slack: the message has no recipient", service="slack",
                                 hint="give the participant a slack member or channel id")
        body = slack_payload(message)
        data = self.http.json(
            "POST", "chat.postMessage", json=body, action="chat.postMessage", ok=_slack_ok,
            headers={"Authorization": f"Bearer {self.options.token.get_secret_value()}"},
        )
        ts = data.get("ts") if isinstance(data, dict) else None
        if not isinstance(ts, str):
            raise ServiceUnavailable("slack answered chat.postMessage without a message ts",
                                     service="slack", status=200)
        channel = data.get("channel") or body["channel"]
        log.debug("slack: sent %s", message.key)
        return SendResult(provider_id=f"{channel}:{ts}")
