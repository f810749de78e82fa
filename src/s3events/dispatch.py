"""Dispatch: schedule what is owed, then claim, render, send and mark what is due.

:func:`dispatch` is what ``s3events dispatch`` runs, and is safe to run every few minutes
from cron or a systemd timer, from several processes at once on PostgreSQL:

1. :func:`~s3events.scheduler.schedule` brings the ledger up to date (idempotent);
2. ``sending`` rows of workers that died are put back (see :mod:`s3events.ledger`);
3. per channel in use, rows due at ``now`` are claimed in small batches, each message is
   rendered (shared parts once per session, kind, language and zone), handed to the
   channel's transport, and marked ``sent`` in its own transaction as soon as the
   transport returns.

A failed send is retried later with exponential backoff, up to ``dispatch.max_attempts``;
a permanent refusal (SMTP 5xx, HTTP 400) fails at once; both stay visible in
``s3events status``. When a transport cannot be used at all (server unreachable,
credentials refused) the claimed rows are given back untouched, the other channels go on,
and the run reports the problem.

The email transport is ``--transport URL``, else the series' ``dispatch.transport``, else
``outbox`` (``./outbox``); every other channel uses the transport of its name, with
options from ``dispatch.transports.NAME`` overlaid by ``S3EVENTS_<NAME>_<OPTION>``.

Opt-in messages (queued by :func:`s3events.registrations.register` for online
registrations) go by email whatever the channels in use, and carry the link
``{base_url}/confirm/{token}``: without a base URL they stay pending and the run reports it.
"""

from __future__ import annotations

import logging
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from .errors import AuthenticationError, ConfigurationError, ServiceError, ServiceUnavailable
from .followups import after_session
from .ledger import (
    KINDS,
    LedgerRow,
    SentMarker,
    claim_due,
    count_due,
    default_worker_id,
    mark_retry,
    message_id_for,
    reclaim_stale,
    release,
    scrub_error,
)
from .models import Series, Session
from .platforms.base import Meeting, Participant, PlatformAdapter
from .plugins import get_plugin_manager, track_event, transport_class
from .provision import MeetingRow, meeting_request, meeting_rows, state_secret
from .render import Invitation, MessageRenderer, RenderedMessage
from .scheduler import RegistrationInfo, ScheduleReport, attends, schedule
from .store import Store, registrations
from .transports.base import Attachment, OutgoingMessage, Transport

__all__ = [
    "Composer",
    "DispatchReport",
    "channel_transport",
    "dispatch",
    "email_transport",
]

log = logging.getLogger(__name__)

#: How long a claimed row may stay ``sending`` before another worker takes it over.
DEFAULT_LEASE = timedelta(minutes=15)
#: Why opt-in messages cannot be composed without the event page's address.
NO_BASE_URL = ("opt-in messages link to the event page: give its address with --base-url, "
               "S3EVENTS_BASE_URL or the series' dispatch.base_url")
_INVITING = {"link": "REQUEST", "update": "REQUEST", "cancellation": "CANCEL"}
_LINKED = ("link", "update", "reminder")


@dataclass
class DispatchReport:
    """What one dispatch run did (counts only: no personal data)."""

    scheduled: ScheduleReport = field(default_factory=ScheduleReport)
    sent: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    retrying: int = 0
    failed: int = 0
    skipped: int = 0
    due: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def total_sent(self) -> int:
        """Messages sent in this run."""
        return sum(self.sent.values())


# -- transports -----------------------------------------------------------------------------
def _build(cls: type[Transport], options: dict[str, Any], series: Series,
           environ: Mapping[str, str] | None) -> Transport:
    rate = series.dispatch.rate_limit
    if rate and "rate_limit" in cls.options_model.model_fields:
        options.setdefault("rate_limit", rate)
    return cls.from_options(options, environ=environ)


def email_transport(series: Series, spec: str | None = None, *,
                    environ: Mapping[str, str] | None = None) -> Transport:
    """The transport for the email channel: ``spec``, else the series', else ``outbox``."""
    from_file = spec is None and series.dispatch.transport is not None
    spec = spec or series.dispatch.transport or "outbox"
    name = spec.split(":", 1)[0].lower()
    name = "smtp" if name == "smtps" else name
    cls = transport_class(name)
    if cls.channel != "email":
        raise ConfigurationError(f"transport '{name}' does not send email; use smtp://…, "
                                 "outbox:PATH or console")
    options = dict(series.dispatch.transports.get(name, {}))
    url_options = getattr(cls, "url_options", None)
    if callable(url_options):
        options.update(url_options(spec))
    if from_file and name == "outbox" and series.source is not None:
        folder = Path(str(options.get("path", "outbox")))
        options["path"] = str(series.source.parent / folder)
    return _build(cls, options, series, environ)


def channel_transport(series: Series, channel: str, *, email: str | None = None,
                      environ: Mapping[str, str] | None = None) -> Transport:
    """The transport for ``channel`` (``email`` or a messaging transport's name)."""
    if channel == "email":
        return email_transport(series, email, environ=environ)
    options = dict(series.dispatch.transports.get(channel, {}))
    return _build(transport_class(channel), options, series, environ)


# -- composing ------------------------------------------------------------------------------
class Composer:
    """Turns ledger rows into :class:`OutgoingMessage` objects for one run.

    Holds the renderer, the invitations built so far and the meetings; prepares each
    session's meeting on its platform once (BigBlueButton creates the room there) and asks
    the platform for per-participant links where it gives them.
    """

    def __init__(self, store: Store, series: Series, *, now: datetime,
                 base_url: str | None = None, environ: Mapping[str, str] | None = None,
                 pm: Any = None) -> None:
        self.store, self.series, self.now, self.environ = store, series, now, environ
        templates = None
        if series.dispatch.templates:
            root = series.source.parent if series.source is not None else Path.cwd()
            templates = root / series.dispatch.templates
        self.renderer = MessageRenderer(series, templates=templates, base_url=base_url,
                                        pm=pm if pm is not None else get_plugin_manager())
        self.rows: dict[str, MeetingRow] = meeting_rows(store, series.id)
        self._prepared: dict[str, Meeting] = {}
        self._adapters: dict[str, PlatformAdapter] = {}
        self._invitations: dict[tuple[Any, ...], Invitation] = {}
        sender = series.dispatch.sender or series.organiser.email
        self.sender = sender
        self.domain = sender.rpartition("@")[2] or "localhost"
        self.date = format_datetime(now)

    # -- meetings ----------------------------------------------------------------------
    def _adapter(self, platform: str) -> PlatformAdapter:
        if platform not in self._adapters:
            from .config import platform_choice

            name, options = platform_choice(self.series.platform, platform)
            self._adapters[platform] = transport_free_adapter(name, options, self.environ)
        return self._adapters[platform]

    def meeting(self, session: Session) -> Meeting | None:
        """The session's meeting, prepared on its platform once per run."""
        if session.id in self._prepared:
            return self._prepared[session.id]
        row = self.rows.get(session.id)
        meeting = row.meeting if row is not None else None
        if meeting is not None and row is not None and _needs_adapter(meeting):
            adapter = self._adapter(meeting.platform)
            secret = state_secret(self.store)
            request = meeting_request(self.series, session, generation=row.generation,
                                      secret=secret, base_url=self.renderer.base_url)
            meeting = adapter.prepare(meeting, request)
        if meeting is not None:
            self._prepared[session.id] = meeting
        return meeting

    def join_url(self, meeting: Meeting, reg: RegistrationInfo) -> str:
        """The participant's own link where the platform gives one, else the meeting's."""
        if not meeting.per_participant_links:
            return meeting.join_url
        participant = Participant(id=reg.id, name=reg.name, email=reg.email)
        return self._adapter(meeting.platform).join_url_for(meeting, participant)

    # -- messages ----------------------------------------------------------------------
    def compose(self, row: LedgerRow, reg: RegistrationInfo) -> OutgoingMessage | None:
        """The message for ``row``, or ``None`` when it can no longer be sent.

        Raises :class:`~s3events.errors.ConfigurationError` for an opt-in message when the
        composer has no ``base_url`` to build its link from.
        """
        if row.kind == "optin" and self.renderer.base_url is None:
            raise ConfigurationError(NO_BASE_URL)
        address = reg.address(row.channel)
        session = self._session(row.session_id)
        if not address or (row.session_id and session is None):
            return None
        meeting = self.meeting(session) if session is not None else None
        if row.kind in _LINKED and meeting is None:
            return None
        join_url = self.join_url(meeting, reg) if meeting is not None else None
        attachments = self.attachments(row, reg)
        if attachments is None:
            return None
        rendered = self.render(row, reg, session, meeting, join_url)
        email = row.channel == "email"
        calendar, method = (self.calendar(row, reg, session, meeting, join_url)
                            if email and session is not None else (None, None))
        cancel_url = self.renderer.cancel_url(reg.token)
        headers = {"Date": self.date}
        if cancel_url and email and row.kind != "optin":
            headers["List-Unsubscribe"] = f"<{cancel_url}>"
        return OutgoingMessage(
            key=row.key, channel=row.channel, kind=row.kind, recipient=address,
            recipient_name=reg.name, language=rendered.language, subject=rendered.subject,
            text=rendered.text if email else rendered.short,
            html=rendered.html if email else None, calendar=calendar, calendar_method=method,
            sender=self.sender, sender_name=self.series.text(self.series.organiser.name,
                                                             rendered.language),
            message_id=message_id_for(row.key, series_id=self.series.id, domain=self.domain),
            headers=headers, facts=rendered.facts, attachments=attachments)

    def attachments(self, row: LedgerRow, reg: RegistrationInfo) -> tuple[Attachment, ...] | None:
        """The files a message carries (a certificate's PDF); ``None``: nothing to send."""
        if row.kind != "certificate":
            return ()
        return after_session(self).certificate_files(reg)

    def _session(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        try:
            return self.series.session(session_id)
        except KeyError:
            return None

    def render(self, row: LedgerRow, reg: RegistrationInfo, session: Session | None,
               meeting: Meeting | None, join_url: str | None) -> RenderedMessage:
        """Render the row's kind for the participant (shared parts cached)."""
        lang = self.renderer.language(reg.language)
        sessions = [s for s in self.series.sessions if attends(reg, s.id)] if session is None \
            else []
        if row.kind in ("missed", "certificate"):
            sessions = after_session(self).sessions(row.kind, reg, session)
        passcode = meeting.passcode.get_secret_value() if meeting and meeting.passcode else None
        personal = {"name": reg.name, "email": reg.email,
                    "join_url": join_url if row.kind in _LINKED else None,
                    "cancel_url": self.renderer.cancel_url(reg.token),
                    "confirm_url": self.renderer.confirm_url(reg.token)
                    if row.kind == "optin" else None}
        return self.renderer.render(
            row.kind, lang=lang, zone=reg.zone(self.series.zone), session=session,
            sessions=sessions, revision=row.revision, personal=personal,
            passcode=passcode if row.kind in _LINKED else None)

    def calendar(self, row: LedgerRow, reg: RegistrationInfo, session: Session,
                 meeting: Meeting | None, join_url: str | None) -> tuple[str | None, str | None]:
        """The invitation (text, method) a message of this kind carries, if any."""
        method = _INVITING.get(row.kind)
        if method is None:
            return None, None
        lang = self.renderer.language(reg.language)
        sequence = row.revision + 1 if method == "CANCEL" else row.revision
        shared_url = meeting.join_url if meeting is not None and method == "REQUEST" else None
        per_person = bool(meeting and meeting.per_participant_links and shared_url)
        key = (session.id, method, lang, sequence, shared_url, per_person)
        invitation = self._invitations.get(key)
        if invitation is None:
            invitation = self._invitations[key] = Invitation.build(
                self.series, session, lang=lang, method=method, sequence=sequence,
                join_url=shared_url, per_person=per_person, dtstamp=self.now)
        return invitation.fill(name=reg.name, email=reg.email, join_url=join_url), method


def _needs_adapter(meeting: Meeting) -> bool:
    """True when the platform must be asked (per-person links, or work in ``prepare``)."""
    if meeting.per_participant_links:
        return True
    from .plugins import platform_class

    try:
        cls = platform_class(meeting.platform)
    except ConfigurationError:
        return False
    return cls.prepare is not PlatformAdapter.prepare


def transport_free_adapter(name: str, options: Mapping[str, Any],
                           environ: Mapping[str, str] | None) -> PlatformAdapter:
    """The platform adapter ``name`` built from file options and the environment."""
    from .plugins import platform_class

    return platform_class(name).from_options(dict(options), environ=environ)


# -- the run --------------------------------------------------------------------------------
def _registrations(store: Store, ids: Iterable[str]) -> dict[str, RegistrationInfo]:
    query = select(registrations).where(registrations.c.id.in_(sorted(set(ids))))
    with store.connect() as conn:
        return {r.id: RegistrationInfo.from_row(r) for r in conn.execute(query)}


@dataclass(frozen=True)
class _Scope:
    """Which due rows a run takes: of some people only; no opt-ins when it cannot link them."""

    registration_ids: Sequence[str] | None = None
    kinds: Sequence[str] | None = None

    def due(self, store: Store, series_id: str, now: datetime, channels: Sequence[str],
            *, kinds: Sequence[str] | None = None) -> int:
        """How many rows in scope are due on ``channels`` (of ``kinds``, if given)."""
        return count_due(store, series_id, now=now, channels=channels,
                         registration_ids=self.registration_ids,
                         kinds=kinds if kinds is not None else self.kinds)


def _channels(series: Series) -> list[str]:
    """The channels a run sends on: the series', and email for opt-in messages."""
    channels = list(series.dispatch.channels)
    return channels if "email" in channels else [*channels, "email"]


@dataclass
class _Run:
    store: Store
    series: Series
    now: datetime
    worker: str
    composer: Composer
    report: DispatchReport
    batch_size: int
    progress: Callable[[int], None] | None
    scope: _Scope
    marker: SentMarker | None = None

    def channel(self, channel: str, transport: Transport) -> None:
        try:
            transport.open()
        except ServiceError as exc:
            self.report.problems.append(f"{channel}: {scrub_error(str(exc))}")
            return
        try:
            with SentMarker(self.store, worker=self.worker) as self.marker:
                while self._batch(channel, transport):
                    pass
        finally:
            transport.close()

    def _batch(self, channel: str, transport: Transport) -> bool:
        rows = claim_due(self.store, self.series.id, now=self.now, worker=self.worker,
                         limit=self.batch_size, channels=[channel],
                         registration_ids=self.scope.registration_ids, kinds=self.scope.kinds)
        if not rows:
            return False
        people = _registrations(self.store, (r.registration_id for r in rows))

        def compose(row: LedgerRow) -> _Composed:
            reg = people.get(row.registration_id)
            message = self.composer.compose(row, reg) if reg is not None else None
            return message, (transport.prepare(message) if message is not None else None)

        # One thread renders (and, for email, serialises) the next few messages while this
        # one waits for the server's replies (the socket wait releases the interpreter lock);
        # order is kept.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="s3e-render") as pool:
            messages = _ahead(pool, compose, rows)
            for i, row in enumerate(rows):
                try:
                    self._one(row, people.get(row.registration_id), next(messages), transport)
                except _TransportDown as down:
                    release(self.store, rows[i:], worker=self.worker)
                    self.report.problems.append(f"{channel}: {down}")
                    return False
                except BaseException:
                    release(self.store, rows[i:], worker=self.worker)
                    raise
        return True

    def _one(self, row: LedgerRow, reg: RegistrationInfo | None, composed: _Composed,
             transport: Transport) -> None:
        message, prepared = composed
        if message is None:
            reason = "registration erased" if reg is None else "nothing to send any more"
            release(self.store, [row], worker=self.worker, state="cancelled", error=reason)
            self.report.skipped += 1
            return
        try:
            result = transport.send_prepared(message, prepared)
        except ServiceError as exc:
            self._failed(row, reg, exc)
            return
        assert self.marker is not None
        self.marker.mark(row.id, sent_at=self.now,
                         message_id=message.message_id if row.channel == "email" else None,
                         provider_id=result.provider_id)
        self.report.sent[(row.session_id or "-", row.kind, row.channel)] += 1
        if self.progress is not None:
            self.progress(1)

    def _failed(self, row: LedgerRow, reg: RegistrationInfo | None, exc: ServiceError) -> None:
        private = [reg.email, reg.name, *reg.channels.values()] if reg is not None else []
        error = scrub_error(f"{type(exc).__name__}: {exc}", secrets_=private)
        if isinstance(exc, AuthenticationError) or (
                isinstance(exc, ServiceUnavailable) and exc.status is None):
            release(self.store, [row], worker=self.worker)
            raise _TransportDown(error)
        d = self.series.dispatch
        state = mark_retry(self.store, row, worker=self.worker, error=error, now=self.now,
                           retryable=exc.retryable, max_attempts=d.max_attempts,
                           base=d.retry_backoff, retry_after=exc.retry_after)
        if state == "failed":
            self.report.failed += 1
            track_event("message.failed", kind=row.kind, channel=row.channel)
        else:
            self.report.retrying += 1
        if self.progress is not None:
            self.progress(1)


_Composed = tuple[OutgoingMessage | None, Any]


#: How many messages the render thread prepares ahead of the one being sent. A few suffice
#: (rendering one takes a fraction of a server round trip); rendering a whole batch at once
#: held the interpreter lock for long stretches while replies waited to be read.
_LOOKAHEAD = 4


def _ahead(pool: ThreadPoolExecutor, fn: Callable[[LedgerRow], _Composed],
           rows: Sequence[LedgerRow]) -> Iterator[_Composed]:
    """``fn`` of each row, in order, computed in ``pool`` at most ``_LOOKAHEAD`` rows ahead."""
    queued: deque[Future[_Composed]] = deque()
    upcoming = iter(rows)
    while True:
        while len(queued) < _LOOKAHEAD:
            row = next(upcoming, None)
            if row is None:
                break
            queued.append(pool.submit(fn, row))
        if not queued:
            return
        yield queued.popleft().result()


class _TransportDown(Exception):
    """The transport cannot be used in this run (unreachable, credentials refused)."""


def dispatch(store: Store, series: Series, *, now: datetime, transport: str | None = None,
             transports: Mapping[str, Transport] | None = None, dry_run: bool = False,
             worker: str | None = None, batch_size: int = 50, lease: timedelta = DEFAULT_LEASE,
             base_url: str | None = None, environ: Mapping[str, str] | None = None,
             registration_ids: Sequence[str] | None = None, schedule_first: bool = True,
             progress: Callable[[int], None] | None = None,
             on_start: Callable[[int], None] | None = None) -> DispatchReport:
    """Schedule, then send every message due at ``now``; return what happened.

    ``transport`` is the email transport spec (``smtp://…``, ``outbox:PATH``, ``console``);
    ``transports`` may supply ready transports by channel (tests, embedding). With
    ``dry_run`` nothing is written or sent: the report says what is due. ``on_start``
    receives the number of due messages before sending starts (for a progress bar).

    ``registration_ids`` restricts the run to those people: only they are scheduled and
    only their messages are sent (the event page sends a new registration's email this
    way, without a pass over everyone). ``schedule_first=False`` skips scheduling and sends
    what the ledger already has due, for callers whose changes scheduled their own rows.
    ``base_url`` (the event page, for cancel and opt-in links) defaults to the series'
    ``dispatch.base_url``.
    """
    base_url = base_url or series.dispatch.base_url
    report = DispatchReport()
    if schedule_first:
        report.scheduled = schedule(store, series, now=now, dry_run=dry_run,
                                    registration_ids=registration_ids)
    channels = _channels(series)
    scope = _Scope(registration_ids, None if base_url else [k for k in KINDS if k != "optin"])
    if not dry_run:
        reclaim_stale(store, series.id, lease=lease)
    report.due = scope.due(store, series.id, now, channels)
    if dry_run:
        return report
    if on_start is not None:
        on_start(report.due)
    if report.due:
        composer = Composer(store, series, now=now, base_url=base_url, environ=environ)
        run = _Run(store, series, now, worker or default_worker_id(), composer, report,
                   batch_size, progress, scope)
        _send(run, channels, transport=transport, transports=transports, environ=environ)
        track_event("dispatch.finished", series=series.id, sent=report.total_sent,
                    failed=report.failed, retrying=report.retrying)
    if scope.kinds is not None and scope.due(store, series.id, now, ["email"], kinds=["optin"]):
        report.problems.append(f"email: {NO_BASE_URL}")
    return report


def _send(run: _Run, channels: Sequence[str], *, transport: str | None,
          transports: Mapping[str, Transport] | None,
          environ: Mapping[str, str] | None) -> None:
    """Send what is due on each channel that has something due, with its transport."""
    for channel in channels:
        if run.scope.due(run.store, run.series.id, run.now, [channel]) == 0:
            continue
        try:
            chosen = (transports or {}).get(channel) or channel_transport(
                run.series, channel, email=transport, environ=environ)
        except ConfigurationError as exc:
            run.report.problems.append(f"{channel}: {exc}")
            continue
        run.channel(channel, chosen)


def preview(store: Store, series: Series, *, email: str, session_id: str | None, kind: str,
            now: datetime, base_url: str | None = None, channel: str = "email",
            ) -> OutgoingMessage:
    """Render one message as it would be sent, without touching the ledger.

    ``base_url`` defaults to the series' ``dispatch.base_url``.
    """
    from .errors import InputError
    from .ledger import ledger_key

    base_url = base_url or series.dispatch.base_url
    query = select(registrations).where(registrations.c.series_id == series.id,
                                        registrations.c.email_key == email.strip().lower())
    with store.connect() as conn:
        found = conn.execute(query).first()
    if found is None:
        raise InputError(f"no registration with email {email} in series {series.id}")
    reg = RegistrationInfo.from_row(found)
    if session_id is not None:
        try:
            series.session(session_id)
        except KeyError:
            known = ", ".join(s.id for s in series.sessions)
            raise InputError(f"no session '{session_id}' in {series.id}; sessions: {known}"
                             ) from None
    revision = composer_revision(store, series, session_id)
    row = LedgerRow(0, ledger_key(reg.id, session_id, kind, revision, channel), reg.id,
                    session_id, kind, revision, channel, now, "pending", 0)
    message = Composer(store, series, now=now, base_url=base_url).compose(row, reg)
    if message is None:
        raise InputError(f"nothing to preview: session '{session_id}' has no meeting yet "
                         "(run s3events provision) or the person has no address on "
                         f"channel {channel}")
    return message


def composer_revision(store: Store, series: Series, session_id: str | None) -> int:
    """The current revision (meeting sequence) of a session; 0 without one."""
    if session_id is None:
        return 0
    row = meeting_rows(store, series.id).get(session_id)
    return row.sequence if row is not None else 0
