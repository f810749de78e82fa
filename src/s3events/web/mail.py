"""Email from the web app: every message goes through the delivery ledger and a dispatch run.

The opt-in email (and the status a registered person is sent again when they submit the
form twice) is a ledger row that :func:`s3events.registrations.register` queues; the app
sends it at once with a dispatch run restricted to that person, while they wait
(:func:`dispatch_runner`). If the transport fails, the row stays pending and is retried
with backoff by a later run, like every other message, and ``s3events status`` shows it.
After a change (a confirmation, a cancellation) the app starts a run in a background
thread (:class:`BackgroundDispatch`), one at a time, sending what is due as
``s3events dispatch`` from cron would (without its scheduling pass over everyone: each
change has scheduled its own people's messages).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from ..dispatch import dispatch
from ..ledger import scrub_error
from ..masking import mask_credentials
from ..models import Series
from ..store import Store

__all__ = ["BackgroundDispatch", "dispatch_runner"]

log = logging.getLogger("s3events.web")


class BackgroundDispatch:
    """Runs ``run`` in a background thread, one run at a time.

    A :meth:`trigger` during a run asks for one more run after it, so a change made while
    a run was already past that person is sent too.
    """

    def __init__(self, run: Callable[[], object]) -> None:
        self._run = run
        self._lock = threading.Lock()
        self._wanted = False
        self._thread: threading.Thread | None = None

    def trigger(self) -> None:
        """Ask for a run (starts one unless one is going on)."""
        with self._lock:
            self._wanted = True
            if self._thread is not None:
                return
            self._thread = threading.Thread(target=self._loop, name="s3events-dispatch",
                                            daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while True:
            with self._lock:
                if not self._wanted:
                    self._thread = None
                    return
                self._wanted = False
            try:
                self._run()
            except Exception as exc:  # the page has answered already: log and go on
                log.error("dispatch after a web change failed: %s",
                          scrub_error(mask_credentials(f"{type(exc).__name__}: {exc}")))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no run is going on or wanted; False on timeout."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


def dispatch_runner(store: Store, series: Series, *, transport: str | None, base_url: str,
                    clock: Callable[[], datetime]) -> Callable[..., None]:
    """A function that sends messages of ``series`` and logs its counts (no personal data).

    ``run(ids)`` schedules and sends the messages of those registrations only (a new
    registration's opt-in email, while the person waits). ``run()`` sends whatever is due
    without scheduling first: every change the app makes schedules the messages of the
    people it touched, and a pass over everyone would cost seconds per change in a large
    series. Changes to the series itself (a session moved, a meeting created) are
    scheduled by ``s3events dispatch``.
    """
    def run(registration_ids: Sequence[str] | None = None) -> None:
        report = dispatch(store, series, now=clock(), transport=transport, base_url=base_url,
                          registration_ids=registration_ids,
                          schedule_first=registration_ids is not None)
        if report.total_sent or report.failed or report.problems:
            log.info("dispatch: %d sent, %d failed, %d to retry%s", report.total_sent,
                     report.failed, report.retrying,
                     "; " + "; ".join(report.problems) if report.problems else "")

    return run
