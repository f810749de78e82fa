"""The ``console`` transport: messages printed to the terminal, for trying things out.

By default it prints one line per message — kind, channel, the recipient's address
masked (``j***@example.org``) and the subject — so a trial run shows what would go out
without printing personal data. ``--transport console:full`` prints each message's whole
text as well: that includes names and join links, so use it only on test data.
Nothing is delivered: messages count as sent in the ledger.
"""

from __future__ import annotations

import sys
from typing import Any, ClassVar, TextIO

from ..hookspecs import hookimpl
from .base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = ["ConsoleOptions", "ConsoleTransport", "mask_address"]


class ConsoleOptions(TransportOptions):
    """Options of the ``console`` transport."""

    full: bool = False


def mask_address(address: str) -> str:
    """``j***@example.org`` for an email, ``+52***21`` for a number or id."""
    local, at, domain = address.partition("@")
    if at:
        return f"{local[:1]}***@{domain}"
    return f"{address[:3]}***{address[-2:]}" if len(address) > 6 else "***"


class ConsoleTransport(Transport):
    """Prints a summary of each message (or the whole text with ``full``)."""

    name: ClassVar[str] = "console"
    channel: ClassVar[str] = "email"
    options_model: ClassVar[type[TransportOptions]] = ConsoleOptions
    description: ClassVar[str] = "Print messages to the terminal (masked unless console:full)."

    def __init__(self, options: TransportOptions | None = None, *,
                 stream: TextIO | None = None, **kwargs: Any) -> None:
        super().__init__(options, **kwargs)
        self.stream = stream

    @classmethod
    def url_options(cls, spec: str) -> dict[str, Any]:
        """``console:full`` prints whole messages."""
        return {"full": True} if spec.partition(":")[2].strip("/") == "full" else {}

    def send(self, message: OutgoingMessage) -> SendResult:
        """Print the message."""
        out = self.stream or sys.stdout
        summary = message.subject or (message.text.splitlines() or [""])[0]
        line = f"[{message.kind}] {message.channel} → {mask_address(message.recipient)}: {summary}"
        print(line, file=out)
        if self.options.full:  # type: ignore[attr-defined]
            print(message.text.rstrip() + "\n", file=out)
        out.flush()
        return SendResult(provider_id=None)


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """The built-in ``console`` transport."""
    return [ConsoleTransport]
