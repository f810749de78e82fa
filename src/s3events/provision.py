"""Provisioning as plan and apply: one meeting per session, safe to repeat and to interrupt.

:func:`plan` compares the series with the state database (table ``s3e_meetings``) and, for
platforms that keep meetings, with the platform itself (reads only), and says per session
what :func:`apply` would do: ``create``, ``update``, ``delete``, ``unchanged`` or ``skip``,
with the reason. :func:`apply` does it. Running it twice makes no second write call.

Crash safety: before asking the platform to create a meeting, :func:`apply` writes an
*intent* row carrying the meeting's marker. A run that finds an intent row finishes the
create: adapters with ``idempotent_create`` are simply asked again (the same marker gives
the same meeting); the others are asked :meth:`~s3events.platforms.base.PlatformAdapter.
find_meeting` first, and what they find is adopted instead of creating a second meeting.
Updates and deletes are safe to repeat as they are.

Each row has a ``sequence``: 0 when the meeting is first made, bumped when the session's
time or join link changes and when its meeting is deleted. The dispatch side uses it as the
message revision and the calendar SEQUENCE; read it with :func:`meeting_rows`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import SecretStr
from sqlalchemy import select

from .config import platform_choice
from .errors import ConfigurationError, NotFound, PluginError, ServiceError, StoreError
from .i18n import localize
from .models import Series, Session
from .platforms.base import DialIn, Meeting, MeetingRequest, PlatformAdapter
from .plugins import platform_class, track_event
from .store import Store, meta
from .store import meetings as meetings_table

__all__ = [
    "Action",
    "MeetingRow",
    "PlanItem",
    "apply",
    "load_adapter",
    "meeting_request",
    "meeting_rows",
    "meeting_sequence",
    "plan",
    "state_secret",
    "stored_meetings",
]

log = logging.getLogger(__name__)

Action = Literal["create", "update", "delete", "unchanged", "skip"]
RowState = Literal["intent", "active", "deleted"]
#: Returns an adapter for another platform (to delete meetings left there), or raises.
AdapterFactory = Callable[[str], PlatformAdapter]

_SECRET_KEY = "state_secret"  # noqa: S105 - the name of a row, not a password


# -- the state rows ----------------------------------------------------------------------
@dataclass(frozen=True)
class MeetingRow:
    """One session's row in the state database.

    ``state`` is ``intent`` (a create was started and may have happened), ``active`` or
    ``deleted``. ``meeting`` is set for active rows (never with a host URL: it is not
    stored). ``sequence`` is the revision of the session's meeting (see the module doc).
    """

    series_id: str
    session_id: str
    platform: str
    state: RowState
    marker: str
    generation: int
    sequence: int
    fingerprint: str | None
    start: datetime | None
    duration: timedelta | None
    join_url: str | None
    topic: str | None
    meeting: Meeting | None = field(repr=False)

    @property
    def end(self) -> datetime | None:
        """When the session recorded in the row ends."""
        if self.start is None or self.duration is None:
            return None
        return self.start + self.duration


def _row(record: Any) -> MeetingRow:
    data = dict(record.data or {})
    start, seconds = record.start_utc, record.duration_s
    duration = timedelta(seconds=seconds) if seconds is not None else None
    meeting = None
    if record.state == "active" and record.meeting_id is not None:
        meeting = Meeting(
            platform=record.platform, meeting_id=record.meeting_id,
            join_url=record.join_url or "",
            passcode=SecretStr(record.passcode) if record.passcode else None,
            dial_in=[DialIn.model_validate(d) for d in record.dial_in or []],
            start=start, duration=duration, topic=data.get("topic"), marker=record.marker,
            per_participant_links=bool(data.get("per_participant_links")),
            extra=dict(data.get("extra") or {}),
        )
    return MeetingRow(
        series_id=record.series_id, session_id=record.session_id, platform=record.platform,
        state=record.state, marker=record.marker, generation=int(data.get("generation", 0)),
        sequence=record.sequence, fingerprint=record.fingerprint, start=start,
        duration=duration, join_url=record.join_url, topic=data.get("topic"), meeting=meeting,
    )


def meeting_rows(store: Store, series_id: str) -> dict[str, MeetingRow]:
    """Every session's row for ``series_id`` (any state), by session id."""
    query = select(meetings_table).where(meetings_table.c.series_id == series_id)
    with store.connect() as conn:
        return {r.session_id: _row(r) for r in conn.execute(query)}


def stored_meetings(store: Store, series_id: str) -> dict[str, Meeting]:
    """The meeting of every session that has one, by session id (no host URLs)."""
    rows = meeting_rows(store, series_id).values()
    return {row.session_id: row.meeting for row in rows if row.meeting is not None}


def meeting_sequence(store: Store, series_id: str, session_id: str) -> int:
    """The sequence (revision) of a session's meeting; 0 when it has none yet."""
    row = meeting_rows(store, series_id).get(session_id)
    return row.sequence if row is not None else 0


def state_secret(store: Store, *, create: bool = False) -> SecretStr | None:
    """The state database's random secret (jitsi room names), made on first use.

    Every run and machine that shares the state database gets the same secret. With
    ``create`` false a missing secret gives ``None`` (nothing is written).
    """
    query = select(meta.c.value).where(meta.c.key == _SECRET_KEY)
    with store.connect() as conn:
        value = conn.execute(query).scalar()
    if value is None and create:
        try:
            with store.begin() as conn:
                conn.execute(meta.insert().values(key=_SECRET_KEY,
                                                  value=secrets.token_urlsafe(32)))
        except StoreError:  # another process made it first
            pass
        return state_secret(store)
    return SecretStr(value) if value is not None else None


def _compare_and_set(store: Store, series_id: str, expected: MeetingRow | None,
                     session_id: str, values: dict[str, Any]) -> bool:
    """Write the row only if it is still as ``expected`` (absent when ``None``); atomic."""
    table = meetings_table
    key = (table.c.series_id == series_id) & (table.c.session_id == session_id)
    try:
        with store.begin() as conn:
            if expected is None:
                conn.execute(table.insert().values(series_id=series_id, session_id=session_id,
                                                   created_at=values["updated_at"], **values))
                return True
            same = (key & (table.c.state == expected.state) & (table.c.marker == expected.marker)
                    & (table.c.sequence == expected.sequence))
            return conn.execute(table.update().where(same).values(**values)).rowcount == 1
    except StoreError:  # the insert met a row another run wrote
        return False


def _write(store: Store, series_id: str, session_id: str, values: dict[str, Any]) -> None:
    key = (meetings_table.c.series_id == series_id) & (meetings_table.c.session_id == session_id)
    with store.begin() as conn:
        if conn.execute(meetings_table.update().where(key).values(**values)).rowcount == 0:
            conn.execute(meetings_table.insert().values(
                series_id=series_id, session_id=session_id, created_at=values["updated_at"],
                **values))


# -- requests ----------------------------------------------------------------------------
def meeting_request(series: Series, session: Session, *, generation: int = 0,
                    secret: SecretStr | None = None) -> MeetingRequest:
    """What to ask the platform for ``session``: texts in the series' default language."""
    lang = series.default_language
    title = series.text(session.title, lang)
    label = series.text(session.label, lang) if session.label else ""
    agenda = "\n".join(f"- {localize(t, lang, lang)}" for t in session.topics)
    assert session.end is not None  # set for every session by Series validation
    return MeetingRequest(
        series_id=series.id, session_id=session.id,
        topic=f"{label}: {title}" if label else title,
        start=session.start, timezone=series.timezone, duration=session.end - session.start,
        agenda=agenda, language=lang, settings=series.platform.meeting,
        join_url=session.join_url, passcode=session.passcode,
        generation=generation, secret=secret,
    )


def load_adapter(series: Series, *, platform: str | None = None,
                 environ: Mapping[str, str] | None = None, **kwargs: Any) -> PlatformAdapter:
    """The adapter for the series' platform (or ``platform``), options resolved.

    The series file's options apply only when ``platform`` is the one the file names; the
    environment (``S3EVENTS_<PLATFORM>_<OPTION>``) wins over the file.
    """
    name, options = platform_choice(series.platform, platform)
    return platform_class(name).from_options(options, environ=environ, **kwargs)


# -- the plan ----------------------------------------------------------------------------
Step = Literal["create", "reconcile", "update", "delete", "none"]


@dataclass(frozen=True)
class PlanItem:
    """What provisioning does (or did) for one session, and why.

    ``session``, ``action`` and ``reason`` are the public part (:meth:`as_dict`); the rest
    is what :func:`apply` needs. ``meeting`` is set on items :func:`apply` returns.
    """

    session: str
    action: Action
    reason: str
    step: Step = "none"
    request: MeetingRequest | None = field(default=None, repr=False, compare=False)
    row: MeetingRow | None = field(default=None, repr=False, compare=False)
    old_adapter: PlatformAdapter | None = field(default=None, repr=False, compare=False)
    meeting: Meeting | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, str]:
        """``{"session": …, "action": …, "reason": …}`` (the ``plan --json`` shape)."""
        return {"session": self.session, "action": self.action, "reason": self.reason}


@dataclass
class _Context:
    series: Series
    adapter: PlatformAdapter
    now: datetime
    other: AdapterFactory
    rows: dict[str, MeetingRow]


def _when(moment: datetime, series: Series) -> str:
    return f"{moment.astimezone(series.zone):%Y-%m-%d %H:%M} {series.timezone}"


def plan(series: Series, adapter: PlatformAdapter, store: Store, *, now: datetime,
         other_adapter: AdapterFactory | None = None) -> list[PlanItem]:
    """Per session, what :func:`apply` would do and why. Makes no write call anywhere.

    Platforms that keep meetings (``stores_meetings``) are read with ``get_meeting`` to
    find meetings deleted there by hand. ``other_adapter(name)`` builds the adapter of a
    platform the series used before (to delete its meetings); by default from the series
    file and the environment.
    """
    ctx = _Context(series, adapter, now, other_adapter or _factory(series),
                   meeting_rows(store, series.id))
    items = [_plan_session(ctx, session) for session in series.sessions]
    known = {s.id for s in series.sessions}
    for session_id in sorted(set(ctx.rows) - known):
        item = _plan_removed(ctx, ctx.rows[session_id])
        if item is not None:
            items.append(item)
    return items


def _factory(series: Series) -> AdapterFactory:
    return lambda name: load_adapter(series, platform=name)


def _plan_session(ctx: _Context, session: Session) -> PlanItem:
    row = ctx.rows.get(session.id)
    assert session.end is not None
    if session.end <= ctx.now:
        return PlanItem(session.id, "skip", f"ended {_when(session.end, ctx.series)}; "
                        "left alone")
    if session.cancelled:
        return _plan_cancelled(ctx, session, row)
    if row is None or row.state == "deleted":
        return _plan_create(ctx, session, row, "new session" if row is None else
                            "session scheduled again after its meeting was deleted")
    if row.platform != ctx.adapter.name:
        return _plan_switch(ctx, session, row)
    if row.state == "intent":
        return _item(ctx, session, row, "create", "reconcile",
                     "finish a create that was interrupted (the meeting is looked up first)",
                     generation=row.generation)
    return _plan_active(ctx, session, row)


def _item(ctx: _Context, session: Session, row: MeetingRow | None, action: Action, step: Step,
          reason: str, *, generation: int, old: PlatformAdapter | None = None) -> PlanItem:
    request = meeting_request(ctx.series, session, generation=generation)
    if step in ("create", "reconcile", "update"):
        ctx.adapter.validate_request(request)
    return PlanItem(session.id, action, reason, step, request, row, old)


def _plan_create(ctx: _Context, session: Session, row: MeetingRow | None,
                 reason: str) -> PlanItem:
    generation = row.generation + 1 if row is not None else 0
    return _item(ctx, session, row, "create", "create", reason, generation=generation)


def _plan_cancelled(ctx: _Context, session: Session, row: MeetingRow | None) -> PlanItem:
    if row is None or row.state == "deleted":
        return PlanItem(session.id, "skip", "cancelled; it has no meeting")
    old = _adapter_for(ctx, row.platform)
    if isinstance(old, str):
        raise ConfigurationError(f"session '{session.id}' is cancelled but its {row.platform} "
                                 f"meeting cannot be deleted: {old}")
    reason = "session cancelled"
    if row.state == "intent":
        reason += " (an interrupted create is looked up and removed)"
    return _item(ctx, session, row, "delete", "delete", reason, generation=row.generation,
                 old=old)


def _adapter_for(ctx: _Context, name: str) -> PlatformAdapter | str:
    """The adapter for platform ``name``, or why there is none."""
    if name == ctx.adapter.name:
        return ctx.adapter
    try:
        return ctx.other(name)
    except (ConfigurationError, PluginError) as exc:
        return str(exc).splitlines()[0]


def _plan_switch(ctx: _Context, session: Session, row: MeetingRow) -> PlanItem:
    old = _adapter_for(ctx, row.platform)
    what = f"platform changed from {row.platform} to {ctx.adapter.name}"
    if isinstance(old, str):
        which = row.meeting.meeting_id if row.meeting is not None else "(unfinished)"
        reason = (f"{what}; the old {row.platform} meeting {which} stays: {old} — delete "
                  "it by hand")
        return _item(ctx, session, row, "create", "create", reason,
                     generation=row.generation + 1)
    reason = f"{what}; the old {row.platform} meeting is deleted first"
    return _item(ctx, session, row, "create", "create", reason,
                 generation=row.generation + 1, old=old)


def _plan_active(ctx: _Context, session: Session, row: MeetingRow) -> PlanItem:
    assert row.meeting is not None
    if ctx.adapter.stores_meetings and _gone(ctx.adapter, row.meeting, session.id):
        return _plan_create(ctx, session, row, "the meeting was deleted on the platform")
    item = _item(ctx, session, row, "update", "update", "", generation=row.generation)
    assert item.request is not None
    if ctx.adapter.fingerprint(item.request) == row.fingerprint:
        return PlanItem(session.id, "unchanged", "meeting up to date")
    return PlanItem(session.id, "update", _changes(ctx, session, row), "update",
                    item.request, row)


def _gone(adapter: PlatformAdapter, meeting: Meeting, session_id: str) -> bool:
    """True when the platform no longer has ``meeting`` (deleted there by hand)."""
    try:
        return adapter.get_meeting(meeting.meeting_id) is None
    except NotFound:
        return True
    except ServiceError as exc:
        exc.session_id = exc.session_id or session_id
        raise


def _changes(ctx: _Context, session: Session, row: MeetingRow) -> str:
    assert session.end is not None
    if row.start != session.start:
        old = _when(row.start, ctx.series) if row.start else "unknown"
        return f"moved from {old} to {_when(session.start, ctx.series)}"
    if row.duration != session.end - session.start:
        return f"now ends {_when(session.end, ctx.series)}"
    return "title, agenda, meeting settings or platform options changed"


def _plan_removed(ctx: _Context, row: MeetingRow) -> PlanItem | None:
    if row.state == "deleted":
        return None
    if row.end is not None and row.end <= ctx.now:
        return PlanItem(row.session_id, "skip", "no longer in the series file; ended, left "
                        "alone")
    old = _adapter_for(ctx, row.platform)
    if isinstance(old, str):
        raise ConfigurationError(f"session '{row.session_id}' is no longer in the series file "
                                 f"but its {row.platform} meeting cannot be deleted: {old}")
    return PlanItem(row.session_id, "delete", "no longer in the series file", "delete",
                    None, row, old)


# -- apply -------------------------------------------------------------------------------
#: Called after each item with the item done, how many are done, and how many there are.
Progress = Callable[[PlanItem, int, int], None]


def apply(series: Series, adapter: PlatformAdapter, store: Store, *, now: datetime,
          progress: Progress | None = None,
          other_adapter: AdapterFactory | None = None) -> list[PlanItem]:
    """Make the platform match the series: plan, then carry out each item in order.

    ``progress(item, done, total)`` is called after each item (``item.meeting`` is set for
    created and updated meetings; never with a host URL). The first failure stops the run,
    with the session id on the error; running again carries on safely.
    """
    items = plan(series, adapter, store, now=now, other_adapter=other_adapter)
    secret = state_secret(store, create=any(i.step in ("create", "reconcile") for i in items))
    done: list[PlanItem] = []
    for item in items:
        done.append(_apply_item(series, adapter, store, item, now=now, secret=secret))
        if progress is not None:
            progress(done[-1], len(done), len(items))
    return done


def _apply_item(series: Series, adapter: PlatformAdapter, store: Store, item: PlanItem, *,
                now: datetime, secret: SecretStr | None) -> PlanItem:
    ctx = _Apply(series.id, adapter, store, now)
    try:
        if item.step in ("create", "reconcile"):
            assert item.request is not None
            request = item.request.model_copy(update={"secret": secret})
            return ctx.create(item, request)
        if item.step == "update":
            return ctx.update(item)
        if item.step == "delete":
            request = (item.request or _row_request(series, item)).model_copy(
                update={"secret": secret})
            return ctx.delete(item, request)
    except ServiceError as exc:
        if exc.session_id is None:
            exc.session_id = item.session
        raise
    return item


@dataclass
class _Apply:
    series_id: str
    adapter: PlatformAdapter
    store: Store
    now: datetime

    def create(self, item: PlanItem, request: MeetingRequest) -> PlanItem:
        row = item.row
        if item.old_adapter is not None and row is not None:
            self._remove(item.old_adapter, row, request)
            self._event("meeting.deleted", item, item.old_adapter.name)
        if item.step == "reconcile":
            meeting, adopted = self._reconcile(request), True
        else:
            self._write_intent(item, request)
            meeting, adopted = self.adapter.create_meeting(request), False
        sequence = self._sequence_after_create(row, meeting)
        self._write_active(item.session, request, meeting, sequence=sequence)
        self._event("meeting.adopted" if adopted else "meeting.created", item, self.adapter.name)
        return _done(item, meeting)

    def _reconcile(self, request: MeetingRequest) -> Meeting:
        if self.adapter.idempotent_create:
            return self.adapter.create_meeting(request)
        found = self.adapter.find_meeting(request)
        if found is None:
            return self.adapter.create_meeting(request)
        log.info("adopting meeting %s found by its marker", found.meeting_id)
        if found.start is not None and (found.start, found.duration) != (
                request.start, request.duration):
            return self.adapter.update_meeting(found, request)
        return found

    @staticmethod
    def _sequence_after_create(row: MeetingRow | None, meeting: Meeting) -> int:
        if row is None:
            return 0
        changed = row.join_url is not None and row.join_url != meeting.join_url
        return row.sequence + 1 if changed else row.sequence

    def update(self, item: PlanItem) -> PlanItem:
        row, request = item.row, item.request
        assert row is not None and row.meeting is not None and request is not None
        meeting = self.adapter.update_meeting(row.meeting, request)
        moved = (row.start, row.duration) != (request.start, request.duration)
        relinked = meeting.join_url != row.join_url
        sequence = row.sequence + 1 if moved or relinked else row.sequence
        self._write_active(item.session, request, meeting, sequence=sequence)
        self._event("meeting.updated", item, self.adapter.name)
        return _done(item, meeting)

    def delete(self, item: PlanItem, request: MeetingRequest) -> PlanItem:
        row, adapter = item.row, item.old_adapter or self.adapter
        assert row is not None
        self._remove(adapter, row, request)
        self._write(item.session, {"state": "deleted", "sequence": row.sequence + 1})
        self._event("meeting.deleted", item, adapter.name)
        return item

    @staticmethod
    def _remove(adapter: PlatformAdapter, row: MeetingRow, request: MeetingRequest) -> None:
        """Delete the row's meeting; for an intent row, the one its marker finds."""
        meeting = row.meeting
        if row.state == "intent":
            meeting = adapter.find_meeting(request.model_copy(
                update={"generation": row.generation}))
        if meeting is not None:
            adapter.delete_meeting(meeting)

    def _write_intent(self, item: PlanItem, request: MeetingRequest) -> None:
        """Record that a create starts, unless another run changed the row since the plan."""
        row = item.row
        values: dict[str, Any] = {
            "platform": self.adapter.name, "state": "intent", "marker": request.marker,
            "meeting_id": None, "passcode": None, "dial_in": [], "fingerprint": None,
            "data": {"generation": request.generation, "topic": request.topic},
            "join_url": row.join_url if row is not None else None,
            "sequence": row.sequence if row is not None else 0,
            "start_utc": request.start, "duration_s": _seconds(request.duration),
            "updated_at": self.now,
        }
        if not _compare_and_set(self.store, self.series_id, row, item.session, values):
            raise StoreError(
                f"session '{item.session}' was changed by another s3events provision run "
                "while this one was working; run it again")

    def _write_active(self, session_id: str, request: MeetingRequest, meeting: Meeting, *,
                      sequence: int) -> None:
        passcode = meeting.passcode.get_secret_value() if meeting.passcode else None
        self._write(session_id, {
            "platform": self.adapter.name, "state": "active", "marker": request.marker,
            "meeting_id": meeting.meeting_id, "join_url": meeting.join_url,
            "passcode": passcode, "dial_in": [d.model_dump() for d in meeting.dial_in],
            "data": {"generation": request.generation, "topic": request.topic,
                     "per_participant_links": meeting.per_participant_links,
                     "extra": meeting.extra},
            "fingerprint": self.adapter.fingerprint(request), "sequence": sequence,
            "start_utc": request.start, "duration_s": _seconds(request.duration),
        })

    def _write(self, session_id: str, values: dict[str, Any]) -> None:
        _write(self.store, self.series_id, session_id, {**values, "updated_at": self.now})

    def _event(self, name: str, item: PlanItem, platform: str) -> None:
        track_event(name, series=self.series_id, session=item.session, platform=platform,
                    action=item.action)


def _row_request(series: Series, item: PlanItem) -> MeetingRequest:
    """A request rebuilt from the row of a session no longer in the series file."""
    row = item.row
    assert row is not None and row.start is not None and row.duration is not None
    return MeetingRequest(
        series_id=series.id, session_id=row.session_id, topic=row.topic or row.session_id,
        start=row.start, timezone=series.timezone, duration=row.duration,
        language=series.default_language, generation=row.generation,
    )


def _seconds(duration: timedelta) -> int:
    return int(duration.total_seconds())


def _done(item: PlanItem, meeting: Meeting) -> PlanItem:
    return PlanItem(item.session, item.action, item.reason, item.step, item.request, item.row,
                    item.old_adapter, meeting.without_host_url())

