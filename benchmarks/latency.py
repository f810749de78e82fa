"""Benchmark: dispatch when every message takes a round trip — concurrency and one rate limit.

A local SMTP server and a local chat API (Telegram's sendMessage) answer each message after a
fixed delay (100 ms by default), as a distant relay or a cloud API does; each runs in a
process of its own. In one run this prints:

1. dispatch at concurrency 1, 4 and 16, on email (smtp) and on the chat channel (telegram):
   messages per second and the ratio to the ideal ``min(N / delay, rate_limit)`` (no rate
   limit here: ``N / delay``; goal: at least 0.8);
2. with ``rate_limit: 20`` (concurrency 8): messages per second (goal: at least 17) and the
   largest number of messages the server received in any one-second window (goal: at most
   21);
3. the whole ``s3events dispatch --concurrency 8`` command sending 800 messages, against a
   raw loop (smtplib, or requests for the chat API) with 8 threads sending the same
   messages to the same server in the same run (goal: at most 1.5 × the raw loop + 3 s),
   and whether the server received each message exactly once.

Times are wall-clock on a shared machine: the ratios, not the seconds, are the result. The
script exits non-zero only when messages are lost or duplicated, never because of a time.

    python benchmarks/latency.py              # 100 ms per message
    python benchmarks/latency.py --quick      # a short run (fewer messages, 50 ms)
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import secrets
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import requests
from slow_servers import Arrival, SlowChat, SlowSmtp, most_in_one_second
from sqlalchemy import update

from s3events.dispatch import dispatch
from s3events.loading import load_series
from s3events.provision import apply, load_adapter
from s3events.scheduler import schedule
from s3events.store import ledger, open_store, registrations

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "s3-latam-2021"
EXE = str(Path(sys.executable).parent / "s3events")
UTC = timezone.utc
EARLY = datetime(2021, 10, 1, tzinfo=UTC)
NOW = datetime(2021, 10, 28, 6, 0, tzinfo=UTC)  # the day-1 links are due
TOKEN = "4242:benchmark-bot-token"
PEOPLE = [("es", "America/Mexico_City"), ("es", "America/Santiago"), ("en", "Europe/Brussels"),
          ("pt", "America/Sao_Paulo"), ("es", "America/Lima")]


@dataclass
class State:
    """A copy of the reference series and a state file whose links are due at ``NOW``."""

    series: Path
    state: Path
    count: int


def prepare(folder: Path, count: int, *, channel: str, extra: str = "") -> State:
    """``count`` confirmed people on ``channel`` (email or telegram), their links due."""
    copy = folder / f"series-{secrets.token_hex(4)}"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("outbox", "*.db"))
    path = copy / "series.yaml"
    text = path.read_text(encoding="utf-8")
    settings = f"  channels: [{channel}]\n{extra}"
    path.write_text(text.replace("  channels: [email]\n", settings, 1), encoding="utf-8")
    series = load_series(path)
    with open_store(copy / "state.db") as store:
        apply(series, load_adapter(series), store, now=EARLY)
        _people(store, series.id, count, channel)
        schedule(store, series, now=EARLY)
        with store.begin() as conn:  # confirmations went out long ago: the links are due
            conn.execute(update(ledger).where(ledger.c.kind == "confirmation")
                         .values(state="sent", sent_at=EARLY, attempts=1))
    return State(path, copy / "state.db", count)


def _people(store: Any, series_id: str, count: int, channel: str) -> None:
    rows = []
    for i in range(count):
        lang, zone = PEOPLE[i % len(PEOPLE)]
        email = f"person{i:06d}@example.org"
        rows.append({
            "id": f"r{i:08d}{secrets.token_hex(8)}", "series_id": series_id,
            "email_key": email, "email": email, "name": f"Persona {i}", "language": lang,
            "timezone": zone, "timezone_source": "given",
            "channels": {"telegram": str(500000000 + i)} if channel == "telegram" else {},
            "sessions": ["day-1"], "consent": {}, "status": "confirmed", "position": i,
            "token": secrets.token_urlsafe(16), "registered_at": EARLY,
            "confirmed_at": EARLY, "updated_at": EARLY})
    with store.begin() as conn:
        conn.execute(registrations.insert(), rows)


def _chat_extra(url: str, *, rate: float | None = None) -> str:
    options = json.dumps({"bot_token": TOKEN, "api_base_url": url})
    limit = f"  rate_limit: {rate}\n" if rate else ""
    return f"{limit}  transports:\n    telegram: {options}\n"


def run_dispatch(state: State, *, transport: str | None, concurrency: int) -> float:
    """The dispatch function, in this process; returns seconds."""
    series = load_series(state.series)
    with open_store(state.state) as store:
        start = time.perf_counter()
        report = dispatch(store, series, now=NOW, transport=transport,
                          concurrency=concurrency)
        elapsed = time.perf_counter() - start
    if report.problems or report.total_sent != state.count:
        raise SystemExit(f"dispatch sent {report.total_sent} of {state.count}: "
                         f"{report.problems}")
    return elapsed


def run_command(state: State, *, transport: str | None, concurrency: int) -> float:
    """The whole ``s3events dispatch`` command; returns seconds."""
    command = [EXE, "dispatch", str(state.series), "--state", str(state.state), "--now",
               NOW.isoformat(), "--concurrency", str(concurrency), "--no-progress"]
    if transport:
        command += ["--transport", transport]
    env = {**os.environ, "S3EVENTS_TELEGRAM_BOT_TOKEN": TOKEN}
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"s3events dispatch failed: {done.stderr}")
    return elapsed


def raw_smtp(messages: list[Arrival], port: int, threads: int) -> float:
    """``threads`` smtplib connections sending ``messages`` (the same bytes); seconds."""
    jobs: queue.Queue[Arrival] = queue.Queue()
    for message in messages:
        jobs.put(message)

    def work() -> None:
        smtp = smtplib.SMTP("127.0.0.1", port)
        while True:
            try:
                m = jobs.get_nowait()
            except queue.Empty:
                break
            smtp.sendmail(m.sender, [m.recipient], m.data)
        smtp.quit()

    return _threads(work, threads)


def raw_chat(messages: list[Arrival], url: str, threads: int) -> float:
    """``threads`` requests sessions posting ``messages`` (the same bodies); seconds."""
    jobs: queue.Queue[Arrival] = queue.Queue()
    for message in messages:
        jobs.put(message)
    target = f"{url}/bot{TOKEN}/sendMessage"

    def work() -> None:
        with requests.Session() as session:
            while True:
                try:
                    m = jobs.get_nowait()
                except queue.Empty:
                    break
                session.post(target, data=m.data, timeout=30,
                             headers={"Content-Type": "application/json"}).raise_for_status()

    return _threads(work, threads)


def _threads(work: Callable[[], None], count: int) -> float:
    workers = [threading.Thread(target=work) for _ in range(count)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def _once_each(arrivals: list[Arrival], expected: int, what: str) -> None:
    copies = Counter(a.key for a in arrivals)
    if len(copies) != expected or set(copies.values()) != {1}:
        raise SystemExit(f"{what}: the server got {len(arrivals)} messages, "
                         f"{len(copies)} different, {expected} expected")


class Bench:
    """The measurements, sharing one temporary folder and the delay."""

    def __init__(self, folder: Path, delay: float, seconds: float) -> None:
        self.folder, self.delay, self.seconds = folder, delay, seconds

    def server(self, channel: str) -> SlowSmtp | SlowChat:
        cls = SlowSmtp if channel == "email" else SlowChat
        return cls(self.folder, delay=self.delay)

    def state(self, channel: str, count: int, server: Any, *, rate: float | None = None,
              concurrency: int | None = None) -> State:
        if channel == "email":
            extra = f"  rate_limit: {rate}\n" if rate else ""
        else:
            extra = _chat_extra(server.url, rate=rate)
        return prepare(self.folder, count, channel=channel, extra=extra)

    def sweep(self, channel: str) -> None:
        for n in (1, 4, 16):
            ideal = n / self.delay
            count = max(20, int(ideal * self.seconds))
            with self.server(channel) as server:
                state = self.state(channel, count, server)
                elapsed = run_dispatch(state, transport=_spec(channel, server),
                                       concurrency=n)
            _once_each(server.arrivals(), count, f"{channel} at concurrency {n}")
            rate = count / elapsed
            print(f"  {channel:8} concurrency {n:2}: {count:4} messages, {rate:6.1f} msg/s, "
                  f"ideal {ideal:5.1f}, ratio {rate / ideal:.2f}  (goal >= 0.8)")

    def limited(self, channel: str, limit: float = 20) -> None:
        count = max(40, int(limit * self.seconds * 2))
        with self.server(channel) as server:
            state = self.state(channel, count, server, rate=limit)
            elapsed = run_dispatch(state, transport=_spec(channel, server), concurrency=8)
        arrivals = server.arrivals()
        _once_each(arrivals, count, f"{channel} with rate_limit {limit:g}")
        most = most_in_one_second([a.at for a in arrivals])
        ideal = min(8 / self.delay, limit)
        print(f"  {channel:8} rate_limit {limit:g}, concurrency 8: {count} messages, "
              f"{count / elapsed:5.1f} msg/s (goal >= {0.85 * limit:g}; ratio to the ideal "
              f"{count / elapsed / ideal:.2f}), at most {most} in any one second "
              f"(goal <= {limit + 1:g})")

    def versus_raw(self, channel: str, count: int) -> None:
        with self.server(channel) as server:
            state = self.state(channel, count, server)
            ours = run_command(state, transport=_spec(channel, server), concurrency=8)
        sent = server.arrivals()
        _once_each(sent, count, f"s3events dispatch on {channel}")
        with self.server(channel) as server:
            raw = (raw_smtp(sent, server.port, 8) if channel == "email"
                   else raw_chat(sent, server.url, 8))
        _once_each(server.arrivals(), count, f"the raw loop on {channel}")
        budget = 1.5 * raw + 3
        verdict = "goal met" if ours <= budget else "goal MISSED"
        print(f"  {channel:8} {count} messages: s3events dispatch --concurrency 8 {ours:5.1f} s, "
              f"raw loop with 8 threads {raw:5.1f} s; ratio {ours / raw:.2f}, budget "
              f"1.5 x raw + 3 s = {budget:.1f} s: {verdict}; each message received once")


def _spec(channel: str, server: Any) -> str | None:
    return server.url if channel == "email" else None


def main(argv: list[str] | None = None) -> int:
    """Run the measurements and print the rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.1,
                        help="seconds each server takes per message (default 0.1)")
    parser.add_argument("--seconds", type=float, default=4.0,
                        help="about how long each concurrency run lasts (default 4)")
    parser.add_argument("--count", type=int, default=800,
                        help="messages for the comparison with the raw loop (default 800)")
    parser.add_argument("--quick", action="store_true",
                        help="a short run: 50 ms, 1 s per run, 80 messages to compare")
    args = parser.parse_args(argv)
    if args.quick:
        args.delay, args.seconds, args.count = 0.05, 1.0, 80
    with tempfile.TemporaryDirectory() as tmp:
        bench = Bench(Path(tmp), args.delay, args.seconds)
        print(f"each server answers after {args.delay * 1000:.0f} ms")
        print("1. concurrency (dispatch function, state on SQLite):")
        for channel in ("email", "telegram"):
            bench.sweep(channel)
        print("2. one rate limit over all connections:")
        for channel in ("email", "telegram"):
            bench.limited(channel)
        print("3. the whole command against a raw loop with 8 threads:")
        for channel in ("email", "telegram"):
            bench.versus_raw(channel, args.count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
