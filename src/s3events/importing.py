"""Importing registrations: this import path stays; the code lives in
:mod:`s3events.registrations.importing`.
"""

from __future__ import annotations

from .registrations.importing import HEADER_ALIASES, ImportReport, import_registrations
from .tables import Table, decode, read_table

__all__ = ["HEADER_ALIASES", "ImportReport", "Table", "decode", "import_registrations",
           "read_table"]
