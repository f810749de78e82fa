"""The acme-chat transport: the kit's transport contract, then what is particular to Acme Chat.

``TestAcmeChatContract`` inherits every check a transport must pass from
:class:`s3events.testing.contracts.TransportContract`; it only says how Acme Chat answers.
The tests after it check the Acme-specific parts with ``responses``: the request sent, the
idempotency key, rate limits, the options, and a series dispatched through Acme Chat.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests
import responses
import s3events_acme_chat
from s3events_acme_chat import AcmeChatOptions, AcmeChatTransport, chat_body, idempotency_key

from s3events.dispatch import dispatch, email_transport
from s3events.errors import ConfigurationError, NotFound, RateLimited
from s3events.loading import load_series
from s3events.plugins import transport_class
from s3events.provision import apply, load_adapter
from s3events.registrations import register
from s3events.store import open_store
from s3events.testing import SleepRecorder, VendorMock, vendor_mock_fixture
from s3events.testing.contracts import Route, TransportContract
from s3events.testing.helpers import request_json
from s3events.testing.matchers import contains, json_fields
from s3events.transports.base import OutgoingMessage, SendResult

pytestmark = pytest.mark.s3events_no_network

BASE = "https://chat.acme.test/api"
URL = f"{BASE}/messages"
TOKEN = "acme-chat-bot-token-0123456789"
LINK = "https://video.acme.test/j/4711"


class TestAcmeChatContract(TransportContract):
    """The checks every s3events transport must pass."""

    transport_class = AcmeChatTransport
    options: ClassVar[Mapping[str, Any]] = {"token": TOKEN, "api_base_url": BASE}
    idempotent_sends = True  # the body's idempotency_key comes from the ledger key

    def error_body(self, status: int) -> Any:
        return {"error": {"code": f"E{status}", "message": f"simulated HTTP {status}"}}

    def route(self, message: OutgoingMessage) -> Route:
        return ("POST", URL)

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        """Accepts only the message for its recipient, with the link, under the ledger key."""
        rsps.add(responses.POST, URL, json={"id": "msg_0001"}, match=[json_fields({
            "to": message.recipient, "text": contains(message.facts["link"]),
            "idempotency_key": idempotency_key(message.key)})])


# -- what is particular to Acme Chat --------------------------------------------------------

#: The Acme Chat API, mocked with the kit's vendor_mock (``responses`` underneath).
rsps = vendor_mock_fixture(base_url=BASE)


@pytest.fixture
def transport(recorded_sleep: SleepRecorder) -> Iterator[AcmeChatTransport]:
    built = AcmeChatTransport.from_options({"token": TOKEN, "api_base_url": BASE}, environ={},
                                           session=requests.Session(), sleep=recorded_sleep)
    assert isinstance(built, AcmeChatTransport)
    yield built
    built.close()


def make_message(**changes: Any) -> OutgoingMessage:
    data: dict[str, Any] = {
        "key": "r1b3c22a6:day-1:link:0:email", "channel": "email", "kind": "link",
        "recipient": "lupita.martinez@acme.example", "language": "es",
        "subject": "Día 1: enlace para mañana", "text": f"Hola Lupita, el enlace: {LINK}",
    }
    data.update(changes)
    return OutgoingMessage(**data)


def test_send_posts_to_text_and_idempotency_key_with_the_bearer_token(
    rsps: VendorMock, transport: AcmeChatTransport
) -> None:
    rsps.add(responses.POST, URL, json={"id": "msg_42"})
    result = transport.send(make_message())
    sent = rsps.calls[0].request
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request_json(sent) == {
        "to": "lupita.martinez@acme.example",
        "text": f"Día 1: enlace para mañana\n\nHola Lupita, el enlace: {LINK}",
        "idempotency_key": idempotency_key("r1b3c22a6:day-1:link:0:email"),
    }
    assert result.provider_id == "msg_42"


def test_idempotency_key_is_stable_per_ledger_key_and_reveals_nothing() -> None:
    key = "r1b3c22a6:day-1:link:0:email"
    assert idempotency_key(key) == idempotency_key(key)
    assert idempotency_key(key) != idempotency_key("r1b3c22a6:day-1:link:1:email")
    assert "day-1" not in idempotency_key(key)


def test_subject_already_leading_the_text_is_not_repeated() -> None:
    body = chat_body(make_message(subject="Hola", text="Hola Lupita"))
    assert body["text"] == "Hola Lupita"


def test_a_server_error_is_retried_with_the_same_idempotency_key(
    rsps: VendorMock, transport: AcmeChatTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.add(responses.POST, URL, status=502)
    rsps.add(responses.POST, URL, json={"id": "msg_43"})
    assert transport.send(make_message()).provider_id == "msg_43"
    bodies = [request_json(request) for request in rsps.api_calls()]
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert len(recorded_sleep) == 1


def test_a_short_rate_limit_is_waited_out(
    rsps: VendorMock, transport: AcmeChatTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.add(responses.POST, URL, status=429, headers={"Retry-After": "3"})
    rsps.add(responses.POST, URL, json={"id": "msg_44"})
    assert transport.send(make_message()).provider_id == "msg_44"
    assert recorded_sleep == [3.0]


def test_a_long_rate_limit_is_left_to_the_dispatcher(
    rsps: VendorMock, transport: AcmeChatTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.add(responses.POST, URL, status=429, headers={"Retry-After": "600"})
    with pytest.raises(RateLimited) as caught:
        transport.send(make_message())
    assert caught.value.retry_after == 600
    assert recorded_sleep == [] and len(rsps.calls) == 1


def test_unknown_recipient_says_what_to_check(
    rsps: VendorMock, transport: AcmeChatTransport
) -> None:
    rsps.add(responses.POST, URL, status=404, json={"error": {"code": "no_such_user"}})
    with pytest.raises(NotFound, match="work email"):
        transport.send(make_message())


def test_missing_token_names_the_option_and_its_environment_variable() -> None:
    with pytest.raises(ConfigurationError) as caught:
        AcmeChatTransport.from_options({}, environ={})
    assert "token" in str(caught.value)
    assert "S3EVENTS_ACME_CHAT_TOKEN" in str(caught.value)


def test_the_plugin_registers_the_acme_chat_transport(register_plugin: Any) -> None:
    register_plugin(s3events_acme_chat, name="acme-chat")
    assert transport_class("acme-chat") is AcmeChatTransport


# -- a series dispatched through Acme Chat --------------------------------------------------

SERIES = """\
id: acme-chat-demo
title: Seminars announced on Acme Chat
organiser: {name: Acme Seminars, email: seminars@acme.example}
timezone: Europe/Brussels
platform: {name: static}
dispatch:
  transport: acme-chat
  transports:
    acme-chat: {api_base_url: "https://chat.acme.test/api"}
sessions:
  - id: day-1
    title: Introduction
    start: 2030-03-05T17:00:00
    end: 2030-03-05T19:30:00
    join_url: https://video.acme.test/j/4711
"""


@pytest.fixture
def series_file(tmp_path: Path, register_plugin: Any) -> Path:
    register_plugin(s3events_acme_chat, name="acme-chat")
    path = tmp_path / "series.yaml"
    path.write_text(SERIES, encoding="utf-8")
    return path


def test_a_series_with_transport_acme_chat_sends_its_email_channel_there(
    series_file: Path,
) -> None:
    series = load_series(series_file)
    chosen = email_transport(series, environ={"S3EVENTS_ACME_CHAT_TOKEN": TOKEN})
    assert isinstance(chosen, AcmeChatTransport)
    assert isinstance(chosen.options, AcmeChatOptions)
    assert chosen.options.api_base_url == BASE


def test_dispatch_posts_the_confirmation_then_the_link_once_each(
    series_file: Path, rsps: VendorMock
) -> None:
    rsps.add(responses.POST, URL, json={"id": "msg_1"})
    series = load_series(series_file)
    environ = {"S3EVENTS_ACME_CHAT_TOKEN": TOKEN}
    registered = datetime(2030, 2, 20, 12, 0, tzinfo=timezone.utc)
    day_before = datetime(2030, 3, 4, 15, 0, tzinfo=timezone.utc)  # 09:00 in Mérida
    with open_store(series_file.parent / "state.sqlite") as store:
        apply(series, load_adapter(series), store, now=registered)
        register(store, series, {"name": "Lupita Martínez", "email": "lupita@acme.example",
                                 "timezone": "America/Merida"}, now=registered)
        runs = [dispatch(store, series, now=moment, environ=environ).total_sent
                for moment in (registered, day_before, day_before)]
    assert runs == [1, 1, 0]
    bodies = [request_json(request) for request in rsps.api_calls()]
    assert [b["to"] for b in bodies] == ["lupita@acme.example"] * 2
    assert LINK not in bodies[0]["text"] and LINK in bodies[1]["text"]
    assert bodies[0]["idempotency_key"] != bodies[1]["idempotency_key"]


def test_options_may_come_with_the_transport_on_the_command_line(
    series_file: Path, rsps: VendorMock
) -> None:
    from click.testing import CliRunner

    from s3events.cli import cli

    other = "https://chat.acme.test/api/v2"
    rsps.add(responses.POST, f"{other}/messages", json={"id": "msg_2"})
    series = load_series(series_file)
    environ = {"S3EVENTS_ACME_CHAT_TOKEN": TOKEN}
    chosen = email_transport(series, f"acme-chat:api_base_url={other}&max_wait=5",
                             environ=environ)
    assert isinstance(chosen, AcmeChatTransport)
    assert (chosen.options.api_base_url, chosen.options.max_wait) == (other, 5.0)
    with open_store(series_file.parent / "state.sqlite") as store:
        registered = datetime(2030, 2, 20, 12, 0, tzinfo=timezone.utc)
        apply(series, load_adapter(series), store, now=registered)
        register(store, series, {"name": "Lupita Martínez", "email": "lupita@acme.example",
                                 "timezone": "America/Merida"}, now=registered)
    result = CliRunner().invoke(cli, [
        "dispatch", str(series_file), "--state", str(series_file.parent / "state.sqlite"),
        "--now", "2030-02-20T12:00:00Z", "--transport", f"acme-chat:api_base_url={other}"],
        env=environ)
    assert result.exit_code == 0, result.output
    assert [str(call.request.url) for call in rsps.calls] == [f"{other}/messages"]


def test_a_transport_argument_the_plugin_cannot_read_is_refused_by_name(
    series_file: Path,
) -> None:
    series = load_series(series_file)
    environ = {"S3EVENTS_ACME_CHAT_TOKEN": TOKEN}
    for spec, words in (("acme-chat:/var/spool/acme", "option=value"),
                        ("acme-chat:channel=ops", "unknown: channel")):
        with pytest.raises(ConfigurationError) as caught:
            email_transport(series, spec, environ=environ)
        assert words in str(caught.value)
        assert "api_base_url, max_wait, token" in str(caught.value)
    with pytest.raises(ConfigurationError) as secret:
        email_transport(series, "acme-chat:tokn=s3cr3t-value", environ=environ)
    assert "s3cr3t-value" not in str(secret.value)  # a value may be a secret: never echoed


class AcmeChatForgetsTheLink(AcmeChatTransport):
    """Sends the message without its join link."""

    def send(self, message: OutgoingMessage) -> SendResult:
        link = message.facts["link"]
        return super().send(message.model_copy(
            update={"text": message.text.replace(link, "(link)")}))


def test_the_contract_catches_a_send_that_drops_the_link(contract_failure: Any) -> None:
    error = contract_failure(TestAcmeChatContract, "test_send_delivers_the_message_once",
                             transport_class=AcmeChatForgetsTheLink)
    assert "text: sent" in str(error)
    assert "expected a text containing 'https://meet.example.org/j/contract-123'" in str(error)
