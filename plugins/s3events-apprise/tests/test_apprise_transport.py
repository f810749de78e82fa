"""The apprise transport, with Apprise's ``json://`` scheme pointed at ``responses`` mocks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
import requests
import responses
from s3events_apprise import AppriseOptions, AppriseTransport, split_urls

from s3events.errors import ConfigurationError, InvalidRequest, ServiceError, ServiceUnavailable
from s3events.plugins import transport_class
from s3events.testing import VendorMock, assert_not_logged, forgetting_the_link, vendor_mock_fixture
from s3events.testing.contracts import DEFAULT_ERRORS, Route, TransportContract
from s3events.testing.matchers import contains, json_fields
from s3events.transports.base import OutgoingMessage

SHARED = "json://bot:SECRETPASS@apprise.test/team-hook"
SHARED_ENDPOINT = "http://apprise.test/team-hook"
PERSONAL = "json://apprise.test/jose-PERSONALTOPIC"
PERSONAL_ENDPOINT = "http://apprise.test/jose-PERSONALTOPIC"
LINK = "https://meet.jit.si/s3e-latam-2021-s1"


def make_message(**overrides: Any) -> OutgoingMessage:
    data: dict[str, Any] = {
        "key": "reg-7/s1/link/0", "channel": "apprise", "kind": "link", "recipient": "@jose",
        "language": "es", "subject": "Sesión 1: Estrategias",
        "text": "Hola José Peña, mañana a las 10:00: " + LINK, "facts": {"link": LINK},
    }
    data.update(overrides)
    return OutgoingMessage(**data)


#: The services Apprise posts to (its json:// scheme), mocked.
rsps = vendor_mock_fixture()


@pytest.fixture
def transport() -> AppriseTransport:
    return AppriseTransport(AppriseOptions.model_validate({"urls": [SHARED]}))


def test_a_handle_goes_to_the_shared_urls_named_on_the_first_line(
    rsps: VendorMock, transport: AppriseTransport
) -> None:
    rsps.post(SHARED_ENDPOINT, json={})
    result = transport.send(make_message())
    sent = rsps.sent_json()
    assert rsps.calls[0].request.url == SHARED_ENDPOINT
    assert sent["title"] == "Sesión 1: Estrategias"
    assert sent["message"] == "@jose\n\nHola José Peña, mañana a las 10:00: " + LINK
    assert result.provider_id is None


def test_a_participant_url_gets_the_message_alone(
    rsps: VendorMock, transport: AppriseTransport
) -> None:
    rsps.post(PERSONAL_ENDPOINT, json={})
    transport.send(make_message(recipient=PERSONAL))
    assert [call.request.url for call in rsps.calls] == [PERSONAL_ENDPOINT]
    assert rsps.sent_json()["message"] == "Hola José Peña, mañana a las 10:00: " + LINK


def test_an_empty_address_goes_to_the_shared_urls_unchanged(
    rsps: VendorMock, transport: AppriseTransport
) -> None:
    rsps.post(SHARED_ENDPOINT, json={})
    transport.send(make_message(recipient=""))
    assert rsps.sent_json()["message"] == "Hola José Peña, mañana a las 10:00: " + LINK


def test_the_link_is_appended_when_the_text_lacks_it(
    rsps: VendorMock, transport: AppriseTransport
) -> None:
    rsps.post(SHARED_ENDPOINT, json={})
    transport.send(make_message(recipient="", text="Mañana a las 10:00."))
    assert rsps.sent_json()["message"] == "Mañana a las 10:00.\n" + LINK


def test_urls_from_the_environment_are_split_on_commas_and_spaces_between_urls(
    rsps: VendorMock,
) -> None:
    transport = AppriseTransport.from_options(
        {"urls": ["json://ignored.test/x"]},
        environ={"S3EVENTS_APPRISE_URLS":
                 "json://a.test/hook, json://b.test/hook?:list=a,b  json://c.test/hook"},
    )
    assert isinstance(transport, AppriseTransport)
    for host in ("a", "b", "c"):
        rsps.post(f"http://{host}.test/hook", json={})
    transport.send(make_message())
    assert sorted(call.request.url.split("?")[0] for call in rsps.calls) == [
        "http://a.test/hook", "http://b.test/hook", "http://c.test/hook"]


def test_split_urls_keeps_commas_inside_one_url() -> None:
    assert split_urls("mailto://u:p@example.org?to=a@example.org,b@example.org ntfy://t") == [
        "mailto://u:p@example.org?to=a@example.org,b@example.org", "ntfy://t"]


@pytest.mark.parametrize("failure", [
    {"status": 500, "json": {"error": "down"}},
    {"body": requests.ConnectionError("connection refused")},
])
def test_a_service_that_fails_makes_the_send_service_unavailable(
    rsps: VendorMock, transport: AppriseTransport, failure: dict[str, Any]
) -> None:
    rsps.post(SHARED_ENDPOINT, **failure)
    with pytest.raises(ServiceUnavailable):
        transport.send(make_message())
    assert len(rsps.calls) == 1


def test_a_failing_participant_url_concerns_that_message_only(
    rsps: VendorMock, transport: AppriseTransport
) -> None:
    rsps.post(PERSONAL_ENDPOINT, status=500, json={"error": "down"})
    rsps.post(SHARED_ENDPOINT, status=500, json={"error": "down"})
    with pytest.raises(ServiceUnavailable) as personal:
        transport.send(make_message(recipient=PERSONAL))
    with pytest.raises(ServiceUnavailable) as shared:
        transport.send(make_message())
    assert personal.value.status == 502  # a gateway whose upstream failed: retry this one
    assert shared.value.status is None  # the shared services are down: stop the channel


def test_a_configured_url_apprise_cannot_use_is_a_configuration_error_without_the_url() -> None:
    with pytest.raises(ConfigurationError) as info:
        AppriseTransport(AppriseOptions.model_validate(
            {"urls": [SHARED, "nosuchscheme://user:SECRETPASS@host"]}))
    assert "URL 2" in str(info.value)
    assert "nosuchscheme://…" in str(info.value)
    assert "SECRETPASS" not in str(info.value)


def test_a_participant_url_apprise_cannot_use_is_an_invalid_request_without_the_url(
    rsps: VendorMock, transport: AppriseTransport
) -> None:
    with pytest.raises(InvalidRequest) as info:
        transport.send(make_message(recipient="nosuchscheme://PERSONALTOPIC"))
    assert "PERSONALTOPIC" not in str(info.value)
    assert len(rsps.calls) == 0


def test_a_handle_without_shared_urls_is_an_invalid_request(rsps: VendorMock) -> None:
    transport = AppriseTransport(AppriseOptions())
    with pytest.raises(InvalidRequest, match="urls"):
        transport.send(make_message())
    assert len(rsps.calls) == 0


def test_urls_and_personal_data_never_show_in_repr_logs_or_errors(
    rsps: VendorMock, transport: AppriseTransport,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    rsps.post(SHARED_ENDPOINT, json={})
    rsps.post(PERSONAL_ENDPOINT, status=500, json={"error": "down"})
    transport.send(make_message())
    with pytest.raises(ServiceUnavailable) as info:
        transport.send(make_message(recipient=PERSONAL))
    shown = [repr(transport), str(transport.options), str(info.value)]
    assert "Failed to send JSON" in caplog.text  # Apprise's warnings still get through
    assert_not_logged(caplog, "SECRETPASS", "José Peña", "PERSONALTOPIC", shown=shown)


def test_transport_is_registered_through_the_entry_point() -> None:
    cls = transport_class("apprise")
    assert cls is AppriseTransport
    assert (cls.name, cls.channel) == ("apprise", "apprise")


class TestAppriseContract(TransportContract):
    """The test kit's transport contract, through Apprise's ``json://`` scheme.

    Apprise reports only success or failure, never the HTTP status, so every failure is
    :class:`ServiceUnavailable` here.
    """

    transport_class = AppriseTransport
    options: ClassVar[Mapping[str, Any]] = {"urls": [SHARED]}
    secret_values = (SHARED, "SECRETPASS")
    recipient = PERSONAL
    expected_errors: ClassVar[Mapping[int | None, type[ServiceError]]] = dict.fromkeys(
        DEFAULT_ERRORS, ServiceUnavailable)

    def route(self, message: OutgoingMessage) -> Route:
        return ("POST", PERSONAL_ENDPOINT)

    def mock_send(self, rsps: responses.RequestsMock, message: OutgoingMessage) -> None:
        """Accepts only Apprise's JSON notification with the subject and the link."""
        rsps.post(PERSONAL_ENDPOINT, json={}, match=[json_fields(
            {"title": message.subject, "message": contains(message.facts["link"])})])

    def test_rate_limit_signal_is_honoured(self) -> None:
        pytest.skip("Apprise does not pass a service's 429 or Retry-After on to its caller; "
                    "a refused send is ServiceUnavailable and the dispatcher retries later")


def test_the_contract_catches_a_send_that_drops_the_link(contract_failure: Any) -> None:
    error = contract_failure(TestAppriseContract, "test_send_delivers_the_message_once",
                             transport_class=forgetting_the_link(AppriseTransport))
    assert "message: sent" in str(error)
    assert "expected a text containing 'https://meet.example.org/j/contract-123'" in str(error)
