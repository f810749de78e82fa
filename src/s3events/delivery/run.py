"""What every channel of one dispatch run shares: which rows it takes, its clock, its report.

:class:`Scope` says which due rows a run takes (some people's, no opt-ins without the event
page's address, never those too late to send); :class:`Run` holds the store, the series,
the composer and the report the channels' senders share, and the run's clock: ``now`` plus
the real time the run has taken, against which a row claimed in time is checked once more
just before it is sent (:meth:`Run.too_late`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..compose import Composer
from ..ledger import LedgerRow, count_due
from ..models import Series
from ..owed import LATE_AT_END, LATE_AT_START, too_late
from ..store import Store
from .report import DispatchReport

__all__ = ["Run", "Scope"]

_LATE_KINDS = (*LATE_AT_END, *LATE_AT_START)


@dataclass(frozen=True)
class Scope:
    """Which due rows a run takes: of some people only; no opt-ins when it cannot link them;
    never those too late to send (``late``: kind → session ids)."""

    registration_ids: Sequence[str] | None = None
    kinds: Sequence[str] | None = None
    late: Mapping[str, Sequence[str]] | None = None

    def due(self, store: Store, series_id: str, now: datetime, channels: Sequence[str],
            *, kinds: Sequence[str] | None = None) -> int:
        """How many rows in scope are due on ``channels`` (of ``kinds``, if given)."""
        return count_due(store, series_id, now=now, channels=channels,
                         registration_ids=self.registration_ids,
                         kinds=kinds if kinds is not None else self.kinds, late=self.late)


@dataclass
class Run:
    """What every channel of one dispatch run shares."""

    store: Store
    series: Series
    now: datetime
    worker: str
    composer: Composer
    report: DispatchReport
    batch_size: int
    scope: Scope
    progress: Callable[[int], None] | None = None
    clock: Callable[[], datetime] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = field(default_factory=time.monotonic)

    def moment(self) -> datetime:
        """The run's time now: ``clock()`` if given, else ``now`` plus the time elapsed."""
        if self.clock is not None:
            return self.clock()
        return self.now + timedelta(seconds=time.monotonic() - self.started)

    def too_late(self, row: LedgerRow) -> bool:
        """Whether ``row``'s moment has passed at :meth:`moment` (see the module doc)."""
        if row.kind not in _LATE_KINDS or row.session_id is None:
            return False
        try:
            session = self.series.session(row.session_id)
        except KeyError:
            return False
        return too_late(row.kind, session, self.moment())

    def count(self, update: Callable[[DispatchReport], None], *, done: bool = True) -> None:
        """Change the report (from any thread); ``done``: a message is settled (progress)."""
        with self.lock:
            update(self.report)
        if done and self.progress is not None:
            self.progress(1)
