"""The ledger: claiming, leases, retries with backoff, stable Message-IDs, no personal data."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from s3events.ledger import (
    backoff_delay,
    claim_due,
    count_due,
    ledger_key,
    mark_retry,
    mark_sent,
    message_id_for,
    reclaim_stale,
    scrub_error,
    status_counts,
)
from s3events.scheduler import schedule
from s3events.store import open_store, utcnow
from tests.test_dispatch_support import EARLY, add_person, make_series, provision, rows

DUE = EARLY + timedelta(days=60)  # after every release of the minimal series


def _filled(store, series, people=3):
    provision(store, series)
    for i in range(people):
        add_person(store, series, f"p{i}@example.org")
    schedule(store, series, now=EARLY)


def test_key_names_registration_session_kind_revision_channel():
    assert ledger_key("r1", None, "confirmation", 0, "email") == "r1:-:confirmation:0:email"
    assert ledger_key("r1", "s1", "update", 2, "whatsapp") == "r1:s1:update:2:whatsapp"


def test_message_id_is_stable_and_reveals_nothing():
    one = message_id_for("r1:s1:link:0:email", series_id="x", domain="example.org")
    assert one == message_id_for("r1:s1:link:0:email", series_id="x", domain="example.org")
    assert one != message_id_for("r1:s1:link:1:email", series_id="x", domain="example.org")
    assert one.startswith("<") and one.endswith("@example.org>") and "r1" not in one


def test_claims_of_two_workers_are_disjoint(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series)
        first = claim_due(store, series.id, now=DUE, worker="a", limit=4)
        second = claim_due(store, series.id, now=DUE, worker="b", limit=100)
        assert len(first) == 4 and len(second) == 5
        assert not {r.id for r in first} & {r.id for r in second}
        assert claim_due(store, series.id, now=DUE, worker="c") == []


def test_claim_takes_only_what_is_due(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series, people=2)
        claimed = claim_due(store, series.id, now=EARLY, worker="a")
        assert {r.kind for r in claimed} == {"confirmation"}
        assert count_due(store, series.id, now=EARLY) == 0


def test_claims_can_be_limited_to_some_people_and_kinds(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series, people=3)
        first, second, _ = sorted({r.registration_id for r in rows(store)})
        assert count_due(store, series.id, now=DUE, registration_ids=[first]) == 3
        assert count_due(store, series.id, now=DUE, registration_ids=[first],
                         kinds=["link"]) == 2
        claimed = claim_due(store, series.id, now=DUE, worker="a",
                            registration_ids=[first, second], kinds=["confirmation"])
        assert sorted(r.registration_id for r in claimed) == [first, second]
        assert {r.kind for r in claimed} == {"confirmation"}
        assert count_due(store, series.id, now=DUE) == 9 - 2


def test_sent_rows_are_never_claimed_again(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series, people=1)
        for row in claim_due(store, series.id, now=DUE, worker="a"):
            assert mark_sent(store, row.id, worker="a", sent_at=DUE)
        assert claim_due(store, series.id, now=DUE, worker="a") == []
        assert {r.state for r in rows(store)} == {"sent"}


def test_a_dead_workers_rows_are_reclaimed_at_once(state_url, write_series):
    series = make_series(write_series)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    import socket

    worker = f"{socket.gethostname()}:{dead}:abc"
    with open_store(state_url) as store:
        _filled(store, series, people=1)
        claimed = claim_due(store, series.id, now=DUE, worker=worker)
        assert reclaim_stale(store, series.id, lease=timedelta(hours=1)) == len(claimed)
        assert {r.state for r in rows(store)} == {"pending"}


def test_a_live_worker_keeps_its_rows_until_the_lease_ends(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series, people=1)
        claim_due(store, series.id, now=DUE, worker="otherhost:1:x")
        assert reclaim_stale(store, series.id, lease=timedelta(hours=1)) == 0
        later = utcnow() + timedelta(hours=2)
        assert reclaim_stale(store, series.id, lease=timedelta(hours=1), clock=later) == 3


def test_a_mark_from_a_worker_that_lost_its_lease_is_refused(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series, people=1)
        row = claim_due(store, series.id, now=DUE, worker="otherhost:1:x", limit=1)[0]
        reclaim_stale(store, series.id, lease=timedelta(0), clock=utcnow() + timedelta(1))
        assert not mark_sent(store, row.id, worker="otherhost:1:x", sent_at=DUE)


def test_retries_back_off_then_fail_visibly(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series, people=1)
        now = DUE
        for attempt in range(1, 4):
            row = next(r for r in claim_due(store, series.id, now=now, worker="w")
                   if r.kind == "confirmation")
            state = mark_retry(store, row, worker="w", error="ServiceUnavailable: 451", now=now,
                               retryable=True, max_attempts=3, base=timedelta(minutes=1))
            stored = rows(store, id=row.id)[0]
            if attempt < 3:
                assert state == "pending"
                assert stored.next_attempt_at == now + timedelta(minutes=2 ** (attempt - 1))
                assert not [r for r in claim_due(store, series.id, now=now, worker="x")
                            if r.kind == "confirmation"]
                reclaim_stale(store, series.id, lease=timedelta(0),
                              clock=utcnow() + timedelta(1))
                now = stored.next_attempt_at
            else:
                assert state == "failed" and stored.attempts == 3
        counts = {(c.kind, c.state): c.count for c in status_counts(store, series.id)}
        assert counts[("confirmation", "failed")] == 1


def test_permanent_errors_fail_at_once(state_url, write_series):
    series = make_series(write_series)
    with open_store(state_url) as store:
        _filled(store, series, people=1)
        row = claim_due(store, series.id, now=DUE, worker="w", limit=1)[0]
        state = mark_retry(store, row, worker="w", error="InvalidRequest: 550", now=DUE,
                           retryable=False, max_attempts=5, base=timedelta(minutes=1))
        assert state == "failed"


def test_backoff_honours_retry_after():
    assert backoff_delay(1, base=timedelta(minutes=1)) == timedelta(minutes=1)
    assert backoff_delay(3, base=timedelta(minutes=1)) == timedelta(minutes=4)
    assert backoff_delay(1, base=timedelta(seconds=1), retry_after=30) == timedelta(seconds=30)


@pytest.mark.parametrize("attempt", [30, 64, 100, 10_000])
def test_backoff_waits_at_most_a_day_however_many_attempts(attempt):
    assert backoff_delay(attempt, base=timedelta(minutes=1)) == timedelta(days=1)
    assert backoff_delay(attempt, base=timedelta(days=1), retry_after=1e15) == timedelta(days=1)


def test_errors_are_stored_without_personal_data():
    text = "550 5.1.1 <jose.pena@example.org>: no such user José Peña, call +52 33 5550 0101"
    scrubbed = scrub_error(text, secrets_=["José Peña"])
    assert "jose.pena" not in scrubbed and "José" not in scrubbed and "5550" not in scrubbed
    assert scrubbed.startswith("550 5.1.1")
