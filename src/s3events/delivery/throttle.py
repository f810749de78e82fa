"""Pacing a channel: one token bucket for all its connections and workers, and pauses.

A channel with a rate limit of R messages per second is paced by a token bucket that holds
at most one token: every message takes a token, and a message that finds none waits for the
next one. Each sender *reserves* its turn — the moment its token will be there — and sleeps
until then, so turns are evenly spaced and no one-second window holds more than R + 1
messages, however many connections send. (A bucket holding more tokens would allow a burst
of that many at once after a quiet moment.) The bucket refills at :data:`MARGIN` × R tokens a
second: a message that leaves late (a busy machine, a new connection to open) then never
brings the next one within a second of the one R turns before it — a late sender would
otherwise crowd a window with one message more than the limit.

The bucket is a row of ``s3e_rate_limits`` keyed by series and channel, and a turn is
reserved with one statement on the database's clock, so every ``s3events dispatch``
process sharing the state database (on PostgreSQL, on any number of machines) draws from
the same bucket::

    INSERT INTO s3e_rate_limits (key, next_at) VALUES (:key, now + :interval)
    ON CONFLICT (key) DO UPDATE SET next_at = greatest(s3e_rate_limits.next_at, now) + :interval
    RETURNING next_at - :interval - now          -- seconds until this turn

(``now`` is ``extract(epoch from now())`` on PostgreSQL, the same from ``julianday('now')``
on SQLite.) The row lock serialises concurrent reservations, so turns stay 1/R apart
whatever the order in which they commit.

A *pause* — a 429 with ``Retry-After``, Telegram's ``retry_after``, an SMTP 421 or 451 —
stops the whole channel for the time asked: the senders of this process wait it out, and
the bucket's next turn moves past its end, so the other workers wait too (without a rate
limit there is no bucket, and a pause holds this process only). A wait longer than
``max_wait`` is not slept through: :class:`TooLong` tells the sender to leave the channel
for a later run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Float, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from ..errors import StoreError
from ..store import Store, rate_limits

__all__ = ["MARGIN", "MAX_WAIT", "Stopped", "StoreBucket", "Throttle", "TooLong"]

#: Turns come at this fraction of the rate limit, so a sender up to about 1/R + 50 ms late
#: never crowds a one-second window above R + 1 messages.
MARGIN = 0.95

#: The longest pause or turn a sender waits for in a run (seconds); longer ones end the
#: channel's part of the run, and its messages go out on a later run.
MAX_WAIT = 120.0


class TooLong(Exception):
    """The channel must wait longer than a run waits: ``seconds``."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"{seconds:.0f} s")
        self.seconds = seconds


class Stopped(Exception):
    """The channel was stopped while a sender waited for its turn."""


class StoreBucket:
    """The token bucket of one channel, kept in the state database (see the module doc)."""

    def __init__(self, store: Store, key: str, rate: float) -> None:
        if rate <= 0:
            raise ValueError("a rate limit is a number of messages per second above 0")
        self.store, self.key, self.rate = store, key, rate
        self.interval = 1.0 / (rate * MARGIN)
        self._postgres = store.dialect == "postgresql"
        try:
            rate_limits.create(store.engine, checkfirst=True)  # a database from before it
        except SQLAlchemyError as exc:
            raise StoreError(f"state database {store.url}: cannot create the rate limit "
                             f"table: {type(exc).__name__}") from exc

    def _now(self) -> Any:
        if self._postgres:
            return cast(func.extract("epoch", func.now()), Float(precision=53))
        return (func.julianday("now") - 2440587.5) * 86400.0

    def _later(self, a: Any, b: Any) -> Any:
        return func.greatest(a, b) if self._postgres else func.max(a, b)

    def _upsert(self, first: Any, then: Any, *returning: Any) -> tuple[float, ...]:
        dialect: Any = postgresql if self._postgres else sqlite
        stmt = (dialect.insert(rate_limits).values(key=self.key, next_at=first)
                .on_conflict_do_update(index_elements=[rate_limits.c.key],
                                       set_={"next_at": then})
                .returning(*returning))
        with self.store.begin() as conn:
            return tuple(float(value) for value in conn.execute(stmt).one())

    def reserve_turn(self) -> tuple[float, float]:
        """Reserve the next turn: (its moment, the database's now), in epoch seconds."""
        now = self._now()
        turn = self._later(rate_limits.c.next_at, now)
        moment, clock = self._upsert(now + self.interval, turn + self.interval,
                                     rate_limits.c.next_at - self.interval, now)
        return moment, clock

    def reserve(self) -> float:
        """Reserve the next turn; the seconds to wait for it (0 when it is now)."""
        moment, clock = self.reserve_turn()
        return max(0.0, moment - clock)

    def push(self, seconds: float) -> None:
        """Let no turn start before ``seconds`` from now (a pause for every worker)."""
        now = self._now()
        self._upsert(now + seconds, self._later(rate_limits.c.next_at, now + seconds),
                     rate_limits.c.next_at)


class Throttle:
    """Paces the senders of one channel: the bucket's turns (if any) and pauses.

    Every sender thread calls :meth:`turn` before each message and :meth:`pause` when the
    service asks to slow down. ``clock`` is a monotonic clock in seconds.
    """

    def __init__(self, bucket: StoreBucket | None = None, *, max_wait: float = MAX_WAIT,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.bucket, self.max_wait, self.clock = bucket, max_wait, clock
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def paused_for(self) -> float:
        """Seconds left of the current pause (0 when there is none)."""
        with self._lock:
            return max(0.0, self._paused_until - self.clock())

    def pause(self, seconds: float) -> None:
        """Stop the channel for ``seconds`` (every sender; every worker, with a bucket)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self.clock() + seconds)
        if self.bucket is not None:
            self.bucket.push(seconds)

    def turn(self, stop: threading.Event) -> None:
        """Wait until this sender may send one message.

        Raises :class:`TooLong` when that is more than ``max_wait`` away, and
        :class:`Stopped` when ``stop`` is set meanwhile.
        """
        while True:
            self._sit_out(self.paused_for(), stop)
            wait = self.bucket.reserve() if self.bucket is not None else 0.0
            self._sit_out(wait, stop)
            if self.paused_for() == 0:  # a pause that began meanwhile voids the turn
                return

    def _sit_out(self, seconds: float, stop: threading.Event) -> None:
        if seconds > self.max_wait:
            raise TooLong(seconds)
        if stop.is_set() or (seconds > 0 and stop.wait(seconds)):
            raise Stopped
