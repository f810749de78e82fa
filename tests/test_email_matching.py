"""One mailbox, one key: preview and attendance match addresses as registrations do.

``user@münchen.de`` and ``User@xn--mnchen-3ya.de`` are the same mailbox (the second is the
first's domain as A-labels); every place that looks a person up by email says so.
"""

from __future__ import annotations

from s3events.attendance.matching import Matcher, email_key
from s3events.attendance.records import Attendee
from s3events.compose import preview
from s3events.registrations import register
from s3events.store import open_store
from tests.test_cli_core import run
from tests.test_dispatch_support import EARLY, make_series, provision

UNICODE, A_LABELS = "user@münchen.de", "User@XN--MNCHEN-3YA.de"


def test_the_attendance_key_is_the_registration_key():
    assert email_key(UNICODE) == email_key(A_LABELS) == email_key(f"  {UNICODE.upper()} ")
    assert email_key("José@Example.org") == email_key("josé@example.org")
    assert email_key("") is None and email_key("Ana Lima") is None


def test_a_participant_reported_with_the_other_form_of_the_domain_is_matched_by_email():
    matcher = Matcher([("r1", UNICODE, "Ana Lima"), ("r2", "luis@example.org", "Luis")])
    found = matcher.match(Attendee("Someone Else", A_LABELS))
    assert found is not None and (found.registration_id, found.matched_by) == ("r1", "email")
    assert matcher.match(Attendee("Nobody", "nobody@münchen.de")) is None


def test_preview_finds_the_person_by_either_form_of_the_domain(tmp_path, write_series):
    series = make_series(write_series)
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        register(store, series, {"name": "Ana Lima", "email": UNICODE}, now=EARLY)
        message = preview(store, series, email=A_LABELS, session_id=None,
                          kind="confirmation", now=EARLY)
        assert message.recipient == UNICODE
    shown = run("preview", str(series.source), "--state", str(tmp_path / "state.db"),
                "--registration", A_LABELS, "--kind", "confirmation")
    assert shown.code == 0 and "Ana Lima" in shown.stdout
