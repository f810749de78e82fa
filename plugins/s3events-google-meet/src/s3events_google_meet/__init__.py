"""s3events plugin for Google Meet: platform ``google-meet``.

Meetings are Google Calendar events with a Meet conference, created through the Calendar
API as a Workspace user (service account with domain-wide delegation) or with a user's
OAuth refresh token. See :mod:`s3events_google_meet.adapter`.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.platforms.base import PlatformAdapter

from .adapter import GoogleMeetAdapter, GoogleMeetOptions

__all__ = ["GoogleMeetAdapter", "GoogleMeetOptions", "s3events_register_platforms"]
__version__ = "0.1.0"


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the ``google-meet`` platform."""
    return [GoogleMeetAdapter]
