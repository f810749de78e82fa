"""The kit's test plumbing: recorded sleeps, the vendor mock with its spec check, secret checks."""

from __future__ import annotations

import json
import logging
import sys
import warnings
from pathlib import Path

import pytest
import requests

from s3events.http import HttpClient
from s3events.testing import specs
from s3events.testing.helpers import (
    SleepRecorder,
    VendorMock,
    assert_not_logged,
    request_json,
    vendor_mock,
    vendor_mock_fixture,
)

ZOOM = "zoom-api-v2-openapi-2018.json"
API = "https://api.zoom.us/v2"
TOKEN_URL = "https://zoom.us/oauth/token"
GOOD = {"topic": "Day 1", "type": 2, "duration": 150}
BAD = {"topic": "Day 1", "settings": {"auto_recording": "sometimes"}}

pytest_plugins = ["pytester"]


def post(mock: VendorMock, url: str, body: object) -> None:
    mock.post(url, json={"id": 1}, status=201)
    requests.post(url, json=body, timeout=5)


def test_recorded_sleep_is_a_sleep_that_keeps_the_waits(recorded_sleep: SleepRecorder) -> None:
    client = HttpClient("video", API, sleep=recorded_sleep)
    client.sleep(7.0)
    recorded_sleep(0.5)
    assert recorded_sleep == [7.0, 0.5]


def test_a_recorder_is_false_until_it_records_a_wait() -> None:
    recorder = SleepRecorder()
    assert not recorder
    recorder(3.0)
    assert recorder


def test_api_calls_are_those_under_the_base_url_and_their_bodies_decode() -> None:
    with vendor_mock(base_url=API) as mock:
        post(mock, TOKEN_URL, {"grant_type": "account_credentials"})
        post(mock, f"{API}/users/me/meetings", GOOD)
        mock.get(f"{API}/meetings/1", json={})
        requests.get(f"{API}/meetings/1", timeout=5)
        assert [r.method for r in mock.api_calls()] == ["POST", "GET"]
        assert mock.sent_json(0) == GOOD == mock.sent_json(method="post")
        assert mock.check_bodies() == 1
        with pytest.raises(AssertionError, match="without a body"):
            request_json(mock.api_calls("GET")[0])


def test_a_body_the_spec_forbids_fails_when_the_block_ends() -> None:
    with (pytest.raises(AssertionError, match=r"settings\.auto_recording"),
          vendor_mock(spec=ZOOM, base_url=API) as mock):
        post(mock, f"{API}/users/me/meetings", BAD)


def test_bodies_that_match_the_spec_pass_and_other_hosts_are_not_checked() -> None:
    with vendor_mock(spec=ZOOM, base_url=API) as mock:
        post(mock, f"{API}/users/me/meetings", GOOD)
        post(mock, TOKEN_URL, BAD)
    with vendor_mock(spec=ZOOM, base_url=API, excluded_paths=("/oauth",)) as mock:
        post(mock, f"{API}/oauth/token", BAD)
        assert mock.api_calls() == [] and len(mock.calls) == 1


def test_no_check_runs_when_the_block_raises() -> None:
    with pytest.raises(KeyError), vendor_mock(spec="no-such-spec.json", base_url=API) as mock:
        post(mock, f"{API}/users/me/meetings", BAD)
        raise KeyError("the test failed first")


def test_a_spec_name_missing_from_the_folder_is_an_error() -> None:
    with (pytest.raises(FileNotFoundError, match="no-such-spec"),
          vendor_mock(spec="no-such-spec.json", base_url=API) as mock):
        post(mock, f"{API}/users/me/meetings", GOOD)


def test_a_missing_spec_fails_even_when_no_body_was_sent() -> None:
    with (pytest.raises(FileNotFoundError, match="no-such-spec"),
          vendor_mock(spec="no-such-spec.json", base_url=API) as mock):
        mock.get(f"{API}/meetings/1", json={})
        requests.get(f"{API}/meetings/1", timeout=5)


def test_without_the_specs_folder_the_check_fails_naming_the_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(specs, "SPECS_DIR", tmp_path / "absent")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with (pytest.raises(FileNotFoundError, match=r"specs folder .*absent does not exist"),
              vendor_mock(spec=ZOOM, base_url=API) as mock):
            post(mock, f"{API}/users/me/meetings", GOOD)


def test_a_spec_file_of_the_plugin_s_own_is_given_by_its_path(tmp_path: Path) -> None:
    own = tmp_path / "acme-openapi.json"
    own.write_text(json.dumps({
        "openapi": "3.0.3", "info": {"title": "Acme", "version": "1"},
        "paths": {"/rooms": {"post": {
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"}}}}}},
            "responses": {"201": {"description": "made"}}}}}}))
    with vendor_mock(spec=own, base_url="https://acme.test/api") as mock:
        post(mock, "https://acme.test/api/rooms", {"name": "Día 1"})
    wrong = r"(?s)acme-openapi\.json: POST /rooms.*body\.name: 1 is not of type 'string'"
    with (pytest.raises(AssertionError, match=wrong),
          vendor_mock(spec=own, base_url="https://acme.test/api") as mock):
        post(mock, "https://acme.test/api/rooms", {"name": 1})


def test_unfired_answers_fail_only_when_asked() -> None:
    with vendor_mock(base_url=API) as mock:
        mock.get(f"{API}/never", json={})
    with (pytest.raises(AssertionError, match="Not all requests have been executed"),
          vendor_mock(base_url=API, assert_all_requests_are_fired=True) as mock):
        mock.get(f"{API}/never", json={})


def test_assert_not_logged_passes_when_no_secret_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("s3events.test").info("sent %s", "a message")
    assert_not_logged(caplog, "tok-SECRET-1", shown=["<Client video>"])


def test_assert_not_logged_finds_a_secret_in_log_arguments_and_tracebacks(
    caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("s3events.test").debug("calling %s", "https://x/bot1:tok-SECRET-1/send")
    with pytest.raises(AssertionError) as failed:
        assert_not_logged(caplog, "tok-SECRET-1")
    assert "tok-… (12 characters) in the log" in str(failed.value)
    assert "tok-SECRET-1" not in str(failed.value)
    caplog.clear()
    try:
        raise ValueError("pwd=hunter2-SECRET")
    except ValueError:
        logging.getLogger("s3events.test").exception("failed")
    with pytest.raises(AssertionError, match="in the log"):
        assert_not_logged(caplog, "hunter2-SECRET")


def test_assert_not_logged_names_the_shown_text_that_leaks(
    caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(AssertionError, match="in shown text #2"):
        assert_not_logged(caplog, "tok-SECRET-1", shown=["repr", "error: tok-SECRET-1"])


def test_the_kit_names_load_only_when_asked_for() -> None:
    import s3events.testing as kit

    assert kit.vendor_mock is vendor_mock and kit.SleepRecorder is SleepRecorder
    assert kit.Clock.__module__ == "s3events.testing.clock"
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        kit.nothing  # noqa: B018
    assert "s3events.testing.helpers" in sys.modules


vendor = vendor_mock_fixture(name="vendor", base_url=API)


def test_a_fixture_made_by_vendor_mock_fixture_gives_a_started_mock(vendor: VendorMock) -> None:
    post(vendor, f"{API}/users/me/meetings", GOOD)
    assert vendor.base_url == API and vendor.sent_json() == GOOD


def test_the_fixture_checks_the_bodies_at_teardown(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_scratch=f"""
        import requests
        from s3events.testing import vendor_mock_fixture

        rsps = vendor_mock_fixture(spec={ZOOM!r}, base_url={API!r})

        def send(rsps, body):
            rsps.post({API!r} + "/users/me/meetings", json={{}}, status=201)
            requests.post({API!r} + "/users/me/meetings", json=body, timeout=5)

        def test_good(rsps):
            send(rsps, {GOOD!r})

        def test_bad(rsps):
            send(rsps, {BAD!r})
    """)
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_bad*", "*auto_recording*"])
