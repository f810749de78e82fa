"""s3events plugin for Webex: the ``webex`` platform.

Registered through the ``s3events`` entry point (``webex = "s3events_webex"``). See
:class:`~s3events_webex.adapter.WebexAdapter` for what it does and the README for the Webex
side of the setup.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.platforms.base import PlatformAdapter

from .adapter import WebexAdapter, WebexOptions

__all__ = ["WebexAdapter", "WebexOptions", "__version__", "s3events_register_platforms"]

__version__ = "0.1.0"


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the ``webex`` platform."""
    return [WebexAdapter]
