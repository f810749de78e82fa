"""The scheduler: which ledger rows each participant is owed, written once."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from s3events.models import ReleaseRule
from s3events.scheduler import release_time, schedule, schedule_messages
from s3events.store import open_store, registrations
from tests.test_dispatch_support import (
    EARLY,
    add_person,
    make_series,
    provision,
    rows,
    set_status,
    states,
)

UTC = timezone.utc


def test_default_release_is_nine_the_day_before_in_the_participants_zone():
    start = datetime(2021, 10, 28, 15, 0, tzinfo=UTC)  # 17:00 Brussels, 10:00 Mexico City
    mexico = release_time(ReleaseRule(), start, ZoneInfo("America/Mexico_City"))
    assert mexico.astimezone(ZoneInfo("America/Mexico_City")).replace(tzinfo=None) == \
        datetime(2021, 10, 27, 9, 0)
    # 00:00 on the 29th in Tokyo: the day before there is the 28th
    tokyo = release_time(ReleaseRule(), start, ZoneInfo("Asia/Tokyo"))
    assert tokyo.astimezone(ZoneInfo("Asia/Tokyo")).replace(tzinfo=None) == \
        datetime(2021, 10, 28, 9, 0)


def test_release_in_a_dst_gap_moves_forward_by_the_gap():
    # America/Santiago skips 00:00-01:00 on 2021-09-05.
    start = datetime(2021, 9, 6, 15, 0, tzinfo=UTC)
    rule = ReleaseRule(days_before=1, local_time=time(0, 30))
    moment = release_time(rule, start, ZoneInfo("America/Santiago"))
    local = moment.astimezone(ZoneInfo("America/Santiago"))
    assert (local.date(), local.hour, local.minute) == (datetime(2021, 9, 5).date(), 1, 30)


def test_release_without_local_time_counts_back_from_the_start():
    start = datetime(2021, 10, 28, 15, 0, tzinfo=UTC)
    rule = ReleaseRule(days_before=0, hours_before=1, local_time=None)
    assert release_time(rule, start, ZoneInfo("Asia/Tokyo")) == start - timedelta(hours=1)


def test_release_is_never_after_the_start():
    start = datetime(2021, 10, 28, 6, 0, tzinfo=UTC)  # 08:00 in Brussels
    rule = ReleaseRule(days_before=0, local_time=time(9, 0))
    assert release_time(rule, start, ZoneInfo("Europe/Brussels")) == start


def test_second_schedule_inserts_nothing(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
        first = schedule_messages(store, series, now=EARLY)
        assert first == 3  # confirmation + two links
        assert schedule_messages(store, series, now=EARLY) == 0
        kinds = sorted((r.kind, r.session_id or "-") for r in rows(store))
        assert kinds == [("confirmation", "-"), ("link", "s1"), ("link", "s2")]


def test_link_rows_are_due_at_nine_local_the_day_before(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org", zone="America/Lima")
        schedule(store, series, now=EARLY)
        link = rows(store, kind="link", session_id="s1")[0]
        local = link.due_at.astimezone(ZoneInfo("America/Lima"))
        assert (local.date().isoformat(), local.hour) == ("2021-10-27", 9)


def test_late_registrant_gets_the_link_due_with_the_confirmation(state_url, write_series):
    series = make_series(write_series)
    late = datetime(2021, 10, 28, 12, 0, tzinfo=UTC)  # after s1's release, before it starts
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "late@example.org", at=late)
        schedule(store, series, now=late)
        confirmation = rows(store, kind="confirmation")[0]
        link = rows(store, kind="link", session_id="s1")[0]
        assert confirmation.due_at == link.due_at == late
        assert confirmation.id < link.id  # the confirmation goes first


def test_no_link_for_a_session_that_ended_before_registering(state_url, write_series):
    series = make_series(write_series)
    after_s1 = datetime(2021, 10, 29, tzinfo=UTC)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "after@example.org", at=after_s1)
        schedule(store, series, now=after_s1)
        assert [r.session_id for r in rows(store, kind="link")] == ["s2"]


def test_only_confirmed_people_get_links(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "wait@example.org", status="waitlisted")
        add_person(store, series, "gone@example.org", status="cancelled")
        add_person(store, series, "optin@example.org", status="pending")
        schedule(store, series, now=EARLY)
        assert [r.kind for r in rows(store)] == ["waitlisted"]


def test_promoted_person_gets_confirmation_and_links(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        rid = add_person(store, series, "wait@example.org", status="waitlisted")
        schedule(store, series, now=EARLY)
        set_status(store, rid, "confirmed", EARLY + timedelta(days=1))
        schedule(store, series, now=EARLY + timedelta(days=1))
        got = {(r.kind, r.state) for r in rows(store)}
        assert got == {("waitlisted", "cancelled"), ("confirmation", "pending"),
                       ("link", "pending")}


def test_cancelled_registration_cancels_pending_messages(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        rid = add_person(store, series, "ana@example.org")
        schedule(store, series, now=EARLY)
        set_status(store, rid, "cancelled", EARLY)
        report = schedule(store, series, now=EARLY)
        assert report.cancelled == 3
        assert set(states(store).values()) == {"cancelled"}


def test_one_row_per_channel_with_an_address(state_url, write_series):
    series = make_series(write_series, dispatch={"channels": ["email", "whatsapp"]})
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "both@example.org", channels={"whatsapp": "+525555550101"},
                   sessions=["s1"])
        add_person(store, series, "mail@example.org", sessions=["s1"])
        schedule(store, series, now=EARLY)
        channels = sorted((r.kind, r.channel) for r in rows(store))
        assert channels == [("confirmation", "email"), ("confirmation", "email"),
                            ("confirmation", "whatsapp"), ("link", "email"), ("link", "email"),
                            ("link", "whatsapp")]


def test_sessions_without_a_meeting_wait_for_provisioning(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        add_person(store, series, "ana@example.org")
        report = schedule(store, series, now=EARLY)
        assert report.waiting_for_meeting == {"s1", "s2"}
        assert [r.kind for r in rows(store)] == ["confirmation"]
        provision(store, series)
        assert schedule(store, series, now=EARLY).inserted == 2


def test_reminder_rows_follow_the_reminder_rule(state_url, write_series):
    series = make_series(write_series, dispatch={
        "reminder": {"days_before": 0, "hours_before": 1, "local_time": None}})
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org", sessions=["s1"])
        schedule(store, series, now=EARLY)
        reminder = rows(store, kind="reminder")[0]
        assert reminder.due_at == series.session("s1").start - timedelta(hours=1)


def test_erased_people_have_no_rows(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        rid = add_person(store, series, "ana@example.org")
        with store.begin() as conn:
            conn.execute(delete(registrations).where(registrations.c.id == rid))
        assert schedule_messages(store, series, now=EARLY) == 0
        assert rows(store) == []


def test_dry_run_writes_nothing(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
        assert schedule(store, series, now=EARLY, dry_run=True).inserted == 3
        assert rows(store) == []
