"""A recording stand-in for a video platform vendor, shared by the provisioning tests.

:class:`FakePlatform` is the vendor's side (its meetings, every call made to it, and
switches that make it fail at a chosen step); :class:`FakeAdapter` is a real
:class:`~s3events.platforms.base.PlatformAdapter` talking to it. Nothing of s3events is
replaced: provisioning runs as it does against a real vendor.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from s3events.errors import NotFound
from s3events.hookspecs import hookimpl
from s3events.loading import load_series
from s3events.models import Series
from s3events.platforms.base import Meeting, MeetingRequest, PlatformAdapter
from s3events.plugins import get_plugin_manager
from s3events.store import Store, open_store
from tests.fixtures.series import minimal_series_data

NOW = datetime(2021, 10, 1, tzinfo=timezone.utc)
HOST_SECRET = "zak-HOSTSECRET-4f1c"
WRITES = ("create", "update", "delete")


class Crash(Exception):
    """Stands for the process dying at a chosen step."""


@dataclass
class FakePlatform:
    """The vendor: meetings by id, a log of calls, and where to crash."""

    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    crash_before: set[str] = field(default_factory=set)  # "create:s1", "update:s1" …
    crash_after: set[str] = field(default_factory=set)
    next_id: int = 1000

    def writes(self) -> list[tuple[str, str]]:
        """The write calls made so far: (method, session id)."""
        return [call for call in self.calls if call[0] in WRITES]

    def by_marker(self, marker: str) -> list[dict[str, Any]]:
        """Every meeting carrying ``marker`` (more than one would be a duplicate)."""
        return [m for m in self.meetings.values() if m["marker"] == marker]

    def sessions(self) -> list[str]:
        """The session of every meeting on the platform, sorted (duplicates show twice)."""
        return sorted(m["session"] for m in self.meetings.values())

    def step(self, when: str, method: str, session: str) -> None:
        """Raise :class:`Crash` if told to at this step."""
        switches = self.crash_before if when == "before" else self.crash_after
        if f"{method}:{session}" in switches:
            switches.discard(f"{method}:{session}")
            raise Crash(f"crash {when} {method} of {session}")


class FakeAdapter(PlatformAdapter):
    """A platform adapter for :class:`FakePlatform`: not idempotent, finds by marker."""

    name: ClassVar[str] = "fakevendor"
    platform: ClassVar[FakePlatform]

    def _meeting(self, record: dict[str, Any]) -> Meeting:
        return Meeting(
            platform=self.name, meeting_id=record["id"],
            join_url=f"https://video.example.org/j/{record['id']}",
            host_url=SecretStr(f"https://video.example.org/s/{record['id']}?{HOST_SECRET}"),
            passcode=SecretStr("918273"), start=record["start"],
            duration=record["duration"], topic=record["topic"], marker=record["marker"],
        )

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        p = self.platform
        p.calls.append(("create", request.session_id))
        p.step("before", "create", request.session_id)
        p.next_id += 1
        record = {"id": str(p.next_id), "marker": request.marker, "session": request.session_id,
                  "start": request.start, "duration": request.duration, "topic": request.topic}
        p.meetings[record["id"]] = record
        p.step("after", "create", request.session_id)
        return self._meeting(record)

    def update_meeting(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        p = self.platform
        p.calls.append(("update", request.session_id))
        p.step("before", "update", request.session_id)
        record = p.meetings.get(meeting.meeting_id)
        if record is None:
            raise NotFound("no such meeting", service=self.name, status=404)
        record.update(start=request.start, duration=request.duration, topic=request.topic)
        p.step("after", "update", request.session_id)
        return self._meeting(record)

    def delete_meeting(self, meeting: Meeting) -> None:
        p = self.platform
        session = (p.meetings.get(meeting.meeting_id) or {}).get("session", "?")
        p.calls.append(("delete", session))
        p.step("before", "delete", session)
        p.meetings.pop(meeting.meeting_id, None)
        p.step("after", "delete", session)

    def get_meeting(self, meeting_id: str) -> Meeting | None:
        self.platform.calls.append(("get", meeting_id))
        record = self.platform.meetings.get(meeting_id)
        return self._meeting(record) if record else None

    def find_meeting(self, request: MeetingRequest) -> Meeting | None:
        self.platform.calls.append(("find", request.session_id))
        found = self.platform.by_marker(request.marker)
        return self._meeting(found[0]) if found else None


def bound_adapter(platform: FakePlatform) -> type[FakeAdapter]:
    """A :class:`FakeAdapter` class talking to ``platform``."""
    return type("BoundFakeAdapter", (FakeAdapter,), {"platform": platform})


@pytest.fixture
def fake_platform() -> FakePlatform:
    """A fresh fake vendor."""
    return FakePlatform()


@pytest.fixture
def fake_adapter(fake_platform: FakePlatform) -> FakeAdapter:
    """An adapter for the fake vendor."""
    return bound_adapter(fake_platform)()


@pytest.fixture
def registered_fake(fake_platform: FakePlatform) -> Iterator[FakePlatform]:
    """The fake vendor, installed as platform ``fakevendor`` in the process's plugins."""
    cls = bound_adapter(fake_platform)

    class Plugin:
        @hookimpl
        def s3events_register_platforms(self) -> list[type[PlatformAdapter]]:
            return [cls]

    pm = get_plugin_manager()
    plugin = Plugin()
    pm.register(plugin, name="fakevendor-test")
    try:
        yield fake_platform
    finally:
        pm.unregister(plugin)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh state database."""
    opened = open_store(tmp_path / "state.db")
    yield opened
    opened.close()


def series_data(**overrides: Any) -> dict[str, Any]:
    """The small test series on the fake vendor, with three sessions."""
    data = minimal_series_data(**overrides)
    if "sessions" not in overrides:
        data["sessions"].append({"id": "s3", "title": {"en": "Third", "es": "Tercera"},
                                 "start": "2021-11-11T17:00:00", "end": "2021-11-11T19:30:00"})
    data.setdefault("platform", {"name": "fakevendor"})
    return data


def make_series(tmp_path: Path, **overrides: Any) -> Series:
    """Write :func:`series_data` (changed by ``overrides``) and load it."""
    import yaml

    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(series_data(**overrides), sort_keys=False), encoding="utf-8")
    return load_series(path)


def shifted(data: dict[str, Any], session: str, **changes: Any) -> dict[str, Any]:
    """``data`` with the session ``session`` changed."""
    sessions = [dict(s, **changes) if s["id"] == session else s for s in data["sessions"]]
    return dict(data, sessions=sessions)


ONE_WEEK = timedelta(days=7)
