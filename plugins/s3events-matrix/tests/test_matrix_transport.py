"""The matrix transport against a mocked homeserver (``responses``) and the Matrix spec."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar
from urllib.parse import quote, unquote, urlsplit

import pytest
import requests
import responses
from s3events_matrix import MatrixOptions, MatrixTransport, transaction_id

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
from s3events.testing.specs import validate_response
from s3events.transports.base import OutgoingMessage

SPEC = "matrix-client-server/room_send.yaml"
HS = "https://matrix.test"
API = f"{HS}/_matrix/client/v3"
ROOM = "!636q39766251:example.org"
TOKEN = "syt_c2VtaW5hcg_SECRETMATRIXtoken_0a1b2c"
LINK = "https://meet.jit.si/s3e-latam-2021-s1?lang=es&x=1"
SEND = re.compile(re.escape(f"{API}/rooms/") + r"[^/]+/send/m\.room\.message/[^/]+")
EVENT = "$YUwRidLecu:example.org"


def make_message(**overrides: Any) -> OutgoingMessage:
    data: dict[str, Any] = {
        "key": "reg-7/s1/link/0", "channel": "matrix", "kind": "link", "recipient": ROOM,
        "language": "es", "subject": "Sesión 1: <S3> & territorio",
        "text": "Mañana a las 11:00 (America/Lima).\nEnlace: " + LINK + ".",
        "facts": {"link": LINK},
    }
    data.update(overrides)
    return OutgoingMessage(**data)


#: The mocked homeserver; at the end, every body sent is checked against the spec.
rsps = vendor_mock_fixture(spec=SPEC, base_url=HS)


@pytest.fixture
def transport(recorded_sleep: SleepRecorder) -> MatrixTransport:
    options = MatrixOptions(homeserver=HS, access_token=TOKEN)  # type: ignore[arg-type]
    return MatrixTransport(options, session=requests.Session(), sleep=recorded_sleep)


def sent(rsps: responses.RequestsMock, index: int = -1) -> tuple[str, dict[str, Any]]:
    request = rsps.calls[index].request
    return urlsplit(str(request.url)).path, request_json(request)


def test_send_round_trip_puts_the_message_and_returns_the_event_id(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    rsps.put(SEND, json={"event_id": EVENT})
    result = transport.send(make_message())
    path, body = sent(rsps)
    txn = transaction_id("reg-7/s1/link/0", ROOM)
    assert path == ("/_matrix/client/v3/rooms/%21636q39766251%3Aexample.org"
                    f"/send/m.room.message/{txn}")
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert body["msgtype"] == "m.text"
    assert body["format"] == "org.matrix.custom.html"
    assert result.provider_id == EVENT
    assert rsps.check_bodies() == 1


def test_mocked_answer_matches_the_spec() -> None:
    validate_response(SPEC, method="PUT", path="/rooms/!r:x/send/m.room.message/1",
                      status=200, body={"event_id": EVENT})


def test_html_body_is_escaped_and_links_are_clickable(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    rsps.put(SEND, json={"event_id": EVENT})
    transport.send(make_message())
    _, body = sent(rsps)
    assert body["body"].startswith("Sesión 1: <S3> & territorio\n\nMañana")
    html = body["formatted_body"]
    assert html.startswith("<strong>Sesión 1: &lt;S3&gt; &amp; territorio</strong><br/><br/>")
    escaped = LINK.replace("&", "&amp;")
    assert f'<a href="{escaped}">{escaped}</a>.' in html
    assert "<S3>" not in html


def test_link_fact_is_appended_when_the_text_lacks_it(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    rsps.put(SEND, json={"event_id": EVENT})
    transport.send(make_message(text="Mañana a las 11:00."))
    _, body = sent(rsps)
    assert body["body"].endswith("Mañana a las 11:00.\n" + LINK)


def test_transaction_id_is_derived_from_the_ledger_key_so_a_resend_is_the_same_request(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    rsps.put(SEND, json={"event_id": EVENT})
    transport.send(make_message())
    transport.send(make_message())
    transport.send(make_message(key="reg-8/s1/link/0"))
    paths = [sent(rsps, i)[0] for i in range(3)]
    assert paths[0] == paths[1]
    assert paths[2] != paths[0]
    assert re.fullmatch(r"s3e-[0-9a-f]{32}", paths[0].rsplit("/", 1)[1])


def test_server_errors_are_retried_with_the_same_transaction_id(
    rsps: VendorMock, transport: MatrixTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.put(SEND, status=502, body="bad gateway")
    rsps.put(SEND, body=requests.ConnectionError("read timed out"))
    rsps.put(SEND, json={"event_id": EVENT})
    assert transport.send(make_message()).provider_id == EVENT
    assert len({sent(rsps, i)[0] for i in range(3)}) == 1
    assert len(recorded_sleep) == 2


def test_server_errors_that_persist_end_as_service_unavailable(
    rsps: VendorMock, transport: MatrixTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.put(SEND, status=503, json={"errcode": "M_UNKNOWN", "error": "overloaded"})
    with pytest.raises(ServiceUnavailable):
        transport.send(make_message())
    assert len(rsps.calls) == len(recorded_sleep) + 1 > 1


def test_rate_limit_prefers_the_retry_after_header_over_retry_after_ms(
    rsps: VendorMock, transport: MatrixTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.put(SEND, status=429, headers={"Retry-After": "3"},
             json={"errcode": "M_LIMIT_EXCEEDED", "error": "Too many requests",
                   "retry_after_ms": 9000})
    with pytest.raises(RateLimited) as info:
        transport.send(make_message())
    assert info.value.retry_after == 3.0
    assert len(rsps.calls) == 1 and recorded_sleep == []  # the dispatcher pauses the channel


def test_rate_limit_without_header_asks_for_retry_after_ms(
    rsps: VendorMock, transport: MatrixTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.put(SEND, status=429, json={"errcode": "M_LIMIT_EXCEEDED",
                                     "error": "Too many requests", "retry_after_ms": 2500})
    with pytest.raises(RateLimited) as info:
        transport.send(make_message())
    assert info.value.retry_after == 2.5 and recorded_sleep == []
    rsps.put(SEND, json={"event_id": EVENT})
    assert transport.send(make_message()).provider_id == EVENT  # the same txnId, once


def test_persistent_rate_limit_raises_rate_limited_with_the_wait(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    rsps.put(SEND, status=429, json={"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 4000})
    with pytest.raises(RateLimited) as info:
        transport.send(make_message())
    assert info.value.retry_after == 4.0


@pytest.mark.parametrize(
    ("status", "errcode", "error"),
    [
        (403, "M_FORBIDDEN", PermissionDenied),
        (401, "M_UNKNOWN_TOKEN", AuthenticationError),
        (401, "M_MISSING_TOKEN", AuthenticationError),
        (404, "M_NOT_FOUND", NotFound),
        (400, "M_BAD_JSON", InvalidRequest),
        (413, "M_TOO_LARGE", InvalidRequest),
    ],
)
def test_errcodes_map_to_s3events_errors_without_retrying(
    rsps: VendorMock, transport: MatrixTransport, recorded_sleep: SleepRecorder,
    status: int, errcode: str, error: type[ServiceError],
) -> None:
    rsps.put(SEND, status=status, json={"errcode": errcode, "error": "nope"})
    with pytest.raises(error) as info:
        transport.send(make_message())
    assert type(info.value) is error
    assert info.value.vendor_message == f"{errcode} nope"
    assert len(rsps.calls) == 1
    assert recorded_sleep == []


def test_forbidden_hint_says_the_bot_must_join_the_room(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    rsps.put(SEND, status=403, json={"errcode": "M_FORBIDDEN",
                                     "error": "User not in room"})
    with pytest.raises(PermissionDenied) as info:
        transport.send(make_message())
    assert info.value.hint is not None and "join the room" in info.value.hint


def test_room_alias_is_resolved_once_through_the_directory(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    alias = "#s3e-latam:example.org"
    rsps.get(f"{API}/directory/room/%23s3e-latam%3Aexample.org",
             json={"room_id": ROOM, "servers": ["example.org"]})
    rsps.put(SEND, json={"event_id": EVENT})
    transport.send(make_message(recipient=alias))
    transport.send(make_message(recipient=alias, key="reg-8/s1/link/0"))
    assert [c.request.method for c in rsps.calls] == ["GET", "PUT", "PUT"]
    assert unquote(sent(rsps)[0]).startswith(f"/_matrix/client/v3/rooms/{ROOM}/send/")


@pytest.mark.parametrize("recipient", ["@jose:example.org", "jose", ""])
def test_an_address_that_is_no_room_fails_without_calling_the_homeserver(
    rsps: VendorMock, transport: MatrixTransport, recipient: str
) -> None:
    with pytest.raises(InvalidRequest, match="room"):
        transport.send(make_message(recipient=recipient))
    assert len(rsps.calls) == 0


def test_token_never_shows_in_repr_logs_or_errors(
    rsps: VendorMock, transport: MatrixTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.put(SEND, status=429, json={"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 10})
    rsps.put(SEND, json={"event_id": EVENT})
    rsps.put(SEND, status=401, json={"errcode": "M_UNKNOWN_TOKEN", "error": "Invalid token",
                                     "soft_logout": True})
    with pytest.raises(RateLimited) as limited:
        transport.send(make_message())
    transport.send(make_message())
    with pytest.raises(AuthenticationError) as info:
        transport.send(make_message())
    shown = [repr(transport), str(transport.options), repr(transport.http), str(info.value),
             str(limited.value)]
    assert "log the bot in again" in str(info.value)
    assert_not_logged(caplog, TOKEN, "SECRETMATRIX", shown=shown)


def test_options_come_from_the_environment_over_the_series_file() -> None:
    transport = MatrixTransport.from_options(
        {"homeserver": "https://matrix.example.org", "access_token": "file-token"},
        environ={"S3EVENTS_MATRIX_ACCESS_TOKEN": TOKEN,
                 "S3EVENTS_MATRIX_HOMESERVER": HS + "/"},
    )
    assert isinstance(transport, MatrixTransport)
    assert transport.options.access_token.get_secret_value() == TOKEN
    assert transport.http.base_url == HS


def test_api_base_url_is_accepted_for_the_homeserver_and_wins_when_both_are_set() -> None:
    alone = MatrixTransport.from_options({"api_base_url": HS, "access_token": TOKEN},
                                         environ={})
    both = MatrixTransport.from_options(
        {"homeserver": "https://matrix.example.org", "access_token": TOKEN},
        environ={"S3EVENTS_MATRIX_API_BASE_URL": "http://127.0.0.1:8008"})
    assert isinstance(alone, MatrixTransport) and isinstance(both, MatrixTransport)
    assert alone.options.homeserver == HS
    assert alone.http.base_url == HS
    assert both.http.base_url == "http://127.0.0.1:8008"


def test_missing_or_bad_options_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError, match="S3EVENTS_MATRIX_HOMESERVER"):
        MatrixTransport.from_options({"access_token": TOKEN}, environ={})
    with pytest.raises(ConfigurationError, match="homeserver's URL"):
        MatrixTransport.from_options({"homeserver": "matrix.org", "access_token": TOKEN},
                                     environ={})


def test_transport_is_registered_through_the_entry_point() -> None:
    cls = transport_class("matrix")
    assert cls is MatrixTransport
    assert (cls.name, cls.channel) == ("matrix", "matrix")


#: Matrix error codes the homeserver answers with these HTTP statuses.
ERRCODES = {400: "M_BAD_JSON", 401: "M_UNKNOWN_TOKEN", 403: "M_FORBIDDEN", 404: "M_NOT_FOUND",
            429: "M_LIMIT_EXCEEDED", 500: "M_UNKNOWN", 503: "M_UNKNOWN"}


class TestMatrixContract(TransportContract):
    """The test kit's transport contract, with Matrix-shaped answers and idempotent sends."""

    transport_class = MatrixTransport
    options: ClassVar[Mapping[str, Any]] = {"homeserver": HS, "access_token": TOKEN}
    recipient = ROOM
    spec = SPEC
    spec_base_url = HS
    idempotent_sends = True

    def route(self, message: OutgoingMessage) -> Route:
        return ("PUT", SEND)

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        in_room = re.compile(re.escape(f"{API}/rooms/{quote(message.recipient, safe='')}/send/"))
        rsps.put(in_room, json={"event_id": EVENT}, match=[json_fields(
            {"msgtype": "m.text", "body": contains(message.facts["link"])})])

    def error_body(self, status: int) -> Any:
        return {"errcode": ERRCODES[status], "error": f"simulated error {status}"}


def test_one_transport_sends_from_several_threads_at_once(
    rsps: VendorMock, transport: MatrixTransport
) -> None:
    assert MatrixTransport.concurrency == 4  # the dispatcher's default for the channel
    rsps.put(SEND, json={"event_id": EVENT})
    rsps.get(re.compile(re.escape(f"{API}/directory/room/") + ".+"),
             json={"room_id": ROOM, "servers": ["example.org"]})
    messages = [make_message(key=f"reg-{i}/s1/link/0",
                             recipient=ROOM if i % 2 else "#seminar:example.org")
                for i in range(24)]
    transport.use_connections(8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(transport.send, messages))
    assert len(results) == 24
    sends = [c.request for c in rsps.calls if c.request.method == "PUT"]
    txns = {str(r.url).rsplit("/", 1)[1] for r in sends}
    assert len(sends) == 24 and len(txns) == 24  # one PUT per message, each its own txnId


def test_the_contract_catches_a_send_that_drops_the_link(contract_failure: Any) -> None:
    error = contract_failure(TestMatrixContract, "test_send_delivers_the_message_once",
                             transport_class=forgetting_the_link(MatrixTransport))
    assert "body: sent" in str(error)
    assert "expected a text containing 'https://meet.example.org/j/contract-123'" in str(error)
