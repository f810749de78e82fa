"""``dispatch``'s exit status and ``s3events retry``, run as a person runs them.

The issue's scenario end to end: 50 registrations and ``josé@example.org`` imported from a
file; a server without SMTPUTF8 takes the 50 and refuses José's (exit 1, the reason in
``status``); ``retry`` and a server that offers SMTPUTF8, and it arrives, once.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from s3events.dispatch import retry_failed
from s3events.errors import InputError
from s3events.store import open_store
from tests.test_cli_core import run
from tests.test_dispatch_support import EARLY, add_person, make_series, provision, rows

JOSE = "josé@example.org"
NOW = "2021-10-02T00:00:00Z"  # before the series: confirmations are due, links are not


def _people_file(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["name", "email", "language", "timezone"])
        for i in range(50):
            out.writerow([f"Persona {i}", f"persona{i:02d}@example.org", "es", "America/Lima"])
        out.writerow(["José Peña", JOSE, "es", "America/Mexico_City"])
    return path


def test_fifty_and_jose_fail_alone_exit_1_then_retry_and_arrive_once(
        tmp_path, write_series, smtp_server_factory):
    series = make_series(write_series)
    path, state = str(series.source), str(tmp_path / "state.db")
    imported = run("registrations", "import", path, str(_people_file(tmp_path)),
                   "--state", state, "--now", NOW)
    assert imported.code == 0, imported.stderr
    with open_store(state) as store:
        provision(store, series)
    plain = smtp_server_factory(smtputf8=False)
    first = run("dispatch", path, "--state", state, "--now", NOW, "--transport", plain.url)
    assert first.code == 1
    assert "sent 50 confirmation message(s)" in first.stdout
    assert "1 message(s) failed for good" in first.stderr and "Traceback" not in first.stderr
    assert len(plain.messages) == 50
    status = json.loads(run("status", path, "--state", state, "--json").stdout)
    (failure,) = status["failures"]
    assert failure["kind"] == "confirmation" and failure["count"] == 1
    assert "does not offer SMTPUTF8" in failure["reason"] and "josé" not in failure["reason"]
    assert "does not offer SMTPUTF8" in run("status", path, "--state", state).stdout

    retried = run("retry", path, "--state", state, "--now", NOW)
    assert retried.code == 0 and "put 1 failed message(s) back to pending" in retried.stdout
    utf8 = smtp_server_factory()
    second = run("dispatch", path, "--state", state, "--now", NOW, "--transport", utf8.url)
    assert second.code == 0, second.stderr
    assert [m.rcpt_tos for m in utf8.messages] == [[JOSE]]
    third = run("dispatch", path, "--state", state, "--now", NOW, "--transport", utf8.url)
    assert third.code == 0 and "nothing to send" in third.stdout
    assert len(utf8.messages) == 1 and len(plain.messages) == 50


def test_dispatch_exits_0_when_everything_was_sent_or_nothing_was_due(
        tmp_path, write_series, smtp_server):
    series = make_series(write_series)
    path, state = str(series.source), str(tmp_path / "state.db")
    with open_store(state) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
    sent = run("dispatch", path, "--state", state, "--now", NOW, "--transport", smtp_server.url)
    assert sent.code == 0 and "sent 1 confirmation" in sent.stdout
    idle = run("dispatch", path, "--state", state, "--now", NOW, "--transport", smtp_server.url)
    assert idle.code == 0 and "nothing to send" in idle.stdout


def test_a_temporary_refusal_left_for_a_later_run_is_not_a_failure(
        tmp_path, write_series, smtp_server):
    series = make_series(write_series)
    path, state = str(series.source), str(tmp_path / "state.db")
    with open_store(state) as store:
        provision(store, series)
        add_person(store, series, "busy@example.org")
    smtp_server.refuse["busy@example.org"] = 450
    later = run("dispatch", path, "--state", state, "--now", NOW, "--transport", smtp_server.url)
    assert later.code == 0 and "will be retried later" in later.stdout


@pytest.mark.parametrize("spec", ["smtp://[::1", "smtp://mail.example.org:notaport",
                                  "ftp://mail.example.org", "nosuchtransport:x=1"])
def test_a_malformed_transport_is_bad_input_exit_2_and_nothing_is_written(
        tmp_path, write_series, spec):
    series = make_series(write_series)
    path, state = str(series.source), str(tmp_path / "state.db")
    with open_store(state) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
    refused = run("dispatch", path, "--state", state, "--transport", spec)
    assert refused.code == 2 and refused.stderr.startswith("error: ")
    assert "Traceback" not in refused.stderr
    with open_store(state) as store:
        assert rows(store) == []  # not even scheduled


def test_retry_and_status_refuse_a_missing_state_database(tmp_path, write_series):
    path = str(make_series(write_series).source)
    missing = tmp_path / "typo.db"
    for command in ("retry", "status"):
        refused = run(command, path, "--state", str(missing))
        assert refused.code == 2 and "no state database at" in refused.stderr
    assert not missing.exists()


def _failed_everywhere(store, series) -> dict[str, str]:
    """Two people, confirmations and both links failed on email; one telegram row too."""
    ids = {"ana": add_person(store, series, "Ana@Example.org"),
           "user": add_person(store, series, "user@münchen.de",
                              channels={"telegram": "123456789"})}
    from s3events.scheduler import schedule

    schedule(store, series, now=EARLY)
    with store.begin() as conn:
        from s3events.store import ledger

        conn.execute(ledger.update().values(state="failed", attempts=5,
                                            last_error="InvalidRequest: refused"))
    return ids


def test_retry_puts_back_only_what_its_options_name(tmp_path, write_series):
    series = make_series(write_series, dispatch={"channels": ["email", "telegram"]})
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        ids = _failed_everywhere(store, series)
        one = retry_failed(store, series, now=EARLY, kind="link", session_id="s2",
                           channel="email", email="USER@xn--mnchen-3ya.de")
        assert (one.requeued, one.too_late) == (1, 0)
        (back,) = rows(store, state="pending")
        assert (back.registration_id, back.kind, back.session_id, back.channel) == (
            ids["user"], "link", "s2", "email")
        assert back.attempts == 0 and back.last_error == "InvalidRequest: refused"
        assert retry_failed(store, series, now=EARLY, email="ana@example.ORG").requeued == 3
        assert retry_failed(store, series, now=EARLY, channel="telegram").requeued == 3
        assert retry_failed(store, series, now=EARLY).requeued == 2  # the rest of user's
        assert not rows(store, state="failed")


def test_retry_leaves_a_link_whose_session_has_ended_failed(tmp_path, write_series):
    series = make_series(write_series)
    path, state = str(series.source), str(tmp_path / "state.db")
    with open_store(state) as store:
        provision(store, series)
        _failed_everywhere(store, series)
    out = run("retry", path, "--state", state, "--now", "2021-10-29T00:00:00Z", "--json")
    assert out.code == 0
    assert json.loads(out.stdout) == {"series": series.id, "requeued": 4, "too_late": 2}
    with open_store(state) as store:
        assert {r.session_id for r in rows(store, state="failed")} == {"s1"}


def test_retry_names_an_unknown_session_or_email_and_exits_2(tmp_path, write_series):
    series = make_series(write_series)
    path, state = str(series.source), str(tmp_path / "state.db")
    with open_store(state) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
        with pytest.raises(InputError, match="no session 'day-9'"):
            retry_failed(store, series, now=EARLY, session_id="day-9")
    unknown = run("retry", path, "--state", state, "--email", "nadie@example.org")
    assert unknown.code == 2 and "no registration with email" in unknown.stderr
    bad_kind = run("retry", path, "--state", state, "--kind", "postcard")
    assert bad_kind.code == 2 and "--kind" in bad_kind.stderr
