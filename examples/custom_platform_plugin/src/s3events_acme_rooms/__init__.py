"""s3events-acme-rooms: the ``acme-rooms`` platform, rooms on the in-house Acme Rooms service.

Installing this distribution registers the platform through the ``s3events`` entry point
(``acme-rooms = "s3events_acme_rooms"`` in its ``pyproject.toml``): s3events imports this
module and calls the hook below. A series then says ``platform: {name: acme-rooms}`` and
gives the API key as ``S3EVENTS_ACME_ROOMS_API_KEY``.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.platforms.base import PlatformAdapter

from .adapter import DEFAULT_API_BASE_URL, AcmeRoomsAdapter, AcmeRoomsOptions, room_body

__all__ = [
    "DEFAULT_API_BASE_URL",
    "AcmeRoomsAdapter",
    "AcmeRoomsOptions",
    "room_body",
    "s3events_register_platforms",
]


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the ``acme-rooms`` platform."""
    return [AcmeRoomsAdapter]
