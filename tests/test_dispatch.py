"""Dispatch end to end against a real SMTP server: exactly once, right language and zone."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import ClassVar

import icalendar
import pytest

from s3events.dispatch import dispatch
from s3events.errors import ServiceUnavailable
from s3events.ledger import status_counts
from s3events.store import open_store
from s3events.transports.base import OutgoingMessage, SendResult, Transport
from tests.fixtures.series import minimal_series_data
from tests.test_dispatch_support import EARLY, add_person, make_series, provision, rows

UTC = timezone.utc
AFTER_S1_RELEASE = datetime(2021, 10, 28, 6, 0, tzinfo=UTC)
AFTER_ALL = datetime(2021, 11, 4, 12, 0, tzinfo=UTC)
PEOPLE = [
    ("jose@example.org", "José Peña", "es", "America/Mexico_City"),
    ("ana@example.org", "Ana Souza", "pt", "America/Sao_Paulo"),
    ("kim@example.org", "Kim Lee", "en", "America/Santiago"),
    ("luc@example.org", "Luc Martin", "fr", "Europe/Brussels"),
]


def _calendar(received):
    part = next(p for p in received.email.walk() if p.get_content_type() == "text/calendar")
    cal = icalendar.Calendar.from_ical(part.get_content())
    return part, cal


@pytest.fixture
def setup(state_url, write_series):
    series = make_series(write_series)
    store = open_store(state_url)
    provision(store, series)
    for email, name, lang, zone in PEOPLE:
        add_person(store, series, email, name=name, language=lang, zone=zone)
    yield series, store
    store.close()


def test_everyone_gets_one_link_per_session_in_their_language_and_zone(setup, smtp_server):
    series, store = setup
    dispatch(store, series, now=EARLY, transport=smtp_server.url)
    assert len(smtp_server.messages) == 4  # confirmations
    smtp_server.messages.clear()
    runs = [dispatch(store, series, now=s.start - timedelta(minutes=1),
                     transport=smtp_server.url) for s in series.sessions]
    assert [r.total_sent for r in runs] == [4, 4]  # each session's links before it starts
    per_person = Counter(m.rcpt_tos[0] for m in smtp_server.messages)
    assert per_person == {email: 2 for email, *_ in PEOPLE}
    jose = [m for m in smtp_server.messages if m.rcpt_tos == ["jose@example.org"]]
    text = jose[0].email.get_body(("plain",)).get_content()
    assert "jueves, 28 de octubre de 2021, 10:00–12:30 (hora de Ciudad de México)" \
        in text and "17:00–19:30 (hora de Bruselas)" in text
    ana = next(m for m in smtp_server.messages if m.rcpt_tos == ["ana@example.org"])
    assert "quinta-feira" in ana.email.get_body(("plain",)).get_content()
    luc = next(m for m in smtp_server.messages if m.rcpt_tos == ["luc@example.org"])
    assert luc.email["Subject"].startswith("Your link")  # fr falls back to the default
    for received in smtp_server.messages:
        part, cal = _calendar(received)
        assert part.get_param("method") == str(cal["METHOD"]) == "REQUEST"
        event = cal.walk("VEVENT")[0]
        assert str(event["ATTENDEE"]) == f"mailto:{received.rcpt_tos[0]}"
        assert cal.walk("VTIMEZONE") and event["ORGANIZER"]
    assert len(set(smtp_server.message_ids())) == 8


def test_a_second_dispatch_sends_nothing(setup, smtp_server):
    series, store = setup
    dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
    sent = len(smtp_server.messages)
    report = dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
    assert report.total_sent == 0 and len(smtp_server.messages) == sent == 8


def test_a_dispatch_for_some_people_schedules_and_sends_only_theirs(state_url, write_series,
                                                                   smtp_server):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        ids = [add_person(store, series, email, name=name, language=lang, zone=zone)
               for email, name, lang, zone in PEOPLE]
        report = dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url,
                          registration_ids=[ids[1]])
        assert report.scheduled.registrations == 1 and report.total_sent == 2
        assert {m.rcpt_tos[0] for m in smtp_server.messages} == {"ana@example.org"}
        assert {r.registration_id for r in rows(store)} == {ids[1]}
        rest = dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
        assert rest.total_sent == 6 and len(smtp_server.messages) == 8


def test_a_dispatch_without_scheduling_sends_only_what_the_ledger_has_due(setup, smtp_server):
    series, store = setup
    report = dispatch(store, series, now=AFTER_ALL, transport=smtp_server.url,
                      schedule_first=False)
    assert report.total_sent == 0 and rows(store) == []
    dispatch(store, series, now=EARLY, transport=smtp_server.url)  # confirmations, links queued
    later = dispatch(store, series, now=AFTER_ALL, transport=smtp_server.url,
                     schedule_first=False)
    assert later.scheduled.registrations == 0 and later.total_sent == 4  # day 2's links
    # day 1's links are too late: never claimed, and expired by the next scheduling pass
    assert {r.state for r in rows(store, session_id="s1", kind="link")} == {"pending"}
    passed = dispatch(store, series, now=AFTER_ALL, transport=smtp_server.url)
    assert passed.scheduled.expired == 4 and passed.total_sent == 0
    assert {r.state for r in rows(store, session_id="s1", kind="link")} == {"expired"}


def test_opt_in_messages_link_to_the_page_and_wait_without_its_address(state_url,
                                                                      write_series,
                                                                      smtp_server):
    from s3events.registrations import register

    series = make_series(write_series, dispatch={"channels": ["whatsapp"]})
    with open_store(state_url) as store:
        made = register(store, series, {"name": "José Peña", "email": "jose@example.org",
                                        "language": "es", "timezone": "America/Lima"},
                        now=EARLY, require_opt_in=True)
        waiting = dispatch(store, series, now=EARLY, transport=smtp_server.url)
        assert waiting.total_sent == 0 and "--base-url" in waiting.problems[0]
        assert [(r.kind, r.state) for r in rows(store)] == [("optin", "pending")]
        sent = dispatch(store, series, now=EARLY, transport=smtp_server.url,
                        base_url="https://events.example.org/s3/")
        assert sent.total_sent == 1 and not sent.problems  # by email, whatever the channels
        mail = smtp_server.messages[0].email
        assert mail["Subject"].startswith("Confirme su inscripción")
        assert "List-Unsubscribe" not in mail
        token = made.token.get_secret_value()
        text = mail.get_body(("plain",)).get_content()
        assert f"https://events.example.org/s3/confirm/{token}" in text
        assert [(r.kind, r.state) for r in rows(store)] == [("optin", "sent")]


def test_the_series_base_url_is_used_unless_another_is_given(state_url, write_series,
                                                            smtp_server):
    series = make_series(write_series, dispatch={"base_url": "https://events.example.org/s3"})
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "kim@example.org", sessions=["s1"])
        add_person(store, series, "ana@example.org", sessions=["s1"])
        dispatch(store, series, now=EARLY, transport=smtp_server.url,
                 registration_ids=[rows_of(store)["kim@example.org"]])
        dispatch(store, series, now=EARLY, transport=smtp_server.url,
                 base_url="https://other.example.org")
        kim, ana = (m.email for m in smtp_server.messages)
        assert kim["List-Unsubscribe"].startswith("<https://events.example.org/s3/cancel/")
        assert ana["List-Unsubscribe"].startswith("<https://other.example.org/cancel/")


def test_a_base_url_that_is_not_an_address_is_refused_when_loading(write_series):
    from s3events.errors import SeriesError

    with pytest.raises(SeriesError, match=r"dispatch\.base_url: .* is not a web address"):
        make_series(write_series, dispatch={"base_url": "events.example.org"})


def rows_of(store):
    """Email → registration id."""
    from sqlalchemy import select

    from s3events.store import registrations

    with store.connect() as conn:
        return dict(conn.execute(select(registrations.c.email, registrations.c.id)).all())


def test_links_wait_for_their_release(setup, smtp_server):
    series, store = setup
    dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
    sessions = Counter(str(_calendar(m)[1].walk("VEVENT")[0]["DTSTART"].dt.date())
                       for m in smtp_server.messages
                       if m.email.get_content_type() == "multipart/mixed")
    assert sessions == {"2021-10-28": 4}


def test_late_registrant_gets_the_link_with_the_confirmation(setup, smtp_server):
    series, store = setup
    late = datetime(2021, 10, 28, 12, 0, tzinfo=UTC)
    add_person(store, series, "late@example.org", name="Late Comer", at=late,
               sessions=["s1"])
    dispatch(store, series, now=late, transport=smtp_server.url)
    mine = [m.email["Subject"] for m in smtp_server.messages
            if m.rcpt_tos == ["late@example.org"]]
    assert len(mine) == 2
    assert mine[0].startswith("Registration confirmed") and mine[1].startswith("Your link")


def test_cancelled_session_sends_no_link_and_cancels_sent_ones(state_url, write_series,
                                                               smtp_server):
    data = minimal_series_data()
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org", language="es")
        dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
        assert len(smtp_server.messages) == 2  # confirmation, link for s1
        smtp_server.messages.clear()
        for session in data["sessions"]:
            session["status"] = "cancelled"
        cancelled = make_series(write_series, sessions=data["sessions"])
        provision(store, cancelled, now=AFTER_S1_RELEASE)
        dispatch(store, cancelled, now=AFTER_ALL, transport=smtp_server.url)
        assert len(smtp_server.messages) == 2  # a cancellation for each session
        for received in smtp_server.messages:
            part, cal = _calendar(received)
            assert part.get_param("method") == str(cal["METHOD"]) == "CANCEL"
            assert received.email["Subject"].startswith("Cancelada")
        assert {r.state for r in rows(store, kind="link", session_id="s2")} == {"cancelled"}


def test_moved_session_sends_an_update_with_the_next_sequence(state_url, write_series,
                                                              smtp_server):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "ana@example.org")
        dispatch(store, series, now=AFTER_ALL, transport=smtp_server.url)
        first = {str(_calendar(m)[1].walk("VEVENT")[0]["UID"]): m for m in smtp_server.messages
                 if m.email.get_content_type() == "multipart/mixed"}
        smtp_server.messages.clear()
        data = minimal_series_data()
        data["sessions"][1]["start"] = "2021-11-05T17:00:00"
        data["sessions"][1]["end"] = "2021-11-05T19:30:00"
        moved = make_series(write_series, sessions=data["sessions"])
        provision(store, moved, now=AFTER_ALL)
        dispatch(store, moved, now=AFTER_ALL, transport=smtp_server.url)
        assert len(smtp_server.messages) == 1
        update = smtp_server.messages[0]
        assert update.email["Subject"].startswith("Changed: Second")
        event = _calendar(update)[1].walk("VEVENT")[0]
        old = _calendar(first[str(event["UID"])])[1].walk("VEVENT")[0]
        assert event["SEQUENCE"] == old["SEQUENCE"] + 1
        assert event["DTSTART"].dt.day == 5
        assert dispatch(store, moved, now=AFTER_ALL, transport=smtp_server.url).total_sent == 0


def test_4xx_is_retried_later_and_5xx_fails_visibly(setup, smtp_server):
    series, store = setup
    smtp_server.refuse["jose@example.org"] = 451
    smtp_server.refuse["kim@example.org"] = 550
    report = dispatch(store, series, now=EARLY, transport=smtp_server.url)
    assert report.total_sent == 2 and report.retrying == 1 and report.failed == 1
    assert dispatch(store, series, now=EARLY, transport=smtp_server.url).total_sent == 0
    del smtp_server.refuse["jose@example.org"]
    later = EARLY + timedelta(minutes=1)
    assert dispatch(store, series, now=later, transport=smtp_server.url).total_sent == 1
    counts = {(c.kind, c.state): c.count for c in status_counts(store, series.id)}
    assert counts[("confirmation", "failed")] == 1
    assert counts[("confirmation", "sent")] == 3
    failed = rows(store, state="failed")[0]
    assert "kim@" not in failed.last_error and "550" in failed.last_error


def test_4xx_gives_up_after_max_attempts(state_url, write_series, smtp_server):
    series = make_series(write_series, dispatch={"max_attempts": 3,
                                                 "retry_backoff": "PT1M"})
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "busy@example.org")
        smtp_server.refuse["busy@example.org"] = 452
        now = EARLY
        for _ in range(3):
            dispatch(store, series, now=now, transport=smtp_server.url)
            now += timedelta(hours=1)
        confirmation = rows(store, kind="confirmation")[0]
        assert (confirmation.state, confirmation.attempts) == ("failed", 3)


def test_dropped_connection_mid_batch_loses_and_doubles_nothing(setup, smtp_server):
    series, store = setup
    smtp_server.drop_after = 5
    dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
    ids = smtp_server.message_ids()
    assert len(ids) == len(set(ids)) == 8


def test_unreachable_server_leaves_everything_pending(setup):
    series, store = setup
    report = dispatch(store, series, now=EARLY, transport="smtp://127.0.0.1:9?timeout=2")
    assert report.total_sent == 0 and report.problems
    assert {(r.state, r.attempts) for r in rows(store, kind="confirmation")} == {("pending", 0)}


class _Chat(Transport):
    """A stand-in messaging service (the real ones are plugins tested with responses)."""

    name: ClassVar[str] = "whatsapp"
    channel: ClassVar[str] = "whatsapp"

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[OutgoingMessage] = []
        self.down = True

    def send(self, message: OutgoingMessage) -> SendResult:
        if self.down:
            raise ServiceUnavailable("chat API down", service="whatsapp", status=503)
        self.sent.append(message)
        return SendResult(provider_id="wamid.1")


def test_a_failing_channel_never_makes_another_resend(state_url, write_series, smtp_server):
    series = make_series(write_series, dispatch={"channels": ["email", "whatsapp"]})
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "jose@example.org", language="es", sessions=["s1"],
                   channels={"whatsapp": "+5213312345678"})
        chat = _Chat()
        dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url,
                 transports={"whatsapp": chat})
        assert len(smtp_server.messages) == 2 and chat.sent == []
        chat.down = False
        dispatch(store, series, now=AFTER_S1_RELEASE + timedelta(hours=1),
                 transport=smtp_server.url, transports={"whatsapp": chat})
        assert len(smtp_server.messages) == 2
        link = next(m for m in chat.sent if m.kind == "link")
        assert link.html is None and link.calendar is None
        assert set(link.facts) >= {"title", "local_time", "link", "session", "kind"}
        assert link.facts["link"] in link.text and "10:00" in link.facts["local_time"]


def test_per_participant_links_and_no_host_url(state_url, write_series, smtp_server):
    series = make_series(write_series, platform={
        "name": "jitsi", "options": {"app_id": "s3e", "app_secret": "x" * 32,
                                     "domain": "meet.example.org"}})
    with open_store(state_url) as store:
        provision(store, series)
        add_person(store, series, "a@example.org", name="Ana", sessions=["s1"])
        add_person(store, series, "b@example.org", name="Bea", sessions=["s1"])
        dispatch(store, series, now=AFTER_S1_RELEASE, transport=smtp_server.url)
        links = {}
        for received in smtp_server.messages:
            if received.email.get_content_type() != "multipart/mixed":
                continue
            event = _calendar(received)[1].walk("VEVENT")[0]
            links[received.rcpt_tos[0]] = str(event["URL"])
            assert str(event["URL"]) in received.email.get_body(("plain",)).get_content()
        assert len(set(links.values())) == 2 and all("jwt=" in u for u in links.values())
        for received in smtp_server.messages:
            assert b"moderator" not in received.data.lower()
