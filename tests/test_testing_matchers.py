"""The kit's ``responses`` matchers: what they accept, and how they say what differs."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import requests
import responses

from s3events.testing.matchers import contains, json_fields, query_fields, same_instant

URL = "https://api.example.test/v1/meetings/42"
START = datetime(2030, 3, 6, 17, 0, tzinfo=timezone.utc)


def sent(body: object = None, *, data: bytes | None = None,
         url: str = URL) -> requests.PreparedRequest:
    return requests.Request("PATCH", url, json=body, data=data).prepare()


def test_json_fields_accepts_a_body_holding_the_fields_among_others() -> None:
    match = json_fields({"topic": "Día 2", "settings": {"waiting_room": True}})
    body = {"topic": "Día 2", "duration": 90,
            "settings": {"waiting_room": True, "mute": False}}
    assert match(sent(body)) == (True, "")


def test_json_fields_names_each_field_that_differs_or_is_missing() -> None:
    match = json_fields({"start_time": "2030-03-06T17:00:00Z", "duration": 120,
                         "settings": {"waiting_room": True}, "tags": ["s3e-1"]})
    ok, reason = match(sent({"start_time": "2030-03-05T16:00:00Z", "duration": 120,
                             "settings": {}, "tags": ["s3e-1", "other"]}))
    assert not ok
    assert "start_time: sent '2030-03-05T16:00:00Z', expected '2030-03-06T17:00:00Z'" in reason
    assert "settings.waiting_room: not sent (expected True)" in reason
    assert "tags: sent ['s3e-1', 'other'], expected ['s3e-1']" in reason  # lists: equal
    assert "duration" not in reason


def test_json_fields_refuses_bodies_that_are_not_json_or_absent() -> None:
    match = json_fields({"topic": "x"})
    assert match(sent(data=b"topic=x")) == (False, "the body is not JSON: 'topic=x'")
    ok, reason = match(sent())
    assert not ok and reason == "the request has no body; expected {'topic': 'x'}"
    ok, reason = match(sent(["a", "list"]))
    assert not ok and "topic: not sent" in reason


def test_json_fields_reads_bytes_bodies_with_any_content_type() -> None:
    request = sent(data='{"title": "Sesión"}'.encode())
    request.headers["Content-Type"] = "application/merge-patch+json"
    assert json_fields({"title": "Sesión"})(request) == (True, "")


@pytest.mark.parametrize("text", ["2030-03-06T17:00:00Z", "2030-03-06T17:00:00+00:00",
                                  "2030-03-06T14:00:00-03:00", "2030-03-07T06:00:00+13:00"])
def test_same_instant_accepts_any_spelling_of_the_instant(text: str) -> None:
    assert same_instant(START)(text)


@pytest.mark.parametrize("value", ["2030-03-06T17:00:00", "2030-03-06T16:00:00Z", "tomorrow",
                                   1899046800, None])
def test_same_instant_refuses_another_instant_a_naive_time_or_no_text(value: object) -> None:
    assert not same_instant(START)(value)


def test_a_refused_predicate_says_what_it_expected() -> None:
    match = json_fields({"start": {"dateTime": same_instant(START)}})
    ok, reason = match(sent({"start": {"dateTime": "2030-03-05T17:00:00+01:00"}}))
    assert not ok
    assert ("start.dateTime: sent '2030-03-05T17:00:00+01:00', expected an ISO 8601 time of "
            "2030-03-06T17:00:00Z") in reason


def test_query_fields_compares_the_query_string() -> None:
    match = query_fields({"name": "Día 2", "meetingID": "s3e-1",
                          "duration": lambda value: 100 <= int(value) <= 130})
    good = URL + "?name=D%C3%ADa+2&meetingID=s3e-1&duration=120&checksum=abc"
    assert match(sent(url=good)) == (True, "")
    ok, reason = match(sent(url=URL + "?name=D%C3%ADa+1&duration=200"))
    assert not ok
    assert "name: sent 'Día 1', expected 'Día 2'" in reason
    assert "meetingID: not sent" in reason
    assert "duration: sent '200', expected <lambda>" in reason


def test_a_mock_with_a_matcher_refuses_what_it_does_not_expect() -> None:
    with responses.RequestsMock() as rsps:
        rsps.patch(URL, json={"ok": True}, match=[json_fields({"topic": "new"})])
        assert requests.patch(URL, json={"topic": "new"}, timeout=5).json() == {"ok": True}
        with pytest.raises(requests.ConnectionError, match="topic: sent 'old', expected 'new'"):
            requests.patch(URL, json={"topic": "old"}, timeout=5)


def test_contains_wants_every_part_in_a_text() -> None:
    check = contains("https://meet.example.org/j/1", "Ana")
    assert check("Hola Ana, el enlace: https://meet.example.org/j/1 (mañana)")
    assert not check("Hola Ana, el enlace: https://meet.example.org/j/2")
    assert not check(["https://meet.example.org/j/1", "Ana"])
    ok, reason = json_fields({"text": check})(sent({"text": "Hola"}))
    assert not ok
    assert ("text: sent 'Hola', expected a text containing 'https://meet.example.org/j/1' and "
            "'Ana'") in reason
