"""Cleaning what people typed: this import path stays; the code lives in
:mod:`s3events.registrations.fields`.
"""

from __future__ import annotations

from .registrations.fields import CHANNELS, SECTORS, Sector, clean_fields

__all__ = ["CHANNELS", "SECTORS", "Sector", "clean_fields"]
