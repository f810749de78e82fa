"""s3events-whatsapp: the ``whatsapp`` transport, sending join links as template messages.

Installing this distribution registers the transport through the ``s3events`` entry point;
a series then lists ``whatsapp`` in ``dispatch.channels`` and sets ``access_token``,
``phone_number_id`` and ``template`` under ``dispatch.transports.whatsapp`` (or as
``S3EVENTS_WHATSAPP_<OPTION>``). The dispatcher fills the message facts ``title``,
``local_time`` and ``link``, which become the template's three body parameters.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.transports.base import Transport

from .transport import (
    DEFAULT_API_BASE_URL,
    DEFAULT_LANGUAGES,
    ERROR_CODES,
    FACTS,
    WhatsAppClient,
    WhatsAppOptions,
    WhatsAppTransport,
    template_language,
    wa_number,
    whatsapp_payload,
)

__all__ = [
    "DEFAULT_API_BASE_URL",
    "DEFAULT_LANGUAGES",
    "ERROR_CODES",
    "FACTS",
    "WhatsAppClient",
    "WhatsAppOptions",
    "WhatsAppTransport",
    "s3events_register_transports",
    "template_language",
    "wa_number",
    "whatsapp_payload",
]


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """Register the ``whatsapp`` transport."""
    return [WhatsAppTransport]
