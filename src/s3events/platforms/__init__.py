"""Video platforms: the adapter base class and the built-in ``jitsi`` and ``static``."""

from .base import DialIn, Meeting, MeetingRequest, PlatformAdapter, PlatformOptions

__all__ = ["DialIn", "Meeting", "MeetingRequest", "PlatformAdapter", "PlatformOptions"]
