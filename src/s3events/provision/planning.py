"""The plan: per session, what provisioning would ask the platform for, and why (no writes).

:func:`plan` compares the series with the state rows and, for platforms that keep meetings,
with the platform itself (reads only); :func:`meeting_request` is what a session asks for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import SecretStr

from ..config import platform_choice
from ..errors import ConfigurationError, NotFound, PluginError, ServiceError
from ..i18n import localize
from ..models import Series, Session
from ..platforms.base import Meeting, MeetingRequest, PlatformAdapter
from ..plugins import platform_class
from ..store import Store
from .state import MeetingRow, meeting_rows

__all__ = [
    "Action",
    "AdapterFactory",
    "PlanItem",
    "Step",
    "attendance_callback",
    "load_adapter",
    "meeting_request",
    "plan",
]

Action = Literal["create", "update", "delete", "unchanged", "skip"]
Step = Literal["create", "reconcile", "update", "delete", "none"]
#: Returns an adapter for another platform (to delete meetings left there), or raises.
AdapterFactory = Callable[[str], PlatformAdapter]


def meeting_request(series: Series, session: Session, *, generation: int = 0,
                    secret: SecretStr | None = None,
                    base_url: str | None = None) -> MeetingRequest:
    """What to ask the platform for ``session``: texts in the series' default language.

    With the state ``secret`` and an event page (``base_url``, default the series'
    ``dispatch.base_url``), the request carries the signed address where the platform may
    post the session's attendance report.
    """
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
        attendance_callback_url=attendance_callback(series, session.id, generation, secret,
                                                    base_url=base_url),
    )


def attendance_callback(series: Series, session_id: str, generation: int,
                        secret: SecretStr | None, *, base_url: str | None = None,
                        ) -> SecretStr | None:
    """The signed address for the session's attendance report, or ``None`` without a page.

    ``base_url`` defaults to the series' ``dispatch.base_url``; without one, or without
    the state secret, there is none.
    """
    base_url = base_url or series.dispatch.base_url
    if secret is None or not base_url:
        return None
    from ..attendance.callback import callback_url

    return SecretStr(callback_url(base_url, secret, series.id, session_id, generation))


def load_adapter(series: Series, *, platform: str | None = None,
                 environ: Mapping[str, str] | None = None, **kwargs: Any) -> PlatformAdapter:
    """The adapter for the series' platform (or ``platform``), options resolved.

    The series file's options apply only when ``platform`` is the one the file names; the
    environment (``S3EVENTS_<PLATFORM>_<OPTION>``) wins over the file.
    """
    name, options = platform_choice(series.platform, platform)
    return platform_class(name).from_options(options, environ=environ, **kwargs)


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

