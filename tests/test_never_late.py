"""Never sent late: a link after its session has ended, or a reminder after its session has
started, becomes ``expired`` and is never sent — whether the scheduling pass finds it late,
a worker claimed it in time and its moment passed before its turn, or another worker held
it when the session ended. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta, timezone
from typing import ClassVar

from s3events.dispatch import dispatch
from s3events.ledger import claim_due, reclaim_stale, status_counts
from s3events.owed import late_sessions, too_late
from s3events.scheduler import schedule
from s3events.store import open_store
from s3events.transports.base import OutgoingMessage, SendResult, Transport
from tests.test_cli_core import run
from tests.test_dispatch_support import EARLY, add_person, make_series, provision, rows

UTC = timezone.utc
#: The minimal series: s1 on 2021-10-28 17:00–19:30 Brussels (15:00–17:30 UTC).
S1_START = datetime(2021, 10, 28, 15, 0, tzinfo=UTC)
S1_END = datetime(2021, 10, 28, 17, 30, tzinfo=UTC)
REMINDER = {"reminder": {"days_before": 0, "hours_before": 1, "local_time": None}}


class _Recorder(Transport):
    """An email transport that keeps what it was given."""

    name: ClassVar[str] = "recorder"
    channel: ClassVar[str] = "email"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[OutgoingMessage] = []
        self.lock = threading.Lock()

    def send(self, message: OutgoingMessage) -> SendResult:
        with self.lock:
            self.sent.append(message)
        return SendResult()


def _counts(store, series) -> dict[tuple[str, str, str], int]:
    return {(c.session_id or "-", c.kind, c.state): c.count
            for c in status_counts(store, series.id)}


def test_the_rule_links_at_the_end_reminders_at_the_start(write_series):
    session = make_series(write_series).session("s1")
    assert not too_late("link", session, S1_END - timedelta(seconds=1))
    assert too_late("link", session, S1_END) and too_late("update", session, S1_END)
    assert not too_late("reminder", session, S1_START)
    assert too_late("reminder", session, S1_START + timedelta(seconds=1))
    assert not too_late("confirmation", session, S1_END + timedelta(days=30))
    assert not too_late("followup", session, S1_END + timedelta(days=30))


def test_late_sessions_name_each_kind_only_with_its_passed_sessions(write_series):
    series = make_series(write_series)
    assert late_sessions(series, EARLY) == {}
    assert late_sessions(series, S1_START + timedelta(minutes=5)) == {"reminder": ["s1"]}
    assert late_sessions(series, S1_END + timedelta(hours=1)) == {
        "link": ["s1"], "update": ["s1"], "reminder": ["s1"]}


def test_a_first_dispatch_an_hour_after_day_1_sends_confirmations_and_no_day_1_link(
        state_url, write_series):
    series = make_series(write_series)
    recorder = _Recorder()
    with open_store(state_url) as store:
        provision(store, series)
        for i in range(5):  # imported long before the series
            add_person(store, series, f"p{i}@example.org", at=EARLY)
        report = dispatch(store, series, now=S1_END + timedelta(hours=1),
                          transports={"email": recorder})
        assert {m.kind for m in recorder.sent} == {"confirmation"} and len(recorder.sent) == 5
        assert report.scheduled.expired == 5 and report.failed == 0
        counts = _counts(store, series)
        assert counts[("s1", "link", "expired")] == 5
        assert counts[("s2", "link", "pending")] == 5  # day 2's links wait for their release
        assert ("s1", "link", "pending") not in counts and ("s1", "link", "sent") not in counts
        again = dispatch(store, series, now=S1_END + timedelta(hours=2),
                         transports={"email": recorder})
        assert again.total_sent == 0 and len(recorder.sent) == 5


def test_pending_links_expire_when_the_pass_finds_their_session_over(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
        schedule(store, series, now=EARLY)  # the link is pending, not due yet
        assert {r.state for r in rows(store, kind="link")} == {"pending"}
        assert schedule(store, series, now=S1_END, dry_run=True).expired == 1
        assert {r.state for r in rows(store, kind="link", session_id="s1")} == {"pending"}
        assert schedule(store, series, now=S1_END).expired == 1
        assert rows(store, kind="link", session_id="s1")[0].state == "expired"
        assert rows(store, kind="link", session_id="s2")[0].state == "pending"


def test_a_reminder_expires_at_the_start_while_the_link_still_goes_until_the_end(
        state_url, write_series):
    series = make_series(write_series, dispatch=REMINDER)
    recorder = _Recorder()
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org", zone="Europe/Brussels")
        dispatch(store, series, now=EARLY, transports={"email": recorder})
        during = dispatch(store, series, now=S1_START + timedelta(minutes=30),
                          transports={"email": recorder})
        assert during.sent[("s1", "link", "email")] == 1
        assert ("s1", "reminder", "email") not in during.sent
        assert rows(store, kind="reminder", session_id="s1")[0].state == "expired"


def test_someone_who_registers_while_a_session_runs_still_gets_its_link(
        state_url, write_series):
    series = make_series(write_series, dispatch=REMINDER)
    recorder = _Recorder()
    running = S1_START + timedelta(minutes=45)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "late@example.org", at=running)
        report = dispatch(store, series, now=running + timedelta(minutes=1),
                          transports={"email": recorder})
        assert [m.kind for m in recorder.sent] == ["confirmation", "link"]
        assert report.scheduled.expired == 0
        # no reminder for a session that had started before they registered
        assert not rows(store, kind="reminder", session_id="s1")


def test_a_row_claimed_in_time_expires_when_its_moment_passes_before_its_turn(
        state_url, write_series):
    series = make_series(write_series)
    recorder = _Recorder()
    ticks = itertools.count()
    before = S1_END - timedelta(minutes=1)

    def clock() -> datetime:  # the session ends after the third link has gone
        return before if next(ticks) < 3 else S1_END + timedelta(seconds=1)

    with open_store(state_url) as store:
        provision(store, series)
        for i in range(6):
            add_person(store, series, f"p{i}@example.org")
        dispatch(store, series, now=EARLY, transports={"email": recorder})
        report = dispatch(store, series, now=before, transports={"email": recorder},
                          concurrency=1, clock=clock)
        links = [m for m in recorder.sent if m.kind == "link"]
        assert len(links) == 3 and report.total_sent == 3 and report.expired == 3
        assert sorted(r.state for r in rows(store, kind="link", session_id="s1")) == [
            "expired"] * 3 + ["sent"] * 3
        assert not [r for r in rows(store) if r.claimed_by is not None]


def test_a_row_another_worker_held_when_the_session_ended_is_never_sent(
        state_url, write_series):
    series = make_series(write_series)
    recorder = _Recorder()
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
        schedule(store, series, now=EARLY)
        dispatch(store, series, now=EARLY, transports={"email": recorder})
        held = claim_due(store, series.id, now=S1_END - timedelta(minutes=5),
                         worker="elsewhere:1:abc", channels=["email"])
        assert [r.kind for r in held] == ["link"]
        after = dispatch(store, series, now=S1_END + timedelta(minutes=5),
                         transports={"email": recorder}, worker="here:2:def")
        assert after.total_sent == 0
        assert rows(store, kind="link", session_id="s1")[0].state == "sending"  # not ours
        # the other worker died; its lease runs out and the row comes back, too late
        assert reclaim_stale(store, series.id, lease=timedelta(0)) == 1
        dispatch(store, series, now=S1_END + timedelta(minutes=10),
                 transports={"email": recorder})
        assert rows(store, kind="link", session_id="s1")[0].state == "expired"
    assert [m.kind for m in recorder.sent] == ["confirmation"]


def test_status_shows_expired_links_and_dispatch_says_why(tmp_path, write_series):
    series = make_series(write_series)
    path, state = str(series.source), str(tmp_path / "state.db")
    with open_store(state) as store:
        provision(store, series)
        for i in range(3):
            add_person(store, series, f"p{i}@example.org", at=EARLY)
    first = run("dispatch", path, "--state", state, "--now", "2021-10-28T18:30:00Z",
                "--transport", f"outbox:{tmp_path / 'out'}")
    assert first.code == 0, first.stderr
    assert "sent 3 confirmation message(s)" in first.stdout
    assert "3 message(s) expired" in first.stdout
    assert len(list((tmp_path / "out").glob("*.eml"))) == 3
    table = run("status", path, "--state", state)
    assert "expired" in table.stdout
    line = next(x for x in table.stdout.splitlines() if "s1" in x and "link" in x)
    assert line.split("│")[-2].strip() == "3"  # the expired column, last
