"""The delivery ledger: one row per message, claimed, sent and marked exactly once.

Every message s3events sends is first a row of ``s3e_ledger`` keyed by
``"{registration}:{session or -}:{kind}:{revision}:{channel}"`` (unique). A row moves
through these states::

    pending ──claim──▶ sending ──transport returned──▶ sent
       ▲                  │  └──permanent error, or last attempt──▶ failed ──retry──▶ pending
       └──retry later─────┘                                          (visible in status)
    pending ──session cancelled / registration cancelled / superseded──▶ cancelled
    pending, sending ──its moment passed (a link after its session, a reminder after
                       its start: see s3events.owed.too_late)──▶ expired (never sent)

Expired and failed rows — expiring, re-queueing, why they failed — are
:mod:`s3events.unsent`'s.

Most rows are written by :mod:`s3events.scheduler`, which works out what each person is
owed; messages sent on request (the opt-in email, a person's status sent again) are
queued by :func:`queue_message`, each as the next revision of its kind.

Claiming sets ``claimed_by``/``claimed_at`` in one statement
(``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: on PostgreSQL two
workers never take the same row; on SQLite the single writer lock serialises claims). A
row is marked sent in its own short transaction right after the transport returns, so a
crash loses nothing and repeats at most the rows a worker had claimed and not yet marked.

Leases are measured on the real clock (``claimed_at`` is the real time of the claim, even
when ``dispatch --now`` simulates another time): a ``sending`` row whose worker is gone is
put back to ``pending`` after the lease, or at once when its worker was a process on this
machine that no longer exists. ``last_error`` never holds personal data: addresses and
names are removed from vendor messages before they are stored.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, func, not_, or_, select, update
from sqlalchemy.engine import Connection

from .store import Store, ledger, utcnow
from .unsent import Late, late_clause

__all__ = [
    "KINDS",
    "STATES",
    "LedgerRow",
    "SentMarker",
    "StatusCount",
    "backoff_delay",
    "claim_due",
    "count_due",
    "default_worker_id",
    "ledger_key",
    "mark_retry",
    "mark_sent",
    "message_id_for",
    "queue_message",
    "reclaim_stale",
    "release",
    "scrub_error",
    "status_counts",
]

#: Message kinds, in the order a participant meets them.
KINDS = ("optin", "confirmation", "waitlisted", "link", "reminder", "update", "cancellation",
         "followup", "missed", "certificate")
#: Ledger states.
STATES = ("pending", "sending", "sent", "failed", "cancelled", "expired")

_COLUMNS = (
    ledger.c.id, ledger.c.key, ledger.c.registration_id, ledger.c.session_id, ledger.c.kind,
    ledger.c.revision, ledger.c.channel, ledger.c.due_at, ledger.c.state, ledger.c.attempts,
)


@dataclass(frozen=True)
class LedgerRow:
    """One ledger row as a worker sees it (no personal data: ids only)."""

    id: int
    key: str
    registration_id: str
    session_id: str | None
    kind: str
    revision: int
    channel: str
    due_at: datetime
    state: str
    attempts: int

    @classmethod
    def from_row(cls, row: Any) -> LedgerRow:
        """Build from a SQLAlchemy row that has the ledger's columns."""
        return cls(row.id, row.key, row.registration_id, row.session_id, row.kind,
                   row.revision, row.channel, row.due_at, row.state, row.attempts)


def ledger_key(registration_id: str, session_id: str | None, kind: str, revision: int,
               channel: str) -> str:
    """The unique key of one message: registration, session, kind, revision, channel."""
    return f"{registration_id}:{session_id or '-'}:{kind}:{revision}:{channel}"


def message_id_for(key: str, *, series_id: str, domain: str) -> str:
    """The email Message-ID of ledger row ``key``: the same on every resend."""
    digest = hashlib.sha256(f"{series_id}\x00{key}".encode()).hexdigest()[:32]
    return f"<{digest}.s3events@{domain}>"


def queue_message(conn: Connection, *, series_id: str, registration_id: str, kind: str,
                  now: datetime, channel: str = "email") -> str:
    """Queue one more message of a series-wide ``kind`` for a person, due at ``now``; its key.

    For messages sent on request rather than owed once (the opt-in email each time the
    person submits the form, their status again): each is the next revision of that kind,
    so it has its own key and Message-ID, and an earlier one still ``pending`` is
    cancelled as superseded. Runs in the caller's transaction.
    """
    mine = and_(ledger.c.registration_id == registration_id, ledger.c.kind == kind,
                ledger.c.channel == channel, ledger.c.session_id.is_(None))
    top = conn.execute(select(func.max(ledger.c.revision)).where(mine)).scalar()
    revision = 0 if top is None else int(top) + 1
    conn.execute(update(ledger).where(mine, ledger.c.state == "pending")
                 .values(state="cancelled", last_error="superseded", next_attempt_at=None))
    key = ledger_key(registration_id, None, kind, revision, channel)
    conn.execute(ledger.insert().values(
        key=key, series_id=series_id, registration_id=registration_id, session_id=None,
        kind=kind, revision=revision, channel=channel, due_at=now, state="pending",
        attempts=0, created_at=now))
    return key


def default_worker_id() -> str:
    """``host:pid:random``: unique per process, and tells whether the process still lives."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _worker_is_dead(worker: str | None) -> bool:
    """True when ``worker`` names a process of this machine that no longer exists."""
    if not worker:
        return True
    host, _, rest = worker.partition(":")
    pid_text = rest.split(":", 1)[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def reclaim_stale(store: Store, series_id: str, *, lease: timedelta,
                  clock: datetime | None = None) -> int:
    """Put ``sending`` rows of dead or timed-out workers back to ``pending``; return how many.

    ``clock`` is the real time (default: now). A row is reclaimed when its lease is over,
    or at once when its worker was a process on this machine that has exited.
    """
    clock = clock or utcnow()
    with store.begin() as conn:
        rows = conn.execute(
            select(ledger.c.id, ledger.c.claimed_by, ledger.c.claimed_at).where(
                ledger.c.series_id == series_id, ledger.c.state == "sending")
        ).all()
        stale = [r.id for r in rows
                 if r.claimed_at is None or r.claimed_at <= clock - lease
                 or _worker_is_dead(r.claimed_by)]
        for chunk in _chunks(stale, 500):
            conn.execute(update(ledger).where(ledger.c.id.in_(chunk),
                                              ledger.c.state == "sending")
                         .values(state="pending", claimed_by=None, claimed_at=None))
    return len(stale)


def _due_clause(series_id: str, now: datetime, channels: Sequence[str] | None,
                registration_ids: Sequence[str] | None = None,
                kinds: Sequence[str] | None = None, late: Late | None = None) -> Any:
    clause = and_(
        ledger.c.series_id == series_id,
        ledger.c.state == "pending",
        ledger.c.due_at <= now,
        or_(ledger.c.next_attempt_at.is_(None), ledger.c.next_attempt_at <= now),
    )
    if channels is not None:
        clause = and_(clause, ledger.c.channel.in_(list(channels)))
    if registration_ids is not None:
        clause = and_(clause, ledger.c.registration_id.in_(list(registration_ids)))
    if kinds is not None:
        clause = and_(clause, ledger.c.kind.in_(list(kinds)))
    too_late = late_clause(late or {})
    if too_late is not None:
        clause = and_(clause, not_(too_late))
    return clause


def claim_due(store: Store, series_id: str, *, now: datetime, worker: str, limit: int = 100,
              channels: Sequence[str] | None = None,
              registration_ids: Sequence[str] | None = None,
              kinds: Sequence[str] | None = None, late: Late | None = None
              ) -> list[LedgerRow]:
    """Claim up to ``limit`` rows due at ``now`` for ``worker``; oldest due first.

    ``channels``, ``registration_ids`` and ``kinds`` (when given) take only the rows of
    those channels, people and message kinds; rows that ``late`` names (too late to send,
    see :func:`s3events.unsent.expire_late`) are never claimed. One statement: on
    PostgreSQL the inner select locks with ``FOR UPDATE SKIP LOCKED`` so concurrent workers
    take disjoint rows; SQLite serialises writers.
    """
    # A CTE, not ``IN (subquery)``: PostgreSQL may run an IN subquery more than once, and
    # with SKIP LOCKED each run can pick other rows, claiming more than ``limit``.
    due = _due_clause(series_id, now, channels, registration_ids, kinds, late)
    chosen = (select(ledger.c.id).where(due)
              .order_by(ledger.c.due_at, ledger.c.id).limit(limit)
              .with_for_update(skip_locked=True).cte("chosen"))
    stmt = (update(ledger).where(ledger.c.id == chosen.c.id, ledger.c.state == "pending")
            .values(state="sending", claimed_by=worker, claimed_at=utcnow())
            .returning(*_COLUMNS))
    with store.begin() as conn:
        rows = [LedgerRow.from_row(r) for r in conn.execute(stmt)]
    return sorted(rows, key=lambda r: (r.due_at, r.id))


def count_due(store: Store, series_id: str, *, now: datetime,
              channels: Sequence[str] | None = None,
              registration_ids: Sequence[str] | None = None,
              kinds: Sequence[str] | None = None, late: Late | None = None) -> int:
    """How many rows are due at ``now`` and not yet claimed (filtered as in :func:`claim_due`)."""
    due = _due_clause(series_id, now, channels, registration_ids, kinds, late)
    stmt = select(func.count()).select_from(ledger).where(due)
    with store.connect() as conn:
        return int(conn.execute(stmt).scalar_one())


def mark_sent(store: Store, row_id: int, *, worker: str, sent_at: datetime,
              message_id: str | None = None, provider_id: str | None = None) -> bool:
    """Record that row ``row_id`` was delivered; False if another worker took it meanwhile."""
    stmt = (update(ledger)
            .where(ledger.c.id == row_id, ledger.c.state == "sending",
                   ledger.c.claimed_by == worker)
            .values(state="sent", sent_at=sent_at, message_id=message_id,
                    provider_id=provider_id, attempts=ledger.c.attempts + 1,
                    last_error=None, next_attempt_at=None, claimed_by=None, claimed_at=None))
    with store.begin() as conn:
        return bool(conn.execute(stmt).rowcount)


_MARK_SENT = (update(ledger)
              .where(ledger.c.id == bindparam("row_id"), ledger.c.state == "sending",
                     ledger.c.claimed_by == bindparam("worker"))
              .values(state="sent", sent_at=bindparam("sent_at"), message_id=bindparam("mid"),
                      provider_id=bindparam("pid"), attempts=ledger.c.attempts + 1,
                      last_error=None, next_attempt_at=None, claimed_by=None, claimed_at=None))


class SentMarker:
    """Marks rows sent one at a time, each in its own short transaction, on one connection.

    A dispatch run keeps one open for its whole run: no pool checkout and no statement
    building per message, so marking costs little more than the commit itself. Safe to
    share between the threads sending on a channel (marks take turns on the connection).
    """

    def __init__(self, store: Store, *, worker: str) -> None:
        self.store, self.worker = store, worker
        self._conn: Any = None
        self._lock = threading.Lock()

    def __enter__(self) -> SentMarker:
        self._conn = self.store.engine.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def mark(self, row_id: int, *, sent_at: datetime, message_id: str | None = None,
             provider_id: str | None = None) -> bool:
        """Record that row ``row_id`` was delivered (committed before returning).

        False when the row is no longer this worker's (its lease ran out and another worker
        took it): the row is left to that worker and must not be counted as sent.
        """
        from sqlalchemy.exc import SQLAlchemyError

        from .errors import StoreError

        params = {"row_id": row_id, "worker": self.worker, "sent_at": sent_at,
                  "mid": message_id, "pid": provider_id}
        try:
            with self._lock, self._conn.begin():
                return bool(self._conn.execute(_MARK_SENT, params).rowcount)
        except SQLAlchemyError as exc:
            raise StoreError(f"state database {self.store.url}: cannot mark a message sent: "
                             f"{type(exc).__name__}") from exc


#: The longest wait between two attempts at one message, however many attempts it has had.
MAX_BACKOFF = timedelta(days=1)


def backoff_delay(attempt: int, *, base: timedelta, retry_after: float | None = None) -> timedelta:
    """Delay before attempt ``attempt + 1``: ``base`` doubled each attempt, or more if asked.

    Never more than :data:`MAX_BACKOFF` (a day), so the 30th or the 100th attempt waits a
    day rather than overflowing; a server's own ``retry_after`` is honoured up to that too.
    """
    doublings = min(max(attempt - 1, 0), 20)  # a second doubled 20 times is past a day
    delay: timedelta = min(base * (2 ** doublings), MAX_BACKOFF)
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=min(retry_after, MAX_BACKOFF.total_seconds())))
    return delay


def mark_retry(store: Store, row: LedgerRow, *, worker: str, error: str, now: datetime,
               retryable: bool, max_attempts: int, base: timedelta,
               retry_after: float | None = None) -> str:
    """Record a failed attempt; return the new state (``pending`` to retry, or ``failed``).

    ``error`` must already be free of personal data (see :func:`scrub_error`). Retries are
    scheduled relative to ``now`` (the dispatch clock, so ``--now`` replays stay coherent).
    """
    attempts = row.attempts + 1
    final = not retryable or attempts >= max_attempts
    values: dict[str, Any] = {
        "attempts": attempts, "last_error": error[:1000], "claimed_by": None,
        "claimed_at": None, "state": "failed" if final else "pending",
        "next_attempt_at": None if final else
        now + backoff_delay(attempts, base=base, retry_after=retry_after),
    }
    with store.begin() as conn:
        conn.execute(update(ledger).where(ledger.c.id == row.id, ledger.c.claimed_by == worker,
                                          ledger.c.state == "sending").values(**values))
    return str(values["state"])


def release(store: Store, rows: Iterable[LedgerRow], *, worker: str,
            state: str = "pending", error: str | None = None,
            not_before: datetime | None = None) -> int:
    """Give claimed rows back without counting an attempt (or close them as ``state``).

    ``not_before`` keeps given-back rows from being claimed again until then (a meeting
    that could not be prepared: its messages wait for a later run).
    """
    ids = [r.id for r in rows]
    for chunk in _chunks(ids, 500):
        with store.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.id.in_(chunk),
                                              ledger.c.claimed_by == worker,
                                              ledger.c.state == "sending")
                         .values(state=state, claimed_by=None, claimed_at=None,
                                 last_error=error, next_attempt_at=not_before))
    return len(ids)


@dataclass(frozen=True)
class StatusCount:
    """How many messages of one session, kind and state there are."""

    session_id: str | None
    kind: str
    state: str
    count: int


def status_counts(store: Store, series_id: str) -> list[StatusCount]:
    """Counts per session, kind and state, in session, kind and state order."""
    stmt = (select(ledger.c.session_id, ledger.c.kind, ledger.c.state, func.count())
            .where(ledger.c.series_id == series_id)
            .group_by(ledger.c.session_id, ledger.c.kind, ledger.c.state))
    with store.connect() as conn:
        rows = [StatusCount(r[0], r[1], r[2], int(r[3])) for r in conn.execute(stmt)]
    order = {k: i for i, k in enumerate(KINDS)}
    states = {s: i for i, s in enumerate(STATES)}
    return sorted(rows, key=lambda c: (c.session_id or "", order.get(c.kind, 99),
                                       states.get(c.state, 99)))


_EMAIL_RE = re.compile(r"[^\s<>\"'@]+@[^\s<>\"'@]+")
_PHONE_RE = re.compile(r"\+?\d[\d ()-]{6,}\d")


def scrub_error(text: str, *, secrets_: Iterable[str] = ()) -> str:
    """``text`` without addresses, phone numbers or the given values (names, ids)."""
    # Longest first: a first name masked before the full name that holds it would leave
    # the rest of the full name (the surname) in the text.
    for value in sorted(secrets_, key=len, reverse=True):
        if value and len(value) >= 3:
            text = text.replace(value, "<recipient>")
    text = _EMAIL_RE.sub("<address>", text)
    return _PHONE_RE.sub("<number>", text)


def _chunks(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
