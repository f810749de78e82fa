"""Meetings made ready just in time, when their messages are composed.

Most platforms hold a meeting from the moment provisioning creates it. Some do the real work
later: BigBlueButton creates its room when :meth:`~s3events.platforms.base.PlatformAdapter.
prepare` is called, just before the links go out; Jitsi with JWT gives each participant
their own link (:meth:`~s3events.platforms.base.PlatformAdapter.join_url_for`). Delivery asks
:class:`ReadyMeetings` for a session's meeting and for a participant's link, and never talks
to a platform itself.

A meeting is prepared at most once per :class:`ReadyMeetings` (one dispatch run). When the
platform fails, the :class:`~s3events.errors.ServiceError` is raised for that session every
time it is asked again in the run, without calling the platform again.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..config import platform_choice
from ..errors import ConfigurationError, ServiceError
from ..models import Series, Session
from ..platforms.base import Meeting, Participant, PlatformAdapter
from ..store import Store
from .planning import meeting_request
from .state import MeetingRow, meeting_rows, state_secret

__all__ = ["ReadyMeetings", "needs_adapter", "prepare_meeting"]


def needs_adapter(meeting: Meeting) -> bool:
    """True when the platform must be asked (per-person links, or work in ``prepare``)."""
    if meeting.per_participant_links:
        return True
    from ..plugins import platform_class

    try:
        cls = platform_class(meeting.platform)
    except ConfigurationError:
        return False
    return cls.prepare is not PlatformAdapter.prepare


def prepare_meeting(store: Store, series: Series, session: Session, row: MeetingRow,
                    adapter: PlatformAdapter, *, base_url: str | None = None) -> Meeting | None:
    """The session's meeting from ``row``, prepared on its platform with ``adapter``.

    ``None`` when the row holds no meeting (an intent, or deleted). The request is the one
    provisioning made for the row (same generation, same state secret), so a platform whose
    ``prepare`` creates the room (BigBlueButton) makes the same room every time.
    """
    if row.meeting is None:
        return None
    request = meeting_request(series, session, generation=row.generation,
                              secret=state_secret(store), base_url=base_url)
    return adapter.prepare(row.meeting, request)


class ReadyMeetings:
    """The meetings of one series as messages need them, prepared once per run.

    ``environ`` overlays the platform options of the series file, as for provisioning;
    ``base_url`` is the event page's address, for the signed attendance callback a platform
    may be given when its meeting is prepared (default: the series' ``dispatch.base_url``).
    """

    def __init__(self, store: Store, series: Series, *,
                 environ: Mapping[str, str] | None = None, base_url: str | None = None) -> None:
        self.store, self.series, self.environ = store, series, environ
        self.base_url = base_url
        self.rows: dict[str, MeetingRow] = meeting_rows(store, series.id)
        self._ready: dict[str, Meeting | None] = {}
        self._failed: dict[str, ServiceError] = {}
        self._adapters: dict[str, PlatformAdapter] = {}

    def adapter(self, platform: str) -> PlatformAdapter:
        """The adapter for ``platform``, built once from the series' options."""
        if platform not in self._adapters:
            from ..plugins import platform_class

            name, options = platform_choice(self.series.platform, platform)
            self._adapters[platform] = platform_class(name).from_options(
                dict(options), environ=self.environ)
        return self._adapters[platform]

    def meeting(self, session: Session) -> Meeting | None:
        """The session's meeting, prepared on its platform when it needs that.

        Raises the platform's :class:`~s3events.errors.ServiceError` (again, without a
        new call, for the rest of the run) when preparing failed.
        """
        if session.id in self._failed:
            raise self._failed[session.id]
        if session.id not in self._ready:
            self._ready[session.id] = self._prepare(session)
        return self._ready[session.id]

    def _prepare(self, session: Session) -> Meeting | None:
        row = self.rows.get(session.id)
        if row is None or row.meeting is None:
            return None
        if not needs_adapter(row.meeting):
            return row.meeting
        try:
            return prepare_meeting(self.store, self.series, session, row,
                                   self.adapter(row.meeting.platform), base_url=self.base_url)
        except ServiceError as exc:
            exc.session_id = exc.session_id or session.id
            self._failed[session.id] = exc
            raise

    def join_url(self, meeting: Meeting, participant: Participant) -> str:
        """The participant's own link where the platform gives one, else the meeting's."""
        if not meeting.per_participant_links:
            return meeting.join_url
        return self.adapter(meeting.platform).join_url_for(meeting, participant)

    def close(self) -> None:
        """Close the adapters built for this run (their HTTP sessions)."""
        for adapter in self._adapters.values():
            adapter.close()
        self._adapters.clear()
