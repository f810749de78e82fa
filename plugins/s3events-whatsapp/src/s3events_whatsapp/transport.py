"""The ``whatsapp`` transport: approved template messages through the WhatsApp Cloud API.

A business may only start a WhatsApp conversation with an approved *template*, so every
message is sent as one: ``POST {api_base_url}/{phone_number_id}/messages`` with a system-user
access token (``Authorization: Bearer``) and the body::

    {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "<E.164 digits>",
     "type": "template",
     "template": {"name": <template>, "language": {"code": <code>, "policy": "deterministic"},
                  "components": [{"type": "body", "parameters": [
                      {"type": "text", "text": facts["title"]},
                      {"type": "text", "text": facts["local_time"]},
                      {"type": "text", "text": facts["link"]}]}]}}

**Facts the dispatcher must set** on each :class:`~s3events.transports.base.OutgoingMessage`
for this channel, in the order of the template's body parameters ``{{1}}``, ``{{2}}``,
``{{3}}``:

``title``
    the session title in the participant's language;
``local_time``
    the session's date and time in the participant's time zone, formatted for their language
    (e.g. "jueves 28 de octubre de 2021, 10:00 (hora de Ciudad de México)");
``link``
    the participant's join link (set on link, reminder and update messages).

A message for the main ``template`` without one of them fails with
:class:`~s3events.errors.InvalidRequest` before any call. ``templates`` names another template
per message kind (``{confirmation: seminar_registered, cancellation: seminar_cancelled}``);
such a template's body parameters are the facts the message does carry, in the same order
(a cancellation has ``title`` and ``local_time`` but no ``link``: a template with two
parameters; a confirmation for the whole series has none of them: a template without
parameters). WhatsApp rejects parameters with line breaks, tabs or more than four spaces in a
row; those are folded into single spaces.

The template language is the participant's language mapped through the ``languages`` option
(``es`` → ``es``, ``en`` → ``en_US``, ``pt`` → ``pt_BR`` … by default); a language with no entry
uses the entry for ``en``.

Errors are Graph API errors ``{"error": {"message", "type", "code", "error_subcode",
"fbtrace_id", "is_transient"}}``, mapped by ``code`` (see :data:`ERROR_CODES`). Sends have
no idempotency key, so a send is never repeated after a 5xx or a timeout; rate-limit codes
(which the Cloud API answers before accepting anything) are raised at once as
:class:`~s3events.errors.RateLimited`: the dispatcher pauses the channel, then sends again.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import requests
from pydantic import Field, SecretStr, field_validator

from s3events.errors import (
    AuthenticationError,
    InvalidRequest,
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
    "DEFAULT_LANGUAGES",
    "ERROR_CODES",
    "FACTS",
    "WhatsAppClient",
    "WhatsAppOptions",
    "WhatsAppTransport",
    "template_language",
    "wa_number",
    "whatsapp_payload",
]

log = logging.getLogger(__name__)

DEFAULT_API_BASE_URL = "https://graph.facebook.com/v23.0"

#: The message facts that fill the template's body parameters {{1}}, {{2}}, {{3}}.
FACTS = ("title", "local_time", "link")

#: Participant language → WhatsApp template language code (the ``languages`` option adds to it).
DEFAULT_LANGUAGES: dict[str, str] = {
    "en": "en_US", "en_GB": "en_GB", "es": "es", "es_ES": "es_ES", "es_MX": "es_MX",
    "es_AR": "es_AR", "pt": "pt_BR", "pt_BR": "pt_BR", "pt_PT": "pt_PT", "fr": "fr",
    "de": "de", "it": "it", "nl": "nl", "ca": "ca",
}

_TEMPLATE_HINT = ("check the template option (and templates, per kind): the template must be "
                  "approved in WhatsApp Manager")

#: Graph error code → (error class, hint for the person running s3events).
ERROR_CODES: dict[int, tuple[type[ServiceError], str | None]] = {
    130429: (RateLimited, "the phone number's throughput limit was reached"),
    131056: (RateLimited, "too many messages to this participant in a short time"),
    131048: (RateLimited, "WhatsApp limits this number for spam: check the template's "
                          "quality rating in WhatsApp Manager"),
    4: (RateLimited, "the app's call limit was reached"),
    80007: (RateLimited, "the WhatsApp Business Account's rate limit was reached"),
    190: (AuthenticationError, "the access token expired or was revoked: use a system user "
                               "token with whatsapp_business_messaging permission"),
    0: (AuthenticationError, "check the access_token option"),
    10: (PermissionDenied, "the token lacks the whatsapp_business_messaging permission or "
                           "access to this phone number"),
    200: (PermissionDenied, "the token lacks the whatsapp_business_messaging permission"),
    131005: (PermissionDenied, "the token has no access to this phone number id"),
    131031: (PermissionDenied, "the WhatsApp Business Account is locked; see WhatsApp Manager"),
    131047: (InvalidRequest, "more than 24 hours passed since the participant last wrote: "
                             "only approved templates may be sent; " + _TEMPLATE_HINT),
    132000: (InvalidRequest, "the template must have exactly three body parameters: session "
                             "title, local date and time, link"),
    132001: (InvalidRequest, "the template does not exist in this language: approve a "
                             "translation in WhatsApp Manager or map the participant's "
                             "language with the languages option"),
    132015: (InvalidRequest, "the template is paused for low quality; " + _TEMPLATE_HINT),
    132016: (InvalidRequest, "the template is disabled; " + _TEMPLATE_HINT),
    131026: (InvalidRequest, "the participant's number cannot receive WhatsApp messages"),
    131030: (InvalidRequest, "a test phone number may only write to the recipients listed "
                             "in the app's WhatsApp settings"),
    100: (InvalidRequest, "check phone_number_id and the participant's whatsapp number"),
    1: (ServiceUnavailable, None),
    2: (ServiceUnavailable, None),
    131000: (ServiceUnavailable, None),
    131016: (ServiceUnavailable, None),
}

#: Seconds to wait on rate-limit codes that come with a documented pace.
_WAITS = {131056: 6.0}


def _normalise_tag(tag: str) -> str:
    """``es-mx`` / ``es_MX`` → ``es_MX``; ``EN`` → ``en``."""
    lang, _, region = tag.strip().replace("-", "_").partition("_")
    return f"{lang.lower()}_{region.upper()}" if region else lang.lower()


def _parse_mapping(value: str) -> dict[str, str]:
    """``es=es, en=en_US`` or a JSON object (how the environment gives ``languages``)."""
    text = value.strip()
    if text.startswith("{"):
        parsed = json.loads(text)
        if not isinstance(parsed, dict):
            raise ValueError("expected a JSON object")
        return {str(k): str(v) for k, v in parsed.items()}
    pairs = [item for item in re.split(r"[,;\s]+", text) if item]
    mapping = {}
    for pair in pairs:
        key, sep, code = pair.replace(":", "=", 1).partition("=")
        if not sep or not key or not code:
            raise ValueError(f"expected language=code pairs like es=es,en=en_US, got {pair!r}")
        mapping[key] = code
    return mapping


class WhatsAppOptions(TransportOptions):
    """Options of the ``whatsapp`` transport (env: ``S3EVENTS_WHATSAPP_<OPTION>``)."""

    access_token: SecretStr = Field(
        description="System user access token with whatsapp_business_messaging permission.")
    phone_number_id: str = Field(description="The sending phone number's id (not the number).")
    template: str = Field(description="Name of the approved template (3 body parameters).")
    api_base_url: str = Field(
        default=DEFAULT_API_BASE_URL, description="Graph API base URL with its version.")
    languages: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_LANGUAGES),
        description="Participant language → template language code; adds to the defaults.")
    templates: dict[str, str] = Field(
        default_factory=dict, description="Template name per message kind, overriding template.")

    @field_validator("phone_number_id", "template", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return str(value).strip() if isinstance(value, (int, str)) else value

    @field_validator("languages", "templates", mode="before")
    @classmethod
    def _mapping(cls, value: Any) -> Any:
        return _parse_mapping(value) if isinstance(value, str) else value

    @field_validator("languages")
    @classmethod
    def _with_defaults(cls, value: dict[str, str]) -> dict[str, str]:
        return {**DEFAULT_LANGUAGES, **{_normalise_tag(k): v for k, v in value.items()}}


def template_language(language: str, languages: Mapping[str, str]) -> str:
    """The template language code for a participant language (``es-MX`` → ``es_MX`` or ``es``)."""
    tag = _normalise_tag(language or "en")
    for candidate in (tag, tag.split("_")[0]):
        if candidate in languages:
            return languages[candidate]
    return languages.get("en", "en_US")


def wa_number(recipient: str) -> str:
    """E.164 digits (no ``+``) from a phone number as people write it; else InvalidRequest."""
    digits = re.sub(r"[\s().\-/]", "", recipient)
    digits = digits[1:] if digits.startswith("+") else digits
    digits = digits[2:] if digits.startswith("00") else digits
    if not re.fullmatch(r"[1-9]\d{6,14}", digits):
        raise InvalidRequest(
            "whatsapp: the participant's address is not a phone number in E.164 form",
            service="whatsapp",
            hint="write it with the country code, e.g. +52 55 1234 5678")
    return digits


def _fact(message: OutgoingMessage, fact: str) -> str:
    """A fact as WhatsApp accepts it in a parameter: no line breaks, tabs or long space runs."""
    value = re.sub(r"\s*[\t\r\n]+\s*", " ", message.facts.get(fact, "")).strip()
    return re.sub(r" {4,}", "   ", value)


def _parameters(message: OutgoingMessage, *, own_template: bool) -> list[dict[str, str]]:
    """The body parameters: every fact for the main template; those present for a kind's own."""
    values = {fact: _fact(message, fact) for fact in FACTS}
    missing = [fact for fact in FACTS if not values[fact]]
    if missing and not own_template:
        raise InvalidRequest(
            f"whatsapp: the {message.kind} message has no '{missing[0]}' fact for the "
            "template's three parameters", service="whatsapp",
            hint=f"name a template for {message.kind} messages with the templates option: its "
                 "body parameters are the facts the message has, in the order "
                 f"{', '.join(FACTS)}")
    return [{"type": "text", "text": values[fact]} for fact in FACTS if values[fact]]


def whatsapp_payload(message: OutgoingMessage, options: WhatsAppOptions) -> dict[str, Any]:
    """The Cloud API ``messages`` body for ``message``: an approved template and its facts."""
    own = options.templates.get(message.kind)
    parameters = _parameters(message, own_template=bool(own))
    template: dict[str, Any] = {
        "name": own or options.template,
        "language": {"code": template_language(message.language, options.languages),
                     "policy": "deterministic"},
    }
    if parameters:
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": wa_number(message.recipient),
        "type": "template",
        "template": template,
    }


def _graph_error(response: requests.Response) -> dict[str, Any]:
    error = (json_object(response) or {}).get("error")
    return error if isinstance(error, dict) else {}


class WhatsAppClient(HttpClient):
    """An :class:`~s3events.http.HttpClient` that maps Graph API error codes."""

    def error(self, response: requests.Response, *, action: str) -> ServiceError:
        """The s3events error for a Graph API error answer."""
        error = _graph_error(response)
        code = error.get("code")
        if not isinstance(code, int):
            return super().error(response, action=action)
        message = str(error.get("message") or "")
        trace = error.get("fbtrace_id")
        vendor = f"{message} (fbtrace_id {trace})" if trace else message
        header_wait = parse_retry_after(response.headers.get("Retry-After"))
        context: dict[str, Any] = {"service": self.service, "status": response.status_code,
                                   "vendor_message": vendor or None}
        if code in ERROR_CODES:
            cls, hint = ERROR_CODES[code]
            wait = header_wait if header_wait is not None else _WAITS.get(code)
            return cls(f"whatsapp refused {action} (error {code})", hint=hint,
                       retry_after=wait if cls is RateLimited else None, **context)
        if error.get("is_transient") is True:
            return ServiceUnavailable(f"whatsapp could not take {action} (error {code}, "
                                      "transient)", retry_after=header_wait, **context)
        return error_for_status(response.status_code, service=self.service,
                                vendor_message=vendor or None, retry_after=header_wait,
                                action=f"{action} (error {code})")


class WhatsAppTransport(HttpBacked, Transport):
    """Send template messages with the WhatsApp Cloud API. ``provider_id`` is the ``wamid``."""

    name: ClassVar[str] = "whatsapp"
    channel: ClassVar[str] = "whatsapp"
    options_model: ClassVar[type[TransportOptions]] = WhatsAppOptions
    description: ClassVar[str] = "WhatsApp Cloud API: approved template messages"
    #: Stateless calls on one pooled requests.Session: safe from several threads.
    concurrency: ClassVar[int] = 4

    options: WhatsAppOptions

    def __init__(
        self,
        options: WhatsAppOptions | None = None,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(options, **kwargs)
        self.http = WhatsAppClient("whatsapp", self.options.api_base_url, session=session,
                                   sleep=sleep, retry=RetryPolicy(wait_rate_limits=False))

    def send(self, message: OutgoingMessage) -> SendResult:
        """Send ``message`` as a template message; raise an s3events error on failure."""
        body = whatsapp_payload(message, self.options)
        token = self.options.access_token.get_secret_value()
        data = self.http.json(
            "POST", f"{self.options.phone_number_id}/messages", json=body, action="send message",
            headers={"Authorization": f"Bearer {token}"})
        messages = data.get("messages") if isinstance(data, dict) else None
        first = messages[0] if isinstance(messages, list) and messages else {}
        wamid = first.get("id") if isinstance(first, dict) else None
        if not isinstance(wamid, str):
            raise ServiceUnavailable("whatsapp answered without a message id",
                                     service="whatsapp", status=200)
        log.debug("whatsapp: %s accepted (%s)", message.key, first.get("message_status"))
        return SendResult(provider_id=wamid)
