"""Sending one channel: claim due rows, compose them in order, send up to N at once, mark each.

The caller's thread claims due rows in batches and composes each message in order — the
text, and for email the serialised bytes (:meth:`~s3events.transports.base.Transport.
prepare`) — a few messages ahead of the senders. N sender threads (the channel's
concurrency) each take the next composed message, wait for their turn
(:class:`~s3events.delivery.throttle.Throttle`), hand it to the channel's one transport
object and, as soon as it returns, mark the row sent in its own short transaction. At most N
messages are in flight at any moment, so after a crash a rerun sends again at most those N
(with the same Message-ID, transaction id or idempotency key). The messages of one person
keep their order (a confirmation before the link that follows it): a message waits until
the one before it, for the same person, has been settled.

What happens to one message:

- sent, and marked; sent when the row is no longer this worker's (its lease ran out and
  another worker took it): neither counted nor marked (``DispatchReport.lost``);
- the registration is gone, or there is nothing to send any more: ``cancelled``;
- its moment has passed by the time its turn comes (a link once its session has ended, a
  reminder once it has started, on the run's clock: ``now`` plus the time the run has
  taken): ``expired``, never sent (:func:`s3events.owed.too_late`);
- it cannot be composed (an exception from the renderer, the composer or ``prepare`` for
  this row): that row alone fails, with the reason and no personal data, and the others
  go on. A template error (:class:`~s3events.errors.InputError`) or a database error stops
  the run instead: the messages already composed still go out, every other claimed row is
  given back (an interruption, Ctrl-C, gives back the composed ones too);
- its session's meeting cannot be prepared on the platform: it waits for a later run;
- :class:`~s3events.errors.RateLimited` (HTTP 429, Telegram's ``retry_after``, SMTP
  421/451): the whole channel pauses for the time asked, then the message is sent again;
  after :data:`PAUSES_PER_MESSAGE` pauses for one message it is retried on a later run;
- another temporary refusal: retried on a later run with backoff; a permanent one: failed;
- the transport cannot be used (unreachable, credentials refused), or asks for a pause
  longer than a run waits: the channel stops for this run, its unsent rows go back
  untouched, and the run says why.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..errors import (
    AuthenticationError,
    InputError,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
    StoreError,
)
from ..ledger import LedgerRow, SentMarker, claim_due, mark_retry, release, scrub_error
from ..plugins import track_event
from ..scheduler import RegistrationInfo
from ..store import Store, registrations
from ..transports.base import OutgoingMessage, SendResult, Transport
from .run import Run
from .throttle import Stopped, Throttle, TooLong

__all__ = ["PAUSES_PER_MESSAGE", "ChannelSender"]

log = logging.getLogger("s3events.dispatch")

#: Pauses one message may cause in a run before it is left for a later run.
PAUSES_PER_MESSAGE = 3
#: Pause when a service asks to slow down without saying for how long: doubled for each
#: pause in a row of one message (1, 2, 4 s).
DEFAULT_PAUSE = 1.0
#: Messages composed ahead of the senders, at least (and at least one per sender).
LOOKAHEAD = 4


@dataclass
class _Item:
    row: LedgerRow
    reg: RegistrationInfo
    message: OutgoingMessage
    prepared: Any
    after: threading.Event | None = None  # the same person's message before this one
    done: threading.Event = field(default_factory=threading.Event)

    def private(self) -> list[str]:
        """The person's values that must never reach an error we store or print."""
        return [self.reg.email, self.reg.name, *self.reg.channels.values()]


class _ChannelDown(Exception):
    """The channel cannot be used for the rest of this run; the text says why."""


def _registrations(store: Store, ids: Iterable[str]) -> dict[str, RegistrationInfo]:
    query = select(registrations).where(registrations.c.id.in_(sorted(set(ids))))
    with store.connect() as conn:
        return {r.id: RegistrationInfo.from_row(r) for r in conn.execute(query)}


class ChannelSender:
    """Sends what is due on one channel with ``concurrency`` threads (see the module doc)."""

    def __init__(self, run: Run, channel: str, transport: Transport, *, concurrency: int,
                 throttle: Throttle | None = None) -> None:
        self.run, self.channel, self.transport = run, channel, transport
        self.concurrency = max(1, concurrency)
        self.throttle = throttle or Throttle()
        self.stop = threading.Event()
        self._fatal: BaseException | None = None
        self._unprepared: set[str] = set()
        self._last: dict[str, threading.Event] = {}  # person → their latest message's event
        self.marker: SentMarker | None = None

    # -- the channel -------------------------------------------------------------------
    def send(self) -> None:
        """Send everything due on the channel (raises what stopped the whole run)."""
        self.transport.use_connections(self.concurrency)
        try:
            self.transport.open()
        except ServiceError as exc:
            self._problem(scrub_error(str(exc)))
            return
        try:
            with SentMarker(self.run.store, worker=self.run.worker) as self.marker:
                self._pipeline()
        finally:
            self.transport.close()

    def _pipeline(self) -> None:
        ready: queue.Queue[_Item | None] = queue.Queue(maxsize=max(LOOKAHEAD,
                                                                  self.concurrency))
        senders = [threading.Thread(target=self._sender, args=(ready,), daemon=True,
                                    name=f"s3e-send-{self.channel}-{i}")
                   for i in range(self.concurrency)]
        for thread in senders:
            thread.start()
        stopped: BaseException | None = None
        try:
            self._feed(ready)
        except Exception as exc:  # no more composing; what is composed still goes out
            stopped = exc
        except BaseException as exc:  # interrupted: give back what has not gone yet
            stopped = exc
            self.stop.set()
        finally:
            for _ in senders:
                ready.put(None)
            for thread in senders:
                thread.join()
        if self._fatal is not None:
            raise self._fatal
        if stopped is not None:
            raise stopped

    def _fail_run(self, exc: BaseException) -> None:
        with self.run.lock:
            if self._fatal is None:
                self._fatal = exc
        self.stop.set()

    def _problem(self, text: str) -> None:
        with self.run.lock:
            line = f"{self.channel}: {text}"
            if line not in self.run.report.problems:
                self.run.report.problems.append(line)

    def _give_back(self, rows: Sequence[LedgerRow], **kwargs: Any) -> None:
        if rows:
            release(self.run.store, rows, worker=self.run.worker, **kwargs)

    # -- claiming and composing (the caller's thread) ----------------------------------
    def _feed(self, ready: queue.Queue[_Item | None]) -> None:
        run = self.run
        while not self.stop.is_set():
            rows = claim_due(run.store, run.series.id, now=run.now, worker=run.worker,
                             limit=run.batch_size, channels=[self.channel],
                             registration_ids=run.scope.registration_ids,
                             kinds=run.scope.kinds, late=run.scope.late)
            if not rows:
                return
            self._feed_batch(rows, ready)

    def _feed_batch(self, rows: list[LedgerRow], ready: queue.Queue[_Item | None]) -> None:
        done = 0
        try:
            people = _registrations(self.run.store, (r.registration_id for r in rows))
            for row in rows:
                if self.stop.is_set():
                    break
                item = self._compose(row, people.get(row.registration_id))
                done += 1
                if item is not None:
                    self._chain(item)
                    ready.put(item)
        finally:
            self._give_back(rows[done:])

    def _chain(self, item: _Item) -> None:
        """Make ``item`` wait for the message before it of the same person, if unsettled."""
        person = item.row.registration_id
        with self.run.lock:
            item.after = self._last.get(person)
            self._last[person] = item.done

    def _settled(self, item: _Item) -> None:
        item.done.set()
        with self.run.lock:
            if self._last.get(item.row.registration_id) is item.done:
                del self._last[item.row.registration_id]

    def _compose(self, row: LedgerRow, reg: RegistrationInfo | None) -> _Item | None:
        if reg is None:
            self._cancel(row, "registration erased")
            return None
        try:
            message = self.run.composer.compose(row, reg)
            prepared = self.transport.prepare(message) if message is not None else None
        except (InputError, StoreError):
            raise  # a template or the database: no message of the run can be composed
        except ServiceError as exc:
            self._wait_for_meeting(row, exc)
            return None
        except Exception as exc:
            self._fail(row, [reg.email, reg.name, *reg.channels.values()],
                       f"cannot compose the message: {type(exc).__name__}: {exc}")
            return None
        if message is None:
            self._cancel(row, "nothing to send any more")
            return None
        return _Item(row, reg, message, prepared)

    def _expire(self, row: LedgerRow) -> None:
        release(self.run.store, [row], worker=self.run.worker, state="expired")
        self.run.count(lambda r: setattr(r, "expired", r.expired + 1))

    def _cancel(self, row: LedgerRow, reason: str) -> None:
        release(self.run.store, [row], worker=self.run.worker, state="cancelled",
                error=reason)
        self.run.count(lambda r: setattr(r, "skipped", r.skipped + 1))

    def _wait_for_meeting(self, row: LedgerRow, exc: ServiceError) -> None:
        d = self.run.series.dispatch
        self._give_back([row], not_before=self.run.now + d.retry_backoff)
        session = row.session_id or "-"
        if session not in self._unprepared:
            self._unprepared.add(session)
            self._problem(f"session {session}: its meeting could not be prepared on the "
                          f"platform ({scrub_error(str(exc))}); its messages wait for a "
                          "later run")

    def _fail(self, row: LedgerRow, private: list[str], reason: str) -> None:
        """Fail ``row`` alone for good with ``reason`` (stored without personal data)."""
        error = scrub_error(reason, secrets_=private)
        log.warning("%s: row %s failed: %s", self.channel, row.id, error)
        mark_retry(self.run.store, row, worker=self.run.worker, error=error,
                   now=self.run.now, retryable=False, max_attempts=1,
                   base=self.run.series.dispatch.retry_backoff)
        self.run.count(lambda r: setattr(r, "failed", r.failed + 1))
        track_event("message.failed", kind=row.kind, channel=row.channel)

    # -- sending (the sender threads) --------------------------------------------------
    def _sender(self, ready: queue.Queue[_Item | None]) -> None:
        while (item := ready.get()) is not None:
            try:
                if item.after is not None:
                    item.after.wait()  # dequeued earlier, so another sender settles it
                if self.stop.is_set():
                    self._safely(self._give_back, [item.row])
                else:
                    self._safely(self._deliver, item)
            finally:
                self._settled(item)

    def _safely(self, fn: Callable[..., None], *args: Any) -> None:
        """Run ``fn``; what stops the channel or the run stops it (other threads see it)."""
        try:
            fn(*args)
        except _ChannelDown as down:
            self._problem(str(down))
            self.stop.set()
        except BaseException as exc:
            self._fail_run(exc)

    def _deliver(self, item: _Item) -> None:
        pauses = 0
        while True:
            try:
                self.throttle.turn(self.stop)
            except Stopped:
                return self._give_back([item.row])
            except TooLong as long:
                self._give_back([item.row])
                raise _ChannelDown(f"the service asked to wait {long}, longer than a run "
                                   "waits; the messages go out on a later run") from None
            if self.run.too_late(item.row):  # claimed in time, but its moment has passed
                return self._expire(item.row)
            try:
                result = self.transport.send_prepared(item.message, item.prepared)
            except RateLimited as exc:
                pauses += 1
                if not self._pause(item, exc, pauses):
                    return None
                continue
            except ServiceError as exc:
                return self._failed(item, exc)
            except Exception as exc:  # not a service's answer: this message alone fails
                return self._fail(item.row, item.private(), "cannot send the message: "
                                  f"{type(exc).__name__}: {exc}")
            return self._mark(item, result)

    def _pause(self, item: _Item, exc: RateLimited, pauses: int) -> bool:
        """Pause the channel as asked; False when the message is left for a later run."""
        seconds = exc.retry_after if exc.retry_after is not None else \
            DEFAULT_PAUSE * 2 ** (pauses - 1)
        self.run.count(lambda r: setattr(r, "paused", r.paused + 1), done=False)
        if seconds > self.throttle.max_wait:
            self._retry_later(item, exc)
            self.throttle.pause(seconds)
            raise _ChannelDown(f"{exc.service or 'the service'} asked to wait {seconds:.0f} "
                               "s, longer than a run waits; the messages go out on a later "
                               "run")
        if pauses > PAUSES_PER_MESSAGE:
            self._retry_later(item, exc)
            return False
        log.info("%s: paused %.1f s at the service's request", self.channel, seconds)
        self.throttle.pause(seconds)
        return True

    def _mark(self, item: _Item, result: SendResult) -> None:
        row = item.row
        assert self.marker is not None
        marked = self.marker.mark(row.id, sent_at=self.run.now,
                                  message_id=item.message.message_id
                                  if row.channel == "email" else None,
                                  provider_id=result.provider_id)
        if not marked:  # the lease ran out and another worker has the row now
            log.warning("%s: row %s was sent after this worker's claim on it ran out",
                        self.channel, row.id)
            self.run.count(lambda r: setattr(r, "lost", r.lost + 1))
            return
        key = (row.session_id or "-", row.kind, row.channel)
        self.run.count(lambda r: r.sent.update([key]))

    def _failed(self, item: _Item, exc: ServiceError) -> None:
        error = scrub_error(f"{type(exc).__name__}: {exc}", secrets_=item.private())
        if isinstance(exc, AuthenticationError) or (
                isinstance(exc, ServiceUnavailable) and exc.status is None):
            self._give_back([item.row])
            raise _ChannelDown(error)
        self._retry_later(item, exc, error=error)

    def _retry_later(self, item: _Item, exc: ServiceError, *, error: str | None = None) -> None:
        d, row = self.run.series.dispatch, item.row
        error = error or scrub_error(f"{type(exc).__name__}: {exc}", secrets_=item.private())
        state = mark_retry(self.run.store, row, worker=self.run.worker, error=error,
                           now=self.run.now, retryable=exc.retryable,
                           max_attempts=d.max_attempts, base=d.retry_backoff,
                           retry_after=exc.retry_after)
        if state == "failed":
            self.run.count(lambda r: setattr(r, "failed", r.failed + 1))
            track_event("message.failed", kind=row.kind, channel=row.channel)
        else:
            self.run.count(lambda r: setattr(r, "retrying", r.retrying + 1))
