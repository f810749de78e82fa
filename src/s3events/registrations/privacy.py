"""A person's rights over their data in a series: a copy of all of it, or its erasure
(their outbox files included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..attendance.storage import forget_person, person_rows
from ..store import Store, ledger, lock, registrations
from ..transports.choice import outbox_folder
from ..transports.outbox import remove_files
from .roster import find_registration, registration_from_row
from .seats import promote

if TYPE_CHECKING:
    from ..models import Series

__all__ = ["ErasureReport", "erase_person", "export_person"]

_LEDGER_EXPORT = ("session_id", "kind", "revision", "channel", "state", "attempts", "due_at",
                  "created_at", "sent_at", "next_attempt_at", "last_error", "message_id")


def export_person(store: Store, series_id: str, email: str) -> dict[str, Any]:
    """Every piece of data held on a person in a series, as JSON-ready data.

    Their registration (all fields but the secret link token), every message queued or
    sent to them (kind, session, channel, state, attempts and times) and every attendance
    row that names them (session, name and email as the platform reported them, stays).
    Nobody else's data.
    """
    with store.connect() as conn:
        row = find_registration(conn, series_id, email, token_ok=False)
        messages = conn.execute(
            select(*(ledger.c[name] for name in _LEDGER_EXPORT))
            .where(ledger.c.registration_id == row["id"])
            .order_by(ledger.c.created_at, ledger.c.id)).mappings().all()
        attendance = person_rows(conn, series_id, row["id"], row["email"])
    return {
        "series_id": series_id,
        "registration": registration_from_row(row).to_json(),
        "messages": [{k: v.isoformat() if isinstance(v, datetime) else v
                      for k, v in message.items()} for message in messages],
        "attendance": attendance,
        "not_included": {"token": "the secret key of the person's cancel and confirm links"},
    }


@dataclass(frozen=True)
class ErasureReport:
    """What :func:`erase_person` removed and kept."""

    registration_id: str
    messages_deleted: int
    messages_kept: int
    promoted: int
    purged: bool
    files_deleted: int = 0

    def __str__(self) -> str:
        text = (f"registration {self.registration_id} deleted, {self.messages_deleted} unsent "
                f"message(s) deleted, {self.messages_kept} sent message record(s) kept "
                "without personal data")
        if self.files_deleted:
            text += f", {self.files_deleted} file(s) deleted from the outbox"
        if self.promoted:
            text += f"; {self.promoted} moved up from the waiting list"
        if not self.purged:
            text += ("; another process holds the database open, so old copies may stay in "
                     "the -wal file until its next checkpoint")
        return text


def erase_person(store: Store, series: Series | str, email: str, *,
                 now: datetime | None = None, transport: str | None = None) -> ErasureReport:
    """Erase a person: their registration, attendance, unsent messages and outbox files go;
    sent records stay, anonymous.

    Sent ledger rows keep only the random registration id (which nothing links to the person
    any more) and lose their last error text. Then the database files are purged of the
    deleted rows (:meth:`~s3events.store.Store.purge_deleted`). With the series (not only its
    id) and ``now``, a seat freed by a confirmed person goes to the waiting list.

    With the series, the person's ``.eml`` files are deleted from the folder the ``outbox``
    transport writes to — the one ``dispatch`` uses with the same ``transport`` spec
    (``--transport``; default the series' ``dispatch.transport``, else ``./outbox``); their
    names come from the person's ledger keys. Nothing is deleted when the email transport
    is not ``outbox``.
    """
    known = None if isinstance(series, str) else series
    series_id = series if isinstance(series, str) else series.id
    folder = outbox_folder(known, transport) if known is not None else None
    with store.begin() as conn:
        lock(conn, f"registrations:{series_id}")
        row = find_registration(conn, series_id, email, token_ok=False)
        mine = ledger.c.registration_id == row["id"]
        keys = list(conn.execute(select(ledger.c.key).where(mine, ledger.c.channel == "email"))
                    .scalars())
        deleted = conn.execute(ledger.delete().where(mine, ledger.c.state != "sent")).rowcount
        kept = conn.execute(ledger.update().where(mine).values(last_error=None)).rowcount
        conn.execute(registrations.delete().where(registrations.c.id == row["id"]))
        forget_person(conn, series_id, row["id"], row["email"])
        promoted = [] if known is None or now is None else promote(conn, known, now)
    files = remove_files(folder, keys) if folder is not None and folder.is_dir() else 0
    if promoted and known is not None and now is not None:
        from ..scheduler import schedule

        schedule(store, known, now=now, registration_ids=promoted)
    return ErasureReport(row["id"], deleted, kept, len(promoted), store.purge_deleted(), files)
