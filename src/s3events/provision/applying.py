"""Apply: carry out the plan on the platform, recording each step so a rerun carries on safely."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import SecretStr

from ..errors import ServiceError, StoreError
from ..models import Series
from ..platforms.base import Meeting, MeetingRequest, PlatformAdapter
from ..plugins import track_event
from ..store import Store
from .planning import AdapterFactory, PlanItem, attendance_callback, plan
from .state import (
    MeetingRow,
    active_values,
    compare_and_set,
    intent_values,
    state_secret,
    write_row,
)

__all__ = ["Progress", "apply"]

# One logger for all of provisioning, whichever module of it logs.
log = logging.getLogger("s3events.provision")

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
            request = item.request.model_copy(update={
                "secret": secret, "attendance_callback_url": attendance_callback(
                    series, item.session, item.request.generation, secret)})
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
        values = intent_values(self.adapter.name, request, item.row, now=self.now)
        if not compare_and_set(self.store, self.series_id, item.row, item.session, values):
            raise StoreError(
                f"session '{item.session}' was changed by another s3events provision run "
                "while this one was working; run it again")

    def _write_active(self, session_id: str, request: MeetingRequest, meeting: Meeting, *,
                      sequence: int) -> None:
        self._write(session_id, active_values(
            self.adapter.name, request, meeting,
            fingerprint=self.adapter.fingerprint(request), sequence=sequence))

    def _write(self, session_id: str, values: dict[str, Any]) -> None:
        write_row(self.store, self.series_id, session_id, {**values, "updated_at": self.now})

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


def _done(item: PlanItem, meeting: Meeting) -> PlanItem:
    return PlanItem(item.session, item.action, item.reason, item.step, item.request, item.row,
                    item.old_adapter, meeting.without_host_url())

