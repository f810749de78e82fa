"""Composing messages: a ledger row and a person become one :class:`OutgoingMessage`.

:class:`Composer` is what a dispatch run uses to turn each claimed row into the message its
transport sends: the text in the person's language and zone (shared parts rendered once per
session, kind, language and zone by :class:`~s3events.render.MessageRenderer`), the calendar
invitation a link, update or cancellation carries, the stable Message-ID of the row, and
the meeting's link — the participant's own where the platform gives one. Meetings come from
:class:`~s3events.provision.ReadyMeetings`, which prepares them on their platform just in
time (BigBlueButton creates its room then).

:func:`preview` composes one message exactly as dispatch would, without touching the ledger
(``s3events preview``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from .errors import ConfigurationError, InputError
from .followups import AfterSession
from .ledger import LedgerRow, ledger_key, message_id_for
from .models import Series, Session
from .platforms.base import Meeting, Participant
from .plugins import get_plugin_manager
from .provision import ReadyMeetings, meeting_rows
from .registrations.roster import get_registration
from .render import Invitation, MessageRenderer, RenderedMessage
from .scheduler import RegistrationInfo, attends
from .store import Store
from .terminal import shown
from .transports.base import Attachment, OutgoingMessage

__all__ = ["NO_BASE_URL", "Composer", "composer_revision", "preview"]

#: Why opt-in messages cannot be composed without the event page's address.
NO_BASE_URL = ("opt-in messages link to the event page: give its address with --base-url, "
               "S3EVENTS_BASE_URL or the series' dispatch.base_url")
_INVITING = {"link": "REQUEST", "update": "REQUEST", "cancellation": "CANCEL"}
_LINKED = ("link", "update", "reminder")


class Composer:
    """Turns ledger rows into :class:`OutgoingMessage` objects for one run.

    Holds the renderer, the invitations built so far and the run's
    :class:`~s3events.provision.ReadyMeetings`. Not shared between threads: a dispatch run
    composes in one thread while others send.
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
        self.meetings = ReadyMeetings(store, series, environ=environ,
                                      base_url=self.renderer.base_url)
        self._after: AfterSession | None = None
        self._invitations: dict[tuple[Any, ...], Invitation] = {}
        self.sender = series.dispatch.sender or series.organiser.email
        # replies to a separate sender address (often a no-reply one) reach the organiser
        self.reply_to = series.organiser.email if self.sender != series.organiser.email \
            else None
        self.domain = self.sender.rpartition("@")[2] or "localhost"
        self.date = format_datetime(now)

    @property
    def after(self) -> AfterSession:
        """What the messages sent after sessions need (made on first use)."""
        if self._after is None:
            self._after = AfterSession(self.store, self.series, renderer=self.renderer)
        return self._after

    def meeting(self, session: Session) -> Meeting | None:
        """The session's meeting, prepared on its platform once per run."""
        return self.meetings.meeting(session)

    def join_url(self, meeting: Meeting, reg: RegistrationInfo) -> str:
        """The participant's own link where the platform gives one, else the meeting's."""
        participant = Participant(id=reg.id, name=reg.name, email=reg.email)
        return self.meetings.join_url(meeting, participant)

    def compose(self, row: LedgerRow, reg: RegistrationInfo) -> OutgoingMessage | None:
        """The message for ``row``, or ``None`` when it can no longer be sent.

        Raises :class:`~s3events.errors.ConfigurationError` for an opt-in message when the
        composer has no ``base_url`` to build its link from, and the platform's
        :class:`~s3events.errors.ServiceError` when the session's meeting cannot be
        prepared.
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
        return self._message(row, reg, address, rendered,
                             self._calendar_part(row, reg, session, meeting, join_url),
                             attachments)

    def attachments(self, row: LedgerRow, reg: RegistrationInfo) -> tuple[Attachment, ...] | None:
        """The files a message carries (a certificate's PDF); ``None``: nothing to send."""
        if row.kind != "certificate":
            return ()
        return self.after.certificate_files(reg)

    def _calendar_part(self, row: LedgerRow, reg: RegistrationInfo, session: Session | None,
                       meeting: Meeting | None, join_url: str | None,
                       ) -> tuple[str | None, str | None]:
        if row.channel != "email" or session is None:
            return None, None
        return self.calendar(row, reg, session, meeting, join_url)

    def _message(self, row: LedgerRow, reg: RegistrationInfo, address: str,
                 rendered: RenderedMessage, invitation: tuple[str | None, str | None],
                 attachments: tuple[Attachment, ...] = ()) -> OutgoingMessage:
        email = row.channel == "email"
        cancel_url = self.renderer.cancel_url(reg.token)
        headers = {"Date": self.date}
        if cancel_url and email and row.kind != "optin":
            headers["List-Unsubscribe"] = f"<{cancel_url}>"
        calendar, method = invitation
        return OutgoingMessage(
            key=row.key, channel=row.channel, kind=row.kind, recipient=address,
            recipient_name=reg.name, language=rendered.language, subject=rendered.subject,
            text=rendered.text if email else rendered.short,
            html=rendered.html if email else None, calendar=calendar, calendar_method=method,
            sender=self.sender, sender_name=self.series.text(self.series.organiser.name,
                                                             rendered.language),
            reply_to=self.reply_to if email else None,
            message_id=message_id_for(row.key, series_id=self.series.id, domain=self.domain),
            headers=headers, facts=rendered.facts, attachments=attachments)

    def _session(self, session_id: str | None) -> Session | None:
        if session_id is None:
            return None
        try:
            return self.series.session(session_id)
        except KeyError:
            return None

    def render(self, row: LedgerRow, reg: RegistrationInfo, session: Session | None,
               meeting: Meeting | None, join_url: str | None) -> RenderedMessage:
        """Render the row's kind for the participant (shared parts cached).

        A guessed zone (:attr:`~s3events.registrations.Registration.zone_guessed`) is
        passed on, so a confirmation asks the person to check it on their preferences page.
        """
        lang = self.renderer.language(reg.language)
        sessions = [s for s in self.series.sessions if attends(reg, s.id)] if session is None \
            else []
        if row.kind in ("missed", "certificate"):
            sessions = self.after.sessions(row.kind, reg, session)
        passcode = meeting.passcode.get_secret_value() if meeting and meeting.passcode else None
        personal = {"name": reg.name, "email": reg.email,
                    "join_url": join_url if row.kind in _LINKED else None,
                    "cancel_url": self.renderer.cancel_url(reg.token),
                    "confirm_url": self.renderer.confirm_url(reg.token)
                    if row.kind == "optin" else None,
                    "preferences_url": self.renderer.preferences_url(reg.token)}
        return self.renderer.render(
            row.kind, lang=lang, zone=reg.zone(self.series.zone), session=session,
            sessions=sessions, revision=row.revision, personal=personal,
            passcode=passcode if row.kind in _LINKED else None,
            zone_guessed=reg.zone_guessed)

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

    def close(self) -> None:
        """Release what the run's meetings held (platform sessions)."""
        self.meetings.close()


def preview(store: Store, series: Series, *, email: str, session_id: str | None, kind: str,
            now: datetime, base_url: str | None = None, channel: str = "email",
            ) -> OutgoingMessage:
    """Render one message as it would be sent, without touching the ledger.

    ``email`` is matched as registrations are (case, and the two forms of an
    internationalised domain, do not matter). ``base_url`` defaults to the series'
    ``dispatch.base_url``.
    """
    base_url = base_url or series.dispatch.base_url
    reg = registration_of(store, series, email)
    if session_id is not None:
        series.require_session(session_id)
    revision = composer_revision(store, series, session_id)
    row = LedgerRow(0, ledger_key(reg.id, session_id, kind, revision, channel), reg.id,
                    session_id, kind, revision, channel, now, "pending", 0)
    composer = Composer(store, series, now=now, base_url=base_url)
    try:
        message = composer.compose(row, reg)
    finally:
        composer.close()
    if message is None:
        raise InputError(f"nothing to preview: {_why_nothing(kind, session_id, channel)}")
    return message


def _why_nothing(kind: str, session_id: str | None, channel: str) -> str:
    """Why a message of ``kind`` would not be sent to this person now, for ``preview``."""
    if kind == "certificate":
        return ("the person does not qualify for a certificate (too few sessions attended, "
                "or attendance not known yet: see s3events attendance)")
    if kind in ("followup", "missed"):
        return (f"the attendance of session '{session_id}' is not known yet, or says "
                f"the person gets no {kind} message")
    if session_id is not None:
        return (f"session '{session_id}' has no meeting yet (run s3events provision) or the "
                f"person has no address on channel {channel}")
    return f"the person has no address on channel {channel}"


def registration_of(store: Store, series: Series, email: str) -> RegistrationInfo:
    """The registration of ``email`` in the series; :class:`InputError` when there is none."""
    found = get_registration(store, series.id, email)
    if found is None:
        raise InputError(f"no registration with email {shown(email)} in series {series.id}")
    return found


def composer_revision(store: Store, series: Series, session_id: str | None) -> int:
    """The current revision (meeting sequence) of a session; 0 without one."""
    if session_id is None:
        return 0
    row = meeting_rows(store, series.id).get(session_id)
    return row.sequence if row is not None else 0
