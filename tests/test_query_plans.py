"""The scheduler's paging queries use the right index by construction, statistics or not.

SQLite picks a plan from the statistics ``ANALYZE`` leaves, and a database grown only by
the event page's registrations is never analysed. The registrations are paged by
(series_id, id), with an index that fits that query exactly, so every plan below is a
search of that index — never a scan of the series or a sort — on a fresh database, on one
with statistics that make another index look attractive, and on an old database that
lacked the index (it is added when the database is opened).
"""

from __future__ import annotations

import secrets
import sqlite3
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from s3events.scheduler import _Reader, schedule
from s3events.store import Store, open_store, registrations
from tests.test_dispatch_support import make_series

NOW = datetime(2021, 10, 1, tzinfo=timezone.utc)


def _plans(store: Store) -> dict[str, str]:
    """The detail lines of EXPLAIN QUERY PLAN for each query a scheduling pass repeats."""
    reader = _Reader(store)
    queries = {
        "page": (reader.info_sql, ("demo", "r0", 500)),
        "some": (reader.info_in_sql(3), ("demo", "ra", "rb", "rc")),
        "ledger range": (reader.existing_sql, ("ra", "rz")),
    }
    plans = {}
    with store.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for name, (sql, params) in queries.items():
            rows = cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params).fetchall()
            plans[name] = " | ".join(row[3] for row in rows)
    return plans


def _assert_right(plans: dict[str, str]) -> None:
    assert plans["page"] == ("SEARCH s3e_registrations USING INDEX ix_registrations_series_id "
                             "(series_id=? AND id>?)")
    assert plans["some"] == ("SEARCH s3e_registrations USING INDEX ix_registrations_series_id "
                             "(series_id=? AND id=?)")
    assert plans["ledger range"].startswith("SEARCH s3e_ledger USING INDEX "
                                            "ix_ledger_registration")
    for plan in plans.values():
        assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan


def _fill(store: Store, series_id: str, count: int, status: str = "confirmed") -> None:
    rows = [{"id": "r" + secrets.token_hex(12), "series_id": series_id,
             "email_key": f"p{i}.{series_id}@example.org",
             "email": f"p{i}.{series_id}@example.org", "name": f"P {i}", "language": "en",
             "timezone": "Europe/Brussels", "timezone_source": "given", "channels": {},
             "sessions": None, "consent": {}, "status": status, "position": i,
             "token": secrets.token_urlsafe(16), "registered_at": NOW, "confirmed_at": NOW,
             "updated_at": NOW} for i in range(count)]
    with store.begin() as conn:
        conn.execute(registrations.insert(), rows)


def test_a_database_never_analysed_pages_by_the_fitting_index(tmp_path, write_series):
    series = make_series(write_series)
    with open_store(tmp_path / "state.db") as store:
        _fill(store, "demo", 300)
        schedule(store, series, now=NOW)
        with store.connect() as conn:
            assert conn.execute(text("SELECT name FROM sqlite_master "
                                     "WHERE name = 'sqlite_stat1'")).first() is None
        _assert_right(_plans(store))


def test_statistics_that_favour_another_index_change_no_plan(tmp_path):
    with open_store(tmp_path / "state.db") as store:
        _fill(store, "demo", 40, status="waitlisted")  # few of ours, all in one status
        _fill(store, "other", 4000)
        with store.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        _assert_right(_plans(store))


def test_an_older_database_without_the_index_gets_it_when_opened(tmp_path):
    path = tmp_path / "state.db"
    open_store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("DROP INDEX ix_registrations_series_id")
    with open_store(path, create=False) as store:
        _assert_right(_plans(store))


@pytest.mark.postgres
def test_postgresql_has_the_index_too(postgres_database):
    with open_store(postgres_database) as store, store.connect() as conn:
        found = conn.execute(text("SELECT indexdef FROM pg_indexes "
                                  "WHERE indexname = 'ix_registrations_series_id'")).scalar()
    assert found is not None and "(series_id, id)" in found
