"""One mailbox, one registration: duplicates across imports, internationalised addresses,
and later answers that reach the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from s3events.models import Series
from s3events.registrations import (
    clean_email,
    email_key,
    get_registration,
    import_registrations,
    list_registrations,
    register,
)
from s3events.store import open_store
from tests.test_dispatch_support import make_series, provision, rows

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)
HEADER = "name,email,timezone,country,sessions\n"


@pytest.fixture
def series(write_series: Callable[..., Path]) -> Series:
    return make_series(write_series)


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    def write_file(content: str, name: str = "people.csv") -> Path:
        path = tmp_path / name
        path.write_text(HEADER + content, encoding="utf-8")
        return path

    return write_file


@pytest.mark.parametrize(("given", "normal"), [
    ("user@xn--mnchen-3ya.de", "user@münchen.de"),
    ("user@MÜNCHEN.de", "user@münchen.de"),
    ("josé@example.org", "josé@example.org"),
    ("  Ana@Example.ORG ", "Ana@example.org"),
    ("mailto:ana@example.org", "ana@example.org"),
])
def test_addresses_are_normalised_once_at_the_edge(given: str, normal: str) -> None:
    assert clean_email(given) == normal
    assert email_key(given) == normal.lower()


@pytest.mark.parametrize("bad", ["ana@", "@example.org", "ana@localhost", "a..b@example.org",
                                 "ana@example.test", "ana @example.org", "x" * 250 + "@e.org"])
def test_addresses_email_validator_refuses(bad: str) -> None:
    with pytest.raises(ValueError, match="email address"):
        clean_email(bad)


def test_an_idn_domain_as_a_labels_or_u_labels_is_one_registration(state_url: str,
                                                                   series: Series) -> None:
    with open_store(state_url) as store:
        register(store, series, {"name": "Uli", "email": "user@münchen.de"}, now=NOW)
        register(store, series, {"name": "Uli B", "email": "USER@xn--mnchen-3ya.de"}, now=NOW)
        register(store, series, {"name": "José", "email": "josé@example.org"}, now=NOW)
        people = {r.email: r.name for r in list_registrations(store, series.id)}
        assert people == {"user@münchen.de": "Uli B", "josé@example.org": "José"}
        assert get_registration(store, series.id, "user@XN--MNCHEN-3YA.DE") is not None


def test_a_later_import_updates_by_default_first_keeps_error_refuses(
        tmp_path: Path, series: Series, write: Callable[..., Path]) -> None:
    first = write("Ana,ana@example.org,America/Lima,PE,s1\n")
    second = write("Ana María,ANA@example.org,America/Bogota,CO,s2\n", "second.csv")
    for mode, name, updated, rejected in (("first", "Ana", 0, 0),
                                          ("error", "Ana", 0, 1),
                                          ("latest", "Ana María", 1, 0)):
        with open_store(tmp_path / f"{mode}.db") as store:
            import_registrations(store, series, first, now=NOW)
            report = import_registrations(store, series, second, now=NOW + timedelta(days=1),
                                          on_duplicate=mode)
            assert (report.updated, report.rejected) == (updated, rejected), mode
            person = get_registration(store, series.id, "ana@example.org")
            assert person.name == name
            assert person.email == ("ANA@example.org" if mode == "latest" else
                                    "ana@example.org")  # the answer kept, spelling and all
            if mode == "error":
                assert "--on-duplicate" in report.problems[0].message


def test_an_updated_zone_re_times_the_pending_link(tmp_path: Path, series: Series,
                                                   write: Callable[..., Path]) -> None:
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        import_registrations(store, series, write("Ana,ana@example.org,America/Lima,PE,s1\n"),
                             now=NOW)
        (link,) = rows(store, kind="link")
        assert link.due_at == datetime(2021, 10, 27, 9, tzinfo=ZoneInfo("America/Lima"))
        report = import_registrations(
            store, series, write("Ana,ana@example.org,Asia/Tokyo,JP,s1 s2\n", "2.csv"),
            now=NOW + timedelta(hours=1))
        assert report.updated == 1
        links = {r.session_id: r.due_at for r in rows(store, kind="link")}
    # 17:00 in Brussels is already the next day in Tokyo: the day before is the 28th there
    assert links == {"s1": datetime(2021, 10, 28, 9, tzinfo=ZoneInfo("Asia/Tokyo")),
                     "s2": datetime(2021, 11, 4, 9, tzinfo=ZoneInfo("Asia/Tokyo"))}


def test_duplicates_across_batches_of_one_file(tmp_path: Path, series: Series,
                                               write: Callable[..., Path]) -> None:
    body = "".join(f"P{n},p{n}@example.org,,PE,\n" for n in range(7))
    body += "P3 again,P3@example.org,,CL,\n"
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, write(body), now=NOW, batch_size=2)
        assert (report.added, report.updated) == (7, 1)
        assert [(p.line, p.severity) for p in report.problems] == [(9, "warning")]
        assert "line 5" in report.problems[0].message
        assert get_registration(store, series.id, "p3@example.org").country == "CL"


def test_capacity_is_kept_across_batches(tmp_path: Path, write_series: Callable[..., Path],
                                         write: Callable[..., Path]) -> None:
    series = make_series(write_series, registration={"capacity": 3})
    body = "".join(f"P{n},p{n}@example.org,,PE,\n" for n in range(7))
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, write(body), now=NOW, batch_size=2)
        assert (report.confirmed, report.waitlisted) == (3, 4)
        statuses = [r.status for r in list_registrations(store, series.id)]
    assert statuses == ["confirmed"] * 3 + ["waitlisted"] * 4


def test_store_sessions_all_as_null(tmp_path: Path, series: Series,
                                    write: Callable[..., Path]) -> None:
    with open_store(tmp_path / "state.db") as store:
        import_registrations(store, series, write("Ana,ana@example.org,,PE,todas\n"), now=NOW)
        import_registrations(store, series, write("Ana,ana@example.org,,PE,s1\n", "2.csv"),
                             now=NOW)
        assert get_registration(store, series.id, "ana@example.org").sessions == ["s1"]
        again = import_registrations(store, series, write("Ana,ana@example.org,,PE,\n",
                                                          "3.csv"), now=NOW)
        assert again.updated == 1
        assert get_registration(store, series.id, "ana@example.org").sessions is None


def test_emails_of_a_withdrawn_person_in_a_status_export_need_not_be_valid(
        tmp_path: Path, series: Series) -> None:
    path = tmp_path / "indico.csv"
    path.write_text("ID,Name,First Name,Last Name,Email Address,Registration state\n"
                    "1,Ana,Ana,D,not-an-email,Withdrawn\n", encoding="utf-8")
    with open_store(tmp_path / "state.db") as store:
        report = import_registrations(store, series, path, now=NOW)
    assert (report.problems, report.skipped) == ([], {"Withdrawn": 1})




def test_a_seat_freed_by_a_withdrawal_goes_to_the_waiting_list_first(
        tmp_path: Path, write_series: Callable[..., Path]) -> None:
    series = make_series(write_series, registration={"capacity": 2})
    header = "ID,Name,First Name,Last Name,Email Address,Registration state\n"
    first = tmp_path / "first.csv"
    first.write_text(header + "1,A,A,A,a@example.org,Completed\n2,B,B,B,b@example.org,Completed\n"
                     "3,C,C,C,c@example.org,Completed\n", encoding="utf-8")
    later = tmp_path / "later.csv"
    later.write_text(header + "1,A,A,A,a@example.org,Withdrawn\n"
                     "4,D,D,D,d@example.org,Completed\n", encoding="utf-8")
    with open_store(tmp_path / "state.db") as store:
        import_registrations(store, series, first, now=NOW)
        report = import_registrations(store, series, later, now=NOW + timedelta(hours=1))
        assert (report.cancelled, report.promoted, report.waitlisted) == (1, 1, 1)
        statuses = {r.email: r.status for r in list_registrations(store, series.id)}
    assert statuses == {"a@example.org": "cancelled", "b@example.org": "confirmed",
                        "c@example.org": "confirmed", "d@example.org": "waitlisted"}
