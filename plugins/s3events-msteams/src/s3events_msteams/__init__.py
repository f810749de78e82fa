"""s3events plugin for Microsoft Teams: the ``msteams`` platform.

Registered through the ``s3events`` entry point (``msteams = "s3events_msteams"``). See
:class:`~s3events_msteams.adapter.TeamsAdapter` for what it does and the README for the
Microsoft side of the setup.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.platforms.base import PlatformAdapter

from .adapter import TeamsAdapter, TeamsOptions

__all__ = ["TeamsAdapter", "TeamsOptions", "__version__", "s3events_register_platforms"]

__version__ = "0.1.0"


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the ``msteams`` platform."""
    return [TeamsAdapter]
