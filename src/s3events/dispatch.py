"""Dispatch: schedule what is owed, then claim, compose, send and mark what is due.

:func:`dispatch` is what ``s3events dispatch`` runs, and is safe to run every few minutes
from cron or a systemd timer, from several processes at once on PostgreSQL:

1. :func:`~s3events.scheduler.schedule` brings the ledger up to date (idempotent);
2. ``sending`` rows of workers that died are put back (see :mod:`s3events.ledger`);
3. per channel in use, rows due at ``now`` are claimed in small batches, each message is
   composed (:class:`~s3events.compose.Composer`: shared parts rendered once per session,
   kind, language and zone), handed to the channel's transport
   (:mod:`s3events.transports.choice`) by up to ``concurrency`` threads at once under the
   channel's rate limit, and marked ``sent`` in its own transaction as soon as the transport
   returns (:mod:`s3events.delivery`).

A failed send is retried later with exponential backoff, up to ``dispatch.max_attempts``;
a permanent refusal (SMTP 5xx, HTTP 400) fails at once, and so does a message that cannot
be composed; all stay visible in ``s3events status``. When a service asks to slow down the
whole channel pauses, then goes on. When a transport cannot be used at all (server
unreachable, credentials refused) the claimed rows are given back untouched, the other
channels go on, and the run reports the problem.

Failed messages stay ``failed`` until :func:`retry_failed` (``s3events retry``) puts them
back to ``pending``, once their cause is fixed.

Opt-in messages (queued by :func:`s3events.registrations.register` for online
registrations) go by email whatever the channels in use, and carry the link
``{base_url}/confirm/{token}``: without a base URL they stay pending and the run reports it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .compose import NO_BASE_URL, Composer, composer_revision, preview, registration_of
from .delivery import ChannelSender, DispatchReport, Run, Scope, StoreBucket, Throttle
from .errors import ConfigurationError
from .ledger import KINDS, default_worker_id, reclaim_stale
from .models import Series
from .owed import late_sessions
from .plugins import track_event
from .scheduler import schedule
from .store import Store
from .transports.base import Transport
from .transports.choice import channel_settings, channel_transport, email_transport
from .unsent import requeue_failed

__all__ = [
    "DEFAULT_LEASE",
    "NO_BASE_URL",
    "Composer",
    "DispatchReport",
    "RetryReport",
    "channel_transport",
    "composer_revision",
    "dispatch",
    "email_transport",
    "preview",
    "retry_failed",
]

#: How long a claimed row may stay ``sending`` before another worker takes it over.
DEFAULT_LEASE = timedelta(minutes=15)


def _channels(series: Series) -> list[str]:
    """The channels a run sends on: the series', and email for opt-in messages."""
    channels = list(series.dispatch.channels)
    return channels if "email" in channels else [*channels, "email"]


def dispatch(store: Store, series: Series, *, now: datetime, transport: str | None = None,
             transports: Mapping[str, Transport] | None = None, dry_run: bool = False,
             worker: str | None = None, batch_size: int = 50, lease: timedelta = DEFAULT_LEASE,
             base_url: str | None = None, environ: Mapping[str, str] | None = None,
             registration_ids: Sequence[str] | None = None, schedule_first: bool = True,
             concurrency: int | None = None,
             progress: Callable[[int], None] | None = None,
             on_start: Callable[[int], None] | None = None,
             clock: Callable[[], datetime] | None = None) -> DispatchReport:
    """Schedule, then send every message due at ``now``; return what happened.

    ``transport`` is the email transport spec (``smtp://…``, ``outbox:PATH``, ``console``,
    ``NAME:option=value``); ``transports`` may supply ready transports by channel (tests,
    embedding). With ``dry_run`` nothing is written or sent: the report says what is due.
    ``on_start`` receives the number of due messages before sending starts (for a progress
    bar). ``concurrency`` (``--concurrency``) is how many messages each channel has in
    flight at once, over the series' ``dispatch.concurrency`` and the transports' defaults.

    The email transport is built first, before anything is scheduled: a ``transport`` spec
    (or the series' ``dispatch.transport``) that cannot be read raises
    :class:`~s3events.errors.ConfigurationError` and nothing is written. Other channels'
    transports are built when they have something due; one that cannot be built is a
    problem of the run (``report.problems``) while the other channels go on.

    ``registration_ids`` restricts the run to those people: only they are scheduled and
    only their messages are sent (the event page sends a new registration's email this
    way, without a pass over everyone). ``schedule_first=False`` skips scheduling and sends
    what the ledger already has due, for callers whose changes scheduled their own rows.
    ``base_url`` (the event page, for cancel and opt-in links) defaults to the series'
    ``dispatch.base_url``.

    Nothing is sent late: a link or update whose session has ended, or a reminder whose
    session has started, becomes ``expired`` (:func:`s3events.owed.too_late`), also when its
    moment passes during the run. The run's time is ``now`` plus the real time elapsed
    since it began, or ``clock()`` when given.
    """
    base_url = base_url or series.dispatch.base_url
    ready = dict(transports or {})
    if "email" not in ready:  # bad input (a malformed --transport) stops before any write
        ready["email"] = email_transport(series, transport, environ=environ)
    report = DispatchReport()
    if schedule_first:
        report.scheduled = schedule(store, series, now=now, dry_run=dry_run,
                                    registration_ids=registration_ids)
    channels = _channels(series)
    scope = Scope(registration_ids, None if base_url else [k for k in KINDS if k != "optin"],
                  late_sessions(series, now))
    if not dry_run:
        reclaim_stale(store, series.id, lease=lease)
    report.due = scope.due(store, series.id, now, channels)
    if dry_run:
        return report
    if on_start is not None:
        on_start(report.due)
    if report.due:
        composer = Composer(store, series, now=now, base_url=base_url, environ=environ)
        run = Run(store, series, now, worker or default_worker_id(), composer, report,
                  batch_size, scope, progress, clock)
        try:
            _send(run, channels, transports=ready, environ=environ, concurrency=concurrency)
        finally:
            composer.close()
        track_event("dispatch.finished", series=series.id, sent=report.total_sent,
                    failed=report.failed, retrying=report.retrying)
    if scope.kinds is not None and scope.due(store, series.id, now, ["email"], kinds=["optin"]):
        report.problems.append(f"email: {NO_BASE_URL}")
    return report


def _send(run: Run, channels: Sequence[str], *, transports: Mapping[str, Transport],
          environ: Mapping[str, str] | None, concurrency: int | None) -> None:
    """Send what is due on each channel that has something due, with its transport."""
    for channel in channels:
        if run.scope.due(run.store, run.series.id, run.now, [channel]) == 0:
            continue
        try:
            chosen = transports.get(channel) or channel_transport(run.series, channel,
                                                                  environ=environ)
        except ConfigurationError as exc:
            run.report.problems.append(f"{channel}: {exc}")
            continue
        settings = channel_settings(run.series, chosen, concurrency=concurrency)
        bucket = None
        if settings.rate_limit is not None:
            bucket = StoreBucket(run.store, f"{run.series.id}/{channel}", settings.rate_limit)
        ChannelSender(run, channel, chosen, concurrency=settings.concurrency,
                      throttle=Throttle(bucket)).send()


@dataclass(frozen=True)
class RetryReport:
    """What :func:`retry_failed` did: rows put back to pending, rows left as too late."""

    requeued: int
    too_late: int


def retry_failed(store: Store, series: Series, *, now: datetime, session_id: str | None = None,
                 kind: str | None = None, email: str | None = None,
                 channel: str | None = None) -> RetryReport:
    """Put the series' failed messages back to ``pending`` (of a session, kind, person or
    channel only, when given); the next dispatch sends them.

    Attempts start again from zero; the last error stays on the row until it is sent. A
    message whose moment has passed at ``now`` (a link of a session that has ended) stays
    failed and is counted in ``too_late``. ``email`` is matched as registrations are
    (:func:`~s3events.registrations.addresses.email_key`: case and the two forms of an
    internationalised domain do not matter). An unknown session or email is an
    :class:`~s3events.errors.InputError`.
    """
    if session_id is not None:
        series.require_session(session_id)
    person = registration_of(store, series, email).id if email is not None else None
    done, left = requeue_failed(store, series.id, session_id=session_id, kind=kind,
                                channel=channel, registration_id=person,
                                late=late_sessions(series, now))
    return RetryReport(done, left)


