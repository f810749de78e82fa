"""Dispatch when things go wrong half way: every row ends where it belongs, nothing is lost.

A transport that fails mid-batch, a message that cannot be composed, a store that fails,
a mark that fails, a lease lost to another worker, a meeting its platform cannot prepare:
each test checks the ledger afterwards (sent, failed with a reason and no personal data,
or back to pending untouched) and, where mail went out, what the SMTP server received.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, ClassVar

import pytest
from sqlalchemy import update

from s3events.compose import Composer
from s3events.delivery import sending
from s3events.dispatch import dispatch
from s3events.errors import InputError, ServiceUnavailable, StoreError
from s3events.hookspecs import hookimpl
from s3events.ledger import SentMarker, status_counts
from s3events.platforms.base import Meeting, MeetingRequest, PlatformAdapter
from s3events.platforms.jitsi import JitsiAdapter
from s3events.store import ledger, open_store
from s3events.transports.base import OutgoingMessage, SendResult, Transport
from s3events.transports.smtp import SmtpTransport
from tests.test_dispatch_support import EARLY, add_person, make_series, provision, rows

UTC = timezone.utc
AFTER_S1_RELEASE = datetime(2021, 10, 28, 6, 0, tzinfo=UTC)


def _people(store, series, count: int) -> list[str]:
    return [add_person(store, series, f"p{i:02d}@example.org", name=f"Persona {i}")
            for i in range(count)]


def _confirmations(store) -> Counter[tuple[str, int]]:
    return Counter((r.state, r.attempts) for r in rows(store, kind="confirmation"))


class _Flaky(Transport):
    """An email transport that accepts ``good`` messages, then finds its server gone."""

    name: ClassVar[str] = "flaky"
    channel: ClassVar[str] = "email"
    concurrency: ClassVar[int] = 4

    def __init__(self, good: int) -> None:
        super().__init__()
        self.good, self.sent, self.lock = good, [], threading.Lock()

    def send(self, message: OutgoingMessage) -> SendResult:
        with self.lock:
            if len(self.sent) >= self.good:
                raise ServiceUnavailable("connection refused", service="flaky")
            self.sent.append(message.key)
        return SendResult()


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_transport_failing_half_way_gives_every_unsent_row_back_untouched(
        state_url, write_series, concurrency):
    series = make_series(write_series)
    flaky = _Flaky(good=3)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 9)
        report = dispatch(store, series, now=EARLY, transports={"email": flaky},
                          concurrency=concurrency)
        assert report.total_sent == 3 and len(flaky.sent) == 3
        assert report.problems == ["email: ServiceUnavailable: connection refused"]
        assert _confirmations(store) == {("sent", 1): 3, ("pending", 0): 6}
        assert not rows(store, state="sending")
        assert not [r for r in rows(store) if r.claimed_by is not None]
        flaky.good = 100  # the server is back: the rest goes out, once
        assert dispatch(store, series, now=EARLY, transports={"email": flaky}).total_sent == 6
    assert len(set(flaky.sent)) == len(flaky.sent) == 9


def test_a_message_that_cannot_be_composed_fails_alone_with_its_reason(
        state_url, write_series, smtp_server, monkeypatch):
    render = Composer.render

    def poisoned(self: Composer, row: Any, reg: Any, *args: Any) -> Any:
        if reg.name == "José Veneno":
            raise ValueError(f"no way to write {reg.email} for {reg.name}")
        return render(self, row, reg, *args)

    monkeypatch.setattr(Composer, "render", poisoned)
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 4)
        add_person(store, series, "jose.veneno@example.org", name="José Veneno")
        report = dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
        assert report.total_sent == 8 and report.failed == 2 and not report.problems
        failed = rows(store, state="failed")
        assert {r.kind for r in failed} == {"confirmation", "link"}
        for row in failed:
            assert row.last_error.startswith("cannot compose the message: ValueError")
            assert "jose.veneno" not in row.last_error and "Veneno" not in row.last_error
        counts = {(c.kind, c.state): c.count for c in status_counts(store, series.id)}
        assert counts[("confirmation", "failed")] == 1 and counts[("confirmation", "sent")] == 4
    assert "jose.veneno@example.org" not in {m.rcpt_tos[0] for m in smtp_server.messages}


class _Picky(SmtpTransport):
    """SMTP whose ``prepare`` fails for one address, as a plugin's might."""

    def prepare(self, message: OutgoingMessage) -> bytes:
        if message.recipient.startswith("p02@"):
            raise UnicodeEncodeError("ascii", message.recipient, 0, 1, "not ascii")
        return super().prepare(message)


def test_an_exception_from_prepare_fails_that_row_and_the_others_go_out(
        state_url, write_series, smtp_server):
    series = make_series(write_series)
    picky = _Picky.from_options({"url": smtp_server.url}, environ={})
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 5)
        report = dispatch(store, series, now=EARLY, transports={"email": picky})
        assert report.total_sent == 4 and report.failed == 1
        failed = rows(store, state="failed")
        assert len(failed) == 1 and "UnicodeEncodeError" in failed[0].last_error
        assert "p02@" not in failed[0].last_error
    assert len(smtp_server.messages) == 4


def test_a_template_error_stops_the_run_and_gives_the_claimed_rows_back(
        state_url, write_series, smtp_server, monkeypatch):
    render = Composer.render
    calls = []

    def broken(self: Composer, *args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise InputError("templates/confirmation.txt:3: unexpected '}'")
        return render(self, *args)

    monkeypatch.setattr(Composer, "render", broken)
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 6)
        with pytest.raises(InputError, match=r"confirmation\.txt:3"):
            dispatch(store, series, now=EARLY, transport=smtp_server.url, concurrency=1)
        # The two composed before the error went out; nothing more was composed.
        assert _confirmations(store) == {("sent", 1): 2, ("pending", 0): 4}
        assert not [r for r in rows(store) if r.claimed_by is not None]
    assert len(smtp_server.messages) == 2


def test_a_store_error_mid_run_gives_back_the_rows_it_claimed(
        state_url, write_series, smtp_server, monkeypatch):
    people = sending._registrations
    calls = []

    def failing(store: Any, ids: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise StoreError("state database: OperationalError: disk I/O error")
        return people(store, ids)

    monkeypatch.setattr(sending, "_registrations", failing)
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 7)
        with pytest.raises(StoreError, match="disk I/O"):
            dispatch(store, series, now=EARLY, transport=smtp_server.url, batch_size=3)
        assert _confirmations(store) == {("sent", 1): 3, ("pending", 0): 4}
        assert not rows(store, state="sending")
    assert len(smtp_server.messages) == 3


def test_a_store_error_while_marking_stops_the_run_and_a_rerun_sends_that_one_again(
        state_url, write_series, smtp_server, monkeypatch):
    mark = SentMarker.mark
    calls = []

    def failing(self: SentMarker, row_id: int, **kwargs: Any) -> bool:
        calls.append(row_id)
        if len(calls) == 2:
            raise StoreError("state database: cannot mark a message sent: OperationalError")
        return mark(self, row_id, **kwargs)

    monkeypatch.setattr(SentMarker, "mark", failing)
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 5)
        with pytest.raises(StoreError, match="cannot mark"):
            dispatch(store, series, now=EARLY, transport=smtp_server.url, concurrency=1)
        # The second message reached the server: its row stays claimed (a rerun after the
        # lease sends it again, with the same Message-ID); the rest were given back.
        assert _confirmations(store) == {("sent", 1): 1, ("sending", 0): 1, ("pending", 0): 3}
        monkeypatch.setattr(SentMarker, "mark", mark)
        again = dispatch(store, series, now=EARLY, transport=smtp_server.url,
                         lease=timedelta(0))
        assert again.total_sent == 4 and _confirmations(store) == {("sent", 1): 5}
    copies = Counter(smtp_server.message_ids())
    assert len(copies) == 5 and sorted(copies.values()) == [1, 1, 1, 1, 2]


class _Overtaken(Transport):
    """Delivers, but meanwhile another worker took one row over (its lease had run out)."""

    name: ClassVar[str] = "overtaken"
    channel: ClassVar[str] = "email"

    def __init__(self, store: Any, victim: int) -> None:
        super().__init__()
        self.store, self.victim, self.sent = store, victim, 0

    def send(self, message: OutgoingMessage) -> SendResult:
        self.sent += 1
        if self.sent == self.victim:
            with self.store.begin() as conn:
                conn.execute(update(ledger).where(ledger.c.key == message.key)
                             .values(claimed_by="otherhost:4242:abc"))
        return SendResult()


def test_a_row_whose_lease_was_lost_is_neither_counted_nor_marked(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 4)
        overtaken = _Overtaken(store, victim=2)
        report = dispatch(store, series, now=EARLY, transports={"email": overtaken})
        assert overtaken.sent == 4
        assert report.total_sent == 3 and report.lost == 1
        taken = rows(store, claimed_by="otherhost:4242:abc")
        assert [(r.state, r.sent_at) for r in taken] == [("sending", None)]  # theirs now
        assert _confirmations(store) == {("sent", 1): 3, ("sending", 0): 1}


class _LatePlatform(JitsiAdapter):
    """Jitsi links, but the room must be made ready just in time, like BigBlueButton's."""

    name: ClassVar[str] = "late-jitsi"
    down: ClassVar[bool] = True
    prepared: ClassVar[list[str]] = []

    def prepare(self, meeting: Meeting, request: MeetingRequest) -> Meeting:
        type(self).prepared.append(request.session_id)
        if type(self).down:
            raise ServiceUnavailable("late-jitsi is unavailable (HTTP 503) for create",
                                     service="late-jitsi", status=503)
        return meeting


_LATE_PLUGIN = SimpleNamespace(
    s3events_register_platforms=hookimpl(lambda: [_LatePlatform]))


def test_a_meeting_its_platform_cannot_prepare_holds_only_its_links(
        state_url, write_series, smtp_server, register_plugin):
    register_plugin(_LATE_PLUGIN, name="late-jitsi")
    _LatePlatform.down, _LatePlatform.prepared = True, []
    series = make_series(write_series, platform={"name": "late-jitsi"})
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 4)
        report = dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
        assert report.sent[("-", "confirmation", "email")] == 4 and report.total_sent == 4
        assert len(report.problems) == 1 and "session s1" in report.problems[0]
        assert _LatePlatform.prepared == ["s1"]  # asked once, not once per person
        links = rows(store, kind="link", session_id="s1")
        assert {(r.state, r.attempts) for r in links} == {("pending", 0)}
        assert all(r.next_attempt_at == AFTER_S1_RELEASE + timedelta(minutes=1) for r in links)
        _LatePlatform.down = False
        later = dispatch(store, series, now=AFTER_S1_RELEASE + timedelta(minutes=2),
                         transport=smtp_server.url)
        assert later.sent[("s1", "link", "email")] == 4 and not later.problems
    assert len(smtp_server.messages) == 8


def test_platforms_without_just_in_time_work_are_not_asked(state_url, write_series,
                                                           smtp_server, monkeypatch):
    asked = []
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 2)
        monkeypatch.setattr(PlatformAdapter, "from_options",
                            classmethod(lambda cls, *a, **k: asked.append(cls)))
        assert dispatch(store, series, now=AFTER_S1_RELEASE,
                        transport=smtp_server.url).total_sent == 4
    assert asked == []


def test_a_chat_channel_without_its_options_is_reported_and_email_goes_on(
        state_url, write_series, smtp_server):
    series = make_series(write_series, dispatch={
        "channels": ["email", "telegram"], "transports": {"telegram": {"concurrency": 2}}})
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org", channels={"telegram": "123456789"})
        report = dispatch(store, series, now=EARLY, transport=smtp_server.url, environ={})
        assert report.sent[("-", "confirmation", "email")] == 1
        assert len(report.problems) == 1
        assert report.problems[0].startswith("telegram: transport 'telegram': option "
                                             "'bot_token' is required")
        assert "S3EVENTS_TELEGRAM_BOT_TOKEN" in report.problems[0]
        waiting = rows(store, channel="telegram", kind="confirmation")
        assert [(r.state, r.attempts) for r in waiting] == [("pending", 0)]
