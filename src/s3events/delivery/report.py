"""What one dispatch run did: counts per session, kind and channel, and problems."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..scheduler import ScheduleReport

__all__ = ["DispatchReport"]


@dataclass
class DispatchReport:
    """What one dispatch run did (counts only: no personal data).

    ``sent`` counts messages per (session or ``-``, kind, channel); ``failed`` those that
    failed for good (refused, or impossible to compose), ``retrying`` those that go out on
    a later run. ``lost`` counts messages delivered after this worker's claim on them had
    run out (another worker owns those rows now: they are neither counted as sent nor
    marked). ``paused`` counts the pauses services asked for. ``expired`` counts the
    messages whose moment passed before their turn came in this run (the scheduling pass
    counts those it found late in ``scheduled.expired``). ``problems`` says, per channel,
    what kept messages from going out in this run.
    """

    scheduled: ScheduleReport = field(default_factory=ScheduleReport)
    sent: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    due: int = 0
    lost: int = 0
    paused: int = 0
    expired: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total_sent(self) -> int:
        """Messages sent in this run."""
        return sum(self.sent.values())
