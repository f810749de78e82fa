"""The built-in ``static`` platform: the links are given per session in the series file.

For organisers whose meetings are made by hand (or by another system): each session of the
series file carries its ``join_url`` and, optionally, a ``passcode``::

    platform: {name: static}
    sessions:
      - id: day-1
        join_url: https://video.example.org/j/812345
        passcode: "4711"

A session without a ``join_url`` is a :class:`~s3events.errors.ConfigurationError` naming it.
Nothing exists remotely, so creating, updating and deleting only record the link.
"""

from __future__ import annotations

from typing import ClassVar

from ..errors import ConfigurationError
from ..hookspecs import hookimpl
from .base import Meeting, MeetingRequest, PlatformAdapter, PlatformOptions

__all__ = ["StaticAdapter"]


class StaticAdapter(PlatformAdapter):
    """Links written in the series file, used as they are."""

    name: ClassVar[str] = "static"
    options_model: ClassVar[type[PlatformOptions]] = PlatformOptions
    idempotent_create: ClassVar[bool] = True
    stores_meetings: ClassVar[bool] = False
    description: ClassVar[str] = "Fixed links given per session in the series file"

    def __init__(self, options: PlatformOptions | None = None, **kwargs: object) -> None:
        super().__init__(options, **kwargs)
        self._handed_out: dict[str, Meeting] = {}

    def validate_request(self, request: MeetingRequest) -> None:
        """Every session needs its ``join_url`` in the series file."""
        if not request.join_url:
            raise ConfigurationError(
                f"session '{request.session_id}' has no join_url: the static platform needs "
                "a join_url (and, if the meeting has one, a passcode) for every session in "
                "the series file")

    def _meeting(self, request: MeetingRequest, meeting_id: str) -> Meeting:
        self.validate_request(request)
        assert request.join_url is not None
        meeting = Meeting(
            platform=self.name, meeting_id=meeting_id, join_url=request.join_url,
            passcode=request.passcode, start=request.start, duration=request.duration,
            topic=request.topic, marker=request.marker,
        )
        self._handed_out[meeting_id] = meeting
        return meeting

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        """The session's given link, as a meeting whose id is the session's marker."""
        return self._meeting(request, request.marker)

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        """The session's link as the series file now gives it."""
        return self._meeting(request, meeting.meeting_id)

    def delete_meeting(self, meeting: Meeting) -> None:
        """Nothing to delete: the link belongs to whoever made it."""
        self._handed_out.pop(meeting.meeting_id, None)

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        """A meeting this adapter returned in this process, else ``None``.

        The static platform keeps nothing anywhere, so provisioning never asks it
        (:attr:`stores_meetings` is false); the state database holds the links.
        """
        return self._handed_out.get(meeting_id)


@hookimpl
def s3events_register_platforms() -> list[type[PlatformAdapter]]:
    """Register the built-in ``static`` platform."""
    return [StaticAdapter]
