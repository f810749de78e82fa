"""Concurrent sending: N messages in flight per channel, pauses that hold the whole channel.

Against a real SMTP server (aiosmtpd) and a real HTTP chat API (Telegram's sendMessage on
127.0.0.1). Where a test needs N messages in flight at once, the server holds every reply
until N have arrived (``hold_until``): a dispatcher that never has N in flight makes the
test fail, whatever the machine's speed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import ClassVar

import pytest

from s3events.dispatch import dispatch
from s3events.errors import RateLimited
from s3events.ledger import status_counts
from s3events.store import open_store
from s3events.transports.base import OutgoingMessage, SendResult, Transport
from tests.fixtures.chat import TOKEN
from tests.test_dispatch_support import EARLY, add_person, make_series, provision, rows

UTC = timezone.utc
#: Both sessions' links released (with EARLY_LINKS), the first session not yet started.
AFTER_ALL = datetime(2021, 10, 28, 12, 0, tzinfo=UTC)
EARLY_LINKS = {"link": {"days_before": 8, "local_time": "09:00"}}


def _people(store, series, count: int, **kwargs) -> list[str]:
    return [add_person(store, series, f"p{i:03d}@example.org", name=f"Persona {i}",
                       language=("es", "pt", "en")[i % 3], **kwargs) for i in range(count)]


@pytest.mark.parametrize(("dispatch_settings", "flag", "expected"), [
    ({}, None, 4),                                                   # smtp's default
    ({"concurrency": 3}, None, 3),                                   # the series'
    ({"concurrency": 3, "transports": {"smtp": {"concurrency": 2}}}, None, 2),  # smtp's own
    ({"concurrency": 3}, 6, 6),                                      # --concurrency wins
])
def test_n_messages_are_in_flight_at_once_on_n_connections_and_never_more(
        tmp_path, write_series, smtp_server, dispatch_settings, flag, expected):
    series = make_series(write_series, dispatch={**EARLY_LINKS, **dispatch_settings})
    smtp_server.hold_until = expected  # nothing is answered until N messages are in flight
    smtp_server.delay = 0.02
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        _people(store, series, 10)
        report = dispatch(store, series, now=AFTER_ALL, transport=smtp_server.url,
                          concurrency=flag)
    assert not smtp_server.held_out, f"never {expected} messages in flight at once"
    assert smtp_server.peak_in_flight == expected
    assert len(smtp_server.connections) == expected  # one connection per message in flight
    assert report.total_sent == 30 and not report.problems
    assert len(set(smtp_server.message_ids())) == 30  # each message once


def test_one_persons_messages_keep_their_order(tmp_path, write_series, smtp_server):
    series = make_series(write_series)
    late = datetime(2021, 10, 28, 12, 0, tzinfo=UTC)  # after the first link's release
    smtp_server.delay = 0.01
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        _people(store, series, 12, at=late, sessions=["s1"])
        dispatch(store, series, now=late, transport=smtp_server.url, concurrency=8)
    invites: dict[str, list[bool]] = {}  # does each message carry the invitation (a link)?
    for received in smtp_server.messages:
        invites.setdefault(received.rcpt_tos[0], []).append(
            received.email.get_content_type() == "multipart/mixed")
    assert list(invites.values()) == [[False, True]] * 12  # the confirmation, then the link


@pytest.mark.parametrize("code", [421, 451])
def test_a_busy_smtp_server_pauses_the_channel_then_everything_goes_out_once(
        state_url, write_series, smtp_server, code):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _people(store, series, 8)
        smtp_server.busy(code, count=2)
        report = dispatch(store, series, now=EARLY, transport=smtp_server.url, concurrency=4)
        assert report.paused >= 1 and report.total_sent == 8
        assert report.retrying == report.failed == 0 and not report.problems
        assert {(r.state, r.attempts) for r in rows(store, kind="confirmation")} == {
            ("sent", 1)}  # the refused tries are not failed attempts
    assert len(smtp_server.busy_answers) == 2
    assert sorted(Counter(smtp_server.message_ids()).values()) == [1] * 8


def _telegram_series(write_series, server, **settings):
    transports = {"telegram": {"bot_token": TOKEN, "api_base_url": server.url, **settings}}
    return make_series(write_series, dispatch={"channels": ["telegram"],
                                               "transports": transports, **EARLY_LINKS})


def _chatters(store, series, count: int) -> None:
    for i in range(count):
        add_person(store, series, f"c{i:03d}@example.org", name=f"Chat {i}",
                   language="es", channels={"telegram": str(100000000 + i)})


def test_a_chat_channel_sends_concurrently_from_the_series_options(
        tmp_path, write_series, chat_server):
    chat_server.delay = 0.05
    series = _telegram_series(write_series, chat_server, concurrency=5)
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        _chatters(store, series, 10)
        report = dispatch(store, series, now=AFTER_ALL)
    assert report.sent[("-", "confirmation", "telegram")] == 10 and report.total_sent == 30
    assert chat_server.peak_in_flight <= 5
    assert len(set(chat_server.keys())) == len(chat_server.keys()) == 30


def test_telegrams_flood_limit_pauses_the_channel_as_asked_then_resumes(
        tmp_path, write_series, chat_server):
    series = _telegram_series(write_series, chat_server, concurrency=4)
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        _chatters(store, series, 6)
        chat_server.flood(1, retry_after=1)
        report = dispatch(store, series, now=EARLY)
        assert report.paused == 1 and report.total_sent == 6 and report.retrying == 0
        assert {r.state for r in rows(store, kind="confirmation")} == {"sent"}
    assert len(chat_server.flood_answers) == 1
    assert sorted(Counter(chat_server.keys()).values()) == [1] * 6
    flooded = chat_server.flood_answers[0]
    # The refused message is sent again only once the second asked for has passed. (How
    # many others arrive meanwhile depends on how soon the sender threads see the pause,
    # which a loaded machine can delay: it is not asserted.)
    assert [m for m in chat_server.received if m.at >= flooded + 0.99]


class _Quota(Transport):
    """A chat service whose daily quota runs out after a few messages."""

    name: ClassVar[str] = "whatsapp"
    channel: ClassVar[str] = "whatsapp"
    concurrency: ClassVar[int] = 1

    def __init__(self, allowed: int) -> None:
        super().__init__()
        self.allowed, self.sent = allowed, []

    def send(self, message: OutgoingMessage) -> SendResult:
        if len(self.sent) >= self.allowed:
            raise RateLimited("daily quota reached", service="whatsapp", status=429,
                              retry_after=3600)
        self.sent.append(message.key)
        return SendResult(provider_id=f"wamid.{len(self.sent)}")


def test_a_wait_longer_than_a_run_leaves_the_channel_for_a_later_run(
        state_url, write_series, smtp_server):
    series = make_series(write_series, dispatch={"channels": ["email", "whatsapp"]})
    quota = _Quota(allowed=2)
    with open_store(state_url) as store:
        provision(store, series)
        for i in range(5):
            add_person(store, series, f"w{i}@example.org",
                       channels={"whatsapp": f"+52155500{i:04d}"})
        report = dispatch(store, series, now=EARLY, transport=smtp_server.url,
                          transports={"whatsapp": quota})
        assert any("whatsapp" in p and "3600 s" in p for p in report.problems)
        assert report.sent[("-", "confirmation", "email")] == 5  # the other channel went on
        assert report.sent[("-", "confirmation", "whatsapp")] == 2
        chat = rows(store, channel="whatsapp", kind="confirmation")
        waiting = [r for r in chat if r.state == "pending"]
        assert len(waiting) == 3 and not [r for r in chat if r.state == "sending"]
        asked = [r for r in waiting if r.attempts == 1]
        assert len(asked) == 1 and asked[0].next_attempt_at == EARLY + timedelta(hours=1)
        assert all(r.attempts == 0 and r.next_attempt_at is None
                   for r in waiting if r is not asked[0])
        counts = {(c.kind, c.state): c.count for c in status_counts(store, series.id)}
        assert counts[("confirmation", "pending")] == 3
