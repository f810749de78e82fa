"""Provisioning: plan and apply against a recording vendor stand-in and the state database."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from s3events.errors import ConfigurationError, PermissionDenied, RateLimited, StoreError
from s3events.hookspecs import hookimpl
from s3events.platforms.jitsi import JitsiAdapter
from s3events.plugins import get_plugin_manager
from s3events.provision import (
    apply,
    meeting_request,
    meeting_rows,
    meeting_sequence,
    plan,
    stored_meetings,
)
from s3events.store import Store
from tests.test_provision_fakes import (
    HOST_SECRET,
    NOW,
    FakeAdapter,
    FakePlatform,
    bound_adapter,
    make_series,
    series_data,
    shifted,
)

# Fixtures (a redundant alias marks them as used here):
from tests.test_provision_fakes import fake_adapter as fake_adapter
from tests.test_provision_fakes import fake_platform as fake_platform
from tests.test_provision_fakes import store as store


def actions(items: list[Any]) -> dict[str, str]:
    return {item.session: item.action for item in items}


def test_first_provision_creates_one_meeting_per_session(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    done = apply(series, fake_adapter, store, now=NOW)
    assert actions(done) == {"s1": "create", "s2": "create", "s3": "create"}
    assert fake_platform.sessions() == ["s1", "s2", "s3"]
    meetings = stored_meetings(store, series.id)
    assert sorted(meetings) == ["s1", "s2", "s3"]
    assert meetings["s1"].join_url.startswith("https://video.example.org/j/")
    assert meetings["s1"].passcode is not None
    assert meetings["s1"].passcode.get_secret_value() == "918273"
    assert meetings["s1"].host_url is None  # never stored
    assert all(item.meeting is not None and item.meeting.host_url is None for item in done)


def test_second_provision_makes_no_write_calls(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    apply(series, fake_adapter, store, now=NOW)
    writes = len(fake_platform.writes())
    rows = meeting_rows(store, series.id)
    second = apply(series, bound_adapter(fake_platform)(), store, now=NOW)
    assert actions(second) == {"s1": "unchanged", "s2": "unchanged", "s3": "unchanged"}
    assert len(fake_platform.writes()) == writes
    assert meeting_rows(store, series.id) == rows


def test_plan_makes_no_write_call_and_changes_no_state(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    items = plan(series, fake_adapter, store, now=NOW)
    assert [i.as_dict() for i in items] == [
        {"session": s, "action": "create", "reason": "new session"} for s in ("s1", "s2", "s3")
    ]
    assert fake_platform.calls == []
    assert meeting_rows(store, series.id) == {}


def test_moved_session_updates_its_meeting_and_bumps_the_sequence(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    data = shifted(series_data(), "s2", start="2021-11-05T16:00:00", end="2021-11-05T18:30:00")
    moved = make_series(tmp_path, sessions=data["sessions"])
    items = plan(moved, fake_adapter, store, now=NOW)
    assert actions(items)["s2"] == "update"
    assert items[1].reason == ("moved from 2021-11-04 17:00 Europe/Brussels to "
                               "2021-11-05 16:00 Europe/Brussels")
    before = len(fake_platform.writes())
    apply(moved, fake_adapter, store, now=NOW)
    assert fake_platform.writes()[before:] == [("update", "s2")]
    meeting = stored_meetings(store, moved.id)["s2"]
    assert meeting.start == datetime(2021, 11, 5, 15, 0, tzinfo=timezone.utc)
    assert meeting_sequence(store, moved.id, "s2") == 1
    assert meeting_sequence(store, moved.id, "s1") == 0
    assert actions(apply(moved, fake_adapter, store, now=NOW))["s2"] == "unchanged"


def test_title_change_updates_the_meeting_without_a_new_revision(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    data = shifted(series_data(), "s1", title={"en": "Renamed", "es": "Renombrada"})
    renamed = make_series(tmp_path, sessions=data["sessions"])
    items = apply(renamed, fake_adapter, store, now=NOW)
    assert actions(items)["s1"] == "update"
    assert [m["topic"] for m in fake_platform.meetings.values() if m["session"] == "s1"] == [
        "Renamed"]
    assert meeting_sequence(store, renamed.id, "s1") == 0


def test_cancelled_session_deletes_its_meeting_once(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    data = shifted(series_data(), "s3", status="cancelled")
    cancelled = make_series(tmp_path, sessions=data["sessions"])
    items = apply(cancelled, fake_adapter, store, now=NOW)
    assert items[2].as_dict() == {"session": "s3", "action": "delete",
                                  "reason": "session cancelled"}
    assert fake_platform.sessions() == ["s1", "s2"]
    assert "s3" not in stored_meetings(store, cancelled.id)
    assert meeting_rows(store, cancelled.id)["s3"].state == "deleted"
    assert meeting_sequence(store, cancelled.id, "s3") == 1
    writes = len(fake_platform.writes())
    again = apply(cancelled, fake_adapter, store, now=NOW)
    assert again[2].as_dict()["action"] == "skip"
    assert len(fake_platform.writes()) == writes


def test_rescheduled_session_gets_a_new_meeting_with_a_new_marker(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    first_marker = meeting_rows(store, "demo")["s3"].marker
    data = shifted(series_data(), "s3", status="cancelled")
    apply(make_series(tmp_path, sessions=data["sessions"]), fake_adapter, store, now=NOW)
    again = apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    assert actions(again)["s3"] == "create"
    row = meeting_rows(store, "demo")["s3"]
    assert row.state == "active" and row.marker != first_marker and row.generation == 1
    assert row.sequence == 2  # deleted (1), then a new link (2)


def test_meeting_deleted_on_the_platform_by_hand_is_recreated(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    apply(series, fake_adapter, store, now=NOW)
    old = stored_meetings(store, series.id)["s2"]
    del fake_platform.meetings[old.meeting_id]
    items = plan(series, fake_adapter, store, now=NOW)
    assert items[1].as_dict() == {"session": "s2", "action": "create",
                                  "reason": "the meeting was deleted on the platform"}
    apply(series, fake_adapter, store, now=NOW)
    new = stored_meetings(store, series.id)["s2"]
    assert new.meeting_id != old.meeting_id
    assert fake_platform.sessions() == ["s1", "s2", "s3"]
    assert meeting_sequence(store, series.id, "s2") == 1


def test_sessions_that_ended_are_left_alone(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    between = datetime(2021, 11, 1, tzinfo=timezone.utc)
    items = apply(series, fake_adapter, store, now=between)
    assert items[0].as_dict() == {"session": "s1", "action": "skip",
                                  "reason": "ended 2021-10-28 19:30 Europe/Brussels; left alone"}
    assert fake_platform.sessions() == ["s2", "s3"]
    data = shifted(series_data(), "s1", status="cancelled")
    cancelled_late = make_series(tmp_path, sessions=data["sessions"])
    assert actions(apply(cancelled_late, fake_adapter, store, now=between))["s1"] == "skip"


def test_ended_session_with_a_meeting_is_not_deleted_when_cancelled_afterwards(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    data = shifted(series_data(), "s1", status="cancelled")
    later = datetime(2021, 11, 1, tzinfo=timezone.utc)
    apply(make_series(tmp_path, sessions=data["sessions"]), fake_adapter, store, now=later)
    assert fake_platform.sessions() == ["s1", "s2", "s3"]
    assert meeting_rows(store, "demo")["s1"].state == "active"


def test_session_removed_from_the_file_has_its_meeting_deleted(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    shorter = make_series(tmp_path, sessions=series_data()["sessions"][:2])
    items = apply(shorter, fake_adapter, store, now=NOW)
    assert items[-1].as_dict() == {"session": "s3", "action": "delete",
                                   "reason": "no longer in the series file"}
    assert fake_platform.sessions() == ["s1", "s2"]
    assert [i.session for i in plan(shorter, fake_adapter, store, now=NOW)] == ["s1", "s2"]


def test_switching_platform_deletes_the_old_meeting_and_creates_the_new(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    on_jitsi = make_series(tmp_path, platform={"name": "jitsi"})
    jitsi = JitsiAdapter()
    items = plan(on_jitsi, jitsi, store, now=NOW, other_adapter=lambda name: fake_adapter)
    assert items[0].as_dict() == {
        "session": "s1", "action": "create",
        "reason": "platform changed from fakevendor to jitsi; the old fakevendor meeting is "
                  "deleted first"}
    apply(on_jitsi, jitsi, store, now=NOW, other_adapter=lambda name: fake_adapter)
    assert fake_platform.meetings == {}
    meetings = stored_meetings(store, on_jitsi.id)
    assert {m.platform for m in meetings.values()} == {"jitsi"}
    assert meeting_sequence(store, on_jitsi.id, "s1") == 1
    assert set(actions(apply(on_jitsi, jitsi, store, now=NOW)).values()) == {"unchanged"}


def test_switching_from_an_unconfigured_platform_says_the_old_meeting_stays(
    tmp_path: Path, fake_adapter: FakeAdapter, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    on_jitsi = make_series(tmp_path, platform={"name": "jitsi"})

    def unavailable(name: str) -> FakeAdapter:
        raise ConfigurationError(f"unknown platform '{name}'")

    items = plan(on_jitsi, JitsiAdapter(), store, now=NOW, other_adapter=unavailable)
    first = stored_meetings(store, "demo")["s1"].meeting_id
    assert items[0].action == "create"
    assert items[0].reason == (
        f"platform changed from fakevendor to jitsi; the old fakevendor meeting {first} "
        "stays: unknown platform 'fakevendor' — delete it by hand")


def test_meeting_requests_carry_the_series_language_zone_and_settings(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={"name": "fakevendor",
                                             "meeting": {"waiting_room": True}})
    data = shifted(series_data(), "s1", label={"en": "Day 1", "es": "Día 1"},
                   topics=[{"en": "Genesis", "es": "Génesis"}])
    series = make_series(tmp_path, sessions=data["sessions"],
                         platform={"name": "fakevendor", "meeting": {"waiting_room": True}})
    request = meeting_request(series, series.sessions[0])
    assert request.topic == "Day 1: First"
    assert request.agenda == "- Genesis"
    assert request.timezone == "Europe/Brussels"
    assert request.start == datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)
    assert request.duration == timedelta(hours=2, minutes=30)
    assert request.settings.waiting_room is True


def test_events_are_reported_to_observers_without_personal_data(
    tmp_path: Path, fake_adapter: FakeAdapter, store: Store
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    class Observer:
        @hookimpl
        def s3events_track_event(self, name: str, properties: dict[str, Any]) -> None:
            seen.append((name, dict(properties)))

    pm = get_plugin_manager()
    observer = Observer()
    pm.register(observer, name="observer-test")
    try:
        apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    finally:
        pm.unregister(observer)
    assert [name for name, _ in seen] == ["meeting.created"] * 3
    assert seen[0][1] == {"series": "demo", "session": "s1", "platform": "fakevendor",
                          "action": "create"}


def test_a_broken_observer_does_not_stop_provisioning(
    tmp_path: Path, fake_adapter: FakeAdapter, fake_platform: FakePlatform, store: Store,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Broken:
        @hookimpl
        def s3events_track_event(self, name: str, properties: dict[str, Any]) -> None:
            raise RuntimeError("observer down")

    pm = get_plugin_manager()
    broken = Broken()
    pm.register(broken, name="broken-observer-test")
    try:
        apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    finally:
        pm.unregister(broken)
    assert fake_platform.sessions() == ["s1", "s2", "s3"]
    assert "a plugin failed while observing event meeting.created" in caplog.text


def test_service_errors_name_the_session(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    apply(series, bound_adapter(fake_platform)(), store, now=NOW)
    data = shifted(series_data(), "s2", start="2021-11-05T16:00:00", end="2021-11-05T18:30:00")

    class Throttled(bound_adapter(fake_platform)):  # type: ignore[misc]
        def update_meeting(self, meeting: Any, request: Any) -> Any:
            raise RateLimited("fakevendor is rate limiting (HTTP 429)", service=self.name)

    with pytest.raises(RateLimited) as caught:
        apply(make_series(tmp_path, sessions=data["sessions"]), Throttled(), store, now=NOW)
    assert caught.value.session_id == "s2"
    assert str(caught.value) == "fakevendor is rate limiting (HTTP 429) [session s2]"


def test_plan_errors_reading_the_platform_name_the_session(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    apply(series, bound_adapter(fake_platform)(), store, now=NOW)

    class Forbidden(bound_adapter(fake_platform)):  # type: ignore[misc]
        def get_meeting(self, meeting_id: str) -> Any:
            raise PermissionDenied("fakevendor denied permission (HTTP 403)", service=self.name,
                                   hint="add the meeting:read scope")

    with pytest.raises(PermissionDenied) as caught:
        plan(series, Forbidden(), store, now=NOW)
    assert str(caught.value) == ("fakevendor denied permission (HTTP 403) [session s1] — add "
                                 "the meeting:read scope")


def test_concurrent_run_that_got_there_first_is_not_duplicated(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)
    cls = bound_adapter(fake_platform)
    raced = []

    def other_run(item: Any, done: int, total: int) -> None:
        if not raced:
            raced.append(True)
            apply(series, cls(), store, now=NOW)

    with pytest.raises(StoreError, match="session 's2' was changed by another"):
        apply(series, cls(), store, now=NOW, progress=other_run)
    assert fake_platform.sessions() == ["s1", "s2", "s3"]


def test_stored_meetings_of_another_series_are_separate(
    tmp_path: Path, fake_adapter: FakeAdapter, store: Store
) -> None:
    apply(make_series(tmp_path), fake_adapter, store, now=NOW)
    other = make_series(tmp_path, id="other")
    assert stored_meetings(store, "other") == {}
    assert actions(plan(other, fake_adapter, store, now=NOW)) == {
        "s1": "create", "s2": "create", "s3": "create"}
    assert HOST_SECRET not in repr(meeting_rows(store, "demo"))
