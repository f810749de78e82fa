"""Export and erasure: this import path stays; the code lives in
:mod:`s3events.registrations.privacy`.
"""

from __future__ import annotations

from .registrations.privacy import ErasureReport, erase_person, export_person

__all__ = ["ErasureReport", "erase_person", "export_person"]
