"""Internationalised addresses on their way out: IDN domains as A-labels, SMTPUTF8 when a
local part is beyond ASCII, and one such address never stopping anyone else's mail.

Against real aiosmtpd servers, one that offers SMTPUTF8 (RFC 6531) and one that does not,
a real outbox folder and a real chat API.
"""

from __future__ import annotations

import email
import email.policy

import pytest

from s3events.dispatch import dispatch
from s3events.errors import InvalidRequest
from s3events.ledger import status_counts
from s3events.store import open_store
from s3events.transports.base import OutgoingMessage
from s3events.transports.outbox import OutboxTransport, outbox_filename
from s3events.transports.smtp import SmtpTransport
from tests.fixtures.chat import TOKEN
from tests.test_dispatch_support import EARLY, add_person, make_series, provision, rows

JOSE = "josé@example.org"


def _message(recipient: str, n: int = 0, **changes) -> OutgoingMessage:
    fields = dict(key=f"r{n}:-:confirmation:0:email", channel="email", kind="confirmation",
                  recipient=recipient, recipient_name="José Peña", subject="Inscripción",
                  text="Hola\n", sender="avisos@example.org", sender_name="Centro",
                  message_id=f"<m{n}@example.org>")
    fields.update(changes)
    return OutgoingMessage(**fields)


def _utf8(data: bytes):
    return email.message_from_string(data.decode("utf-8"), policy=email.policy.SMTPUTF8)


def _smtp(url: str) -> SmtpTransport:
    transport = SmtpTransport.from_options({"url": url}, environ={})
    assert isinstance(transport, SmtpTransport)
    return transport


def test_a_local_part_beyond_ascii_goes_with_smtputf8_to_a_server_that_offers_it(
        smtp_server):
    with _smtp(smtp_server.url) as transport:
        transport.send(_message(JOSE))
        transport.send(_message("ana@example.org", 1))
    first, second = smtp_server.messages
    assert first.rcpt_tos == [JOSE] and "SMTPUTF8" in first.mail_options
    assert _utf8(first.data)["To"].addresses[0].addr_spec == JOSE
    assert second.rcpt_tos == ["ana@example.org"] and "SMTPUTF8" not in second.mail_options


def test_an_idn_domain_goes_out_as_a_labels_even_without_smtputf8(smtp_server_factory):
    server = smtp_server_factory(smtputf8=False)
    with _smtp(server.url) as transport:
        transport.send(_message("user@münchen.de", sender="avisos@bücher.example",
                                reply_to="equipo@bücher.example"))
    (received,) = server.messages
    assert received.rcpt_tos == ["user@xn--mnchen-3ya.de"]
    assert received.mail_from == "avisos@xn--bcher-kva.example"
    assert "SMTPUTF8" not in received.mail_options and received.data.isascii()
    parsed = received.email
    assert parsed["To"].addresses[0].addr_spec == "user@xn--mnchen-3ya.de"
    assert parsed["From"].addresses[0].addr_spec == "avisos@xn--bcher-kva.example"
    assert parsed["Reply-To"].addresses[0].addr_spec == "equipo@xn--bcher-kva.example"


def test_a_server_without_smtputf8_refuses_that_message_alone_and_the_connection_goes_on(
        smtp_server_factory):
    server = smtp_server_factory(smtputf8=False)
    with _smtp(server.url) as transport:
        transport.send(_message("ana@example.org", 1))
        with pytest.raises(InvalidRequest, match="does not offer SMTPUTF8") as refused:
            transport.send(_message(JOSE, 2))
        transport.send(_message("luis@example.org", 3))
    assert not refused.value.retryable
    assert [m.rcpt_tos for m in server.messages] == [["ana@example.org"],
                                                     ["luis@example.org"]]
    assert len(server.connections) == 1  # the refusal did not cost the connection


def test_the_outbox_writes_an_smtputf8_message(tmp_path):
    transport = OutboxTransport.from_options({"path": str(tmp_path / "out")}, environ={})
    message = _message(JOSE)
    transport.send(message)
    parsed = _utf8((tmp_path / "out" / outbox_filename(message.key)).read_bytes())
    assert parsed["To"].addresses[0].addr_spec == JOSE
    assert parsed["To"].addresses[0].display_name == "José Peña"


def _fifty_and_jose(store, series) -> str:
    for i in range(50):
        add_person(store, series, f"p{i:02d}@example.org", name=f"Persona {i}")
    return add_person(store, series, JOSE, name="José Peña")


def test_fifty_and_jose_all_arrive_through_a_server_with_smtputf8(
        state_url, write_series, smtp_server):
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        _fifty_and_jose(store, series)
        report = dispatch(store, series, now=EARLY, transport=smtp_server.url)
        assert report.total_sent == 51 and report.failed == 0 and not report.problems
    assert JOSE in {m.rcpt_tos[0] for m in smtp_server.messages}
    assert len(smtp_server.messages) == 51


def test_without_smtputf8_only_joses_row_fails_with_its_reason(
        state_url, write_series, smtp_server_factory):
    server = smtp_server_factory(smtputf8=False)
    series = make_series(write_series)
    with open_store(state_url) as store:
        provision(store, series)
        jose = _fifty_and_jose(store, series)
        report = dispatch(store, series, now=EARLY, transport=server.url)
        assert report.total_sent == 50 and report.failed == 1 and not report.problems
        (failed,) = rows(store, state="failed")
        assert failed.registration_id == jose and failed.kind == "confirmation"
        assert failed.attempts == 1
        assert "does not offer SMTPUTF8" in failed.last_error
        assert "jos" not in failed.last_error.replace("s3events", "")  # no address stored
        counts = {(c.kind, c.state): c.count for c in status_counts(store, series.id)}
        assert counts[("confirmation", "sent")] == 50
        assert counts[("confirmation", "failed")] == 1
    assert len(server.messages) == 50 and JOSE not in {m.rcpt_tos[0] for m in server.messages}


def test_the_sender_and_reply_to_go_out_with_their_idn_domains(
        tmp_path, write_series, smtp_server_factory):
    server = smtp_server_factory(smtputf8=False)
    series = make_series(write_series, organiser={"name": "Bücherhaus",
                                                  "email": "equipo@bücher.example"},
                         dispatch={"sender": "avisos@bücher.example"})
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        add_person(store, series, "user@münchen.de")
        assert dispatch(store, series, now=EARLY, transport=server.url).total_sent == 1
    (received,) = server.messages
    assert received.mail_from == "avisos@xn--bcher-kva.example"
    assert received.rcpt_tos == ["user@xn--mnchen-3ya.de"]
    assert received.email["Reply-To"].addresses[0].addr_spec == "equipo@xn--bcher-kva.example"


def test_chat_channels_are_unaffected_by_an_email_the_server_refuses(
        tmp_path, write_series, smtp_server_factory, chat_server):
    server = smtp_server_factory(smtputf8=False)
    series = make_series(write_series, dispatch={
        "channels": ["email", "telegram"],
        "transports": {"telegram": {"bot_token": TOKEN, "api_base_url": chat_server.url}}})
    with open_store(tmp_path / "state.db") as store:
        provision(store, series)
        add_person(store, series, JOSE, name="José Peña", channels={"telegram": "123456789"})
        report = dispatch(store, series, now=EARLY, transport=server.url)
        assert report.sent[("-", "confirmation", "telegram")] == 1 and report.failed == 1
        assert {(r.channel, r.state) for r in rows(store, kind="confirmation")} == {
            ("email", "failed"), ("telegram", "sent")}
    assert [str(m.chat_id) for m in chat_server.received] == ["123456789"]
