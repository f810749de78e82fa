"""The state database on SQLite and on a real PostgreSQL server (the state_url fixture)."""

from __future__ import annotations

import stat
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from s3events.errors import StoreError
from s3events.store import (
    SCHEMA_VERSION,
    lock,
    meta,
    open_store,
    registrations,
    resolve_state_url,
)

NOW = datetime(2021, 10, 20, 12, 0, tzinfo=timezone.utc)


def _registration(reg_id: str, email: str, *, position: int = 1,
                  when: datetime = NOW) -> dict[str, object]:
    return {
        "id": reg_id, "series_id": "demo", "email_key": email.lower(), "email": email,
        "name": "Ana Pérez", "language": "es", "timezone": "America/Lima",
        "timezone_source": "given", "channels": {}, "consent": {}, "status": "confirmed",
        "position": position, "token": f"token-{reg_id}", "registered_at": when,
        "updated_at": when,
    }


def test_schema_is_created_once_and_reopens(state_url: str) -> None:
    with open_store(state_url) as store, store.begin() as conn:
        conn.execute(registrations.insert().values(_registration("r1", "ana@example.org")))
    with open_store(state_url) as store, store.connect() as conn:
        version = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version"))
        assert version.scalar_one() == str(SCHEMA_VERSION)
        assert conn.execute(select(func.count()).select_from(registrations)).scalar_one() == 1


def test_times_come_back_as_aware_utc(state_store) -> None:
    lima = NOW.astimezone(ZoneInfo("America/Lima"))
    with state_store.begin() as conn:
        conn.execute(registrations.insert().values(_registration("r1", "a@example.org",
                                                                 when=lima)))
    with state_store.connect() as conn:
        stored = conn.execute(select(registrations.c.registered_at)).scalar_one()
    assert stored == NOW
    assert stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(state_store) -> None:
    naive = datetime(2021, 10, 20, 12, 0)
    with pytest.raises(StoreError), state_store.begin() as conn:
        conn.execute(registrations.insert().values(_registration("r1", "a@example.org",
                                                                 when=naive)))


def test_same_email_twice_in_a_series_is_refused(state_store) -> None:
    with state_store.begin() as conn:
        conn.execute(registrations.insert().values(_registration("r1", "a@example.org")))
    with pytest.raises(StoreError, match="IntegrityError"), state_store.begin() as conn:
        conn.execute(registrations.insert().values(_registration("r2", "A@example.org")))


def test_a_newer_schema_is_refused_with_advice(state_url: str) -> None:
    with open_store(state_url) as store, store.begin() as conn:
        conn.execute(meta.update().values(value=str(SCHEMA_VERSION + 1)))
    with pytest.raises(StoreError, match="upgrade s3events"):
        open_store(state_url)


def test_lock_makes_read_then_write_transactions_take_turns(state_url: str) -> None:
    """Each writer reads the highest position and writes the next: no two get the same."""
    with open_store(state_url) as store:
        def add(worker: int) -> None:
            for n in range(5):
                with store.begin() as conn:
                    lock(conn, "registrations:demo")
                    top = conn.execute(select(func.max(registrations.c.position))).scalar()
                    conn.execute(registrations.insert().values(_registration(
                        f"r{worker}-{n}", f"p{worker}-{n}@example.org",
                        position=(top or 0) + 1)))

        threads = [threading.Thread(target=add, args=(w,)) for w in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        with store.connect() as conn:
            positions = list(conn.execute(select(registrations.c.position)).scalars())
    assert sorted(positions) == list(range(1, 21))


def test_sqlite_state_is_an_owner_only_wal_file(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "state.db"
    with open_store(path) as store, store.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_purge_deleted_empties_the_sqlite_write_ahead_log(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    with open_store(path) as store:
        with store.begin() as conn:
            conn.execute(registrations.insert().values(_registration("r1", "a@example.org")))
        wal = Path(f"{path}-wal")
        assert wal.stat().st_size > 0
        assert store.purge_deleted() is True
        assert wal.stat().st_size == 0


def test_postgresql_urls_use_the_psycopg_driver() -> None:
    for given in ("postgresql://s3e@db.example.org/state", "postgres://s3e@db.example.org/state"):
        assert resolve_state_url(given) == "postgresql+psycopg://s3e@db.example.org/state"


def test_state_comes_from_option_then_environment_then_default(tmp_path: Path) -> None:
    env = {"S3EVENTS_STATE": str(tmp_path / "env.db")}
    assert resolve_state_url(tmp_path / "opt.db", env) == f"sqlite:///{tmp_path / 'opt.db'}"
    assert resolve_state_url(None, env) == f"sqlite:///{tmp_path / 'env.db'}"
    assert resolve_state_url(None, {}).endswith(".s3events/state.db")


def test_unreachable_postgresql_is_one_clear_error() -> None:
    with pytest.raises(StoreError, match="cannot open state database") as caught:
        open_store("postgresql://s3e@127.0.0.1:1/state")
    assert "\n" not in str(caught.value)


@pytest.mark.postgres
def test_postgres_url_fixture_serves_a_database(postgres_url: str) -> None:
    with open_store(postgres_url) as store:
        assert store.dialect == "postgresql"
        with store.connect() as conn:
            assert conn.exec_driver_sql("SELECT current_database()").scalar() == "s3e"
