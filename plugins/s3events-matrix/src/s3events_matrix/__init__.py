"""s3events-matrix: the ``matrix`` transport, sending join links to Matrix rooms.

Installing this distribution registers the transport through the ``s3events`` entry point;
a series then lists ``matrix`` in ``dispatch.channels`` and sets ``homeserver`` and
``access_token`` under ``dispatch.transports.matrix`` (or ``S3EVENTS_MATRIX_HOMESERVER`` and
``S3EVENTS_MATRIX_ACCESS_TOKEN``).
"""

from __future__ import annotations

from s3events.hookspecs import hookimpl
from s3events.transports.base import Transport

from .transport import (
    CLIENT_API,
    MatrixClient,
    MatrixOptions,
    MatrixTransport,
    matrix_content,
    transaction_id,
)

__all__ = [
    "CLIENT_API",
    "MatrixClient",
    "MatrixOptions",
    "MatrixTransport",
    "matrix_content",
    "s3events_register_transports",
    "transaction_id",
]


@hookimpl
def s3events_register_transports() -> list[type[Transport]]:
    """Register the ``matrix`` transport."""
    return [MatrixTransport]
