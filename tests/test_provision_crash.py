"""Kill-and-rerun: an interrupted provisioning run, run again, never leaves a duplicate meeting.

In-process, a crash is an exception the vendor stand-in raises at a chosen step (before or
after its create, update or delete) or the progress callback raises (after the state
write). Out of process, ``s3events provision`` is killed with SIGKILL between the vendor's
create and the state write, or just after the intent write.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from s3events.platforms.base import Meeting, MeetingRequest
from s3events.plugins import DISABLE_VARIABLE
from s3events.provision import apply, meeting_rows, meeting_sequence, stored_meetings
from s3events.store import Store, open_store
from tests.test_provision_fakes import (
    NOW,
    Crash,
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


def assert_one_meeting_per_session(platform: FakePlatform, store: Store) -> None:
    assert platform.sessions() == ["s1", "s2", "s3"]
    for session, meeting in stored_meetings(store, "demo").items():
        assert platform.meetings[meeting.meeting_id]["session"] == session


@pytest.mark.parametrize("switch", ["crash_before", "crash_after"])
def test_create_interrupted_at_the_platform_is_finished_without_a_duplicate(
    tmp_path: Path, fake_platform: FakePlatform, store: Store, switch: str
) -> None:
    series = make_series(tmp_path)
    getattr(fake_platform, switch).add("create:s2")
    with pytest.raises(Crash):
        apply(series, bound_adapter(fake_platform)(), store, now=NOW)
    assert meeting_rows(store, "demo")["s2"].state == "intent"
    fake_platform.calls.clear()
    done = apply(series, bound_adapter(fake_platform)(), store, now=NOW)
    assert_one_meeting_per_session(fake_platform, store)
    assert done[1].reason == ("finish a create that was interrupted (the meeting is looked up "
                              "first)")
    created_again = [c for c in fake_platform.writes() if c == ("create", "s2")]
    assert created_again == ([] if switch == "crash_after" else [("create", "s2")])
    assert ("find", "s2") in fake_platform.calls


def test_crash_after_the_state_write_leaves_nothing_to_do_for_that_session(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    series = make_series(tmp_path)

    def die_after_s2(item: Any, done: int, total: int) -> None:
        if item.session == "s2":
            raise Crash("after the state write of s2")

    with pytest.raises(Crash):
        apply(series, bound_adapter(fake_platform)(), store, now=NOW, progress=die_after_s2)
    done = apply(series, bound_adapter(fake_platform)(), store, now=NOW)
    assert [i.action for i in done] == ["unchanged", "unchanged", "create"]
    assert_one_meeting_per_session(fake_platform, store)


def test_update_interrupted_after_the_platform_call_bumps_the_sequence_once(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), bound_adapter(fake_platform)(), store, now=NOW)
    data = shifted(series_data(), "s2", start="2021-11-05T16:00:00", end="2021-11-05T18:30:00")
    moved = make_series(tmp_path, sessions=data["sessions"])
    fake_platform.crash_after.add("update:s2")
    with pytest.raises(Crash):
        apply(moved, bound_adapter(fake_platform)(), store, now=NOW)
    assert meeting_sequence(store, "demo", "s2") == 0
    done = apply(moved, bound_adapter(fake_platform)(), store, now=NOW)
    assert done[1].action == "update"
    assert meeting_sequence(store, "demo", "s2") == 1
    assert_one_meeting_per_session(fake_platform, store)


def test_delete_interrupted_after_the_platform_call_is_finished(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    apply(make_series(tmp_path), bound_adapter(fake_platform)(), store, now=NOW)
    data = shifted(series_data(), "s3", status="cancelled")
    cancelled = make_series(tmp_path, sessions=data["sessions"])
    fake_platform.crash_after.add("delete:s3")
    with pytest.raises(Crash):
        apply(cancelled, bound_adapter(fake_platform)(), store, now=NOW)
    apply(cancelled, bound_adapter(fake_platform)(), store, now=NOW)
    assert fake_platform.sessions() == ["s1", "s2"]
    row = meeting_rows(store, "demo")["s3"]
    assert (row.state, row.sequence) == ("deleted", 1)


def test_interrupted_create_of_a_session_cancelled_meanwhile_is_removed(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    fake_platform.crash_after.add("create:s3")
    with pytest.raises(Crash):
        apply(make_series(tmp_path), bound_adapter(fake_platform)(), store, now=NOW)
    data = shifted(series_data(), "s3", status="cancelled")
    done = apply(make_series(tmp_path, sessions=data["sessions"]),
                 bound_adapter(fake_platform)(), store, now=NOW)
    assert done[2].action == "delete"
    assert fake_platform.sessions() == ["s1", "s2"]


def test_interrupted_platform_switch_is_finished_without_a_leftover(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    old = bound_adapter(fake_platform)()
    apply(make_series(tmp_path), old, store, now=NOW)
    other = FakePlatform(next_id=5000)
    new_cls = type("OtherVendor", (bound_adapter(other),), {"name": "othervendor"})
    other.crash_after.add("create:s1")
    target = make_series(tmp_path, platform={"name": "othervendor"})
    with pytest.raises(Crash):
        apply(target, new_cls(), store, now=NOW, other_adapter=lambda name: old)
    apply(target, new_cls(), store, now=NOW, other_adapter=lambda name: old)
    assert fake_platform.meetings == {}
    assert other.sessions() == ["s1", "s2", "s3"]


class IdempotentAdapter(FakeAdapter):
    """A vendor whose create returns the meeting already made for a marker (Graph, Google)."""

    idempotent_create: ClassVar[bool] = True

    def create_meeting(self, request: MeetingRequest) -> Meeting:
        found = self.platform.by_marker(request.marker)
        if found:
            self.platform.calls.append(("create", request.session_id))
            return self._meeting(found[0])
        return super().create_meeting(request)

    def find_meeting(self, request: MeetingRequest) -> Meeting | None:
        raise AssertionError("an idempotent create needs no lookup")


def test_idempotent_platform_is_simply_asked_again_after_a_crash(
    tmp_path: Path, fake_platform: FakePlatform, store: Store
) -> None:
    cls = type("BoundIdempotent", (IdempotentAdapter,), {"platform": fake_platform})
    fake_platform.crash_after.add("create:s1")
    with pytest.raises(Crash):
        apply(make_series(tmp_path), cls(), store, now=NOW)
    apply(make_series(tmp_path), cls(), store, now=NOW)
    assert_one_meeting_per_session(fake_platform, store)


# -- out of process: SIGKILL ---------------------------------------------------------------
VENDOR = textwrap.dedent('''
    """A vendor stand-in keeping its meetings in a JSON file, for the SIGKILL test."""
    import json, os, pathlib, time

    from pydantic import SecretStr

    from s3events.hookspecs import hookimpl
    from s3events.platforms.base import Meeting, PlatformAdapter

    DB = pathlib.Path(os.environ["FILEVENDOR_DB"])


    def load():
        return json.loads(DB.read_text()) if DB.exists() else {}


    def save(data):
        tmp = DB.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, DB)


    def hang(step, session):
        if os.environ.get("FILEVENDOR_HANG") == f"{step}:{session}":
            pathlib.Path(os.environ["FILEVENDOR_READY"]).write_text(step)
            time.sleep(600)


    class FileVendor(PlatformAdapter):
        name = "filevendor"

        def _meeting(self, mid, record):
            return Meeting(platform=self.name, meeting_id=mid, marker=record["marker"],
                           join_url=f"https://video.example.org/j/{mid}",
                           host_url=SecretStr(f"https://video.example.org/s/{mid}"))

        def create_meeting(self, request):
            hang("before-create", request.session_id)
            data = load()
            mid = str(1000 + len(data))
            data[mid] = {"marker": request.marker, "session": request.session_id}
            save(data)
            hang("after-create", request.session_id)
            return self._meeting(mid, data[mid])

        def update_meeting(self, meeting, request):
            return meeting

        def delete_meeting(self, meeting):
            data = load()
            data.pop(meeting.meeting_id, None)
            save(data)

        def get_meeting(self, meeting_id):
            record = load().get(meeting_id)
            return self._meeting(meeting_id, record) if record else None

        def find_meeting(self, request):
            for mid, record in load().items():
                if record["marker"] == request.marker:
                    return self._meeting(mid, record)
            return None


    @hookimpl
    def s3events_register_platforms():
        return [FileVendor]
''')


@pytest.fixture
def vendor_path(tmp_path: Path) -> Path:
    """A folder holding the file vendor as an installed plugin distribution."""
    site = tmp_path / "site"
    dist = site / "s3events_filevendor-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: s3events-filevendor\n"
                                   "Version: 1.0\n")
    (dist / "entry_points.txt").write_text("[s3events]\nfilevendor = s3e_filevendor\n")
    (site / "s3e_filevendor.py").write_text(VENDOR)
    return site


def run_provision(tmp_path: Path, site: Path, hang: str | None = None) -> subprocess.Popen[str]:
    series = tmp_path / "series.yaml"
    series.write_text(yaml.safe_dump(series_data(platform={"name": "filevendor"})))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(site), *sys.path]),
               FILEVENDOR_DB=str(tmp_path / "vendor.json"),
               FILEVENDOR_READY=str(tmp_path / "ready"))
    others = {ep.name for ep in entry_points(group="s3events")} - {"filevendor"}
    env[DISABLE_VARIABLE] = ",".join(sorted(others))  # only the stand-in vendor is loaded
    env.pop("FILEVENDOR_HANG", None)
    if hang:
        env["FILEVENDOR_HANG"] = hang
    code = "from s3events.cli import main; main()"
    args = [sys.executable, "-c", code, "provision", str(series), "--now", NOW.isoformat(),
            "--state", str(tmp_path / "state.db")]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 120
    while not path.exists():
        if process.poll() is not None:
            raise AssertionError(f"provision ended early: {process.communicate()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("provision never reached the step to kill it at")
        time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("step", ["after-create", "before-create"])
def test_provision_killed_mid_run_and_rerun_makes_no_duplicate(
    tmp_path: Path, vendor_path: Path, step: str
) -> None:
    process = run_provision(tmp_path, vendor_path, hang=f"{step}:s2")
    wait_for(tmp_path / "ready", process)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    with open_store(tmp_path / "state.db") as store:
        assert meeting_rows(store, "demo")["s2"].state == "intent"
    rerun = run_provision(tmp_path, vendor_path)
    _, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    vendor = json.loads((tmp_path / "vendor.json").read_text())
    assert sorted(r["session"] for r in vendor.values()) == ["s1", "s2", "s3"]
    with open_store(tmp_path / "state.db") as store:
        meetings = stored_meetings(store, "demo")
    assert {vendor[m.meeting_id]["session"] for m in meetings.values()} == {"s1", "s2", "s3"}
