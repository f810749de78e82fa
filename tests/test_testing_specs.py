"""s3events.testing.specs: request bodies checked against the vendors' own API specs."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

from s3events.testing import specs
from s3events.testing.specs import (
    PACKAGED_SPECS_DIR,
    response_schema,
    spec_path,
    validate_prepared_request,
    validate_request,
    validate_response,
)

ZOOM = "zoom-api-v2-openapi-2018.json"
WEBEX = "webex-meeting.json"
GRAPH = "msgraph-v1.0-onlinemeetings-events-subset.json"
CALENDAR = "google-calendar-v3-discovery.json"
MEET = "google-meet-v2-discovery.json"
SLACK = "slack-web-openapi-v2.json"
TELEGRAM = "telegram-bot-api-subset-unofficial.json"
WHATSAPP = "whatsapp-business-messaging-api-v23.0.yaml"
MATRIX = "matrix-client-server/room_send.yaml"

WHATSAPP_TEMPLATE = {
    "messaging_product": "whatsapp", "recipient_type": "individual", "to": "+5215512345678",
    "type": "template",
    "template": {"name": "join_link", "language": {"code": "es_MX", "policy": "deterministic"},
                 "components": [{"type": "body",
                                 "parameters": [{"type": "text", "text": "https://x.org"}]}]},
}

# (spec, method, path, valid body, wrong body, words the failure must contain)
CASES: list[tuple[str, str, str, Any, Any, tuple[str, ...]]] = [
    (ZOOM, "POST", "/users/me/meetings",
     {"topic": "Seminar", "type": 2, "start_time": "2021-10-28T15:00:00Z", "duration": 150,
      "timezone": "Europe/Brussels", "agenda": "x", "settings": {"waiting_room": True}},
     {"topic": "Seminar", "duration": "150"},
     ("body.duration", "'150' is not of type 'integer'", "POST /users/{userId}/meetings")),
    (WEBEX, "POST", "/meetings",
     {"title": "Seminar", "start": "2021-10-28T15:00:00Z", "end": "2021-10-28T17:30:00Z",
      "timezone": "Europe/Brussels", "enabledAutoRecordMeeting": False},
     {"title": "Seminar", "start": "2021-10-28T15:00:00Z"},
     ("'end' is a required property",)),
    (GRAPH, "POST", "/users/abc/onlineMeetings/createOrGet",
     {"externalId": "s3e-1", "subject": "Seminar", "startDateTime": "2021-10-28T15:00:00Z",
      "endDateTime": "2021-10-28T17:30:00Z"},
     {"externalId": "s3e-1", "subject": 5},
     ("body.subject", "5 is not of type 'string', 'null'")),
    (CALENDAR, "POST", "/calendars/primary/events",
     {"summary": "Seminar", "start": {"dateTime": "2021-10-28T17:00:00+02:00",
                                      "timeZone": "Europe/Brussels"},
      "end": {"dateTime": "2021-10-28T19:30:00+02:00", "timeZone": "Europe/Brussels"},
      "conferenceData": {"createRequest": {"requestId": "s3e-1",
                                           "conferenceSolutionKey": {"type": "hangoutsMeet"}}}},
     {"summary": "Seminar", "end": {"dateTime": "2021-10-28T19:30:00+02:00"}},
     ("'start' is a required property", "calendar.events.insert")),
    (MEET, "POST", "/v2/spaces",
     {"config": {"accessType": "OPEN", "entryPointAccess": "ALL"}},
     {"config": {"accessType": "WIDE_OPEN"}},
     ("body.config.accessType", "'WIDE_OPEN' is not one of")),
    (SLACK, "POST", "/chat.postMessage",
     {"channel": "C123", "text": "Tomorrow", "blocks": [{"type": "section"}]},
     {"text": "Tomorrow"},
     ("'channel' is a required property",)),
    (TELEGRAM, "POST", "/bot123:secret/sendMessage",
     {"chat_id": 42, "text": "Tomorrow", "link_preview_options": {"is_disabled": True}},
     {"chat_id": 42, "text": "Tomorrow", "link_preview_options": {"is_disabled": "yes"}},
     ("body.link_preview_options.is_disabled", "not of type 'boolean'")),
    (WHATSAPP, "POST", "/v23.0/123456/messages", WHATSAPP_TEMPLATE,
     {**WHATSAPP_TEMPLATE, "to": 5215512345678},
     ("body.to", "not of type 'string'")),
    (MATRIX, "PUT", "/rooms/!room:example.org/send/m.room.message/txn1",
     {"msgtype": "m.text", "body": "Tomorrow"},
     ["m.text"],
     ("is not of type 'object'",)),
]


@pytest.mark.parametrize(("spec", "method", "path", "valid", "wrong", "words"), CASES,
                         ids=[case[0] for case in CASES])
def test_valid_body_passes_and_wrong_body_fails_with_field_and_reason(
    spec: str, method: str, path: str, valid: Any, wrong: Any, words: tuple[str, ...]
) -> None:
    validate_request(spec, method=method, path=path, body=valid)
    with pytest.raises(AssertionError) as failure:
        validate_request(spec, method=method, path=path, body=wrong)
    message = str(failure.value)
    assert spec in message
    for word in words:
        assert word in message


MATRIX_EVENT = {"msgtype": "m.text", "body": "Tomorrow"}
WHATSAPP_TEXT = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+52",
                 "type": "text", "text": {"body": "Tomorrow"}}


@pytest.mark.parametrize(("spec", "method", "path", "body"), [
    (ZOOM, "PATCH", "/v2/meetings/85746065432", {"topic": "x"}),
    (GRAPH, "POST", "/v1.0/users/abc/onlineMeetings/microsoft.graph.createOrGet",
     {"externalId": "x"}),
    (CALENDAR, "PATCH", "/calendar/v3/calendars/primary/events/abc123", {"summary": "x"}),
    (WHATSAPP, "POST", "/{Phone-Number-ID}/messages", WHATSAPP_TEXT),
    (WHATSAPP, "POST", "/123456/messages", WHATSAPP_TEXT),
    (MATRIX, "PUT", "/_matrix/client/v3/rooms/%21room%3Aexample.org/send/m.room.message/t1",
     MATRIX_EVENT),
    (TELEGRAM, "POST", "sendMessage", {"chat_id": "@channel", "text": "x"}),
])
def test_paths_with_base_prefix_or_placeholders_find_the_operation(
    spec: str, method: str, path: str, body: Any
) -> None:
    validate_request(spec, method=method, path=path, body=body)


def test_missing_required_body_and_unexpected_body_fail() -> None:
    with pytest.raises(AssertionError, match="requires a request body"):
        validate_request(GRAPH, method="POST", path="/users/u/onlineMeetings", body=None)
    with pytest.raises(AssertionError, match="defines no request body"):
        validate_request(ZOOM, method="DELETE", path="/meetings/1", body={"x": 1})
    validate_request(ZOOM, method="DELETE", path="/meetings/1", body=None)


def test_unknown_path_or_method_names_what_the_spec_offers() -> None:
    with pytest.raises(AssertionError, match="no operation in the spec matches"):
        validate_request(ZOOM, method="POST", path="/nothing/at/all", body={})
    with pytest.raises(AssertionError, match=r"offers \['POST /\{Version\}"):
        validate_request(WHATSAPP, method="PUT", path="/v23.0/123/messages", body={})


def test_content_type_the_operation_does_not_accept_fails() -> None:
    with pytest.raises(AssertionError, match="not text/plain"):
        validate_request(WEBEX, method="POST", path="/meetings", body="hi",
                         content_type="text/plain")


def test_raw_json_bytes_are_decoded_before_checking() -> None:
    validate_request(ZOOM, method="PATCH", path="/meetings/1", body=b'{"topic": "x"}')
    with pytest.raises(AssertionError, match=r"body.type: 5 is not one of \[1, 2, 3, 8\]"):
        validate_request(ZOOM, method="PATCH", path="/meetings/1",
                         body=b'{"topic": "x", "type": 5}')
    with pytest.raises(AssertionError, match="not valid JSON"):
        validate_request(ZOOM, method="PATCH", path="/meetings/1", body=b"{topic")


def test_form_fields_are_read_as_the_declared_types() -> None:
    form = "application/x-www-form-urlencoded; charset=utf-8"
    validate_request(SLACK, method="POST", path="/chat.postMessage",
                     body="channel=C1&text=hi&mrkdwn=true", content_type=form)
    with pytest.raises(AssertionError, match=r"body\.mrkdwn: 'maybe' is not of type 'boolean'"):
        validate_request(SLACK, method="POST", path="/chat.postMessage",
                         body="channel=C1&text=hi&mrkdwn=maybe", content_type=form)
    validate_request(TELEGRAM, method="POST", path="sendMessage", content_type=form,
                     body="chat_id=5&text=x&link_preview_options=%7B%22is_disabled%22%3Atrue%7D")


def test_openapi_nullable_allows_null_and_read_only_is_not_required() -> None:
    validate_request(GRAPH, method="PATCH", path="/users/u/onlineMeetings/m",
                     body={"subject": None, "startDateTime": "2021-10-28T15:00:00Z"})
    with pytest.raises(AssertionError, match=r"body\.startDateTime: 'yesterday' does not match"):
        validate_request(GRAPH, method="PATCH", path="/users/u/onlineMeetings/m",
                         body={"startDateTime": "yesterday"})


def test_closed_schema_reports_an_unknown_property() -> None:
    body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "+52",
            "type": "text", "text": {"body": "hi"}}
    validate_request(WHATSAPP, method="POST", path="/v23.0/1/messages", body=body)
    with pytest.raises(AssertionError, match="'txt' was unexpected"):
        validate_request(WHATSAPP, method="POST", path="/v23.0/1/messages",
                         body={**body, "txt": "typo"})


def test_discriminated_union_reports_the_branch_meant_by_the_type() -> None:
    body = {"messaging_product": "whatsapp", "to": "+52", "type": "text", "text": {"body": "x"}}
    with pytest.raises(AssertionError) as failure:
        validate_request(WHATSAPP, method="POST", path="/v23.0/1/messages", body=body)
    assert "body: 'recipient_type' is a required property" in str(failure.value)
    assert "'audio' is a required property" not in str(failure.value)


def test_prepared_request_is_checked_after_the_base_url() -> None:
    prepared = requests.Request(
        "POST", "https://api.zoom.us/v2/users/me/meetings", json={"topic": 7}).prepare()
    with pytest.raises(AssertionError, match=r"body\.topic: 7 is not of type 'string'"):
        validate_prepared_request(ZOOM, prepared, base_url="https://api.zoom.us/v2")
    ok = requests.Request("PUT", "https://matrix.example.org/_matrix/client/v3/rooms/!r:x/send/"
                          "m.room.message/t1", json={"msgtype": "m.text", "body": "x"}).prepare()
    validate_prepared_request(MATRIX, ok)


def test_responses_are_checked_against_the_spec() -> None:
    assert response_schema(ZOOM, method="POST", path="/users/me/meetings", status=201)
    validate_response(ZOOM, method="POST", path="/users/me/meetings", status=201,
                      body={"id": "85746065432", "join_url": "https://zoom.us/j/1"})
    with pytest.raises(AssertionError, match=r"body\.event_id: 5 is not of type 'string'"):
        validate_response(MATRIX, method="PUT", path="/rooms/r/send/m.room.message/t",
                          status=200, body={"event_id": 5})
    assert response_schema(MATRIX, method="PUT", path="/rooms/r/send/m.room.message/t",
                           status=429) is None


def test_relative_ref_to_another_file_is_followed() -> None:
    with pytest.raises(AssertionError, match="'errcode' is a required property"):
        validate_response(MATRIX, method="PUT", path="/rooms/r/send/m.room.message/t",
                          status=400, body={"error": "bad"})


def test_every_spec_ships_with_the_kit() -> None:
    for name in (ZOOM, WEBEX, GRAPH, CALENDAR, MEET, SLACK, TELEGRAM, WHATSAPP, MATRIX):
        assert spec_path(name) == PACKAGED_SPECS_DIR / name
        assert spec_path(name).is_file()


def test_misspelt_spec_name_is_an_error_not_a_skip() -> None:
    with pytest.raises(FileNotFoundError, match=r"zoom-api-v2-openapi-2018\.json"):
        validate_request("zoom.json", method="GET", path="/users/me", body=None)
    with pytest.raises(FileNotFoundError, match=r"no spec 'zoom\.json'"):
        spec_path("zoom.json")


def test_absent_specs_folder_is_an_error_that_names_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(specs, "SPECS_DIR", tmp_path / "absent")
    for check in (
        lambda: validate_request(ZOOM, method="POST", path="/users/me/meetings", body={}),
        lambda: validate_response(ZOOM, method="GET", path="/meetings/1", status=200, body={}),
        lambda: response_schema(ZOOM, method="GET", path="/meetings/1", status=200),
    ):
        with pytest.raises(FileNotFoundError, match=r"specs folder .*absent does not exist"):
            check()


def test_a_spec_file_outside_the_folder_is_read_from_its_path(tmp_path: Path) -> None:
    own = tmp_path / "own" / "matrix-client-server"
    shutil.copytree(PACKAGED_SPECS_DIR / "matrix-client-server", own)
    event = {"msgtype": "m.text", "body": "Tomorrow"}
    validate_request(own / "room_send.yaml", method="PUT",
                     path="/rooms/r/send/m.room.message/t1", body=event)
    with pytest.raises(AssertionError, match="'errcode' is a required property"):
        validate_response(str(own / "room_send.yaml"), method="PUT",
                          path="/rooms/r/send/m.room.message/t", status=400, body={})
    with pytest.raises(FileNotFoundError, match=r"the spec file .*nothing\.yaml does not exist"):
        validate_request(own / "nothing.yaml", method="PUT", path="/x", body=None)
