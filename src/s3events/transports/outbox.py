"""Built-in outbox plugin (being written)."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl


@hookimpl
def s3events_register_transports() -> list[Any]:
    return []
