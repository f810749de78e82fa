"""s3events-slack: the ``slack`` transport, posting join links with a Slack app's bot token.

Installing this distribution registers the transport through the ``s3events`` entry point;
a series then lists ``slack`` in ``dispatch.channels`` and gives the bot token as
``dispatch.transports.slack.token`` or ``S3EVENTS_SLACK_TOKEN``.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.transports.base import Transport

from .transport import (
    DEFAULT_API_BASE_URL,
    SlackClient,
    SlackOptions,
    SlackTransport,
    slack_payload,
)

__all__ = [
    "DEFAULT_API_BASE_URL",
    "SlackClient",
    "SlackOptions",
    "SlackTransport",
    "s3events_register_transports",
    "slack_payload",
]


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """Register the ``slack`` transport."""
    return [SlackTransport]
