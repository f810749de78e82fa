"""The ``outbox`` transport: every email as an ``.eml`` file in a folder (the default).

``--transport outbox`` writes to ``./outbox``, ``--transport outbox:PATH`` to ``PATH``.
Each message is one file named after its ledger key (ids only, no personal data in the
name); it is written to a temporary file, flushed to disk and renamed into place, so a
crash never leaves half a file, and writing the same message again replaces it with the
same content. The folder holds personal data: it is created readable by its owner only.
Open the files with any mail program, or send them later. A message to or from an address
whose local part is beyond ASCII (``josé@example.org``) is written as an SMTPUTF8 message
(its address headers in UTF-8, RFC 6532), as it would go to a server that offers SMTPUTF8.
Erasing a person (``registrations erase``) deletes their files from the folder.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

from ..email import build_email
from ..hookspecs import hookimpl
from .base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = ["OutboxOptions", "OutboxTransport", "outbox_filename", "remove_files"]


class OutboxOptions(TransportOptions):
    """Options of the ``outbox`` transport."""

    path: str = "outbox"
    attach_ics: bool = True


def outbox_filename(key: str) -> str:
    """The file name for ledger key ``key``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", key) + ".eml"


def remove_files(folder: Path, keys: Iterable[str]) -> int:
    """Delete the files of ledger keys ``keys`` from ``folder`` (and any temporary file a
    crash left behind while writing one); how many files were deleted."""
    removed = 0
    for key in keys:
        name = outbox_filename(key)
        for path in (folder / name, *folder.glob(f".{glob.escape(name)}.*.tmp")):
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            removed += 1
    return removed


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class OutboxTransport(Transport):
    """Writes each email as ``<key>.eml`` into a folder, atomically."""

    name: ClassVar[str] = "outbox"
    channel: ClassVar[str] = "email"
    options_model: ClassVar[type[TransportOptions]] = OutboxOptions
    description: ClassVar[str] = "Email as .eml files in a folder (atomic writes)."

    @classmethod
    def url_options(cls, spec: str) -> dict[str, Any]:
        """Options for ``--transport outbox:PATH`` (``outbox`` alone: ./outbox)."""
        _, _, path = spec.partition(":")
        path = path.removeprefix("//")
        return {"path": path} if path else {}

    @property
    def folder(self) -> Path:
        """Where the files go."""
        return Path(self.options.path).expanduser()  # type: ignore[attr-defined]

    def open(self) -> None:
        """Create the folder (owner-only) if needed."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def send(self, message: OutgoingMessage) -> SendResult:
        """Write the message's file; the same key always gives the same file."""
        self.open()
        data = build_email(message, attach_ics=self.options.attach_ics)  # type: ignore[attr-defined]
        path = self.folder / outbox_filename(message.key)
        write_atomically(path, data)
        return SendResult(provider_id=path.name)


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """The built-in ``outbox`` transport."""
    return [OutboxTransport]
