"""Reading CSV and XLSX files as form tools write them: this import path stays; the code
lives in :mod:`s3events.tables`, which attendance reports share."""

from __future__ import annotations

from ..tables import LIMITS, RowError, Table, decode, open_table, peek, read_table

__all__ = ["LIMITS", "RowError", "Table", "decode", "open_table", "peek", "read_table"]
