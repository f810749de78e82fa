"""The rows that will not be sent as they are: the late ones and the failed ones.

A message whose moment has passed (:func:`s3events.owed.too_late`) is never sent:
:func:`expire_late` marks pending ones ``expired``, and :func:`late_clause` is what claims
leave out (:func:`s3events.ledger.claim_due`). A failed message stays ``failed`` with its
reason (:func:`failure_counts`, shown by ``s3events status``) until :func:`requeue_failed`
(``s3events retry``) puts it back to ``pending``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, not_, or_, select, update

from .store import Store, ledger

__all__ = ["FailureCount", "Late", "expire_late", "failure_counts", "late_clause",
           "requeue_failed"]

#: Which sessions' messages of a kind are too late: kind → session ids (see
#: :func:`s3events.owed.late_sessions`).
Late = Mapping[str, Sequence[str]]


def late_clause(late: Late) -> Any:
    """SQL for the rows of a late kind for one of its late sessions (``None`` when
    nothing is late)."""
    parts = [and_(ledger.c.kind == kind, ledger.c.session_id.in_(list(ids)))
             for kind, ids in sorted(late.items()) if ids]
    return or_(*parts) if parts else None


def expire_late(store: Store, series_id: str, *, late: Late, now: datetime,
                dry_run: bool = False) -> int:
    """Mark ``expired`` the pending rows whose moment has passed; return how many.

    ``late`` names them (kind → session ids, :func:`s3events.owed.late_sessions` at
    ``now``). Such a row is always due by then (a link is due before its session ends, a
    reminder before it starts), so the statement reads only the series' rows due at
    ``now``. One statement: safe with several workers (a row another worker has claimed is
    not pending; that worker checks it again before sending). With ``dry_run``: counts.
    """
    too_late = late_clause(late)
    if too_late is None:
        return 0
    where = and_(ledger.c.series_id == series_id, ledger.c.state == "pending",
                 ledger.c.due_at <= now, too_late)
    if dry_run:
        with store.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(ledger).where(where))
                       .scalar_one())
    with store.begin() as conn:
        return int(conn.execute(update(ledger).where(where).values(
            state="expired", next_attempt_at=None)).rowcount)


def requeue_failed(store: Store, series_id: str, *, session_id: str | None = None,
                   kind: str | None = None, channel: str | None = None,
                   registration_id: str | None = None, late: Late | None = None,
                   ) -> tuple[int, int]:
    """Put ``failed`` rows back to ``pending``: (how many, how many were left as too late).

    Only the rows of ``session_id``, ``kind``, ``channel`` and ``registration_id`` when
    given. A re-queued row starts again with no attempts and is due at once; its
    ``last_error`` stays until it is sent (or fails again), so a person's export still
    says why it had failed. Rows that ``late`` names (a link of a session that has ended:
    see :func:`s3events.owed.too_late`) stay ``failed``: they would never be sent.
    """
    where = and_(ledger.c.series_id == series_id, ledger.c.state == "failed")
    for column, value in (("session_id", session_id), ("kind", kind), ("channel", channel),
                          ("registration_id", registration_id)):
        if value is not None:
            where = and_(where, ledger.c[column] == value)
    too_late = late_clause(late or {})
    with store.begin() as conn:
        left = 0
        if too_late is not None:
            left = int(conn.execute(select(func.count()).select_from(ledger)
                                    .where(where, too_late)).scalar_one())
            where = and_(where, not_(too_late))
        done = conn.execute(update(ledger).where(where).values(
            state="pending", attempts=0, next_attempt_at=None, claimed_by=None,
            claimed_at=None)).rowcount
    return int(done), left


@dataclass(frozen=True)
class FailureCount:
    """How many messages of one session, kind and channel failed for good for one reason."""

    session_id: str | None
    kind: str
    channel: str
    reason: str
    count: int


def failure_counts(store: Store, series_id: str) -> list[FailureCount]:
    """The reasons of ``failed`` rows (stored without personal data), most frequent first."""
    stmt = (select(ledger.c.session_id, ledger.c.kind, ledger.c.channel, ledger.c.last_error,
                   func.count())
            .where(ledger.c.series_id == series_id, ledger.c.state == "failed")
            .group_by(ledger.c.session_id, ledger.c.kind, ledger.c.channel,
                      ledger.c.last_error))
    with store.connect() as conn:
        found = [FailureCount(r[0], r[1], r[2], r[3] or "no reason recorded", int(r[4]))
                 for r in conn.execute(stmt)]
    return sorted(found, key=lambda f: (-f.count, f.session_id or "", f.kind, f.reason))
