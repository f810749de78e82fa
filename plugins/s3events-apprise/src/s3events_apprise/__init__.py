"""s3events-apprise: the ``apprise`` transport, a bridge to services through Apprise URLs.

Installing this distribution registers the transport through the ``s3events`` entry point;
a series then lists ``apprise`` in ``dispatch.channels`` and gives shared URLs as
``dispatch.transports.apprise.urls`` or ``S3EVENTS_APPRISE_URLS`` (comma- or space-separated).
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.transports.base import Transport

from .transport import AppriseOptions, AppriseTransport, apprise_body, is_apprise_url, split_urls

__all__ = [
    "AppriseOptions",
    "AppriseTransport",
    "apprise_body",
    "is_apprise_url",
    "s3events_register_transports",
    "split_urls",
]


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """Register the ``apprise`` transport."""
    return [AppriseTransport]
