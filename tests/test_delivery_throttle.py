"""Pacing a channel: the token bucket in the state database, pauses, and the channel settings.

The bucket's turns are read from the database itself (its clock decides), so these tests
check where turns fall, never how long anything took.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import threading
from typing import Any, ClassVar

import pytest

from s3events.delivery.throttle import MARGIN, Stopped, StoreBucket, Throttle, TooLong
from s3events.store import open_store
from s3events.transports.base import OutgoingMessage, SendResult, Transport
from s3events.transports.choice import ChannelSettings, channel_settings, channel_transport
from s3events.transports.console import ConsoleTransport
from s3events.transports.outbox import OutboxTransport
from s3events.transports.smtp import SmtpTransport
from tests.test_dispatch_support import make_series


def most_in_any_second(moments: list[float]) -> int:
    """The largest number of ``moments`` inside any one-second window (closed)."""
    moments = sorted(moments)
    most, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] > 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


def test_turns_are_one_interval_apart_on_the_databases_clock(state_store):
    bucket = StoreBucket(state_store, "series/email", rate=20)
    turns = [bucket.reserve_turn()[0] for _ in range(60)]
    gaps = [b - a for a, b in itertools.pairwise(turns)]
    # Reserved back to back: each one 1/20 s after the last (and a margin of 5 %).
    assert min(gaps) >= 0.05 / MARGIN - 1e-6
    assert most_in_any_second(turns) <= 20
    late = [turn + (0.06 if i % 7 == 0 else 0) for i, turn in enumerate(turns)]
    assert most_in_any_second(late) <= 21  # some messages leaving 60 ms late


def test_a_push_moves_every_later_turn_past_the_pause(state_store):
    bucket = StoreBucket(state_store, "series/telegram", rate=5)
    bucket.reserve()
    bucket.push(30)
    turn, now = bucket.reserve_turn()
    assert turn - now >= 29.9
    assert StoreBucket(state_store, "series/email", rate=5).reserve() == 0  # another channel


def test_a_bucket_needs_a_rate_above_zero(state_store):
    with pytest.raises(ValueError, match="above 0"):
        StoreBucket(state_store, "series/email", rate=0)


_RESERVE = """
import json, sys
from pathlib import Path
from s3events.delivery.throttle import StoreBucket
from s3events.store import open_store

url, flag, count = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
with open_store(url) as store:
    bucket = StoreBucket(store, "s3-latam/whatsapp", rate=20)
    print("ready", flush=True)
    while not flag.exists():
        pass
    print(json.dumps([bucket.reserve_turn()[0] for _ in range(count)]), flush=True)
"""


@pytest.mark.postgres
def test_two_processes_on_postgresql_share_one_bucket(postgres_url, tmp_path):
    with open_store(postgres_url):
        pass  # the schema, before the processes race to make it
    flag = tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, "-c", _RESERVE, postgres_url, str(flag), "40"],
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    flag.touch()  # both are connected and waiting: they reserve at the same time
    turns = []
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        turns += json.loads(out)
    turns.sort()
    assert len(turns) == len(set(turns)) == 80
    assert min(b - a for a, b in itertools.pairwise(turns)) >= 0.05 / MARGIN - 1e-6
    assert most_in_any_second(turns) <= 21


class FakeClock:
    """A monotonic clock moved by :class:`FakeStop` waits: nothing sleeps for real."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeStop(threading.Event):
    """A stop event whose waits advance the fake clock and are recorded."""

    def __init__(self, clock: FakeClock, *, stop_after: int | None = None) -> None:
        super().__init__()
        self.clock, self.waits, self.stop_after = clock, [], stop_after

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.waits.append(round(timeout, 6))
        self.clock.now += timeout
        if self.stop_after is not None and len(self.waits) >= self.stop_after:
            self.set()
        return self.is_set()


def test_a_pause_holds_every_sender_of_the_channel_until_it_ends():
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    first, second = FakeStop(clock), FakeStop(clock)
    throttle.turn(first)
    assert first.waits == []  # no pause, no rate: at once
    throttle.pause(2.5)
    throttle.turn(first)
    throttle.pause(4.0)  # a second pause starting now
    throttle.turn(second)
    assert first.waits == [2.5] and second.waits == [4.0]
    throttle.pause(1.0)
    throttle.pause(0.5)  # a shorter pause never shortens the longer one
    throttle.turn(first)
    assert first.waits[-1] == 1.0


def test_a_wait_longer_than_a_run_waits_is_too_long():
    clock = FakeClock()
    throttle = Throttle(clock=clock, max_wait=120)
    throttle.pause(3600)
    with pytest.raises(TooLong) as caught:
        throttle.turn(FakeStop(clock))
    assert caught.value.seconds == pytest.approx(3600)


def test_a_stop_during_a_pause_ends_the_wait():
    clock = FakeClock()
    throttle = Throttle(clock=clock)
    throttle.pause(10)
    with pytest.raises(Stopped):
        throttle.turn(FakeStop(clock, stop_after=1))


def test_turns_from_the_bucket_are_waited_for(state_store):
    clock = FakeClock()
    throttle = Throttle(StoreBucket(state_store, "series/email", rate=4), clock=clock)
    stop = FakeStop(clock)
    for _ in range(5):
        throttle.turn(stop)
    # The first turn is free; the next four wait for theirs, a quarter of a second apart on
    # the database's clock (which moved on only by the real time the test took).
    assert len(stop.waits) == 4
    turn = 0.25 / MARGIN
    assert all(0 < wait <= turn * k + 1e-3 for k, wait in enumerate(stop.waits, start=1))
    assert stop.waits == sorted(stop.waits)


class _Threadless(Transport):
    name: ClassVar[str] = "threadless"
    channel: ClassVar[str] = "threadless"
    concurrency: ClassVar[int] = 1
    max_concurrency: ClassVar[int | None] = 1

    def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult()


def _settings(write_series, transport: Transport, *, flag: int | None = None,
              **dispatch: Any) -> tuple[int, float | None]:
    series = make_series(write_series, dispatch=dispatch)
    got = channel_settings(series, transport, concurrency=flag)
    return got.concurrency, got.rate_limit


def test_concurrency_is_the_flag_then_the_transports_setting_then_the_series_then_the_default(
        write_series, tmp_path):
    smtp = SmtpTransport.from_options({"url": "smtp://127.0.0.1:2525"}, environ={})
    outbox = OutboxTransport.from_options({"path": str(tmp_path)}, environ={})
    assert _settings(write_series, smtp)[0] == 4
    assert _settings(write_series, outbox)[0] == 1
    assert _settings(write_series, ConsoleTransport())[0] == 1
    assert _settings(write_series, smtp, concurrency=6)[0] == 6
    per_transport = {"concurrency": 6, "transports": {"smtp": {"concurrency": 2}}}
    assert _settings(write_series, smtp, **per_transport)[0] == 2
    assert _settings(write_series, outbox, **per_transport)[0] == 6
    assert _settings(write_series, smtp, flag=9, **per_transport)[0] == 9
    assert _settings(write_series, _Threadless(), flag=9)[0] == 1  # its ceiling


def test_the_rate_is_the_transports_setting_then_the_series_never_above_its_own(
        write_series):
    smtp = SmtpTransport.from_options({"url": "smtp://127.0.0.1:2525"}, environ={})
    assert _settings(write_series, smtp)[1] is None
    assert _settings(write_series, smtp, rate_limit=20)[1] == 20
    own = {"rate_limit": 20, "transports": {"smtp": {"rate_limit": 8}}}
    series = make_series(write_series, dispatch=own)
    from_file = channel_transport(series, "email", email="smtp://127.0.0.1:2525")
    assert from_file.rate_limit == 8  # smtp takes rate_limit as an option of its own too
    assert channel_settings(series, from_file).rate_limit == 8
    capped = SmtpTransport.from_options({"url": "smtp://127.0.0.1:2525?rate=3"}, environ={})
    assert _settings(write_series, capped, rate_limit=20)[1] == 3


def test_channel_settings_in_the_series_are_checked_when_loading(write_series):
    from s3events.errors import SeriesError

    for bad, words in ((0, "concurrency"), ("four", "concurrency"), (True, "concurrency")):
        with pytest.raises(SeriesError, match=words):
            make_series(write_series, dispatch={"transports": {"smtp": {"concurrency": bad}}})
    with pytest.raises(SeriesError, match="rate_limit"):
        make_series(write_series, dispatch={"transports": {"telegram": {"rate_limit": -1}}})
    with pytest.raises(SeriesError, match="concurrency"):
        make_series(write_series, dispatch={"concurrency": 0})


def test_channel_settings_never_reach_the_transports_options(write_series):
    from s3events_telegram import TelegramTransport

    series = make_series(write_series, dispatch={
        "channels": ["email", "telegram"],
        "transports": {"telegram": {"bot_token": "1:abc", "concurrency": 8,
                                    "rate_limit": 25}}})
    telegram = channel_transport(series, "telegram", environ={})
    assert isinstance(telegram, TelegramTransport)
    assert telegram.options.bot_token.get_secret_value() == "1:abc"
    assert channel_settings(series, telegram) == ChannelSettings(concurrency=8, rate_limit=25)


def test_a_chat_transport_missing_an_option_is_a_configuration_error(write_series):
    from s3events.errors import ConfigurationError

    series = make_series(write_series, dispatch={
        "channels": ["telegram"], "transports": {"telegram": {"concurrency": 2}}})
    with pytest.raises(ConfigurationError, match="bot_token") as caught:
        channel_transport(series, "telegram", environ={})
    assert "S3EVENTS_TELEGRAM_BOT_TOKEN" in str(caught.value)
