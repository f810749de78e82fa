"""The telegram transport against a mocked Bot API (``responses``) and the Bot API spec."""

from __future__ import annotations

import html
import logging
import re
import traceback
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest
import requests
import responses
from s3events_telegram import TelegramOptions, TelegramTransport, telegram_text

from s3events.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequest,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)
from s3events.plugins import transport_class
from s3events.testing import (
    SleepRecorder,
    VendorMock,
    assert_not_logged,
    forgetting_the_link,
    vendor_mock_fixture,
)
from s3events.testing.contracts import DEFAULT_ERRORS, Route, TransportContract
from s3events.testing.helpers import request_json
from s3events.testing.matchers import contains, json_fields
from s3events.testing.specs import validate_request
from s3events.transports.base import OutgoingMessage

SPEC = "telegram-bot-api-subset-unofficial.json"
BASE = "https://telegram.test"
TOKEN = "123456789:AAHsecretTELEGRAMtoken_-x9"
URL = f"{BASE}/bot{TOKEN}/sendMessage"
LINK = "https://meet.jit.si/s3e-latam-2021-s1?lang=es&x=1"


def make_message(**overrides: Any) -> OutgoingMessage:
    data: dict[str, Any] = {
        "key": "reg-7/s1/link/0", "channel": "telegram", "kind": "link",
        "recipient": "987654321", "language": "es",
        "subject": "Sesión 1: <S3> & territorio",
        "text": "Mañana a las 10:00 (America/Lima). Enlace: " + LINK,
        "facts": {"link": LINK, "title": "Sesión 1", "local_time": "28 oct 2021, 11:00"},
    }
    data.update(overrides)
    return OutgoingMessage(**data)


def ok_body(message_id: int = 42) -> dict[str, Any]:
    return {"ok": True, "result": {"message_id": message_id, "date": 1635436800,
                                   "chat": {"id": 987654321, "type": "private"}, "text": "…"}}


def error_body(code: int, description: str, **parameters: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return body


#: The mocked Bot API; at the end, every body sent is checked against the spec.
rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE)


@pytest.fixture
def transport(recorded_sleep: SleepRecorder) -> TelegramTransport:
    options = TelegramOptions(bot_token=TOKEN, api_base_url=BASE)  # type: ignore[arg-type]
    return TelegramTransport(options, session=requests.Session(), sleep=recorded_sleep)


def visible(text: str) -> str:
    """What Telegram shows after parsing the HTML entities of ``text``."""
    return html.unescape(re.sub(r"</?b>", "", text))


def test_send_round_trip_returns_the_message_id(
    rsps: VendorMock, transport: TelegramTransport
) -> None:
    rsps.post(URL, json=ok_body(42))
    result = transport.send(make_message())
    body = rsps.sent_json()
    assert result.provider_id == "42"
    assert body["chat_id"] == 987654321
    assert body["parse_mode"] == "HTML"
    assert body["link_preview_options"] == {"is_disabled": True}
    assert body["reply_markup"] == {"inline_keyboard": [[{"text": "Unirse", "url": LINK}]]}
    assert rsps.check_bodies() == 1


def test_body_without_link_has_no_keyboard_and_matches_the_spec(
    rsps: VendorMock, transport: TelegramTransport
) -> None:
    rsps.post(URL, json=ok_body())
    transport.send(make_message(kind="confirmation", facts={}, recipient="@s3e_latam"))
    body = rsps.sent_json()
    assert "reply_markup" not in body
    assert body["chat_id"] == "@s3e_latam"
    assert rsps.check_bodies() == 1


def test_spec_check_rejects_a_chat_id_of_the_wrong_type() -> None:
    with pytest.raises(AssertionError, match="chat_id"):
        validate_request(SPEC, method="POST", path="/sendMessage",
                         body={"chat_id": [1], "text": "hi"})


@pytest.mark.parametrize(
    ("recipient", "expected"),
    [
        ("-1001234567890", -1001234567890),
        (" 5000000000123 ", 5000000000123),
        ("@s3e_latam", "@s3e_latam"),
        ("s3e_latam", "@s3e_latam"),
    ],
)
def test_chat_ids_are_integers_when_numeric_else_usernames(
    rsps: VendorMock, transport: TelegramTransport, recipient: str,
    expected: int | str,
) -> None:
    rsps.post(URL, json=ok_body())
    transport.send(make_message(recipient=recipient))
    assert rsps.sent_json()["chat_id"] == expected


def test_an_address_that_is_no_chat_id_fails_without_calling_telegram(
    rsps: VendorMock, transport: TelegramTransport
) -> None:
    with pytest.raises(InvalidRequest, match="chat id"):
        transport.send(make_message(recipient="José Peña"))
    assert len(rsps.calls) == 0


def test_text_is_html_escaped_with_the_subject_in_bold(
    rsps: VendorMock, transport: TelegramTransport
) -> None:
    rsps.post(URL, json=ok_body())
    transport.send(make_message())
    text = rsps.sent_json()["text"]
    assert text.startswith("<b>Sesión 1: &lt;S3&gt; &amp; territorio</b>\n\n")
    assert "lang=es&amp;x=1" in text
    assert "<S3>" not in text


def test_long_text_is_cut_to_4096_characters_after_entity_parsing() -> None:
    message = make_message(text="a < b & c > d 😀 " * 400)
    text = telegram_text(message)
    shown = visible(text)
    assert len(shown.encode("utf-16-le")) // 2 <= 4096
    assert shown.endswith("…")
    assert len(text) > 4096  # the escapes do not count against the limit


def test_flood_limit_is_raised_at_once_with_parameters_retry_after(
    rsps: VendorMock, transport: TelegramTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.post(URL, status=429,
              json=error_body(429, "Too Many Requests: retry after 5", retry_after=5))
    with pytest.raises(RateLimited) as info:
        transport.send(make_message())
    assert info.value.retry_after == 5.0
    assert len(rsps.calls) == 1 and recorded_sleep == []  # the dispatcher pauses the channel
    rsps.post(URL, json=ok_body(43))
    assert transport.send(make_message()).provider_id == "43"


def test_group_migrated_to_supergroup_names_the_new_chat_id(
    rsps: VendorMock, transport: TelegramTransport
) -> None:
    rsps.post(URL, status=400, json=error_body(
        400, "Bad Request: group chat was upgraded to a supergroup chat",
        migrate_to_chat_id=-1009876543210))
    with pytest.raises(InvalidRequest) as info:
        transport.send(make_message(recipient="-4567"))
    assert info.value.hint is not None and "-1009876543210" in info.value.hint
    assert len(rsps.calls) == 1


@pytest.mark.parametrize(
    ("status", "description", "error"),
    [
        (401, "Unauthorized", AuthenticationError),
        (404, "Not Found", AuthenticationError),
        (403, "Forbidden: bot was blocked by the user", PermissionDenied),
        (400, "Bad Request: chat not found", NotFound),
        (400, "Bad Request: can't parse entities", InvalidRequest),
        (502, "Bad Gateway", ServiceUnavailable),
    ],
)
def test_error_answers_map_to_s3events_errors_without_retrying(
    rsps: VendorMock, transport: TelegramTransport, recorded_sleep: SleepRecorder,
    status: int, description: str, error: type[ServiceError],
) -> None:
    rsps.post(URL, status=status, json=error_body(status, description))
    with pytest.raises(error) as info:
        transport.send(make_message())
    assert type(info.value) is error
    assert info.value.vendor_message == description
    assert len(rsps.calls) == 1
    assert recorded_sleep == []


def test_connection_errors_never_show_the_token_in_the_whole_exception_chain(
    transport: TelegramTransport,
) -> None:
    with responses.RequestsMock() as rsps:  # nothing registered: responses quotes the URL
        with pytest.raises(ServiceUnavailable) as info:
            transport.send(make_message())
        assert len(rsps.calls) == 1
    chain = "".join(traceback.format_exception(info.value))
    assert "sendMessage" in chain
    assert TOKEN not in chain
    assert "AAHsecret" not in chain


def test_urllib3_request_lines_are_redacted_in_logs(
    transport: TelegramTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s %s', "https", "api.telegram.org", 443, "POST",
        f"/bot{TOKEN}/sendMessage", "HTTP/1.1", 200, 120)
    assert "/bot<bot-token>/sendMessage" in caplog.text
    assert_not_logged(caplog, TOKEN)


def test_token_never_shows_in_repr_logs_or_errors(
    rsps: VendorMock, transport: TelegramTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(URL, status=429, json=error_body(429, "Too Many Requests", retry_after=1))
    rsps.post(URL, json=ok_body())
    rsps.post(URL, status=401, json=error_body(401, "Unauthorized"))
    with pytest.raises(RateLimited) as limited:
        transport.send(make_message())
    transport.send(make_message())
    with pytest.raises(AuthenticationError) as info:
        transport.send(make_message())
    shown = [repr(transport), str(transport.options), repr(transport.http),
             "".join(traceback.format_exception(info.value)), str(limited.value)]
    assert_not_logged(caplog, TOKEN, "AAHsecret", shown=shown)


def test_options_come_from_the_environment_over_the_series_file() -> None:
    transport = TelegramTransport.from_options(
        {"bot_token": "1:from-file"},
        environ={"S3EVENTS_TELEGRAM_BOT_TOKEN": TOKEN, "S3EVENTS_TELEGRAM_API_BASE_URL": BASE},
    )
    assert isinstance(transport, TelegramTransport)
    assert transport.options.bot_token.get_secret_value() == TOKEN
    assert transport.http.base_url == BASE


def test_missing_token_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="S3EVENTS_TELEGRAM_BOT_TOKEN"):
        TelegramTransport.from_options({}, environ={})


def test_transport_is_registered_through_the_entry_point() -> None:
    cls = transport_class("telegram")
    assert cls is TelegramTransport
    assert (cls.name, cls.channel) == ("telegram", "telegram")


class TestTelegramContract(TransportContract):
    """The test kit's transport contract, with Bot API-shaped answers."""

    transport_class = TelegramTransport
    options: ClassVar[Mapping[str, Any]] = {"bot_token": TOKEN, "api_base_url": BASE}
    recipient = "987654321"
    spec = SPEC
    spec_base_url = BASE
    #: A malformed token makes the Bot API answer 404, so 404 means "bad token" here.
    expected_errors: ClassVar[Mapping[int | None, type[ServiceError]]] = {
        **DEFAULT_ERRORS, 404: AuthenticationError}

    def route(self, message: OutgoingMessage) -> Route:
        return ("POST", URL)

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        rsps.post(URL, json=ok_body(), match=[json_fields(
            {"chat_id": int(message.recipient), "text": contains(message.facts["link"])})])

    def error_body(self, status: int) -> Any:
        return error_body(status, f"simulated error {status}")

    def mock_error(self, rsps: responses.RequestsMock, message: OutgoingMessage, *,
                   status: int | None, headers: Mapping[str, str] | None = None) -> None:
        wait = (headers or {}).get("Retry-After")
        if status != 429 or wait is None:
            super().mock_error(rsps, message, status=status, headers=headers)
            return
        # Telegram's flood signal is in the body (parameters.retry_after), not a header.
        rsps.post(URL, status=429, json=error_body(429, f"Too Many Requests: retry after {wait}",
                                                   retry_after=int(wait)))


def test_one_transport_sends_from_several_threads_at_once(
    rsps: VendorMock, transport: TelegramTransport
) -> None:
    assert TelegramTransport.concurrency == 4  # the dispatcher's default for the channel
    rsps.post(URL, json=ok_body())
    chats = list(range(100000001, 100000025))
    messages = [make_message(key=f"reg-{i}/s1/link/0", recipient=str(chat))
                for i, chat in enumerate(chats)]
    transport.use_connections(8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(transport.send, messages))
    assert len(results) == 24 and len(rsps.calls) == 24
    assert sorted(request_json(c.request)["chat_id"] for c in rsps.calls) == chats


def test_the_contract_catches_a_send_that_drops_the_link(contract_failure: Any) -> None:
    error = contract_failure(TestTelegramContract, "test_send_delivers_the_message_once",
                             transport_class=forgetting_the_link(TelegramTransport))
    assert "text: sent" in str(error)
    assert "expected a text containing 'https://meet.example.org/j/contract-123'" in str(error)
