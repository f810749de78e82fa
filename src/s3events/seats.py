"""Seats and the waiting list: this import path stays; the code lives in
:mod:`s3events.registrations.seats`.
"""

from __future__ import annotations

from .registrations.seats import Seat, confirmed_count, next_position, promote, seat_for

__all__ = ["Seat", "confirmed_count", "next_position", "promote", "seat_for"]
