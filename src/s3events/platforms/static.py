"""Built-in static plugin (being written)."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl


@hookimpl
def s3events_register_platforms() -> list[Any]:
    return []
