"""The dates and durations a series file may hold, so that nothing computed from them overflows.

Python's dates end at the years 1 and 9999: a session on 9999-12-31 cannot be shown in a
zone east of UTC, a calendar's time-zone rules cannot be written around it, and a follow-up
``P999999999D`` after a session cannot be added to it. The series model therefore holds a
file's dates and durations to ranges that fit their purpose, while the file is validated,
with a message that says what to write instead:

* :data:`SeriesDateTime` and :data:`SeriesDate` — a session's ``start`` and ``end`` and the
  ``window``'s days lie in the years :data:`FIRST_YEAR` to :data:`LAST_YEAR`;
* :data:`SessionLength` — a session's ``duration`` is positive and at most
  :data:`MAX_SESSION_LENGTH` (one meeting, not a festival);
* :data:`FollowupDelay` — ``dispatch.followup.after`` is between zero and
  :data:`MAX_FOLLOWUP_DELAY`;
* :data:`RetryBackoff` — ``dispatch.retry_backoff`` is between zero and
  :data:`MAX_RETRY_BACKOFF`.

Far inside Python's limits, these ranges leave room for every conversion to any zone and
every sum of a date and a duration that s3events computes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Annotated, TypeAlias

from pydantic import AfterValidator

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "MAX_FOLLOWUP_DELAY",
    "MAX_RETRY_BACKOFF",
    "MAX_SESSION_LENGTH",
    "FollowupDelay",
    "RetryBackoff",
    "SeriesDate",
    "SeriesDateTime",
    "SessionLength",
    "check_year",
]

#: The earliest year of a session or of the series window.
FIRST_YEAR = 1900
#: The latest year of a session or of the series window.
LAST_YEAR = 2999
#: The longest a session may last, given as ``duration`` or by ``start`` and ``end``.
MAX_SESSION_LENGTH = timedelta(days=7)
#: The longest ``dispatch.followup.after`` may wait after a session's end.
MAX_FOLLOWUP_DELAY = timedelta(days=365)
#: The longest first retry delay, ``dispatch.retry_backoff``.
MAX_RETRY_BACKOFF = timedelta(days=1)

_ISO_HINT = "write an ISO 8601 duration such as PT2H (two hours), PT30M or P1D"


def check_year(value: date) -> date:
    """``value`` (a date or datetime) if its year is in the allowed range; else ValueError."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"{value.isoformat()} is outside the years {FIRST_YEAR} to "
                         f"{LAST_YEAR} that a series may use; check the year")
    return value


def _checked_moment(value: datetime) -> datetime:
    check_year(value)
    return value


def _days(span: timedelta) -> str:
    return f"{span.days} day" + ("" if span.days == 1 else "s")


def _iso(span: timedelta) -> str:
    return f"P{span.days}D"


def _within(*, least: timedelta, most: timedelta, positive: bool = False,
            below: str = "") -> Callable[[timedelta], timedelta]:
    """A check of a duration between ``least`` (or above zero) and ``most``."""

    def check(value: timedelta) -> timedelta:
        if value < least or (positive and value <= timedelta(0)):
            raise ValueError(below)
        if value > most:
            raise ValueError(f"must be at most {_days(most)} ({_iso(most)}); {_ISO_HINT}")
        return value

    return check


#: A date and time in the years FIRST_YEAR to LAST_YEAR (a session's start or end).
SeriesDateTime: TypeAlias = Annotated[datetime, AfterValidator(_checked_moment)]
#: A day in the years FIRST_YEAR to LAST_YEAR (the series window).
SeriesDate: TypeAlias = Annotated[date, AfterValidator(check_year)]
#: A session's length: above zero, at most MAX_SESSION_LENGTH.
SessionLength: TypeAlias = Annotated[timedelta, AfterValidator(_within(
    least=timedelta(0), most=MAX_SESSION_LENGTH, positive=True,
    below="'duration' must be positive, such as PT2H30M"))]
#: The wait after a session's end before its follow-ups: zero to MAX_FOLLOWUP_DELAY.
FollowupDelay: TypeAlias = Annotated[timedelta, AfterValidator(_within(
    least=timedelta(0), most=MAX_FOLLOWUP_DELAY, below="must not be negative, such as PT2H"))]
#: The first retry delay: zero to MAX_RETRY_BACKOFF.
RetryBackoff: TypeAlias = Annotated[timedelta, AfterValidator(_within(
    least=timedelta(0), most=MAX_RETRY_BACKOFF, below="must not be negative, such as PT1M"))]
