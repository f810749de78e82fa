"""Property tests (Hypothesis) for text: iCalendar line folding, calendars with any text in
them, and scrubbing personal data out of vendor error messages.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from s3events.calendar import series_calendar, to_ics
from s3events.errors import SeriesError
from s3events.ledger import scrub_error
from s3events.loading import parse_series_data
from s3events.render import Invitation, fold_line
from tests.fixtures.series import minimal_series_data

PROPERTY = settings(max_examples=200, deadline=None)
SLOW_PROPERTY = settings(max_examples=40, deadline=None)
STAMP = datetime(2021, 10, 20, 12, 0, tzinfo=timezone.utc)

#: Any text a content line may hold: every character but line breaks (escaped before folding).
line_text = st.text(st.characters(exclude_characters="\r\n", exclude_categories=["Cs"]),
                    max_size=400)


def unfold(text: str) -> str:
    """RFC 5545 §3.1 unfolding: a line break followed by one space or tab is removed."""
    return re.sub(r"\r\n[ \t]", "", text)


def assert_folded(data: bytes) -> None:
    """Every physical line is at most 75 octets and whole UTF-8."""
    for line in data.split(b"\r\n"):
        assert len(line) <= 75, line
        line.decode("utf-8")  # a fold inside a UTF-8 sequence would fail here


# -- folding ------------------------------------------------------------------------------------


@PROPERTY
@given(line=line_text)
def test_folding_round_trips_in_lines_of_at_most_75_octets(line: str) -> None:
    folded = fold_line(line)
    assert unfold(folded) == line
    assert_folded(folded.encode())
    if len(line.encode()) <= 75:
        assert folded == line


@PROPERTY
@given(line=line_text)
def test_folding_uses_the_room_it_has(line: str) -> None:
    """Each physical line but the last is full, short of at most one split character."""
    physical = fold_line(line).encode().split(b"\r\n")
    for piece in physical[:-1]:  # 75 octets (continuation lines: a space and 74)
        assert len(piece) > 75 - 4, physical


# -- calendars with any text --------------------------------------------------------------------


def _series(title: str, topic: str) -> Any:
    data = minimal_series_data()
    data["sessions"][0].update(title={"en": title, "es": title}, topics=[{"en": topic,
                                                                          "es": topic}])
    series, _ = parse_series_data(data)
    return series


readable = st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=150)


@SLOW_PROPERTY
@given(title=readable.filter(lambda t: t.strip() == t and t.strip()), topic=readable)
def test_a_calendar_with_any_text_folds_and_reads_back(title: str, topic: str) -> None:
    try:
        series = _series(title, topic)
    except SeriesError:  # a text the series file refuses (said elsewhere)
        assume(False)
    data = to_ics(series_calendar(series, lang="en", dtstamp=STAMP))
    assert_folded(data)
    events = list(Calendar.from_ical(data).walk("VEVENT"))
    assert len(events) == len(series.sessions)
    assert str(events[0]["SUMMARY"]) == series.text(series.sessions[0].title, "en")
    assert f"- {series.text(series.sessions[0].topics[0], 'en')}" in str(
        events[0]["DESCRIPTION"])


people = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=120)


@SLOW_PROPERTY
@given(name=people, per_person=st.booleans(),
       link=st.text("abcdefghijklmnopqrstuvwxyz0123456789-_./?=&;,", max_size=200))
def test_an_invitation_for_anyone_folds_and_reads_back(name: str, per_person: bool,
                                                       link: str) -> None:
    series = _series("Seminar", "About it")
    join_url = f"https://meet.example.org/{link}"
    invitation = Invitation.build(series, series.sessions[0], lang="es", method="REQUEST",
                                  sequence=0, join_url=join_url, per_person=per_person,
                                  dtstamp=STAMP)
    text = invitation.fill(name=name, email="ana@example.org", join_url=join_url)
    assert_folded(text.encode())
    event = Calendar.from_ical(text).walk("VEVENT")[0]
    attendee = event["ATTENDEE"]
    assert str(attendee) == "mailto:ana@example.org"
    kept = re.sub(r'["\x00-\x1f\x7f]', "", name)  # what a quoted parameter can hold
    assert attendee.params["CN"] == kept
    assert join_url in unfold(text).replace("\\,", ",").replace("\\;", ";")


# -- scrubbing vendor messages ------------------------------------------------------------------

PLACEHOLDERS = re.compile(r"<recipient>|<address>|<number>")
vendor_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=120)
secrets = st.text(st.characters(exclude_categories=["Cs"]), min_size=3, max_size=40)
#: International numbers (E.164: 8 to 15 digits with the country code), written compactly
#: or in groups, as WhatsApp and Telegram addresses and vendor messages show them.
phones = st.builds(
    lambda country, groups, joiner: f"+{country}" + joiner + joiner.join(groups),
    st.integers(1, 998).map(str),
    st.lists(st.text("0123456789", min_size=2, max_size=4), min_size=3, max_size=4)
    .filter(lambda groups: 7 <= len("".join(groups)) <= 12),
    st.sampled_from(["", " ", "-"]))


def planted(message: str, value: str, where: int) -> str:
    at = where % (len(message) + 1)
    return f"{message[:at]} {value} {message[at:]}"


def outside_placeholders(text: str) -> list[str]:
    """The pieces of ``text`` that are not a placeholder."""
    return PLACEHOLDERS.split(text)


@PROPERTY
@given(message=vendor_text, secret=secrets, others=st.lists(secrets, max_size=3),
       where=st.integers(0, 200))
def test_a_given_value_never_survives_scrubbing(message: str, secret: str, others: list[str],
                                                where: int) -> None:
    scrubbed = scrub_error(planted(message, secret, where), secrets_=[secret, *others])
    assert not any(secret in piece for piece in outside_placeholders(scrubbed)), scrubbed


#: Addresses as people have them: the local part starts and ends with a letter or digit
#: (RFC 5322 allows ``o'@example.org``; a scrubber that stops at quotes, as it must to find
#: the address in ``'ana@example.org'``, cannot mask that one whole).
addresses = st.emails().filter(
    lambda address: address[0].isalnum() and address.split("@")[0][-1].isalnum())


@PROPERTY
@given(message=vendor_text, address=addresses, where=st.integers(0, 200))
def test_an_address_never_survives_scrubbing(message: str, address: str, where: int) -> None:
    scrubbed = scrub_error(planted(message, address, where))
    assert address not in scrubbed
    assert "@" + address.split("@")[-1] not in scrubbed.replace("<address>", "")


@PROPERTY
@given(message=vendor_text, phone=phones, where=st.integers(0, 200))
def test_a_phone_number_never_survives_scrubbing(message: str, phone: str, where: int) -> None:
    scrubbed = scrub_error(planted(message, phone, where))
    digits = re.sub(r"\D", "", phone)
    assert digits not in re.sub(r"\D", "", scrubbed), scrubbed


words = st.text("abcdefghijklmnopqrstuvwxyzáéíóúñ", min_size=3, max_size=12)


@PROPERTY
@given(message=st.text("ABCDEFGHIJ .:,", max_size=60), first=words, last=words,
       where=st.integers(0, 60))
def test_a_value_containing_another_is_masked_whole(message: str, first: str, last: str,
                                                    where: int) -> None:
    assume(first not in last and last not in first)
    full = f"{first} {last}"
    scrubbed = scrub_error(planted(message, full, where), secrets_=[first, full])
    assert last not in scrubbed, scrubbed
