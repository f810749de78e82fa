"""The slack transport against a mocked Slack Web API (``responses``) and Slack's own spec."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest
import requests
import responses
from s3events_slack import SlackOptions, SlackTransport

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
from s3events.testing.contracts import Route, TransportContract
from s3events.testing.helpers import request_json
from s3events.testing.matchers import contains, json_fields
from s3events.testing.specs import validate_request
from s3events.transports.base import OutgoingMessage

SPEC = "slack-web-openapi-v2.json"
BASE = "https://slack.test/api"
URL = f"{BASE}/chat.postMessage"
TOKEN = "xoxb-1111-2222-SECRETSLACKTOKEN"
LINK = "https://meet.jit.si/s3e-latam-2021-s1"


def make_message(**overrides: Any) -> OutgoingMessage:
    data: dict[str, Any] = {
        "key": "reg-7/s1/link/0", "channel": "slack", "kind": "link", "recipient": "U012AB3CD",
        "language": "es", "subject": "Sesión 1: Estrategias <S3> & territorio",
        "text": "Mañana a las 10:00 (America/Mexico_City). Enlace: " + LINK,
        "facts": {"link": LINK, "title": "Sesión 1", "local_time": "28 oct 2021, 10:00"},
    }
    data.update(overrides)
    return OutgoingMessage(**data)


def ok_body(channel: str = "D024BE91L", ts: str = "1503435956.000250") -> dict[str, Any]:
    return {"ok": True, "channel": channel, "ts": ts,
            "message": {"type": "message", "text": "…", "ts": ts}}


#: The mocked Web API; at the end, every body sent is checked against the spec.
rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE)


@pytest.fixture
def transport(recorded_sleep: SleepRecorder) -> SlackTransport:
    options = SlackOptions(token=TOKEN, api_base_url=BASE)  # type: ignore[arg-type]
    return SlackTransport(options, session=requests.Session(), sleep=recorded_sleep)


def test_send_posts_json_with_bearer_token_and_returns_channel_and_ts(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    rsps.post(URL, json=ok_body())
    result = transport.send(make_message())
    request = rsps.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"].startswith("application/json")
    body = rsps.sent_json()
    assert body["channel"] == "U012AB3CD"
    assert body["unfurl_links"] is False
    assert "token" not in body
    assert result.provider_id == "D024BE91L:1503435956.000250"


def test_message_ts_stays_a_string_with_its_trailing_zeros(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    rsps.post(URL, json=ok_body(channel="C1H9RESGL", ts="1503435956.000200"))
    assert transport.send(make_message(recipient="C1H9RESGL")).provider_id == (
        "C1H9RESGL:1503435956.000200")


def test_body_with_join_button_matches_the_chat_postmessage_spec(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    rsps.post(URL, json=ok_body())
    transport.send(make_message())
    body = rsps.sent_json()
    button = body["blocks"][1]["elements"][0]
    assert button["url"] == LINK
    assert button["text"]["text"] == "Unirse"
    assert rsps.check_bodies() == 1


def test_body_without_link_matches_the_spec_and_has_no_blocks(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    rsps.post(URL, json=ok_body())
    transport.send(make_message(kind="confirmation", facts={}))
    body = rsps.sent_json()
    assert "blocks" not in body
    assert rsps.check_bodies() == 1


def test_spec_check_rejects_a_body_without_channel() -> None:
    with pytest.raises(AssertionError, match="channel"):
        validate_request(SPEC, method="POST", path="/chat.postMessage", body={"text": "hi"})


def test_text_escapes_mrkdwn_control_characters_and_leads_with_the_subject(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    rsps.post(URL, json=ok_body())
    transport.send(make_message())
    text = rsps.sent_json()["text"]
    assert text.startswith("*Sesión 1: Estrategias &lt;S3&gt; &amp; territorio*\n")
    assert "<S3>" not in text


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("invalid_auth", AuthenticationError),
        ("not_authed", AuthenticationError),
        ("token_revoked", AuthenticationError),
        ("missing_scope", PermissionDenied),
        ("not_in_channel", PermissionDenied),
        ("channel_not_found", NotFound),
        ("msg_too_long", InvalidRequest),
        ("something_new", InvalidRequest),
        ("internal_error", ServiceUnavailable),
    ],
)
def test_ok_false_error_codes_map_to_s3events_errors(
    rsps: VendorMock, transport: SlackTransport, code: str,
    error: type[ServiceError],
) -> None:
    rsps.post(URL, json={"ok": False, "error": code})
    with pytest.raises(error) as info:
        transport.send(make_message())
    assert type(info.value) is error
    assert info.value.vendor_message == code
    assert len(rsps.calls) == 1


def test_missing_scope_hint_names_the_scope_slack_asks_for(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    rsps.post(URL, json={"ok": False, "error": "missing_scope", "needed": "chat:write",
                         "provided": "users:read"})
    with pytest.raises(PermissionDenied) as info:
        transport.send(make_message())
    assert "chat:write" in str(info.value)


def test_http_429_is_raised_at_once_with_retry_after_for_the_channel_to_pause(
    rsps: VendorMock, transport: SlackTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.post(URL, status=429, headers={"Retry-After": "7"},
              json={"ok": False, "error": "ratelimited"})
    with pytest.raises(RateLimited) as info:
        transport.send(make_message())
    assert info.value.retry_after == 7.0
    assert len(rsps.calls) == 1 and recorded_sleep == []  # the dispatcher pauses, not us
    rsps.post(URL, json=ok_body())
    assert transport.send(make_message()).provider_id == "D024BE91L:1503435956.000250"


def test_server_error_is_not_retried_because_a_post_may_have_been_applied(
    rsps: VendorMock, transport: SlackTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.post(URL, status=503, body="upstream down")
    with pytest.raises(ServiceUnavailable):
        transport.send(make_message())
    assert len(rsps.calls) == 1
    assert recorded_sleep == []


def test_connection_error_is_service_unavailable_and_not_retried(
    rsps: VendorMock, transport: SlackTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.post(URL, body=requests.ConnectionError("connection reset"))
    with pytest.raises(ServiceUnavailable):
        transport.send(make_message())
    assert len(rsps.calls) == 1


def test_a_200_that_is_not_a_web_api_answer_is_service_unavailable(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    rsps.post(URL, body="<html>proxy login</html>", content_type="text/html")
    with pytest.raises(ServiceUnavailable, match="api_base_url"):
        transport.send(make_message())


def test_empty_recipient_is_rejected_without_calling_slack(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    with pytest.raises(InvalidRequest):
        transport.send(make_message(recipient=" "))
    assert len(rsps.calls) == 0


def test_token_never_shows_in_repr_logs_or_errors(
    rsps: VendorMock, transport: SlackTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(URL, status=429, headers={"Retry-After": "1"}, json={"ok": False,
                                                                    "error": "ratelimited"})
    rsps.post(URL, json=ok_body())
    rsps.post(URL, json={"ok": False, "error": "invalid_auth"})
    with pytest.raises(RateLimited) as limited:
        transport.send(make_message())
    transport.send(make_message())
    with pytest.raises(AuthenticationError) as info:
        transport.send(make_message())
    shown = [repr(transport), str(transport.options), repr(transport.http), str(info.value),
             str(limited.value)]
    assert_not_logged(caplog, TOKEN, "SECRETSLACKTOKEN", shown=shown)


def test_options_come_from_the_environment_over_the_series_file() -> None:
    transport = SlackTransport.from_options(
        {"token": "xoxb-from-file"},
        environ={"S3EVENTS_SLACK_TOKEN": TOKEN, "S3EVENTS_SLACK_API_BASE_URL": BASE},
    )
    assert isinstance(transport, SlackTransport)
    assert transport.options.token.get_secret_value() == TOKEN
    assert transport.http.base_url == BASE


def test_missing_token_is_a_configuration_error_naming_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="S3EVENTS_SLACK_TOKEN"):
        SlackTransport.from_options({}, environ={})


def test_transport_is_registered_through_the_entry_point() -> None:
    cls = transport_class("slack")
    assert cls is SlackTransport
    assert (cls.name, cls.channel) == ("slack", "slack")


#: Web API codes Slack answers (HTTP 200, ok: false) where other vendors use these statuses.
SLACK_CODES = {400: "invalid_arguments", 401: "invalid_auth", 403: "missing_scope",
               404: "channel_not_found"}


class TestSlackContract(TransportContract):
    """The test kit's transport contract, with Slack-shaped answers."""

    transport_class = SlackTransport
    options: ClassVar[Mapping[str, Any]] = {"token": TOKEN, "api_base_url": BASE}
    recipient = "U012AB3CD"
    spec = SPEC
    spec_base_url = BASE

    def route(self, message: OutgoingMessage) -> Route:
        return ("POST", URL)

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        rsps.post(URL, json=ok_body(), match=[json_fields(
            {"channel": message.recipient, "text": contains(message.facts["link"])})])

    def mock_error(self, rsps: responses.RequestsMock, message: OutgoingMessage, *,
                   status: int | None, headers: Mapping[str, str] | None = None) -> None:
        code = SLACK_CODES.get(status) if status is not None else None
        if code is None:  # 429, 5xx and connection errors are HTTP-level at Slack too
            super().mock_error(rsps, message, status=status, headers=headers)
            return
        rsps.post(URL, json={"ok": False, "error": code})


def test_one_transport_sends_from_several_threads_at_once(
    rsps: VendorMock, transport: SlackTransport
) -> None:
    assert SlackTransport.concurrency == 4  # the dispatcher's default for the channel
    rsps.post(URL, json=ok_body())
    recipients = [f"U{i:08d}" for i in range(24)]
    messages = [make_message(key=f"reg-{i}/s1/link/0", recipient=r)
                for i, r in enumerate(recipients)]
    transport.use_connections(8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(transport.send, messages))
    assert len(results) == 24 and len(rsps.calls) == 24
    assert sorted(request_json(c.request)["channel"] for c in rsps.calls) == recipients


def test_the_contract_catches_a_send_that_drops_the_link(contract_failure: Any) -> None:
    error = contract_failure(TestSlackContract, "test_send_delivers_the_message_once",
                             transport_class=forgetting_the_link(SlackTransport))
    assert "text: sent" in str(error)
    assert "expected a text containing 'https://meet.example.org/j/contract-123'" in str(error)
