"""Choosing a channel's transport: ``--transport NAME:REST``, the series file, the default."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from pydantic import SecretStr

from s3events.errors import ConfigurationError
from s3events.transports.base import OutgoingMessage, SendResult, Transport, TransportOptions
from s3events.transports.choice import channel_transport, email_transport
from s3events.transports.console import ConsoleTransport
from s3events.transports.outbox import OutboxTransport
from s3events.transports.smtp import SmtpTransport
from tests.test_dispatch_support import make_series


class _PagerOptions(TransportOptions):
    token: SecretStr
    room: str = "general"
    retries: int = 2


class _Pager(Transport):
    name: ClassVar[str] = "pager"
    channel: ClassVar[str] = "email"
    options_model: ClassVar[type[TransportOptions]] = _PagerOptions

    def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult()


def test_the_default_reads_option_value_pairs_after_the_name():
    assert _Pager.url_options("pager") == {}
    assert _Pager.url_options("pager:") == {}
    assert _Pager.url_options("pager:room=ops&retries=5") == {"room": "ops", "retries": "5"}
    assert _Pager.url_options("pager:room=caf%C3%A9%20y%20m%C3%A1s") == {"room": "café y más"}
    built = _Pager.from_options(_Pager.url_options("pager:token=t0k&retries=5"), environ={})
    assert built.options.retries == 5  # type: ignore[attr-defined]


@pytest.mark.parametrize(("spec", "words"), [
    ("pager:/var/spool/pager", "option=value pairs"),
    ("pager:room", "option=value pairs"),
    ("pager:channel=ops", "unknown: channel"),
    ("pager:room=ops&secret=hunter2-hunter2", "unknown: secret"),
])
def test_what_the_default_cannot_read_is_refused_naming_the_options(spec: str, words: str):
    with pytest.raises(ConfigurationError) as caught:
        _Pager.url_options(spec)
    message = str(caught.value)
    assert words in message and "options: retries, room, token" in message
    assert "hunter2" not in message and "/var/spool" not in message


def test_built_in_transports_read_their_short_forms(tmp_path):
    assert SmtpTransport.url_options("smtps://u:p@mail.example.org") == {
        "url": "smtps://u:p@mail.example.org"}
    assert OutboxTransport.url_options(f"outbox:{tmp_path}") == {"path": str(tmp_path)}
    assert ConsoleTransport.url_options("console:full") == {"full": True}


def test_the_email_transport_is_the_flag_then_the_series_then_the_outbox(write_series,
                                                                        tmp_path):
    plain = make_series(write_series)
    assert isinstance(email_transport(plain, environ={}), OutboxTransport)
    assert isinstance(email_transport(plain, "smtps://mail.example.org", environ={}),
                      SmtpTransport)
    relative = make_series(write_series, dispatch={"transport": "outbox:sent-mail"})
    chosen = email_transport(relative, environ={})
    assert isinstance(chosen, OutboxTransport)
    assert chosen.folder == tmp_path / "sent-mail"  # next to the series file
    assert isinstance(email_transport(relative, "console", environ={}), ConsoleTransport)


def test_a_transport_for_another_channel_cannot_carry_email(write_series):
    series = make_series(write_series)
    with pytest.raises(ConfigurationError, match="does not send email"):
        email_transport(series, "telegram", environ={})
    with pytest.raises(ConfigurationError, match="unknown transport 'fax'"):
        channel_transport(series, "fax", environ={})


def test_the_series_rate_limit_is_no_option_of_a_transport_without_one(write_series):
    series = make_series(write_series, dispatch={
        "rate_limit": 3, "transports": {"outbox": {"rate_limit": 2, "concurrency": 2}}})
    chosen: Any = email_transport(series, "outbox", environ={})
    assert isinstance(chosen, OutboxTransport)  # the options model forbids unknown keys
