"""The ``apprise`` transport: messages to the long tail of services through Apprise URLs.

`Apprise <https://github.com/caronc/apprise>`_ speaks to about a hundred notification
services (ntfy, Discord, Mattermost, Rocket.Chat, Microsoft Teams, Pushover, SMS gateways …),
each addressed by a URL such as ``ntfy://ntfy.sh/s3e-latam`` or
``mmost://mattermost.example.org/hooktoken``.

**Who gets a message.** The participant's address on the ``apprise`` channel decides:

* an Apprise URL (``scheme://…``): the message goes to that URL only — a person's own ntfy
  topic, Pushover key, and so on;
* any other non-empty text (a name or a handle such as ``@jose``): the message goes to every
  URL of the ``urls`` option — a shared team channel — with that text as the first line of
  the body, so the person is named (or, where the service renders handles, mentioned);
* empty: the message goes to the ``urls`` as it is.

Apprise URLs carry credentials, so they are :class:`~pydantic.SecretStr` and never printed:
errors name the URL's scheme and position only. Apprise's own DEBUG records carry URLs and
message bodies (personal data); this transport drops them from the ``apprise`` logger and
redacts the configured URLs' secrets from its other records.

The body is the message text (plus ``facts["link"]`` when the text lacks it), the title its
subject. When Apprise reports a failure (``notify()`` is false) the send raises
:class:`~s3events.errors.ServiceUnavailable` and the dispatcher retries later: with status 502
when the participant's own URL failed (that message only), without a status when the shared
``urls`` failed (the channel is down for this run). With several URLs, services that did
receive the message receive it again on the retry.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

import apprise
from pydantic import Field, SecretStr, field_validator

from s3events.errors import ConfigurationError, InvalidRequest, ServiceUnavailable
from s3events.transports.base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = [
    "AppriseOptions",
    "AppriseTransport",
    "apprise_body",
    "is_apprise_url",
    "split_urls",
]

log = logging.getLogger(__name__)

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: Split before each new ``scheme://``, so commas inside one URL's query survive.
_BETWEEN_URLS = re.compile(r"[\s,]+(?=[A-Za-z][A-Za-z0-9+.-]*://)")


def split_urls(value: str) -> list[str]:
    """The Apprise URLs in a comma- or space-separated string (``S3EVENTS_APPRISE_URLS``)."""
    return [part.strip(" ,\t\r\n") for part in _BETWEEN_URLS.split(value.strip())
            if part.strip(" ,\t\r\n")]


def is_apprise_url(address: str) -> bool:
    """Whether ``address`` looks like a URL (``scheme://…``) rather than a name."""
    return bool(_SCHEME.match(address.strip()))


def _scheme(url: str) -> str:
    match = _SCHEME.match(url)
    return match.group(1).lower() if match else "?"


class _QuietApprise(logging.Filter):
    """Drop Apprise's DEBUG/TRACE records and redact known secrets from the rest."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO:
            return False
        message = record.getMessage()
        hits = [secret for secret in self.secrets if secret in message]
        if hits:
            for secret in sorted(hits, key=len, reverse=True):
                message = message.replace(secret, "<secret>")
            record.msg, record.args = message, ()
        return True


_filter_lock = threading.Lock()


def _quiet_apprise(urls: Iterable[str]) -> None:
    """Install the filter on the ``apprise`` logger (once) and register ``urls``' secrets."""
    logger = logging.getLogger("apprise")
    with _filter_lock:
        quiet = next((f for f in logger.filters if isinstance(f, _QuietApprise)), None)
        if quiet is None:
            quiet = _QuietApprise()
            logger.addFilter(quiet)
        for url in urls:
            quiet.secrets.update(_secret_parts(url))


def _secret_parts(url: str) -> set[str]:
    """The URL and the parts of it that are likely credentials (user info, path, query)."""
    parts = {url}
    try:
        split = urlsplit(url)
    except ValueError:
        return parts
    candidates = [split.password, split.username, split.query,
                  *split.path.split("/"), *re.split(r"[&=]", split.query)]
    parts.update(unquote(c) for c in candidates if c and len(c) >= 6)
    parts.update(c for c in candidates if c and len(c) >= 6)
    return parts


class AppriseOptions(TransportOptions):
    """Options of the ``apprise`` transport (env: ``S3EVENTS_APPRISE_URLS``)."""

    urls: list[SecretStr] = Field(
        default_factory=list,
        description="Apprise URLs notified for participants whose address is not a URL.")

    @field_validator("urls", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return split_urls(value)
        if isinstance(value, SecretStr):
            return split_urls(value.get_secret_value())
        return value


def apprise_body(message: OutgoingMessage, *, addressee: str = "") -> str:
    """The notification body: the addressee's line, the text, and the link if missing."""
    text = message.text.strip()
    link = message.facts.get("link")
    if link and link not in text:
        text = f"{text}\n{link}" if text else link
    return f"{addressee}\n\n{text}" if addressee else text


class AppriseTransport(Transport):
    """Send messages through Apprise URLs. ``provider_id`` is ``None`` (Apprise gives none)."""

    name: ClassVar[str] = "apprise"
    channel: ClassVar[str] = "apprise"
    options_model: ClassVar[type[TransportOptions]] = AppriseOptions
    description: ClassVar[str] = "Apprise: ntfy, Discord, Mattermost … through Apprise URLs"
    #: One message at a time, whatever the settings: Apprise does not document its objects
    #: as safe to share between threads, its service plugins keep per-object state (throttle
    #: timestamps, persistent stores), and the shared ``urls`` are one Apprise object.
    concurrency: ClassVar[int] = 1
    max_concurrency: ClassVar[int | None] = 1

    options: AppriseOptions

    def __init__(self, options: AppriseOptions | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        urls = [url.get_secret_value() for url in self.options.urls]
        _quiet_apprise(urls)
        self._shared = apprise.Apprise()
        for position, url in enumerate(urls, start=1):
            if not self._shared.add(url):
                raise ConfigurationError(
                    f"transport 'apprise': URL {position} of option 'urls' ({_scheme(url)}://…) "
                    "is not one Apprise can use; check it with `apprise --dry-run URL`")

    def send(self, message: OutgoingMessage) -> SendResult:
        """Notify the participant's own URL, or the configured URLs naming the participant."""
        address = message.recipient.strip()
        if is_apprise_url(address):
            target, body = self._personal(address), apprise_body(message)
        else:
            if not self.options.urls:
                raise InvalidRequest(
                    "apprise: the participant's address is not an Apprise URL and the urls "
                    "option is empty", service="apprise",
                    hint="set urls (S3EVENTS_APPRISE_URLS) or give participants Apprise URLs")
            target, body = self._shared, apprise_body(message, addressee=address)
        ok = target.notify(body=body, title=message.subject.strip(),
                           body_format=apprise.NotifyFormat.TEXT)
        if not ok:
            raise _failure(message, personal=target is not self._shared)
        log.debug("apprise: sent %s", message.key)
        return SendResult()

    def _personal(self, url: str) -> apprise.Apprise:
        target = apprise.Apprise()
        if not target.add(url):
            raise InvalidRequest(
                f"apprise: the participant's address ({_scheme(url)}://…) is not a URL Apprise "
                "can use", service="apprise",
                hint="fix the participant's apprise address; see the Apprise wiki for the "
                     "service's URL form")
        return target


def _failure(message: OutgoingMessage, *, personal: bool) -> ServiceUnavailable:
    """The error for a refused notification.

    A participant's own service failing concerns that message only: it carries status 502
    (Apprise acts as a gateway whose upstream failed), so the dispatcher retries the message
    later and goes on. A failure of the shared ``urls`` has no status, like an unreachable
    service: the dispatcher stops using the channel for this run.
    """
    hint = "the apprise logger's warnings say which service failed"
    if personal:
        return ServiceUnavailable(
            f"apprise: the participant's service did not accept the {message.kind} message",
            service="apprise", status=502, hint=hint)
    return ServiceUnavailable(
        f"apprise: not every service of the urls option accepted the {message.kind} message",
        service="apprise", hint=hint)
