"""s3events plugin for BigBlueButton: platform ``bigbluebutton``.

Registered through the ``s3events`` entry point. See :mod:`s3events_bigbluebutton.adapter`
for how meetings are planned at provision time and created on the server just in time.
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.platforms.base import PlatformAdapter

from .adapter import BigBlueButtonAdapter, BigBlueButtonOptions

__all__ = ["BigBlueButtonAdapter", "BigBlueButtonOptions", "s3events_register_platforms"]
__version__ = "0.1.0"


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the ``bigbluebutton`` platform."""
    return [BigBlueButtonAdapter]
