"""Registrations: cleaning what people type, seats and the waiting list, opt-in, export."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from s3events import load_series
from s3events.errors import InputError
from s3events.models import Series
from s3events.registrations import (
    UnknownRegistration,
    cancel_registration,
    clean_fields,
    confirm_opt_in,
    export_person,
    get_by_token,
    get_registration,
    list_registrations,
    register,
)
from s3events.store import Store, ledger
from tests.fixtures.series import minimal_series_data
from tests.test_dispatch_support import add_person

NOW = datetime(2021, 10, 1, 12, 0, tzinfo=timezone.utc)


def series_data(**registration: Any) -> dict[str, Any]:
    data = minimal_series_data(registration=registration or {"open": True})
    data["sessions"][0]["label"] = {"en": "Day 1", "es": "Día 1"}
    data["sessions"][1]["label"] = {"en": "Day 2", "es": "Día 2"}
    return data


@pytest.fixture
def make_series(write_series: Callable[..., Path]) -> Callable[..., Series]:
    def make(**registration: Any) -> Series:
        return load_series(write_series(series_data(**registration)))

    return make


@pytest.fixture
def series(make_series: Callable[..., Series]) -> Series:
    return make_series()


def person(n: int, **extra: Any) -> dict[str, Any]:
    return {"name": f"Persona {n}", "email": f"p{n}@example.org", "language": "es",
            "timezone": "America/Lima", "country": "PE", **extra}


def statuses(store: Store, series_id: str) -> dict[str, str]:
    return {r.email: r.status for r in list_registrations(store, series_id)}


# -- cleaning ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("given", "sector"), [
    ("Administración pública", "public-administration"),
    ("public administration", "public-administration"),
    ("Academia", "academia"),
    ("ONG", "ngo"),
    ("NGO", "ngo"),
    ("Consultoría privada", "private-consultancy"),
    ("private-consultancy", "private-consultancy"),
    ("Otro", "other"),
    ("", None),
])
def test_sectors_are_read_in_spanish_and_english(series: Series, given: str,
                                                 sector: str | None) -> None:
    fields, problems = clean_fields(series, person(1, sector=given))
    assert problems == []
    assert fields["sector"] == sector


@pytest.mark.parametrize(("given", "sessions"), [
    ("", None), ("all", None), ("Todas", None), ("s1", ["s1"]), ("s2; s1", ["s1", "s2"]),
    ("s1 s2", ["s1", "s2"]), ("Día 2", ["s2"]), ("day 1, Day 2", ["s1", "s2"]),
    (["s2"], ["s2"]),
])
def test_sessions_are_ids_labels_or_all(series: Series, given: Any,
                                        sessions: list[str] | None) -> None:
    fields, problems = clean_fields(series, person(1, sessions=given))
    assert problems == []
    assert fields["sessions"] == sessions


def test_every_bad_field_is_reported(series: Series) -> None:
    _fields, problems = clean_fields(series, {
        "name": "", "email": "ana@", "timezone": "EST", "country": "Narnialand",
        "sector": "astronauts", "sessions": "s9", "whatsapp": "55 1234", "language": "klingonish",
    })
    reported = dict(problems)
    assert set(reported) == {"name", "email", "timezone", "country", "sector", "sessions",
                             "whatsapp", "language"}
    assert "America/New_York" in reported["timezone"]  # a suggestion
    assert "s1, s2" in reported["sessions"]


def test_a_missing_zone_comes_from_the_country_else_the_series(series: Series) -> None:
    peru, _ = clean_fields(series, person(1, timezone="", country="Perú"))
    chile, _ = clean_fields(series, person(2, timezone="", country="Chile"))
    nowhere, _ = clean_fields(series, person(3, timezone="", country=""))
    assert (peru["timezone"], peru["timezone_source"]) == ("America/Lima", "country")
    # Chile has several zones; most Chileans live on Santiago time
    assert (chile["timezone"], chile["timezone_source"]) == ("America/Santiago", "country-guess")
    assert (nowhere["timezone"], nowhere["timezone_source"]) == ("Europe/Brussels", "series")


def test_zone_names_differing_only_in_case_or_spaces_are_fixed(series: Series) -> None:
    fields, problems = clean_fields(series, person(1, timezone="america/mexico city"))
    assert problems == []
    assert (fields["timezone"], fields["timezone_source"]) == ("America/Mexico_City", "given")


def test_language_by_name_or_from_the_country(series: Series) -> None:
    named, _ = clean_fields(series, person(1, language="Español"))
    english, _ = clean_fields(series, person(2, language="English"))
    guessed, _ = clean_fields(series, person(3, language="", country="MX"))
    brazil, _ = clean_fields(series, person(4, language="", country="BR"))
    assert [named["language"], english["language"], guessed["language"]] == ["es", "en", "es"]
    assert brazil["language"] == "en"  # Portuguese is not offered: the series' default


def test_channels_are_normalised(series: Series) -> None:
    fields, problems = clean_fields(series, person(
        1, whatsapp="0052 (55) 1234-5678", telegram="123456789", slack="U012AB3CD",
        matrix="!room:example.org"))
    assert problems == []
    assert fields["channels"] == {"whatsapp": "+525512345678", "telegram": "123456789",
                                  "slack": "U012AB3CD", "matrix": "!room:example.org"}


def test_names_and_emails_are_trimmed_and_nfc(series: Series) -> None:
    decomposed = "Jose\u0301  Pen\u0303a "
    fields, _ = clean_fields(series, person(1, name=decomposed, email=" Jose@Example.org "))
    assert fields["name"] == "José Peña"
    assert fields["email"] == "Jose@example.org"  # the domain in lower case, the rest as given


def test_required_consent_is_checked(series: Series) -> None:
    _, refused = clean_fields(series, person(1, consent="no"),
                              required_consent=["data_processing"])
    fields, accepted = clean_fields(series, person(2, consent="Sí, acepto"),
                                    required_consent=["data_processing"])
    assert refused == [("consent", "no consent to 'data_processing', which this series "
                                   "requires")]
    assert accepted == [] and fields["consent"] == {"data_processing": True}


# -- seats and the waiting list -------------------------------------------------------------


def test_people_beyond_capacity_wait_in_order(state_store: Store,
                                              make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=2)
    made = [register(state_store, series, person(n), now=NOW + timedelta(minutes=n))
            for n in range(1, 5)]
    assert [r.status for r in made] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    assert [r.position for r in made] == [1, 2, 3, 4]
    assert made[0].confirmed_at == NOW + timedelta(minutes=1)
    assert made[2].confirmed_at is None


def test_a_cancellation_promotes_the_first_waiting(state_store: Store,
                                                   make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=2)
    for n in range(1, 5):
        register(state_store, series, person(n), now=NOW)
    later = NOW + timedelta(days=2)
    done = cancel_registration(state_store, series, "P1@EXAMPLE.ORG", now=later)
    assert done.changed and done.registration.status == "cancelled"
    assert done.registration.cancelled_at == later
    assert [r.email for r in done.promoted] == ["p3@example.org"]
    assert done.promoted[0].confirmed_at == later
    assert statuses(state_store, series.id) == {
        "p1@example.org": "cancelled", "p2@example.org": "confirmed",
        "p3@example.org": "confirmed", "p4@example.org": "waitlisted"}
    again = cancel_registration(state_store, series, "p1@example.org", now=later)
    assert not again.changed and again.promoted == []


def test_cancel_by_link_token(state_store: Store, series: Series) -> None:
    made = register(state_store, series, person(1), now=NOW)
    done = cancel_registration(state_store, series, made.token.get_secret_value(), now=NOW)
    assert done.registration.status == "cancelled"
    with pytest.raises(UnknownRegistration):
        cancel_registration(state_store, series, "no-such-token", now=NOW)


def test_registering_again_updates_the_same_person(state_store: Store, series: Series) -> None:
    first = register(state_store, series, person(1), now=NOW)
    again = register(state_store, series, person(1, email="P1@Example.ORG", language="en"),
                     now=NOW + timedelta(hours=1))
    assert again.id == first.id
    assert again.language == "en"
    assert again.registered_at == NOW
    assert len(list_registrations(state_store, series.id)) == 1


def test_a_public_form_cannot_change_the_details_of_people_who_count(
        state_store: Store, make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=1)
    register(state_store, series, person(1), now=NOW)
    register(state_store, series, person(2), now=NOW)
    register(state_store, series, person(3), now=NOW, require_opt_in=True)
    for n in (1, 2, 3):
        register(state_store, series, person(n, name="Someone Else", language="en"),
                 now=NOW, update_existing=False, require_opt_in=True)
    names = {r.email: (r.status, r.name) for r in list_registrations(state_store, series.id)}
    assert names == {"p1@example.org": ("confirmed", "Persona 1"),
                     "p2@example.org": ("waitlisted", "Persona 2"),
                     "p3@example.org": ("pending", "Someone Else")}  # not yet confirmed
    register(state_store, series, person(1, name="Corrected"), now=NOW)  # an API call, import
    assert get_registration(state_store, series.id, "p1@example.org").name == "Corrected"


def test_registering_again_can_send_the_status_again(
        state_store: Store, make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=1)
    first = register(state_store, series, person(1), now=NOW)
    second = register(state_store, series, person(2), now=NOW)
    register(state_store, series, person(1), now=NOW)
    register(state_store, series, person(3), now=NOW, resend_status=True)  # a new person
    for n in (1, 2):
        register(state_store, series, person(n), now=NOW, resend_status=True)
    with state_store.connect() as conn:
        found = [(r.registration_id, r.kind, r.revision, r.state) for r in conn.execute(
            select(ledger).where(ledger.c.session_id.is_(None)).order_by(ledger.c.id))]
    mine = [row for row in found if row[0] in (first.id, second.id)]
    assert mine == [(first.id, "confirmation", 0, "cancelled"),  # superseded, not yet sent
                    (second.id, "waitlisted", 0, "cancelled"),
                    (first.id, "confirmation", 1, "pending"),
                    (second.id, "waitlisted", 1, "pending")]
    assert len(found) == 5  # the new person got their waiting-list notice, once


def test_a_cancelled_person_can_register_again_at_the_end(
        state_store: Store, make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=1)
    register(state_store, series, person(1), now=NOW)
    register(state_store, series, person(2), now=NOW)
    cancel_registration(state_store, series, "p1@example.org", now=NOW + timedelta(hours=1))
    back = register(state_store, series, person(1), now=NOW + timedelta(hours=2))
    assert back.status == "waitlisted"
    assert back.position == 3
    assert back.cancelled_at is None


def test_double_opt_in_holds_no_seat_until_confirmed(
        state_store: Store, make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=1)
    pending = register(state_store, series, person(1), now=NOW, require_opt_in=True)
    direct = register(state_store, series, person(2), now=NOW)
    assert (pending.status, direct.status) == ("pending", "confirmed")
    token = pending.token.get_secret_value()
    confirmed = confirm_opt_in(state_store, series, token, now=NOW + timedelta(minutes=5))
    assert confirmed.status == "waitlisted"  # the seat went meanwhile
    assert confirm_opt_in(state_store, series, token, now=NOW).status == "waitlisted"
    with pytest.raises(UnknownRegistration):
        confirm_opt_in(state_store, series, "forged", now=NOW)


def test_opt_in_confirmation_records_the_time(state_store: Store, series: Series) -> None:
    pending = register(state_store, series, person(1), now=NOW, require_opt_in=True)
    later = NOW + timedelta(minutes=5)
    done = confirm_opt_in(state_store, series, pending.token.get_secret_value(), now=later)
    assert (done.status, done.confirmed_at) == ("confirmed", later)


def test_concurrent_registrations_never_oversell_the_last_seat(
        state_store: Store, make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=3)
    errors: list[BaseException] = []

    def sign_up(n: int) -> None:
        try:
            register(state_store, series, person(n), now=NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sign_up, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    found = list(statuses(state_store, series.id).values())
    assert found.count("confirmed") == 3 and found.count("waitlisted") == 5


def test_bad_registration_raises_one_input_error(state_store: Store, series: Series) -> None:
    with pytest.raises(InputError) as caught:
        register(state_store, series, person(1, email="not-an-email", sessions="s7"), now=NOW)
    assert {p.path for p in caught.value.problems} == {"email", "sessions"}
    assert list_registrations(state_store, series.id) == []


def test_closed_registration_is_refused(state_store: Store,
                                        make_series: Callable[..., Series]) -> None:
    series = make_series(open=False)
    with pytest.raises(InputError, match="closed"):
        register(state_store, series, person(1), now=NOW)


def test_registering_queues_the_confirmation(state_store: Store, series: Series) -> None:
    made = register(state_store, series, person(1), now=NOW)
    with state_store.connect() as conn:
        kinds = set(conn.execute(select(ledger.c.kind).where(
            ledger.c.registration_id == made.id)).scalars())
    assert "confirmation" in kinds


def ledger_people(store: Store) -> list[str]:
    """The registration id of every ledger row."""
    with store.connect() as conn:
        return sorted(conn.execute(select(ledger.c.registration_id)).scalars())


def test_a_registration_schedules_messages_for_that_person_only(
        state_store: Store, make_series: Callable[..., Series]) -> None:
    series = make_series(capacity=2)
    others = [add_person(state_store, series, f"other{n}@example.org",
                         status="waitlisted" if n == 2 else "confirmed") for n in range(3)]
    made = register(state_store, series, person(1), now=NOW)
    assert made.status == "waitlisted"  # two of the others hold the seats
    assert set(ledger_people(state_store)) == {made.id}  # no pass over the others
    pending = register(state_store, series, person(2), now=NOW, require_opt_in=True)
    confirm_opt_in(state_store, series, pending.token.get_secret_value(), now=NOW)
    assert set(ledger_people(state_store)) == {made.id, pending.id}
    done = cancel_registration(state_store, series, "other0@example.org", now=NOW)
    assert [r.email for r in done.promoted] == ["other2@example.org"]
    assert set(ledger_people(state_store)) == {made.id, pending.id, others[2]}


def optins(store: Store) -> list[tuple[str, int, str]]:
    with store.connect() as conn:
        return [(r.registration_id, r.revision, r.state) for r in conn.execute(
            select(ledger).where(ledger.c.kind == "optin").order_by(ledger.c.id))]


def test_each_registration_while_pending_queues_a_new_opt_in_message(
        state_store: Store, series: Series) -> None:
    made = register(state_store, series, person(1), now=NOW, require_opt_in=True)
    assert optins(state_store) == [(made.id, 0, "pending")]
    again = register(state_store, series, person(1), now=NOW + timedelta(minutes=3),
                     require_opt_in=True)
    assert again.id == made.id and again.status == "pending"
    assert optins(state_store) == [(made.id, 0, "cancelled"), (made.id, 1, "pending")]
    confirm_opt_in(state_store, series, made.token.get_secret_value(), now=NOW)
    assert optins(state_store)[-1] == (made.id, 1, "cancelled")  # no longer needed
    register(state_store, series, person(1), now=NOW, require_opt_in=True)
    assert len(optins(state_store)) == 2  # confirmed people are not asked again
    register(state_store, series, person(2), now=NOW)
    assert len(optins(state_store)) == 2  # nor is anyone without double opt-in


def test_lookups_by_email_and_token(state_store: Store, series: Series) -> None:
    made = register(state_store, series, person(1), now=NOW)
    assert get_registration(state_store, series.id, " P1@example.org") == made
    assert get_by_token(state_store, made.token.get_secret_value()) == made
    assert get_registration(state_store, series.id, "p2@example.org") is None
    assert "token" not in made.to_json()
    assert made.token.get_secret_value() not in repr(made)


# -- export ----------------------------------------------------------------------------------


def test_export_holds_the_person_and_their_messages_only(state_store: Store,
                                                         series: Series) -> None:
    register(state_store, series, person(1, whatsapp="+51 984 555 0112"), now=NOW)
    other = register(state_store, series, person(2), now=NOW)
    data = export_person(state_store, series.id, "P1@example.org")
    reg = data["registration"]
    assert (reg["name"], reg["email"], reg["timezone"]) == ("Persona 1", "p1@example.org",
                                                            "America/Lima")
    assert reg["channels"] == {"whatsapp": "+519845550112"}
    assert data["messages"] and all(m["kind"] for m in data["messages"])
    assert {m["kind"] for m in data["messages"]} >= {"confirmation"}
    flat = repr(data)
    assert "p2@example.org" not in flat and other.id not in flat
    assert other.token.get_secret_value() not in flat
    assert "token" not in reg


def test_export_of_an_unknown_person_says_so(state_store: Store, series: Series) -> None:
    with pytest.raises(UnknownRegistration, match=r"nobody@example\.org"):
        export_person(state_store, series.id, "nobody@example.org")
