"""Benchmark: personalised link messages with calendar parts, to a local SMTP server.

Prints, from one run, messages per second for

(a) s3events' full dispatch — scheduling pass, ledger claims, rendering (Babel, Jinja2,
    invitation), MIME, SMTP, and marking each row sent — on a SQLite state file;
(b) a raw loop sending the very same bytes (pre-serialised) over one smtplib connection;
(c) Apprise sending the same messages (subject, HTML body, the invitation attached), one
    ``notify()`` per participant, ``mailto://`` to the same server;

and the ratios a/b and a/c. The server is aiosmtpd on 127.0.0.1, in its own process (so it
does not compete with the senders for the interpreter lock) and does the same work for every
sender: it writes each message it receives to a spool file. (b) and (c) send exactly the
messages (a) delivered; (b) runs ``--repeat`` times and its median counts, since the machine
is shared and a single baseline run can be unusually fast or slow.

    python benchmarks/dispatch.py                 # 10,000 participants
    python benchmarks/dispatch.py --count 200     # quick
    python benchmarks/dispatch.py --schedule-only # scheduling at 10,000 and 100,000

``--schedule-only`` times, at 10,000 and 100,000 registrations (each in all five sessions:
six ledger rows a person), the first scheduling pass (it creates every row) and a second
one (nothing new), against a baseline on a copy of the same database that reads the same
registrations and inserts the same rows with plain SQL ``executemany``; and the most memory
each pass held (tracemalloc, in separate passes). Each time is the best of three runs,
on the wall clock and in this process's CPU time: on a machine shared with other work the
CPU ratios move less than the wall-clock ones.
Goals: first pass <= 5 x the baseline, second pass <= 1 x, memory flat from 10,000 to
100,000.

Apprise runs on ``--apprise-count`` participants (default: up to 500) to keep the run
short; its rate does not depend on the count, it opens one connection per message.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import shutil
import smtplib
import socket
import sqlite3
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import update

from s3events.dispatch import dispatch
from s3events.loading import load_series
from s3events.provision import apply, load_adapter
from s3events.scheduler import schedule
from s3events.store import ledger, open_store, registrations

ROOT = Path(__file__).resolve().parents[1]
SERIES = ROOT / "examples" / "s3-latam-2021" / "series.yaml"
UTC = timezone.utc
PEOPLE = [("es", "America/Mexico_City"), ("es", "America/Santiago"), ("es", "America/Lima"),
          ("en", "Europe/Brussels"), ("pt", "America/Sao_Paulo"), ("es", "America/Bogota")]
NAMES = ["José Peña", "María Fernanda Gutiérrez", "Ana Souza", "Kim Lee", "Luc Martin"]
SESSIONS = ["day-1"]


class _Spool:
    """aiosmtpd handler counting messages and, optionally, keeping them in a spool file."""

    def __init__(self, spool: str | None, count: Any) -> None:
        self.spool = open(spool, "wb") if spool else None  # noqa: SIM115 - closed at exit
        self.count = count

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.spool is not None:
            data = bytes(envelope.original_content or envelope.content)
            head = f"{envelope.mail_from}\t{envelope.rcpt_tos[0]}\t{len(data)}\n".encode()
            self.spool.write(head + data)
        with self.count.get_lock():
            self.count.value += 1
        return "250 OK"


def _serve(port: int, spool: str | None, count: Any, stop: Any, ready: Any) -> None:
    from aiosmtpd.controller import Controller

    controller = Controller(_Spool(spool, count), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()
    if controller.handler.spool is not None:
        controller.handler.spool.close()


class Server:
    """An aiosmtpd server in its own process (it must not share our interpreter lock)."""

    def __init__(self, spool: str | None = None) -> None:
        import multiprocessing

        self.port = _free_port()
        self.count = multiprocessing.Value("i", 0)
        self._stop, ready = multiprocessing.Event(), multiprocessing.Event()
        self._proc = multiprocessing.Process(
            target=_serve, args=(self.port, spool, self.count, self._stop, ready), daemon=True)
        self._proc.start()
        ready.wait(30)

    def stop(self) -> None:
        self._stop.set()
        self._proc.join(30)


def read_spool(path: Path) -> list[tuple[str, list[str], bytes]]:
    """The messages a spooling server received."""
    out, data, pos = [], path.read_bytes(), 0
    while pos < len(data):
        end = data.index(b"\n", pos)
        sender, rcpt, size = data[pos:end].decode().split("\t")
        out.append((sender, [rcpt], data[end + 1:end + 1 + int(size)]))
        pos = end + 1 + int(size)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _people(store: Any, series_id: str, count: int, at: datetime, *,
            sessions: list[str] | None = SESSIONS) -> None:
    batch = []
    for i in range(count):
        lang, zone = PEOPLE[i % len(PEOPLE)]
        email = f"person{i:06d}@example.org"
        batch.append({
            "id": f"r{i:08d}{secrets.token_hex(8)}", "series_id": series_id,
            "email_key": email, "email": email, "name": f"{NAMES[i % len(NAMES)]} {i}",
            "language": lang, "timezone": zone, "timezone_source": "given", "channels": {},
            "sessions": sessions, "consent": {}, "status": "confirmed", "position": i,
            "token": secrets.token_urlsafe(16), "registered_at": at, "confirmed_at": at,
            "updated_at": at})
        if len(batch) == 2000 or i == count - 1:
            with store.begin() as conn:
                conn.execute(registrations.insert(), batch)
            batch = []


def setup(folder: Path, count: int) -> tuple[Any, Any, datetime]:
    """A state file with ``count`` people, confirmations already sent, links pending."""
    series = load_series(SERIES)
    store = open_store(folder / "state.db")
    early = datetime(2021, 10, 1, tzinfo=UTC)
    apply(series, load_adapter(series), store, now=early)
    _people(store, series.id, count, early)
    schedule(store, series, now=early)
    with store.begin() as conn:
        conn.execute(update(ledger).where(ledger.c.kind == "confirmation")
                     .values(state="sent", sent_at=early, attempts=1))
    return series, store, datetime(2021, 10, 28, 6, 0, tzinfo=UTC)


def run_s3events(series: Any, store: Any, now: datetime, url: str) -> float:
    """(a): the full dispatch; returns seconds."""
    start = time.perf_counter()
    report = dispatch(store, series, now=now, transport=url, batch_size=200)
    elapsed = time.perf_counter() - start
    if report.problems:
        raise SystemExit(f"dispatch failed: {report.problems}")
    return elapsed


def run_raw(messages: list[tuple[str, list[str], bytes]], port: int) -> float:
    """(b): the same bytes over one smtplib connection; returns seconds."""
    smtp = smtplib.SMTP("127.0.0.1", port)
    start = time.perf_counter()
    for sender, recipients, data in messages:
        smtp.sendmail(sender, recipients, data)
    elapsed = time.perf_counter() - start
    smtp.quit()
    return elapsed


def run_apprise(messages: list[tuple[str, list[str], bytes]], port: int, folder: Path) -> float:
    """(c): one Apprise notify() per participant, same subject, HTML and invitation."""
    import email
    import email.policy

    import apprise

    logging.getLogger("apprise").setLevel(logging.ERROR)
    jobs = []
    for i, (sender, recipients, data) in enumerate(messages):
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        ics = next(p for p in parsed.walk() if p.get_content_type() == "text/calendar")
        invite = folder / f"invite-{i}.ics"
        invite.write_text(ics.get_content(), encoding="utf-8")
        html = parsed.get_body(("html",)).get_content()
        url = (f"mailto://127.0.0.1:{port}?smtp=127.0.0.1&mode=insecure&from={sender}"
               f"&to={recipients[0]}&format=html")
        jobs.append((url, str(parsed["Subject"]), html, str(invite)))
    start = time.perf_counter()
    for url, title, body, invite in jobs:
        notifier = apprise.Apprise()
        notifier.add(url)
        if not notifier.notify(title=title, body=body, body_format=apprise.NotifyFormat.HTML,
                               attach=invite):
            raise SystemExit("apprise could not send")
    return time.perf_counter() - start


# -- the scheduling pass at scale --------------------------------------------------------------

def _registered(folder: Path, count: int) -> tuple[Any, Path]:
    """A state file with the series' meetings and ``count`` people in every session."""
    series = load_series(SERIES)
    path = folder / f"fresh-{count}.db"
    with open_store(path) as store:
        early = datetime(2021, 10, 1, tzinfo=UTC)
        apply(series, load_adapter(series), store, now=early)
        _people(store, series.id, count, early, sessions=None)
    return series, path


def _copy(path: Path, name: str) -> Path:
    target = path.with_name(name)
    shutil.copyfile(path, target)
    return target


_INFO = ("id, email, name, language, timezone, channels, sessions, status, registered_at, "
         "confirmed_at, token")


class Timing(NamedTuple):
    """Seconds on the wall clock and of this process's CPU (user and system)."""

    wall: float
    cpu: float

    @classmethod
    def start(cls) -> Timing:
        return cls(time.perf_counter(), time.process_time())

    def since(self) -> Timing:
        """The time from ``self`` (a start) to now."""
        return Timing(time.perf_counter() - self.wall, time.process_time() - self.cpu)


def _best(timings: list[Timing]) -> Timing:
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings))


def baseline(path: Path, series_id: str, rows: list[dict[str, Any]]) -> Timing:
    """Plain SQL: read the registrations, ``executemany`` the same ledger rows."""
    columns = list(rows[0])
    insert = (f"INSERT INTO s3e_ledger ({', '.join(columns)}) "
              f"VALUES ({', '.join('?' for _ in columns)})")
    values = [tuple(row[c] for c in columns) for row in rows]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous=NORMAL")  # as the state database is opened
    try:
        start = Timing.start()
        people = conn.execute(f"SELECT {_INFO} FROM s3e_registrations WHERE series_id = ?",
                              (series_id,)).fetchall()
        conn.executemany(insert, values)
        conn.commit()
        elapsed = start.since()
    finally:
        conn.close()
    assert len(people) > 0
    return elapsed


def _created_rows(path: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("SELECT key, series_id, registration_id, session_id, kind, "
                             "revision, channel, due_at, state, attempts, created_at "
                             "FROM s3e_ledger").fetchall()
    finally:
        conn.close()
    return [dict(row) for row in found]


def _timed(path: Path, series: Any, now: datetime) -> tuple[Timing, int]:
    with open_store(path) as store:
        start = Timing.start()
        report = schedule(store, series, now=now)
        return start.since(), report.inserted


def _peak(path: Path, series: Any, now: datetime) -> int:
    """The most memory (bytes, Python allocations) one scheduling pass held at once."""
    with open_store(path) as store:
        tracemalloc.start()
        try:
            schedule(store, series, now=now)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@dataclass
class PassResult:
    """One count's scheduling measurements."""

    count: int
    rows: int
    first: Timing
    second: Timing
    raw: Timing
    first_peak: int
    second_peak: int


def measure_schedule(folder: Path, count: int, repeat: int = 3) -> PassResult:
    """First pass (creating every row), second pass (nothing new), the baseline, memory.

    Each time is the best of ``repeat`` runs on fresh copies of one database: the machine
    may be busy with other work, and the best run is the one it disturbed least.
    """
    series, fresh = _registered(folder, count)
    now = datetime(2021, 10, 1, 12, tzinfo=UTC)
    firsts, seconds, raws, inserted = [], [], [], 0
    for run in range(repeat):
        ours = _copy(fresh, f"ours-{count}-{run}.db")
        first, inserted = _timed(ours, series, now)
        second, again = _timed(ours, series, now)
        assert again == 0, "a second pass inserted rows"
        raw = baseline(_copy(fresh, f"raw-{count}-{run}.db"), series.id, _created_rows(ours))
        firsts.append(first)
        seconds.append(second)
        raws.append(raw)
        for path in folder.glob(f"*-{count}-{run}.db*"):
            path.unlink()
    traced = _copy(fresh, f"traced-{count}.db")
    first_peak, second_peak = _peak(traced, series, now), _peak(traced, series, now)
    return PassResult(count, inserted, _best(firsts), _best(seconds), _best(raws),
                      first_peak, second_peak)


def _line(label: str, t: Timing, r: PassResult, goal: float | None) -> str:
    text = (f"  {label:33}{t.wall:6.2f} s wall, {t.cpu:6.2f} s CPU, "
            f"{t.wall / r.count * 1e6:4.0f} us/registration")
    if goal is not None:
        text += (f"; ratio {t.wall / r.raw.wall:.2f} wall, {t.cpu / r.raw.cpu:.2f} CPU "
                 f"(goal <= {goal:g})")
    return text


def schedule_only(counts: list[int]) -> int:
    """Time scheduling passes against the plain-SQL baseline at each count; print ratios."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in counts:
            r = measure_schedule(Path(tmp), count)
            results.append(r)
            print(f"{r.count:7} registrations, {r.rows} ledger rows created:")
            print(_line("plain SQL (read, executemany):", r.raw, r, None))
            print(_line("first pass (creates the rows):", r.first, r, 5))
            print(_line("second pass (nothing new):", r.second, r, 1))
            print(f"  memory at most: first pass {r.first_peak / 2**20:.1f} MiB, second pass "
                  f"{r.second_peak / 2**20:.1f} MiB")
    if len(results) > 1:
        small, large = results[0], results[-1]
        growth = max(large.first_peak, large.second_peak) / max(small.first_peak,
                                                                small.second_peak)
        print(f"memory from {small.count} to {large.count} registrations: x{growth:.2f} "
              "(goal: flat, about 1)")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the three measurements and print the rates and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000, help="participants (messages)")
    parser.add_argument("--apprise-count", type=int, default=None,
                        help="participants for Apprise (default: min(count, 1000))")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of the raw baseline; the median counts (default 3)")
    parser.add_argument("--schedule-only", action="store_true",
                        help="only the scheduling passes, at 10,000 and --count registrations "
                             "(default 100,000), against plain SQL")
    args = parser.parse_args(argv)
    if args.schedule_only:
        count = args.count if "--count" in (argv or sys.argv) else 100_000
        return schedule_only(sorted({min(10_000, count), count}))
    apprise_count = args.apprise_count or min(args.count, 500)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        series, store, now = setup(folder, args.count)
        server = Server(str(folder / "spool"))
        try:
            a = run_s3events(series, store, now, f"smtp://127.0.0.1:{server.port}")
        finally:
            server.stop()
        store.close()
        sent = read_spool(folder / "spool")
        if len(sent) != args.count:
            raise SystemExit(f"expected {args.count} messages, the server got {len(sent)}")
        server = Server(str(folder / "spool-baselines"))
        try:
            runs = sorted(run_raw(sent, server.port) for _ in range(max(1, args.repeat)))
            b = runs[len(runs) // 2]
            c = run_apprise(sent[:apprise_count], server.port, folder)
            received = server.count.value
        finally:
            server.stop()
        expected = args.count * max(1, args.repeat) + apprise_count
        if received != expected:
            raise SystemExit(f"the server got {received} of {expected}")
    rate_a, rate_b, rate_c = args.count / a, args.count / b, apprise_count / c
    average = sum(len(m[2]) for m in sent) // len(sent)
    print(f"messages: {args.count} personalised links with calendar parts "
          f"({average} bytes on average)")
    print(f"(a) s3events dispatch (ledger, SQLite):  {rate_a:9.1f} msg/s  ({a:.2f} s)")
    print(f"(b) raw smtplib loop, pre-serialised:    {rate_b:9.1f} msg/s  ({b:.2f} s, "
          f"median of {max(1, args.repeat)})")
    print(f"(c) Apprise, one notify() per person:    {rate_c:9.1f} msg/s  "
          f"({c:.2f} s for {apprise_count})")
    print(f"ratio s3events / raw:     {rate_a / rate_b:.2f}  (target >= 0.5)")
    print(f"ratio s3events / Apprise: {rate_a / rate_c:.1f}  (target >= 10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())


