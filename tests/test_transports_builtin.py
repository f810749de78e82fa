"""The built-in transports against a real SMTP server (aiosmtpd) and a real folder."""

from __future__ import annotations

import io
import os

import pytest

from s3events.errors import AuthenticationError, InvalidRequest, ServiceUnavailable
from s3events.plugins import transport_class
from s3events.transports.base import OutgoingMessage
from s3events.transports.console import ConsoleTransport
from s3events.transports.outbox import OutboxTransport, outbox_filename
from s3events.transports.smtp import SmtpTransport, parse_smtp_url


def _message(n: int = 0, recipient: str = "ana@example.org") -> OutgoingMessage:
    return OutgoingMessage(
        key=f"r{n}:s1:link:0:email", channel="email", kind="link", recipient=recipient,
        recipient_name="Ana Lima", subject=f"Link {n}", text=f"Hello {n}\n",
        html=f"<p>Hello {n}</p>", sender="s3@example.org", sender_name="Org",
        message_id=f"<m{n}@example.org>")


def _smtp(url: str, **kwargs) -> SmtpTransport:
    transport = SmtpTransport.from_options({"url": url}, environ={}, **kwargs)
    assert isinstance(transport, SmtpTransport)
    return transport


def test_builtins_register_through_the_hook():
    assert transport_class("smtp") is SmtpTransport
    assert transport_class("outbox") is OutboxTransport
    assert transport_class("console") is ConsoleTransport


def test_url_forms():
    plain = parse_smtp_url("smtp://mail.example.org")
    assert (plain.port, plain.starttls, plain.implicit_tls) == (25, False, False)
    submission = parse_smtp_url("smtp://u:p%40ss@mail.example.org:587")
    assert submission.starttls and submission.username == "u"
    assert submission.password.get_secret_value() == "p@ss"
    assert parse_smtp_url("smtps://mail.example.org").port == 465
    assert parse_smtp_url("smtp://h:2525?starttls=1&rate=5").rate == 5.0
    assert not parse_smtp_url("smtp://h:587?starttls=0").starttls


def test_one_connection_for_a_batch(smtp_server):
    with _smtp(smtp_server.url) as transport:
        for n in range(5):
            transport.send(_message(n))
    assert smtp_server.message_ids() == [f"<m{n}@example.org>" for n in range(5)]
    received = smtp_server.messages[0]
    assert received.rcpt_tos == ["ana@example.org"] and received.mail_from == "s3@example.org"
    assert received.email["To"].addresses[0].display_name == "Ana Lima"


def test_dropped_connection_reconnects_and_resends_that_message(smtp_server):
    smtp_server.drop_after = 2
    with _smtp(smtp_server.url) as transport:
        for n in range(5):
            transport.send(_message(n))
    assert smtp_server.message_ids() == [f"<m{n}@example.org>" for n in range(5)]


def test_4xx_is_retryable_and_5xx_is_permanent(smtp_server):
    smtp_server.refuse["busy@example.org"] = 450
    smtp_server.refuse["nobody@example.org"] = 550
    with _smtp(smtp_server.url) as transport:
        with pytest.raises(ServiceUnavailable) as busy:
            transport.send(_message(1, "busy@example.org"))
        assert busy.value.retryable and busy.value.status == 450
        with pytest.raises(InvalidRequest) as nobody:
            transport.send(_message(2, "nobody@example.org"))
        assert not nobody.value.retryable and nobody.value.status == 550
        transport.send(_message(3))  # the connection is still usable
    assert smtp_server.message_ids() == ["<m3@example.org>"]


def test_unreachable_server_is_unavailable_without_status():
    with pytest.raises(ServiceUnavailable) as caught:
        _smtp("smtp://127.0.0.1:9?timeout=2").open()
    assert caught.value.status is None


def test_starttls_with_auth(smtp_server_factory):
    server = smtp_server_factory(tls="starttls", auth=("org", "s3cret"))
    with _smtp(server.url) as transport:
        transport.send(_message(1))
    assert server.message_ids() == ["<m1@example.org>"]


def test_implicit_tls_with_auth(smtp_server_factory):
    server = smtp_server_factory(tls="implicit", auth=("org", "s3cret"))
    assert server.url.startswith("smtps://")
    with _smtp(server.url) as transport:
        transport.send(_message(1))
    assert server.message_ids() == ["<m1@example.org>"]


def test_refused_credentials_never_show_the_password(smtp_server_factory):
    server = smtp_server_factory(tls="starttls", auth=("org", "s3cret"))
    url = server.url.replace("s3cret", "wrong-pass-123")
    transport = _smtp(url)
    with pytest.raises(AuthenticationError) as caught:
        transport.open()
    assert "wrong-pass-123" not in str(caught.value)
    assert "wrong-pass-123" not in repr(transport)


def test_the_url_rate_is_the_transports_own_ceiling_for_the_channel(smtp_server):
    assert _smtp(smtp_server.url + "?rate=2").rate_limit == 2.0
    assert SmtpTransport.from_options({"url": smtp_server.url, "rate_limit": 7},
                                      environ={}).rate_limit == 7.0
    assert _smtp(smtp_server.url).rate_limit is None


def test_outbox_writes_one_eml_per_key(tmp_path):
    folder = tmp_path / "out"
    transport = OutboxTransport.from_options({"path": str(folder)}, environ={})
    with transport:
        transport.send(_message(1))
        transport.send(_message(1))  # the same key again: same file, same content
        transport.send(_message(2))
    files = sorted(p.name for p in folder.iterdir())
    assert files == [outbox_filename("r1:s1:link:0:email"), outbox_filename("r2:s1:link:0:email")]
    assert b"Message-ID: <m1@example.org>" in (folder / files[0]).read_bytes()
    assert oct(folder.stat().st_mode & 0o777) == "0o700"


def test_outbox_never_leaves_half_a_file(tmp_path, monkeypatch):
    transport = OutboxTransport.from_options({"path": str(tmp_path)}, environ={})

    def crash(src, dst):
        raise OSError("disk pulled")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        transport.send(_message(1))
    assert list(tmp_path.iterdir()) == []


def test_console_masks_addresses_unless_full():
    out = io.StringIO()
    ConsoleTransport(stream=out).send(_message(1))
    assert "a***@example.org" in out.getvalue() and "ana@" not in out.getvalue()
    assert "Hello 1" not in out.getvalue()
    full = io.StringIO()
    ConsoleTransport(ConsoleTransport.options_model(full=True), stream=full).send(_message(1))
    assert "Hello 1" in full.getvalue()
