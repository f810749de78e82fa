"""The form's rate limit, kept in the state database so it holds across processes.

At most ``limit`` form posts per client address in a sliding window of ``window`` seconds.
Every process that serves the page from the same state database (several ``serve``
processes, WSGI workers, machines on one PostgreSQL database) counts into the same table,
``s3e_form_posts``. The table holds a keyed hash of the address (HMAC-SHA256 with a key
derived from the app's secret), never the address itself, and the time of each post; rows
older than the window are deleted whenever a post is counted.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from ..store import Store, form_posts, lock, utcnow

__all__ = ["PostLimiter", "RateLimit", "parse_rate_limit"]


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` posts per address in ``window`` seconds."""

    limit: int = 5
    window: float = 600.0

    def __str__(self) -> str:
        return f"{self.limit}/{self.window:g}"


def parse_rate_limit(text: str) -> RateLimit:
    """``"5/600"`` (posts per seconds) as a :class:`RateLimit`; ``ValueError`` if malformed."""
    count, _, seconds = text.partition("/")
    try:
        limit = RateLimit(int(count), float(seconds or 600))
    except ValueError:
        raise ValueError(f"'{text}' is not N/SECONDS, such as 5/600") from None
    if limit.limit < 1 or limit.window <= 0 or limit.window > 366 * 86400:
        raise ValueError(f"'{text}': N and SECONDS must be positive, such as 5/600")
    return limit


class PostLimiter:
    """Counts form posts per client address of one series in the state database.

    ``key`` keys the hash that stands for an address (give every process of the page the
    same key, or each counts apart). ``clock`` gives the current time (default: the real
    clock; the limit is about real time even when the app runs on a replayed clock).
    """

    def __init__(self, store: Store, limit: RateLimit, *, key: bytes, series_id: str,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.limit = limit
        self.series_id = series_id
        self.clock = clock
        self._key = hmac.new(key, b"s3events-form-posts", hashlib.sha256).digest()

    def client(self, address: str) -> str:
        """The keyed hash that stands for ``address`` in the table."""
        return hmac.new(self._key, address.encode("utf-8", "replace"),
                        hashlib.sha256).hexdigest()

    def allow(self, address: str) -> bool:
        """Count one post from ``address``; False when it is over the limit (not counted)."""
        now = self.clock()
        since = now - timedelta(seconds=self.limit.window)
        client = self.client(address)
        mine = form_posts.c.series_id == self.series_id
        with self.store.begin() as conn:
            lock(conn, f"form-posts:{self.series_id}:{client}")
            conn.execute(delete(form_posts).where(mine, form_posts.c.posted_at <= since))
            count = conn.execute(select(func.count()).select_from(form_posts).where(
                mine, form_posts.c.client == client, form_posts.c.posted_at > since,
            )).scalar_one()
            if count >= self.limit.limit:
                return False
            conn.execute(form_posts.insert().values(series_id=self.series_id, client=client,
                                                    posted_at=now))
        return True
