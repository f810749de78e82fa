"""The whatsapp transport against a mocked Cloud API (``responses``) and Meta's OpenAPI spec."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest
import requests
import responses
from s3events_whatsapp import WhatsAppOptions, WhatsAppTransport

from s3events.errors import (
    AuthenticationError,
    ConfigurationError,
    InvalidRequest,
    PermissionDenied,
    RateLimited,
    ServiceError,
    ServiceUnavailable,
)
from s3events.plugins import transport_class
from s3events.testing import SleepRecorder, VendorMock, assert_not_logged, vendor_mock_fixture
from s3events.testing.contracts import Route, TransportContract
from s3events.testing.helpers import request_json
from s3events.testing.matchers import json_fields
from s3events.testing.specs import validate_request, validate_response
from s3events.transports.base import OutgoingMessage, SendResult

SPEC = "whatsapp-business-messaging-api-v23.0.yaml"
BASE = "https://graph.test/v23.0"
PHONE_ID = "106540352242922"
URL = f"{BASE}/{PHONE_ID}/messages"
SPEC_PATH = f"/v23.0/{PHONE_ID}/messages"
TOKEN = "EAAGsecretWHATSAPPtoken0123456789"
LINK = "https://meet.jit.si/s3e-latam-2021-s1"
WAMID = "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBJCOTY3NDc0NDFDRUI3NTA0Q0UA"


def make_message(**overrides: Any) -> OutgoingMessage:
    data: dict[str, Any] = {
        "key": "reg-7/s1/link/0", "channel": "whatsapp", "kind": "link",
        "recipient": "+52 55 1234 5678", "language": "es",
        "text": "Mañana: Sesión 1 a las 10:00. " + LINK,
        "facts": {"title": "Estrategias de especialización inteligente",
                  "local_time": "jueves, 28 de octubre de 2021, 10:00 (Ciudad de México)",
                  "link": LINK},
    }
    data.update(overrides)
    return OutgoingMessage(**data)


def ok_body(wamid: str = WAMID) -> dict[str, Any]:
    return {"messaging_product": "whatsapp",
            "contacts": [{"input": "525512345678", "wa_id": "525512345678"}],
            "messages": [{"id": wamid, "message_status": "accepted"}]}


def graph_error(code: int, message: str = "error", *, transient: bool = False,
                subcode: int | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"(#{code}) {message}", "type": "OAuthException",
                             "code": code, "fbtrace_id": "AXsgnV2Cm3ZMGF3dF_cfYIn",
                             "is_transient": transient}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


def options(**overrides: Any) -> WhatsAppOptions:
    data: dict[str, Any] = {"access_token": TOKEN, "phone_number_id": PHONE_ID,
                            "template": "seminar_link", "api_base_url": BASE}
    data.update(overrides)
    return WhatsAppOptions.model_validate(data)


#: The mocked Cloud API; at the end, every body sent is checked against the spec.
rsps = vendor_mock_fixture(spec=SPEC, base_url=BASE)


@pytest.fixture
def transport(recorded_sleep: SleepRecorder) -> WhatsAppTransport:
    return WhatsAppTransport(options(), session=requests.Session(), sleep=recorded_sleep)


def test_send_round_trip_posts_a_template_and_returns_the_wamid(
    rsps: VendorMock, transport: WhatsAppTransport
) -> None:
    rsps.post(URL, json=ok_body())
    result = transport.send(make_message())
    assert rsps.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = rsps.sent_json()
    assert body == {
        "messaging_product": "whatsapp", "recipient_type": "individual", "to": "525512345678",
        "type": "template",
        "template": {
            "name": "seminar_link", "language": {"code": "es", "policy": "deterministic"},
            "components": [{"type": "body", "parameters": [
                {"type": "text", "text": "Estrategias de especialización inteligente"},
                {"type": "text",
                 "text": "jueves, 28 de octubre de 2021, 10:00 (Ciudad de México)"},
                {"type": "text", "text": LINK},
            ]}],
        },
    }
    assert result.provider_id == WAMID
    assert rsps.check_bodies() == 1


def test_mocked_success_answer_matches_the_spec() -> None:
    validate_response(SPEC, method="POST", path=SPEC_PATH, status=200, body=ok_body())


def test_spec_check_rejects_a_template_language_without_policy() -> None:
    body = {"messaging_product": "whatsapp", "recipient_type": "individual",
            "to": "525512345678", "type": "template",
            "template": {"name": "seminar_link", "language": {"code": "es"}}}
    with pytest.raises(AssertionError):
        validate_request(SPEC, method="POST", path=SPEC_PATH, body=body)


@pytest.mark.parametrize(
    ("language", "mapping", "code"),
    [
        ("es", None, "es"),
        ("en", None, "en_US"),
        ("pt", None, "pt_BR"),
        ("pt-PT", None, "pt_PT"),
        ("es-CL", None, "es"),
        ("de-AT", None, "de"),
        ("sw", None, "en_US"),
        ("en", {"en": "en_GB"}, "en_GB"),
        ("es", {"en": "en_GB"}, "es"),
        ("sw", {"en": "en_GB"}, "en_GB"),
        ("es-MX", "es_MX=es_MX, en=en_GB", "es_MX"),
    ],
)
def test_template_language_follows_the_participant_language_and_the_languages_option(
    rsps: VendorMock, recorded_sleep: SleepRecorder, language: str,
    mapping: dict[str, str] | str | None, code: str,
) -> None:
    extra = {"languages": mapping} if mapping is not None else {}
    transport = WhatsAppTransport(options(**extra), session=requests.Session(),
                                  sleep=recorded_sleep)
    rsps.post(URL, json=ok_body())
    transport.send(make_message(language=language))
    assert rsps.sent_json()["template"]["language"] == {"code": code, "policy": "deterministic"}


def test_a_kind_can_use_its_own_template(
    rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    transport = WhatsAppTransport(options(templates={"cancellation": "seminar_cancelled"}),
                                  session=requests.Session(), sleep=recorded_sleep)
    rsps.post(URL, json=ok_body())
    rsps.post(URL, json=ok_body())
    transport.send(make_message(kind="cancellation"))
    transport.send(make_message(kind="link"))
    assert rsps.sent_json(0)["template"]["name"] == "seminar_cancelled"
    assert rsps.sent_json(1)["template"]["name"] == "seminar_link"


def test_a_kinds_own_template_gets_only_the_facts_the_message_has(
    rsps: VendorMock, recorded_sleep: SleepRecorder
) -> None:
    transport = WhatsAppTransport(
        options(templates={"cancellation": "seminar_cancelled",
                           "confirmation": "seminar_registered"}),
        session=requests.Session(), sleep=recorded_sleep)
    rsps.post(URL, json=ok_body())
    facts = {**make_message().facts, "link": ""}
    transport.send(make_message(kind="cancellation", facts=facts))
    transport.send(make_message(kind="confirmation", facts={"kind": "confirmation"}))
    cancelled, registered = rsps.sent_json(0)["template"], rsps.sent_json(1)["template"]
    assert [p["text"] for p in cancelled["components"][0]["parameters"]] == [
        facts["title"], facts["local_time"]]
    assert registered == {"name": "seminar_registered",
                          "language": {"code": "es", "policy": "deterministic"}}
    assert rsps.check_bodies() == 2


def test_a_kind_without_its_own_template_and_without_a_link_names_the_templates_option(
    rsps: VendorMock, transport: WhatsAppTransport
) -> None:
    facts = {**make_message().facts, "link": ""}
    with pytest.raises(InvalidRequest) as info:
        transport.send(make_message(kind="cancellation", facts=facts))
    assert info.value.hint is not None and "templates" in info.value.hint
    assert len(rsps.calls) == 0


@pytest.mark.parametrize(
    ("recipient", "to"),
    [("+52 (55) 1234-5678", "525512345678"), ("0056 9 8765 4321", "56987654321"),
     ("51987654321", "51987654321")],
)
def test_phone_numbers_are_sent_as_e164_digits(
    rsps: VendorMock, transport: WhatsAppTransport, recipient: str, to: str
) -> None:
    rsps.post(URL, json=ok_body())
    transport.send(make_message(recipient=recipient))
    assert rsps.sent_json()["to"] == to


@pytest.mark.parametrize("recipient", ["jose@example.org", "12", "+0 55 1234"])
def test_an_address_that_is_no_phone_number_fails_without_calling_whatsapp(
    rsps: VendorMock, transport: WhatsAppTransport, recipient: str
) -> None:
    with pytest.raises(InvalidRequest, match=r"E\.164"):
        transport.send(make_message(recipient=recipient))
    assert len(rsps.calls) == 0


@pytest.mark.parametrize("missing", ["title", "local_time", "link"])
def test_a_message_without_a_template_fact_fails_before_any_call(
    rsps: VendorMock, transport: WhatsAppTransport, missing: str
) -> None:
    facts = dict(make_message().facts)
    del facts[missing]
    with pytest.raises(InvalidRequest, match=f"'{missing}' fact"):
        transport.send(make_message(facts=facts))
    assert len(rsps.calls) == 0


def test_line_breaks_and_long_space_runs_are_folded_in_parameters(
    rsps: VendorMock, transport: WhatsAppTransport
) -> None:
    rsps.post(URL, json=ok_body())
    facts = {**make_message().facts, "title": "Sesión 1:\n\tEstrategias      RIS3"}
    transport.send(make_message(facts=facts))
    first = rsps.sent_json()["template"]["components"][0]["parameters"][0]["text"]
    assert first == "Sesión 1: Estrategias   RIS3"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (190, AuthenticationError),
        (10, PermissionDenied),
        (131047, InvalidRequest),
        (132000, InvalidRequest),
        (132001, InvalidRequest),
        (131026, InvalidRequest),
        (131000, ServiceUnavailable),
    ],
)
def test_graph_error_codes_map_to_s3events_errors_without_retrying(
    rsps: VendorMock, transport: WhatsAppTransport, recorded_sleep: SleepRecorder,
    code: int, error: type[ServiceError],
) -> None:
    rsps.post(URL, status=401 if code == 190 else 400, json=graph_error(code))
    with pytest.raises(error) as info:
        transport.send(make_message())
    assert type(info.value) is error
    assert info.value.vendor_message is not None
    assert "fbtrace_id AXsgnV2Cm3ZMGF3dF_cfYIn" in info.value.vendor_message
    assert len(rsps.calls) == 1
    assert recorded_sleep == []


@pytest.mark.parametrize("code", [132000, 132001, 131047])
def test_template_errors_carry_a_hint(
    rsps: VendorMock, transport: WhatsAppTransport, code: int
) -> None:
    rsps.post(URL, status=400, json=graph_error(code))
    with pytest.raises(InvalidRequest) as info:
        transport.send(make_message())
    assert info.value.hint and "template" in info.value.hint


@pytest.mark.parametrize("code", [130429, 131056, 131048, 4, 80007])
def test_rate_limit_codes_raise_rate_limited_at_once(
    rsps: VendorMock, transport: WhatsAppTransport, recorded_sleep: SleepRecorder, code: int
) -> None:
    rsps.post(URL, status=400, json=graph_error(code, "rate limit hit"))
    with pytest.raises(RateLimited):
        transport.send(make_message())
    assert len(rsps.calls) == 1 and recorded_sleep == []  # the dispatcher pauses the channel


def test_pair_rate_limit_asks_for_six_seconds(
    rsps: VendorMock, transport: WhatsAppTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.post(URL, status=400, json=graph_error(131056, "pair rate limit hit"))
    with pytest.raises(RateLimited) as info:
        transport.send(make_message())
    assert info.value.retry_after == 6.0 and recorded_sleep == []
    rsps.post(URL, json=ok_body())
    assert transport.send(make_message()).provider_id == WAMID


def test_http_429_retry_after_header_is_passed_on(
    rsps: VendorMock, transport: WhatsAppTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.post(URL, status=429, headers={"Retry-After": "11"},
              json=graph_error(130429, "throughput"))
    with pytest.raises(RateLimited) as info:
        transport.send(make_message())
    assert info.value.retry_after == 11.0 and recorded_sleep == []


def test_transient_errors_are_service_unavailable_and_not_repeated(
    rsps: VendorMock, transport: WhatsAppTransport, recorded_sleep: SleepRecorder
) -> None:
    rsps.post(URL, status=500, json=graph_error(99999, "try again later", transient=True))
    with pytest.raises(ServiceUnavailable):
        transport.send(make_message())
    assert len(rsps.calls) == 1
    assert recorded_sleep == []


def test_connection_error_is_service_unavailable_and_not_repeated(
    rsps: VendorMock, transport: WhatsAppTransport
) -> None:
    rsps.post(URL, body=requests.ConnectionError("connection reset"))
    with pytest.raises(ServiceUnavailable):
        transport.send(make_message())
    assert len(rsps.calls) == 1


def test_token_never_shows_in_repr_logs_or_errors(
    rsps: VendorMock, transport: WhatsAppTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(URL, status=400, json=graph_error(131056, "pair rate limit hit"))
    rsps.post(URL, json=ok_body())
    rsps.post(URL, status=401, json=graph_error(190, "Error validating access token"))
    with pytest.raises(RateLimited) as limited:
        transport.send(make_message())
    transport.send(make_message())
    with pytest.raises(AuthenticationError) as info:
        transport.send(make_message())
    shown = [repr(transport), str(transport.options), repr(transport.http), str(info.value),
             str(limited.value)]
    assert_not_logged(caplog, TOKEN, "secretWHATSAPP", shown=shown)


def test_options_come_from_the_environment_over_the_series_file() -> None:
    transport = WhatsAppTransport.from_options(
        {"phone_number_id": 111, "template": "from_file", "access_token": "file-token"},
        environ={"S3EVENTS_WHATSAPP_ACCESS_TOKEN": TOKEN,
                 "S3EVENTS_WHATSAPP_TEMPLATE": "seminar_link",
                 "S3EVENTS_WHATSAPP_LANGUAGES": '{"en": "en_GB"}',
                 "S3EVENTS_WHATSAPP_API_BASE_URL": BASE},
    )
    assert isinstance(transport, WhatsAppTransport)
    assert transport.options.access_token.get_secret_value() == TOKEN
    assert transport.options.phone_number_id == "111"
    assert transport.options.template == "seminar_link"
    assert transport.options.languages["en"] == "en_GB"
    assert transport.options.languages["es"] == "es"
    assert transport.http.base_url == BASE


def test_missing_options_are_one_configuration_error_naming_each_variable() -> None:
    with pytest.raises(ConfigurationError) as info:
        WhatsAppTransport.from_options({}, environ={})
    for variable in ("S3EVENTS_WHATSAPP_ACCESS_TOKEN", "S3EVENTS_WHATSAPP_PHONE_NUMBER_ID",
                     "S3EVENTS_WHATSAPP_TEMPLATE"):
        assert variable in str(info.value)


def test_transport_is_registered_through_the_entry_point() -> None:
    cls = transport_class("whatsapp")
    assert cls is WhatsAppTransport
    assert (cls.name, cls.channel) == ("whatsapp", "whatsapp")


#: Graph error codes the Cloud API answers with these HTTP statuses.
GRAPH_CODES = {400: 100, 401: 190, 403: 10, 404: 803, 429: 130429, 500: 1, 503: 2}


class TestWhatsAppContract(TransportContract):
    """The test kit's transport contract, with Graph API-shaped answers."""

    transport_class = WhatsAppTransport
    options: ClassVar[Mapping[str, Any]] = {
        "access_token": TOKEN, "phone_number_id": PHONE_ID, "template": "seminar_link",
        "api_base_url": BASE}
    recipient = "+56 9 8765 4321"
    spec = SPEC
    spec_base_url = "https://graph.test"

    def make_message(self, **changes: Any) -> OutgoingMessage:
        message = super().make_message(**changes)
        facts = {"title": "Sesión de contrato", "local_time": "5 de marzo de 2030, 10:00",
                 **message.facts}
        return message.model_copy(update={"facts": facts})

    def route(self, message: OutgoingMessage) -> Route:
        return ("POST", URL)

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        """Accepts only the template to this number, with title, time and link in order."""
        parameters = [{"type": "text", "text": message.facts[fact]}
                      for fact in ("title", "local_time", "link")]
        rsps.post(URL, json=ok_body(), match=[json_fields({
            "to": "56987654321", "template": {
                "name": "seminar_link",
                "components": [{"type": "body", "parameters": parameters}]}})])

    def error_body(self, status: int) -> Any:
        return graph_error(GRAPH_CODES[status], f"simulated error {status}",
                           transient=status >= 500)


def test_one_transport_sends_from_several_threads_at_once(
    rsps: VendorMock, transport: WhatsAppTransport
) -> None:
    assert WhatsAppTransport.concurrency == 4  # the dispatcher's default for the channel
    rsps.post(URL, json=ok_body())
    numbers = [f"5255123400{i:02d}" for i in range(24)]
    messages = [make_message(key=f"reg-{i}/s1/link/0", recipient=f"+{n}")
                for i, n in enumerate(numbers)]
    transport.use_connections(8)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(transport.send, messages))
    assert len(results) == 24 and len(rsps.calls) == 24
    assert sorted(request_json(c.request)["to"] for c in rsps.calls) == numbers


class WhatsAppSwapsTheFacts(WhatsAppTransport):
    """Fills the template with the link where the title goes, and the title for the link."""

    def send(self, message: OutgoingMessage) -> SendResult:
        facts = {**message.facts, "title": message.facts["link"],
                 "link": message.facts["title"]}
        return super().send(message.model_copy(update={"facts": facts}))


def test_the_contract_catches_a_template_filled_in_the_wrong_order(
        contract_failure: Any) -> None:
    error = contract_failure(TestWhatsAppContract, "test_send_delivers_the_message_once",
                             transport_class=WhatsAppSwapsTheFacts)
    assert "template.components: sent" in str(error)
