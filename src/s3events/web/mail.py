"""Email from the web app: the opt-in message at once, everything else by a dispatch run.

The opt-in message (and the reminder of their status a registered person gets when they
submit the form again) is not a ledger message: it is rendered with
:func:`s3events.render.render_message` and handed to the email transport while the
person waits, so the page can say whether it went out. Confirmations, waiting-list
notices and links are ledger messages: after a registration changes, the app starts
:func:`s3events.dispatch.dispatch` in a background thread (:class:`BackgroundDispatch`),
one run at a time, sending what is due as ``s3events dispatch`` from cron would (without its
scheduling pass over everyone: each change has scheduled its own people's messages).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

from ..dispatch import dispatch, email_transport
from ..ledger import ledger_key, message_id_for, scrub_error
from ..models import Series
from ..plugins import get_plugin_manager
from ..registrations import Registration
from ..render import render_message
from ..store import Store
from ..transports.base import OutgoingMessage

__all__ = ["BackgroundDispatch", "confirm_url", "dispatch_runner", "send_now"]

log = logging.getLogger("s3events.web")


def confirm_url(base_url: str, token: str) -> str:
    """The link of an opt-in message: ``{base_url}/confirm/{token}``."""
    return f"{base_url.rstrip('/')}/confirm/{token}"


def _message(series: Series, reg: Registration, kind: str, *, base_url: str,
             now: datetime) -> OutgoingMessage:
    token = reg.token.get_secret_value()
    sessions = [s for s in series.sessions if reg.wants(s.id) and not s.cancelled]
    extra = {"confirm_url": confirm_url(base_url, token)} if kind == "optin" else None
    rendered = render_message(series, kind, lang=reg.language, zone=reg.timezone,
                              sessions=sessions, name=reg.name, email=reg.email, extra=extra,
                              base_url=base_url, token=token, pm=get_plugin_manager())
    sender = series.dispatch.sender or series.organiser.email
    # A new key per send: a second opt-in message must not look like a copy of the first.
    key = ledger_key(reg.id, None, kind, int(now.timestamp()), "email")
    headers = {"Date": format_datetime(now)}
    if kind != "optin":
        headers["List-Unsubscribe"] = f"<{base_url.rstrip('/')}/cancel/{token}>"
    return OutgoingMessage(
        key=key, channel="email", kind=kind, recipient=reg.email, recipient_name=reg.name,
        language=rendered.language, subject=rendered.subject, text=rendered.text,
        html=rendered.html, sender=sender,
        sender_name=series.text(series.organiser.name, rendered.language),
        message_id=message_id_for(key, series_id=series.id,
                                  domain=sender.rpartition("@")[2] or "localhost"),
        headers=headers)


def send_now(series: Series, reg: Registration, kind: str, *, base_url: str,
             transport: str | None, now: datetime) -> None:
    """Render and send ``kind`` (``optin``, ``confirmation``, ``waitlisted``) to ``reg`` now.

    Raises :class:`~s3events.errors.ServiceError` when the transport refuses it; the
    error is logged without the person's address or name.
    """
    from ..errors import ServiceError

    message = _message(series, reg, kind, base_url=base_url, now=now)
    try:
        with email_transport(series, transport) as channel:
            channel.send(message)
    except ServiceError as exc:
        log.warning("%s message not sent: %s", kind,
                    scrub_error(f"{type(exc).__name__}: {exc}", secrets_=[reg.email, reg.name]))
        raise


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
                          scrub_error(f"{type(exc).__name__}: {exc}"))

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until no run is going on or wanted; False on timeout."""
        with self._lock:
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True


def dispatch_runner(store: Store, series: Series, *, transport: str | None, base_url: str,
                    clock: Callable[[], datetime]) -> Callable[[], None]:
    """A function that sends what is due in ``series`` and logs its counts (no personal data).

    It does not schedule first: every change the app makes schedules the messages of the
    people it touched, and a pass over everyone would cost seconds per change in a large
    series. Changes to the series itself (a session moved, a meeting created) are
    scheduled by ``s3events dispatch``.
    """
    def run() -> None:
        report = dispatch(store, series, now=clock(), transport=transport, base_url=base_url,
                          schedule_first=False)
        if report.total_sent or report.failed or report.problems:
            log.info("dispatch: %d sent, %d failed, %d to retry%s", report.total_sent,
                     report.failed, report.retrying,
                     "; " + "; ".join(report.problems) if report.problems else "")

    return run
