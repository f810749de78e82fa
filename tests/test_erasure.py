"""The right to erasure: after `registrations erase`, the person is nowhere in the database.

The scenario is the reference one, run for real: import the example participants, create
the meetings on jitsi, send the confirmations and the first session's links to an outbox
folder, then erase one participant who has both sent and unsent messages.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from s3events import load_series
from s3events.cli import main
from s3events.dispatch import dispatch
from s3events.importing import import_registrations
from s3events.models import Series
from s3events.provision import apply, load_adapter
from s3events.registrations import erase_person, get_registration, register
from s3events.store import Store, ledger, metadata, open_store
from tests.fixtures.series import minimal_series_data

ROOT = Path(__file__).resolve().parents[1]
SERIES = ROOT / "examples" / "s3-latam-2021" / "series.yaml"
PEOPLE = ROOT / "examples" / "s3-latam-2021" / "registrations.csv"
EMAIL, NAME = "jose.pena@example.org", "José Peña"
IMPORTED = datetime(2021, 10, 20, 10, 0, tzinfo=timezone.utc)
DAY_1_LINKS = datetime(2021, 10, 27, 20, 0, tzinfo=timezone.utc)  # after every zone's 09:00


def run_reference_scenario(store: Store, series: Series, outbox: Path) -> None:
    """Participants imported, meetings created, confirmations and day-1 links sent."""
    import_registrations(store, series, PEOPLE, now=IMPORTED)
    apply(series, load_adapter(series), store, now=IMPORTED)
    for moment in (IMPORTED, DAY_1_LINKS):
        dispatch(store, series, now=moment, transport=f"outbox:{outbox}")


def person_rows(store: Store, registration_id: str) -> list[tuple[str, str, str | None]]:
    with store.connect() as conn:
        return [(r.kind, r.state, r.last_error) for r in conn.execute(
            select(ledger).where(ledger.c.registration_id == registration_id))]


def db_bytes(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


def traces(files: dict[str, bytes]) -> list[str]:
    needles = [EMAIL.encode(), NAME.encode(), NAME.encode("utf-16-le"), b"Pe\xc3\xb1a"]
    return [f"{name}: {needle!r}" for name, data in files.items() for needle in needles
            if needle in data]


def test_after_erase_the_person_is_nowhere_in_the_sqlite_files(tmp_path: Path,
                                                               monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state.db"
    series = load_series(SERIES)
    with open_store(state) as store:
        run_reference_scenario(store, series, tmp_path / "outbox")
        reg = get_registration(store, series.id, EMAIL)
        assert reg is not None
        before = person_rows(store, reg.id)
        assert {k for k, s, _ in before if s == "sent"} == {"confirmation", "link"}
        assert any(s == "pending" for _k, s, _e in before)
        with store.begin() as conn:  # an error text naming the person, as a vendor might
            conn.execute(update(ledger).where(ledger.c.registration_id == reg.id,
                                              ledger.c.state == "sent")
                         .values(last_error=f"earlier: 450 <{EMAIL}> {NAME} greylisted"))
        assert traces(db_bytes(state))  # the check below can fail

        # Another process keeps the database open, so the -wal file stays on disk.
        with store.connect() as reader:
            reader.execute(select(ledger.c.id)).first()
        with pytest.raises(SystemExit) as done:
            main(["registrations", "erase", str(SERIES), EMAIL.upper(), "--yes",
                  "--state", str(state), "--now", "2021-10-28T08:00:00Z"])
        assert done.value.code == 0
        assert traces(db_bytes(state)) == []
        after = person_rows(store, reg.id)
        assert sorted(after) == sorted((k, s, None) for k, s, _e in before if s == "sent")
        assert get_registration(store, series.id, EMAIL) is None
    assert traces(db_bytes(state)) == []


@pytest.mark.postgres
def test_after_erase_no_table_holds_the_person_on_postgresql(pg_store: Store,
                                                             tmp_path: Path) -> None:
    series = load_series(SERIES)
    run_reference_scenario(pg_store, series, tmp_path / "outbox")
    reg = get_registration(pg_store, series.id, EMAIL)
    assert reg is not None
    report = erase_person(pg_store, series, EMAIL, now=DAY_1_LINKS)
    assert (report.registration_id, report.messages_kept) == (reg.id, 2)
    assert report.messages_deleted > 0 and report.purged
    with pg_store.connect() as conn:
        for table in metadata.sorted_tables:
            text = repr(conn.execute(select(table)).all())
            assert EMAIL not in text and NAME not in text and "Peña" not in text, table.name
    assert [s for _k, s, _e in person_rows(pg_store, reg.id)] == ["sent", "sent"]


def test_erasing_a_confirmed_person_gives_their_seat_to_the_next(
        tmp_path: Path, write_series: Callable[..., Path]) -> None:
    series = load_series(write_series(minimal_series_data(registration={"capacity": 1})))
    now = datetime(2021, 10, 1, tzinfo=timezone.utc)
    with open_store(tmp_path / "state.db") as store:
        for n in (1, 2):
            register(store, series, {"name": f"P{n}", "email": f"p{n}@example.org"}, now=now)
        report = erase_person(store, series, "p1@example.org", now=now)
        assert report.promoted == 1
        waiting = get_registration(store, series.id, "p2@example.org")
        assert waiting is not None and waiting.status == "confirmed"


def _files_naming(folder: Path, needle: str) -> list[str]:
    return sorted(p.name for p in folder.glob("*.eml") if needle.encode() in p.read_bytes())


def test_erase_deletes_the_persons_outbox_files_and_nobody_elses(tmp_path: Path,
                                                                 monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    outbox, state = tmp_path / "outbox", tmp_path / "state.db"
    series = load_series(SERIES)
    with open_store(state) as store:
        run_reference_scenario(store, series, outbox)
        reg = get_registration(store, series.id, EMAIL)
        assert reg is not None
    theirs = _files_naming(outbox, EMAIL)
    assert len(theirs) == 2  # the confirmation and the first link
    others = sorted(p.name for p in outbox.glob("*.eml") if p.name not in theirs)
    assert others
    crashed = outbox / f".{theirs[0]}.x1y2z3.tmp"  # a write a crash left half done
    crashed.write_bytes(b"To: " + EMAIL.encode())
    with pytest.raises(SystemExit) as done:
        main(["registrations", "erase", str(SERIES), EMAIL, "--yes", "--state", str(state),
              "--transport", f"outbox:{outbox}"])
    assert done.value.code == 0
    assert _files_naming(outbox, EMAIL) == [] and not crashed.exists()
    assert not [p for p in outbox.iterdir() if EMAIL.encode() in p.read_bytes()]
    assert sorted(p.name for p in outbox.glob("*.eml")) == others
    assert all(name.startswith(reg.id) for name in theirs)  # named by ledger key: ids only


def test_erase_finds_the_outbox_the_series_file_names(tmp_path: Path, write_series,
                                                      monkeypatch) -> None:
    path = write_series(minimal_series_data(dispatch={"transport": "outbox:mail"}))
    series = load_series(path)
    monkeypatch.chdir(tmp_path.parent)  # the folder is the series', not the current one
    now = datetime(2021, 10, 1, tzinfo=timezone.utc)
    with open_store(tmp_path / "state.db") as store:
        for who in ("ana@münchen.de", "luis@example.org"):
            register(store, series, {"name": who.split("@")[0], "email": who}, now=now)
        dispatch(store, series, now=now)
        folder = tmp_path / "mail"
        assert len(list(folder.glob("*.eml"))) == 2
        report = erase_person(store, series, "ANA@xn--mnchen-3ya.de", now=now)
        assert report.files_deleted == 1 and "1 file(s) deleted from the outbox" in str(report)
        assert [p.read_bytes().count(b"luis@example.org") > 0
                for p in folder.glob("*.eml")] == [True]
        # a transport that writes no files leaves the folder alone
        assert erase_person(store, series, "luis@example.org", now=now,
                            transport="smtp://127.0.0.1:9").files_deleted == 0
        assert len(list(folder.glob("*.eml"))) == 1
