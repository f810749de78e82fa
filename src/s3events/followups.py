"""After the sessions: the ``followup``, ``missed`` and ``certificate`` messages.

:func:`plan_after_sessions` is called by every scheduling pass. It does nothing unless the
series has a ``dispatch.followup`` or ``dispatch.certificates`` section, and then works only
from sessions whose attendance is known (see :mod:`s3events.attendance`):

- **followup**, to each confirmed person who attended the session (from
  ``attendance.min_minutes``), and **missed**, to each confirmed person registered for it
  (before it ended) who did not; both due ``dispatch.followup.after`` (default two hours)
  after the session's end, on every channel in use, carrying the session's
  ``recording_url`` and ``materials``. A person gets one of the two per session, once: a
  corrected report turns a pending ``missed`` into a ``followup`` (or back), but never
  after one was sent;
- **certificate**, by email, to each person who attended at least
  ``dispatch.certificates.min_sessions`` sessions, once the last session's attendance is
  known; due with the last session's follow-ups. It carries the PDF (see
  :mod:`s3events.certificates`); someone who no longer qualifies when it is due is not
  sent one.

Rows are keyed like every ledger row, so a second pass adds nothing.

A pass for some people only (``registration_ids``: an import batch, a registration on the
event page) reads the attendance, the registrations and the follow-up rows of those people
alone, so importing a file after sessions have attendance costs the same per person
however many people the series already has; a pass over everyone reads each once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from .attendance import AttendanceReport, attendance_report, session_states
from .ledger import ledger_key
from .models import Series, Session
from .store import Store, ledger, registrations

if TYPE_CHECKING:
    from .certificates import CertificateMaker
    from .registrations.model import Registration as RegistrationInfo
    from .render import MessageRenderer
    from .transports.base import Attachment

__all__ = ["AFTER_KINDS", "AfterSession", "plan_after_sessions"]

#: The kinds planned here.
AFTER_KINDS = ("followup", "missed", "certificate")


@dataclass(frozen=True)
class _Reg:
    id: str
    email: str
    channels: dict[str, str]
    status: str
    since: datetime

    def address(self, channel: str) -> str | None:
        return self.email if channel == "email" else self.channels.get(channel)


@dataclass
class _Plan:
    series: Series
    now: datetime
    existing: dict[str, tuple[int, str]]  # key → (id, state)
    inserts: list[dict[str, Any]] = field(default_factory=list)
    cancels: list[int] = field(default_factory=list)

    def want(self, reg_id: str, session_id: str | None, kind: str, channel: str,
             due: datetime) -> None:
        key = ledger_key(reg_id, session_id, kind, 0, channel)
        if key not in self.existing:
            self.existing[key] = (0, "pending")
            self.inserts.append({
                "key": key, "series_id": self.series.id, "registration_id": reg_id,
                "session_id": session_id, "kind": kind, "revision": 0, "channel": channel,
                "due_at": due, "state": "pending", "attempts": 0, "created_at": self.now})

    def drop(self, reg_id: str, session_id: str | None, kind: str, channel: str) -> None:
        found = self.existing.get(ledger_key(reg_id, session_id, kind, 0, channel))
        if found is not None and found[1] == "pending" and found[0]:
            self.cancels.append(found[0])

    def sent(self, reg_id: str, session_id: str | None, kind: str, channel: str) -> bool:
        found = self.existing.get(ledger_key(reg_id, session_id, kind, 0, channel))
        return found is not None and found[1] in ("sent", "sending")


def _chunks(ids: Sequence[str], size: int = 500) -> list[list[str]]:
    """``ids`` sorted, without repeats, a few hundred at a time (bounded IN lists)."""
    wanted = sorted(set(ids))
    return [wanted[start:start + size] for start in range(0, len(wanted), size)]


def _people(store: Store, series_id: str, ids: Sequence[str] | None) -> list[_Reg]:
    r = registrations.c
    query = select(r.id, r.email, r.channels, r.status, r.registered_at, r.confirmed_at).where(
        r.series_id == series_id, r.status == "confirmed")
    queries = [query] if ids is None else [query.where(r.id.in_(part)) for part in _chunks(ids)]
    with store.connect() as conn:
        return [_Reg(row.id, row.email, {k: v for k, v in (row.channels or {}).items() if v},
                     row.status, row.confirmed_at or row.registered_at)
                for q in queries for row in conn.execute(q)]


def _existing(store: Store, series_id: str, ids: Sequence[str] | None
              ) -> dict[str, tuple[int, str]]:
    query = select(ledger.c.key, ledger.c.id, ledger.c.state).where(
        ledger.c.series_id == series_id, ledger.c.kind.in_(AFTER_KINDS))
    queries = [query] if ids is None else [  # by the registration index, in chunks
        query.where(ledger.c.registration_id.in_(part)) for part in _chunks(ids)]
    with store.connect() as conn:
        return {row.key: (row.id, row.state) for q in queries for row in conn.execute(q)}


def plan_after_sessions(store: Store, series: Series, *, now: datetime, dry_run: bool = False,
                        registration_ids: Sequence[str] | None = None) -> int:
    """Queue the follow-ups and certificates now owed (see the module doc); how many new."""
    d = series.dispatch
    if d.followup is None and d.certificates is None:
        return 0
    states = session_states(store, series.id)
    known = [s for s in series.sessions
             if not s.cancelled and s.id in states and states[s.id].known]
    if not known:
        return 0
    people = _people(store, series.id, registration_ids)
    if not people:
        return 0
    report = attendance_report(store, series, registration_ids=registration_ids)
    plan = _Plan(series, now, _existing(store, series.id, registration_ids))
    if d.followup is not None:
        for session in known:
            _followups(plan, report, people, session, session.ends_at + d.followup.after)
    if d.certificates is not None:
        _certificates(plan, report, people, known, d.certificates.min_sessions)
    if not dry_run:
        _write(store, plan)
    return len(plan.inserts)


def _followups(plan: _Plan, report: AttendanceReport, people: list[_Reg], session: Session,
               due: datetime) -> None:
    for reg in people:
        person = report.person(reg.id)
        entry = person.sessions.get(session.id) if person is not None else None
        attended = entry is not None and entry.attended
        registered = person is not None and person.expected(session) \
            and reg.since < session.ends_at
        for channel in plan.series.dispatch.channels:
            if not reg.address(channel) or any(
                    plan.sent(reg.id, session.id, k, channel) for k in ("followup", "missed")):
                continue
            kind = "followup" if attended else ("missed" if registered else None)
            for other in ("followup", "missed"):
                if other != kind:
                    plan.drop(reg.id, session.id, other, channel)
            if kind is not None:
                plan.want(reg.id, session.id, kind, channel, due)


def _certificates(plan: _Plan, report: AttendanceReport, people: list[_Reg],
                  known: list[Session], min_sessions: int) -> None:
    last = max((s for s in plan.series.sessions if not s.cancelled), key=lambda s: s.start)
    if last not in known:
        return
    followup = plan.series.dispatch.followup
    due = last.ends_at + (followup.after if followup is not None else timedelta(0))
    for reg in people:
        person = report.person(reg.id)
        if person is not None and len(person.attended()) >= min_sessions:
            plan.want(reg.id, None, "certificate", "email", due)
        else:
            plan.drop(reg.id, None, "certificate", "email")


def _write(store: Store, plan: _Plan) -> None:
    if not plan.inserts and not plan.cancels:
        return
    module: Any = postgresql if store.dialect == "postgresql" else sqlite
    with store.begin() as conn:
        if plan.inserts:
            conn.execute(module.insert(ledger).on_conflict_do_nothing(index_elements=["key"]),
                         plan.inserts)
        if plan.cancels:
            conn.execute(update(ledger).where(ledger.c.id.in_(plan.cancels),
                                              ledger.c.state == "pending")
                         .values(state="cancelled", last_error="attendance changed",
                                 next_attempt_at=None))


class AfterSession:
    """What a dispatch run needs for these kinds: the sessions they list, the certificate."""

    def __init__(self, store: Store, series: Series, *, renderer: MessageRenderer) -> None:
        self.store, self.series, self.renderer = store, series, renderer
        self._maker: CertificateMaker | None = None

    def maker(self) -> CertificateMaker:
        """The run's certificate maker (attendance read once)."""
        if self._maker is None:
            from .certificates import CertificateMaker

            self._maker = CertificateMaker(self.store, self.series, renderer=self.renderer)
        return self._maker

    def sessions(self, kind: str, reg: RegistrationInfo, session: Session | None
                 ) -> list[Session]:
        """``missed``: the person's next session; ``certificate``: those they attended."""
        if kind == "certificate":
            return self.maker().attended(reg.id)
        later = [s for s in self.series.sessions
                 if session is not None and s.start > session.start and not s.cancelled
                 and (reg.sessions is None or s.id in reg.sessions)]
        return later[:1]

    def certificate_files(self, reg: RegistrationInfo) -> tuple[Attachment, ...] | None:
        """The certificate's PDF, or ``None`` when the person no longer qualifies."""
        from .transports.base import Attachment

        certificate = self.maker().make(reg.id)
        if certificate is None:
            return None
        return (Attachment(filename=certificate.file_name(), content_type="application/pdf",
                           data=certificate.pdf),)
