"""Message transports: the base class and the built-in ``smtp``, ``outbox`` and ``console``."""

from .base import OutgoingMessage, SendResult, Transport, TransportOptions

__all__ = ["OutgoingMessage", "SendResult", "Transport", "TransportOptions"]
