"""Writing many registrations at once, a batch per transaction: what an import does.

:class:`BatchWriter` takes cleaned entries (:func:`.fields.clean_fields` results, each
with the line it came from) and, one batch at a time under the series' registrations lock
(:func:`s3events.store.lock`): looks up the people already known by their email key,
adds new people (a seat, or a place on the waiting list, in file order), applies a later
answer of a known person according to ``on_duplicate``, cancels people the export marks
as withdrawn, and moves the waiting list up. Memory stays flat however long the file is:
nothing is kept from one batch to the next but the counts.

``on_duplicate`` — the same person twice, in one file or across imports:

- ``latest`` (default): the later answer's details replace the earlier ones ("updated");
- ``first``: the first answer stays; later ones change nothing;
- ``error``: a later answer with different details is a bad row (not imported).

A person's status is never changed by a new answer: someone cancelled stays cancelled.
Each registration's ``source`` records the file and line its details come from
(``import:people.csv:17``).
"""

from __future__ import annotations

import base64
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from ..errors import Problem
from ..store import Store, ledger, lock, registrations
from .seats import confirmed_count, next_position, promote, seat_for

if TYPE_CHECKING:
    from ..models import Series
    from .model import Status

__all__ = ["DETAIL_FIELDS", "BatchWriter", "Entry", "OnDuplicate", "SaveCounts",
           "save_registrations"]

OnDuplicate = Literal["latest", "first", "error"]
#: The fields whose values an import or a new registration may change.
DETAIL_FIELDS = ("name", "language", "timezone", "timezone_source", "country", "organisation",
                 "sector", "channels", "sessions", "consent")
_UPDATED = (*DETAIL_FIELDS, "email", "status", "cancelled_at", "source", "updated_at")


def storable(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The detail fields of ``fields`` (``sessions`` None is stored as SQL NULL: all)."""
    return {name: fields[name] for name in DETAIL_FIELDS}


def new_row(series: Series, fields: Mapping[str, Any], *, key: str, status: Status,
            position: int, now: datetime, source: str | None) -> dict[str, Any]:
    """A new registrations row: a random id and link token, times, the details."""
    random = secrets.token_bytes(44)  # one draw for the id (12 bytes) and the token (32)
    return {
        **storable(fields), "id": "r" + random[:12].hex(), "series_id": series.id,
        "email": fields["email"], "email_key": key, "status": status, "position": position,
        "token": base64.urlsafe_b64encode(random[12:]).rstrip(b"=").decode(), "source": source,
        "registered_at": now, "confirmed_at": now if status == "confirmed" else None,
        "cancelled_at": None, "updated_at": now,
    }


def differs(row: Mapping[Any, Any], fields: Mapping[str, Any]) -> bool:
    """Whether ``fields`` would change the details stored in ``row``."""
    for name in DETAIL_FIELDS:
        stored = row[name]
        if name in ("channels", "consent"):
            stored = stored or {}
        if stored != fields[name]:
            return True
    return False


@dataclass
class SaveCounts:
    """What a save did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    confirmed: int = 0
    waitlisted: int = 0
    promoted: int = 0
    cancelled: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    zones: Counter[str] = field(default_factory=Counter)


@dataclass
class Entry:
    """One row to save: its cleaned fields (or only the email, for a withdrawal)."""

    line: int | None
    key: str
    fields: Mapping[str, Any]
    verdict: str = "registered"
    status_text: str = ""


@dataclass
class _Person:
    """A registration as this batch sees it: a stored row, or one it adds."""

    row: dict[str, Any]
    new: bool = False
    dirty: bool = False
    line: int | None = None


class BatchWriter:
    """Saves entries a batch at a time; see the module docstring."""

    def __init__(self, store: Store, series: Series, *, now: datetime, source: str | None,
                 on_duplicate: OnDuplicate = "latest", file: str | None = None,
                 counts: SaveCounts | None = None) -> None:
        self.store, self.series, self.now = store, series, now
        self.source, self.on_duplicate, self.file = source, on_duplicate, file
        self.counts = counts if counts is not None else SaveCounts()
        self.problems: list[Problem] = []
        self.written = self.measured_at = 0

    def write(self, entries: Sequence[Entry]) -> list[str]:
        """Save one batch in one transaction; the ids whose messages may have changed."""
        if not entries:
            return []
        with self.store.begin() as conn:
            lock(conn, f"registrations:{self.series.id}")
            batch = _Batch(self, conn, entries)
            for entry in entries:
                batch.take(entry)
            touched = batch.flush()
        self.written += len(entries)
        if refresh_statistics(self.store, self.written - self.measured_at):
            self.measured_at = self.written
        return touched

    def finish(self) -> list[str]:
        """Move the waiting list up into seats freed by the import; the ids promoted."""
        if self.series.registration.capacity is None and not self.counts.cancelled:
            return []
        with self.store.begin() as conn:
            lock(conn, f"registrations:{self.series.id}")
            promoted = promote(conn, self.series, self.now)
        self.counts.promoted += len(promoted)
        return promoted

    def source_of(self, line: int | None) -> str | None:
        """The ``source`` of details read from ``line``."""
        if self.source is None or line is None:
            return self.source
        return f"{self.source}:{line}"[:256]


class _Batch:
    """One transaction's worth of entries."""

    def __init__(self, writer: BatchWriter, conn: Connection,
                 entries: Sequence[Entry]) -> None:
        self.w, self.conn = writer, conn
        keys = sorted({e.key for e in entries})
        query = registrations.select().where(registrations.c.series_id == writer.series.id,
                                             registrations.c.email_key.in_(keys))
        self.people = {row["email_key"]: _Person(dict(row))
                       for row in conn.execute(query).mappings()}
        capacity = writer.series.registration.capacity
        self.confirmed = 0 if capacity is None else confirmed_count(conn, writer.series.id)
        self.position = next_position(conn, writer.series.id)
        self.freed = False

    def take(self, entry: Entry) -> None:
        person = self.people.get(entry.key)
        if entry.verdict == "withdrawn":
            self.withdraw(entry, person)
        elif entry.verdict != "registered":
            if person is None:
                self.w.counts.skipped[entry.status_text or entry.verdict] += 1
            else:
                self.w.counts.unchanged += 1
        elif person is None:
            self.add(entry)
        else:
            self.again(entry, person)

    def add(self, entry: Entry) -> None:
        w = self.w
        status: Status = seat_for(w.series, self.confirmed)
        self.confirmed += status == "confirmed"
        setattr(w.counts, status, getattr(w.counts, status) + 1)
        row = new_row(w.series, entry.fields, key=entry.key, status=status,
                      position=self.position, now=w.now, source=w.source_of(entry.line))
        self.position += 1
        self.people[entry.key] = _Person(row, new=True, line=entry.line)
        w.counts.added += 1
        w.counts.zones[entry.fields["timezone_source"]] += 1

    def again(self, entry: Entry, person: _Person) -> None:
        """A person already known (earlier in the file, or from before)."""
        w = self.w
        earlier = self.earlier_line(person, entry.line)
        if not differs(person.row, entry.fields):
            w.counts.unchanged += 1
            if earlier is not None:
                self.note(entry, f"the same person as line {earlier}, with the same "
                          "details; nothing to change", "warning")
        elif w.on_duplicate == "first":
            w.counts.unchanged += 1
            if earlier is not None:
                self.note(entry, f"the same person as line {earlier}, with other details; "
                          f"line {earlier} was kept (--on-duplicate first)", "warning")
        elif w.on_duplicate == "error":
            where = f"line {earlier}" if earlier is not None else "an earlier registration"
            self.note(entry, f"the same person as {where}, with other details; this row was "
                      "not imported (--on-duplicate error; use latest to take it)", "error")
        else:
            self.update(entry, person, earlier)

    def update(self, entry: Entry, person: _Person, earlier: int | None) -> None:
        w = self.w
        person.row.update(storable(entry.fields))  # the later answer, address spelling too
        person.row.update(email=entry.fields["email"], source=w.source_of(entry.line),
                          updated_at=w.now)
        person.dirty, person.line = True, entry.line
        w.counts.updated += 1
        w.counts.zones[entry.fields["timezone_source"]] += 1
        if earlier is not None:
            self.note(entry, f"the same person as line {earlier}; this later answer "
                      "replaces it", "warning")

    def withdraw(self, entry: Entry, person: _Person | None) -> None:
        counts = self.w.counts
        if person is None:
            counts.skipped[entry.status_text or "withdrawn"] += 1
        elif person.row["status"] == "cancelled":
            counts.unchanged += 1
        else:  # the seat is given to the waiting list when the batch is written
            person.row.update(status="cancelled", cancelled_at=self.w.now,
                              updated_at=self.w.now)
            person.dirty = True
            counts.cancelled += 1
            self.freed = True

    def earlier_line(self, person: _Person, line: int | None) -> int | None:
        """The line of this file the person's details came from, if this import wrote them
        (never ``line`` itself: that is the same file imported again at the same --now)."""
        found = person.line
        source, prefix = person.row.get("source") or "", f"{self.w.source}:"
        if found is None and self.w.source and source.startswith(prefix) \
                and person.row["updated_at"] == self.w.now:
            tail = source.removeprefix(prefix)
            found = int(tail) if tail.isdigit() else None
        return None if found == line else found

    def note(self, entry: Entry, message: str, severity: Literal["error", "warning"]) -> None:
        self.w.problems.append(Problem(message, file=self.w.file, line=entry.line,
                                       path="email", severity=severity))

    def flush(self) -> list[str]:
        """Write the batch's inserts and updates; the ids whose messages may change."""
        inserts = [p.row for p in self.people.values() if p.new]
        updates = [p.row for p in self.people.values() if p.dirty and not p.new]
        if inserts:
            self.conn.execute(registrations.insert(), inserts)
        if updates:
            self.conn.execute(
                registrations.update().where(registrations.c.id == bindparam("row_id"))
                .values({name: bindparam(f"v_{name}") for name in _UPDATED}),
                [{"row_id": row["id"], **{f"v_{n}": row[n] for n in _UPDATED}}
                 for row in updates])
        promoted = promote(self.conn, self.w.series, self.w.now) if self.freed else []
        self.w.counts.promoted += len(promoted)
        return [row["id"] for row in (*inserts, *updates)] + promoted


def refresh_statistics(store: Store, written: int) -> bool:
    """On SQLite, re-measure the tables once ``written`` rows outnumber those measured.

    SQLite picks indexes by the statistics ``ANALYZE`` leaves; without them it takes the
    (series, status, position) index for every query of one series, and reading a series
    page by page, or a list of people by id, then scans the whole series each time:
    quadratic once there are hundreds of thousands. ``written`` is the rows written since
    the last measure, so ``ANALYZE`` runs about as often as the table doubles, and never
    for a small import into a measured table. True when it ran.
    """
    if store.dialect != "sqlite":
        return False
    with store.connect() as conn:
        measured = conn.execute(text(
            "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_registrations_series_status'"
        )).scalar() if _has_stat_table(conn) else None
        if measured is not None and int(str(measured).split()[0]) >= written:
            return False
        conn.execute(text(f"ANALYZE {registrations.name}"))
        conn.execute(text(f"ANALYZE {ledger.name}"))
        conn.commit()
    return True


def _has_stat_table(conn: Connection) -> bool:
    return conn.execute(text(
        "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")).first() is not None


def save_registrations(store: Store, series: Series, entries: Iterable[Mapping[str, Any]], *,
                       now: datetime, source: str | None,
                       on_duplicate: OnDuplicate = "latest") -> SaveCounts:
    """Add new people and update the details of known ones (their status stays), in order.

    ``entries`` are :func:`~s3events.registrations.clean_fields` results, saved in one
    batch. Nothing is queued here; callers schedule the messages afterwards.
    """
    from .addresses import email_key

    writer = BatchWriter(store, series, now=now, source=source, on_duplicate=on_duplicate)
    writer.write([Entry(None, email_key(f["email"]), f) for f in entries])
    writer.finish()
    return writer.counts
