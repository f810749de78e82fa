"""When and how long to retry a vendor call: ``Retry-After`` and the backoff policy."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass
from datetime import datetime, timezone

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: seconds, an HTTP date or ISO 8601."""
    if value is None or not str(value).strip():
        return None
    value = str(value).strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    now = time.time() if now is None else now
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry.

    ``attempts`` counts every try, the first included. Backoff doubles from ``backoff`` up to
    ``max_backoff`` seconds, with jitter. ``max_wait`` is the threshold for a vendor's
    ``Retry-After``: a shorter wait is slept through and the call retried; a longer one (a
    daily quota, a flood ban) is not waited at all but raised at once as
    :class:`~s3events.errors.RateLimited` carrying ``retry_after``, so a caller with a
    ledger (the dispatcher) can come back that much later instead of hanging. A transport
    that must never block long passes, say, ``RetryPolicy(max_wait=10)``.

    ``wait_rate_limits=False`` raises every 429 at once as ``RateLimited`` (with the
    vendor's wait, if it gave one) instead of waiting here: messaging transports use it, so
    the dispatcher pauses the whole channel — every connection, every worker — rather than
    one thread sleeping while the others carry on.
    """

    attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 30.0
    max_wait: float = 120.0
    wait_rate_limits: bool = True

    def waits_out(self, retry_after: float | None) -> bool:
        """Whether a vendor's ``Retry-After`` is short enough to sleep through."""
        return retry_after is None or retry_after <= self.max_wait

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Wait before retry number ``attempt`` (1-based): ``retry_after`` when given."""
        if retry_after is not None:
            return min(retry_after, self.max_wait)
        base = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return base / 2 + random.uniform(0, base / 2)
