"""A clock a test controls: pass ``clock.now`` (or the clock itself) where code takes ``now``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

__all__ = ["DEFAULT_START", "Clock"]

#: Where :class:`Clock` starts by default: noon UTC the day before the reference series'
#: first session (28 October 2021), when the join links of that session are due.
DEFAULT_START = datetime(2021, 10, 27, 12, 0, tzinfo=timezone.utc)


def _aware(when: datetime | str) -> datetime:
    value = datetime.fromisoformat(when.replace("Z", "+00:00")) if isinstance(when, str) else when
    if value.tzinfo is None:
        raise ValueError(f"the clock needs an aware time, got {value.isoformat()}")
    return value.astimezone(timezone.utc)


class Clock:
    """A controllable clock: :meth:`now` stays put until :meth:`advance` or :meth:`set`.

    Inject it instead of reading the system clock: ``now=clock.now()`` for a scheduler,
    ``clock=clock.time`` for a token cache, ``sleep=clock.sleep`` for an HTTP client (the
    clock moves on by the seconds slept, and :attr:`sleeps` records them, so retry waits cost
    no real time and can be asserted).
    """

    def __init__(self, start: datetime | str = DEFAULT_START) -> None:
        self._now = _aware(start)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        return self._now

    __call__ = now

    def time(self) -> float:
        """The current time as POSIX seconds (for ``time.time``-style injection)."""
        return self._now.timestamp()

    def advance(self, delta: timedelta | None = None, *, days: float = 0, hours: float = 0,
                minutes: float = 0, seconds: float = 0) -> datetime:
        """Move forward by ``delta`` plus the given units; return the new time."""
        step = (delta or timedelta()) + timedelta(days=days, hours=hours, minutes=minutes,
                                                  seconds=seconds)
        if step < timedelta(0):
            raise ValueError("a clock only moves forward; use set() to go back")
        self._now += step
        return self._now

    def set(self, when: datetime | str) -> datetime:
        """Jump to ``when`` (aware datetime or ISO 8601 text with an offset)."""
        self._now = _aware(when)
        return self._now

    def sleep(self, seconds: float) -> None:
        """Record a wait and move the clock on by it, without waiting."""
        self.sleeps.append(seconds)
        self._now += timedelta(seconds=seconds)

    def __repr__(self) -> str:
        return f"<Clock {self._now.isoformat()}>"
