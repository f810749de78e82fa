"""An import leaves SQLite able to read a large series page by page without scanning it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import text

from s3events import load_series
from s3events.registrations import import_registrations
from s3events.registrations.saving import refresh_statistics
from s3events.store import open_store
from tests.fixtures.series import minimal_series_data

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)
PAGE = ("EXPLAIN QUERY PLAN SELECT id FROM s3e_registrations WHERE series_id = 'demo' "
        "AND id > '' ORDER BY id LIMIT 500")


def test_a_large_import_measures_the_tables_so_pages_use_the_primary_key(
        tmp_path: Path, write_series: Callable[..., Path]) -> None:
    series = load_series(write_series(minimal_series_data()))
    path = tmp_path / "people.csv"
    path.write_text("name,email\n" + "".join(f"P{n},p{n}@example.org\n" for n in range(3000)),
                    encoding="utf-8")
    with open_store(tmp_path / "state.db") as store:
        import_registrations(store, series, path, now=NOW, batch_size=500)
        with store.connect() as conn:
            stat = conn.execute(text("SELECT stat FROM sqlite_stat1 WHERE "
                                     "idx = 'ix_registrations_series_status'")).scalar()
            plan = " ".join(row[3] for row in conn.execute(text(PAGE)))
        assert int(stat.split()[0]) >= 1500  # measured as the table doubled
        assert "ix_registrations_series_status" not in plan and "TEMP B-TREE" not in plan
        assert not refresh_statistics(store, 10)  # a small import into a measured table


def test_postgresql_keeps_its_own_statistics(state_url: str) -> None:
    with open_store(state_url) as store:
        assert refresh_statistics(store, 10_000) is (store.dialect == "sqlite")
