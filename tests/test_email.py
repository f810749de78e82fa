"""MIME: structure, RFC 6047 calendar parts, headers that survive non-ASCII names."""

from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone

import icalendar
import pytest

from s3events.email import (
    build_email,
    encode_address,
    envelope_address,
    message_needs_smtputf8,
)
from s3events.render import Invitation
from s3events.transports.base import OutgoingMessage
from tests.test_dispatch_support import make_series


def _message(series, method="REQUEST", **changes):
    invitation = Invitation.build(series, series.session("s1"), lang="es", method=method,
                                  sequence=1, join_url="https://meet.example/r",
                                  per_person=False,
                                  dtstamp=datetime(2021, 10, 1, tzinfo=timezone.utc))
    fields = dict(
        key="r1:s1:link:1:email", channel="email", kind="link", recipient="jose@example.org",
        recipient_name="José Peña", language="es", subject="Su enlace – jueves",
        text="Hola José\n.\nFrom here\n" + "x" * 200, html="<p>Hola &amp; adiós</p>",
        calendar=invitation.fill(name="José Peña", email="jose@example.org"),
        calendar_method=method, sender="s3@example.org", sender_name="Centro Común",
        message_id="<abc.s3events@example.org>",
        headers={"Date": "Wed, 27 Oct 2021 14:00:00 +0000",
                 "List-Unsubscribe": "<https://ex.org/cancel/t>"})
    fields.update(changes)
    return OutgoingMessage(**fields)


@pytest.fixture
def series(write_series):
    return make_series(write_series)


def _parse(data: bytes):
    return email.message_from_bytes(data, policy=email.policy.default)


def _parse_utf8(data: bytes):
    """An RFC 6532 message (UTF-8 headers): the bytes parser would leave them escaped."""
    return email.message_from_string(data.decode("utf-8"), policy=email.policy.SMTPUTF8)


@pytest.mark.parametrize("method", ["REQUEST", "CANCEL"])
def test_structure_and_calendar_method_match(series, method):
    parsed = _parse(build_email(_message(series, method)))
    assert parsed.get_content_type() == "multipart/mixed"
    alternative, attachment = parsed.get_payload()
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain", "text/html", "text/calendar"]
    part = alternative.get_payload()[2]
    assert part.get_param("method") == method and part.get_content_charset() == "utf-8"
    cal = icalendar.Calendar.from_ical(part.get_content())
    assert str(cal["METHOD"]) == method
    assert cal.walk("VTIMEZONE") and cal.walk("VEVENT")[0]["ORGANIZER"]
    assert str(cal.walk("VEVENT")[0]["ATTENDEE"]) == "mailto:jose@example.org"
    assert attachment.get_content_type() == "application/ics"
    assert attachment.get_filename() == "invite.ics"
    assert icalendar.Calendar.from_ical(attachment.get_content())["METHOD"] == method


def test_headers_survive_non_ascii(series):
    parsed = _parse(build_email(_message(series)))
    assert parsed["To"].addresses[0].display_name == "José Peña"
    assert parsed["To"].addresses[0].addr_spec == "jose@example.org"
    assert parsed["From"].addresses[0].display_name == "Centro Común"
    assert parsed["Subject"] == "Su enlace – jueves"
    assert parsed["Message-ID"] == "<abc.s3events@example.org>"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["List-Unsubscribe"] == "<https://ex.org/cancel/t>"
    assert parsed["Date"].datetime == datetime(2021, 10, 27, 14, tzinfo=timezone.utc)


def test_bodies_round_trip_and_lines_are_short(series):
    data = build_email(_message(series))
    assert data.isascii()
    assert all(len(line) <= 998 for line in data.split(b"\r\n"))
    assert b"\n" not in data.replace(b"\r\n", b"")
    parsed = _parse(data)
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n") == \
        "Hola José\n.\nFrom here\n" + "x" * 200
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hola &amp; adiós</p>"


def test_without_calendar_the_message_is_text_and_html(series):
    parsed = _parse(build_email(_message(series, calendar=None, calendar_method=None)))
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.get_payload()] == ["text/plain", "text/html"]


def test_attachment_can_be_left_out(series):
    parsed = _parse(build_email(_message(series), attach_ics=False))
    assert parsed.get_content_type() == "multipart/alternative"


def test_header_injection_is_neutralised(series):
    data = build_email(_message(series, recipient_name="Eve\r\nBcc: x@evil.example",
                                subject="Hi\nBcc: y@evil.example"))
    assert b"\r\nBcc:" not in data


def test_idn_domains_are_encoded():
    assert encode_address("Ana", "ana@exämple.org") == "Ana <ana@xn--exmple-cua.org>"


def test_idn_domains_follow_idna_2008_with_the_uts46_mapping():
    assert envelope_address("user@münchen.de") == "user@xn--mnchen-3ya.de"
    assert envelope_address("user@MÜNCHEN.de") == "user@xn--mnchen-3ya.de"
    # IDNA 2003 (Python's "idna" codec) would map ß to ss: another domain, another owner
    assert envelope_address("ana@straße.de") == "ana@xn--strae-oqa.de"
    assert envelope_address("ana@example.org") == "ana@example.org"


def test_a_domain_idna_2008_refuses_is_a_clear_error(series):
    with pytest.raises(ValueError, match="IDNA 2008"):
        build_email(_message(series, recipient="ana@☃.net"))


def test_idn_domains_in_every_address_header_stay_7_bit(series):
    message = _message(series, recipient="user@münchen.de", sender="avisos@bücher.example",
                       reply_to="equipo@bücher.example")
    assert not message_needs_smtputf8(message)
    data = build_email(message)
    assert data.isascii()
    parsed = _parse(data)
    assert parsed["To"].addresses[0].addr_spec == "user@xn--mnchen-3ya.de"
    assert parsed["From"].addresses[0].addr_spec == "avisos@xn--bcher-kva.example"
    assert parsed["Reply-To"].addresses[0].addr_spec == "equipo@xn--bcher-kva.example"
    assert parsed["To"].addresses[0].display_name == "José Peña"


def test_a_local_part_beyond_ascii_makes_an_smtputf8_message(series):
    message = _message(series, recipient="josé@münchen.de")
    assert message_needs_smtputf8(message)
    data = build_email(message)
    head, body = data.split(b"\r\n\r\n", 1)
    assert "To: José Peña <josé@xn--mnchen-3ya.de>".encode() in head.split(b"\r\n")
    assert body.isascii()  # only the address headers are UTF-8 (RFC 6532)
    parsed = _parse_utf8(data)
    assert parsed["To"].addresses[0].addr_spec == "josé@xn--mnchen-3ya.de"
    assert parsed["To"].addresses[0].display_name == "José Peña"
    assert parsed["From"].addresses[0].addr_spec == "s3@example.org"
    assert parsed["Subject"] == "Su enlace – jueves"
    alternative = parsed.get_payload()[0]
    assert [p.get_content_type() for p in alternative.get_payload()] == [
        "text/plain", "text/html", "text/calendar"]


@pytest.mark.parametrize("field", ["sender", "reply_to"])
def test_a_sender_or_reply_to_beyond_ascii_needs_smtputf8_too(series, field):
    message = _message(series, **{field: "señal@example.org"})
    assert message_needs_smtputf8(message)
    header = {"sender": "From", "reply_to": "Reply-To"}[field]
    parsed = _parse_utf8(build_email(message))
    assert parsed[header].addresses[0].addr_spec == "señal@example.org"


def test_header_injection_is_neutralised_in_smtputf8_messages(series):
    data = build_email(_message(series, recipient="josé@example.org",
                                recipient_name="Eve\r\nBcc: x@evil.example"))
    assert b"\r\nBcc:" not in data
