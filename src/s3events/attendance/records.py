"""Participants as s3events keeps them, and the arithmetic of their stays.

An :class:`Attendee` is one participant of one session as a platform or a report names
them: a display name, an email when there is one, the platform's identity, and their stays.
Control characters in the name or email (an escape sequence, a NUL) are dropped.
``exact`` says whether the stays are each join and leave (platforms, the plain CSV, Zoom's
and Webex's reports) or only the first join and last leave with ``seconds`` the time
actually spent (Teams' participant summary, BigBlueButton's dashboard).

Time in a session is counted from **merged** stays: two stays that overlap or touch (a
second device, a reconnection) count once, so nobody gets more minutes than the session
had. :func:`presence` does this for all the rows of one person.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from ..platforms.base import AttendanceRecord

__all__ = ["Attendee", "Presence", "Stay", "merge_stays", "presence"]

Stay = tuple[datetime, datetime]
_UTC = timezone.utc
#: C0 and C1 control characters and DEL: never part of a name or an address.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]+")


@dataclass(frozen=True)
class Attendee:
    """One participant of one session, with their stays (aware UTC)."""

    name: str
    email: str | None = None
    identity: str | None = None
    stays: tuple[Stay, ...] = ()
    seconds: int = 0
    exact: bool = True

    def __post_init__(self) -> None:
        # Display names are whatever people typed into a platform: an escape sequence or a
        # NUL there must not reach the organiser's terminal, CSV or database.
        object.__setattr__(self, "name", _CONTROLS.sub(" ", self.name).strip())
        if self.email is not None:
            object.__setattr__(self, "email", _CONTROLS.sub("", self.email).strip() or None)

    @classmethod
    def from_record(cls, record: AttendanceRecord) -> Attendee:
        """From what a platform adapter reports (its intervals are each stay)."""
        stays = tuple((i.joined, i.left) for i in record.intervals)
        seconds = record.seconds or sum(int((b - a).total_seconds()) for a, b in stays)
        return cls(record.name.strip(), (record.email or "").strip() or None,
                   record.identity, stays, seconds, True)

    @property
    def first_join(self) -> datetime | None:
        """The earliest join, if known."""
        return min((a for a, _ in self.stays), default=None)

    @property
    def last_leave(self) -> datetime | None:
        """The latest leave, if known."""
        return max((b for _, b in self.stays), default=None)


def merge_stays(stays: Iterable[Stay]) -> list[Stay]:
    """``stays`` sorted, with overlapping or touching ones joined into one."""
    merged: list[Stay] = []
    for start, end in sorted(stays):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class Presence:
    """How long one person was in one session, from all the rows that name them."""

    seconds: int
    first_join: datetime | None
    last_leave: datetime | None

    @property
    def minutes(self) -> int:
        """Whole minutes (rounded down)."""
        return self.seconds // 60


def presence(attendees: Sequence[Attendee]) -> Presence:
    """The merged time of several rows of one person (stays of exact rows merged)."""
    exact = merge_stays(s for a in attendees if a.exact for s in a.stays)
    seconds = sum(int((b - a).total_seconds()) for a, b in exact)
    for attendee in attendees:
        if not attendee.exact or not attendee.stays:
            span = sum(int((b - a).total_seconds()) for a, b in attendee.stays)
            seconds += min(attendee.seconds, span) if attendee.stays else attendee.seconds
    joins = [a.first_join for a in attendees if a.first_join is not None]
    leaves = [a.last_leave for a in attendees if a.last_leave is not None]
    return Presence(seconds, min(joins, default=None), max(leaves, default=None))


def stays_to_json(stays: Iterable[Stay]) -> list[list[str]]:
    """Stays as ``[[join, leave], …]`` ISO 8601 UTC strings (how the store keeps them)."""
    return [[a.astimezone(_UTC).isoformat(), b.astimezone(_UTC).isoformat()] for a, b in stays]


def stays_from_json(data: Iterable[Sequence[str]] | None) -> tuple[Stay, ...]:
    """The inverse of :func:`stays_to_json`."""
    return tuple((datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in data or ())
