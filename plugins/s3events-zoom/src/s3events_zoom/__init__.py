"""s3events plugin for Zoom: the ``zoom`` platform.

Registered through the ``s3events`` entry point (``zoom = "s3events_zoom"``). See
:class:`~s3events_zoom.adapter.ZoomAdapter` for what it does and the README for the Zoom
side of the setup.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.platforms.base import PlatformAdapter

from .adapter import ZoomAdapter, ZoomOptions

__all__ = ["ZoomAdapter", "ZoomOptions", "__version__", "s3events_register_platforms"]

__version__ = "0.1.0"


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the ``zoom`` platform."""
    return [ZoomAdapter]
