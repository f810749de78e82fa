"""Tests of the bigbluebutton platform: checksums, just-in-time create, per-participant links."""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from importlib import metadata
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
import s3events_bigbluebutton
from pydantic import SecretStr
from s3events_bigbluebutton import BigBlueButtonAdapter, BigBlueButtonOptions
from s3events_bigbluebutton.api import checksum, signed_url

from s3events.errors import (
    AuthenticationError,
    InvalidRequest,
    PermissionDenied,
    ServiceError,
    ServiceUnavailable,
)
from s3events.models import MeetingOptions
from s3events.platforms.base import Meeting, MeetingRequest, Participant, PlatformAdapter
from s3events.testing import SleepRecorder, assert_not_logged, reference_request
from s3events.testing.contracts import PlatformContract
from s3events.testing.matchers import query_fields

API = "https://bbb.example.org/bigbluebutton/api"
SECRET = "639259d4-9dd8-4b25-bf01-95f9567eaf4b"
START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)
DAY_BEFORE = (START - timedelta(days=1)).timestamp()
#: The contract's clock: a few days before its sessions (in March 2030).
CONTRACT_NOW = datetime(2030, 3, 1, 9, 0, tzinfo=timezone.utc).timestamp()

SUCCESS = b"""<response><returncode>SUCCESS</returncode><meetingID>{id}</meetingID>
<internalMeetingID>int-123</internalMeetingID><createTime>1635433200000</createTime>
<voiceBridge>70757</voiceBridge><hasBeenForciblyEnded>false</hasBeenForciblyEnded>
<messageKey></messageKey><message></message></response>"""
DUPLICATE = b"""<response><returncode>SUCCESS</returncode><meetingID>x</meetingID>
<internalMeetingID>int-123</internalMeetingID><createTime>1635433200000</createTime>
<messageKey>duplicateWarning</messageKey>
<message>This conference was already in existence and may currently be in progress.</message>
</response>"""
NOT_FOUND = b"""<response><returncode>FAILED</returncode><messageKey>notFound</messageKey>
<message>We could not find a meeting with that meeting ID</message></response>"""
CHECKSUM_ERROR = b"""<response><returncode>FAILED</returncode><messageKey>checksumError</messageKey>
<message>You did not pass the checksum security check</message></response>"""
INFO = b"""<response><returncode>SUCCESS</returncode><meetingName>Day 1</meetingName>
<meetingID>m</meetingID><internalMeetingID>int-123</internalMeetingID>
<createTime>1635433200000</createTime><running>true</running>
<participantCount>7</participantCount><attendees><attendee><userID>r1</userID></attendee>
</attendees><metadata/></response>"""


def make_request(**changes: Any) -> MeetingRequest:
    """Day 1 of the reference series, as this plugin's tests ask for it."""
    return reference_request(**{"topic": "Day 1: what is S3?", "start": START, **changes})


def make_adapter(**options: Any) -> BigBlueButtonAdapter:
    opts = BigBlueButtonOptions(api_base_url=API, secret=SecretStr(SECRET), **options)
    return BigBlueButtonAdapter(opts, session=requests.Session(), sleep=lambda _s: None,
                                clock=lambda: DAY_BEFORE)


def query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def assert_signed(url: str, *, algorithm: str = "sha256", secret: str = SECRET) -> None:
    """Recompute the checksum over the query string exactly as sent, minus the checksum."""
    parts = urlsplit(url)
    call = parts.path.rsplit("/", 1)[1]
    query, _, signature = parts.query.rpartition("&checksum=")
    expected = hashlib.new(algorithm, f"{call}{query}{secret}".encode()).hexdigest()
    assert signature == expected


@pytest.fixture
def rsps() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


# -- checksums ----------------------------------------------------------------------------


DOC_QUERY = "name=Test+Meeting&meetingID=abc123&attendeePW=111222&moderatorPW=333444"


def test_checksum_matches_the_documented_sha1_vector() -> None:
    assert checksum("create", DOC_QUERY, SECRET, "sha1") == (
        "1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17")


def test_checksum_matches_the_sha256_of_the_documented_vector() -> None:
    assert checksum("create", DOC_QUERY, SECRET, "sha256") == (
        "da9185f7f333cfdfcd6eeac32dca3777510c4c436020d8b887ba5515bd1d189e")


def test_signed_url_encodes_with_quote_plus_and_signs_the_query_it_sends() -> None:
    params = [("name", "Test Meeting"), ("meetingID", "abc123"), ("attendeePW", "111222"),
              ("moderatorPW", "333444")]
    url = signed_url(API, "create", params, secret=SECRET, algorithm="sha1")
    assert url == f"{API}/create?{DOC_QUERY}&checksum=1fcbb0c4fc1f039f73aa6d697d2db9ba7f803f17"


# -- provisioning makes no API call -------------------------------------------------------


def test_create_meeting_makes_no_api_call(rsps: Any) -> None:
    meeting = make_adapter().create_meeting(make_request())
    assert len(rsps.calls) == 0
    assert meeting.meeting_id == make_request().marker
    assert meeting.per_participant_links is True


def test_meeting_id_is_stable_across_runs_and_distinct_per_session() -> None:
    first = make_adapter().create_meeting(make_request())
    again = make_adapter().create_meeting(make_request())
    other = make_adapter().create_meeting(make_request(session_id="day-2"))
    assert first.meeting_id == again.meeting_id
    assert first.meeting_id != other.meeting_id


def test_shared_join_url_lets_nobody_in() -> None:
    meeting = make_adapter().create_meeting(make_request())
    assert meeting.join_url == "https://bbb.example.org/"
    assert "checksum" not in meeting.join_url and meeting.meeting_id not in meeting.join_url


def test_host_url_is_a_signed_moderator_link_kept_secret() -> None:
    meeting = make_adapter(moderator_name="Chair").create_meeting(make_request())
    assert isinstance(meeting.host_url, SecretStr)
    host = meeting.host_url.get_secret_value()
    assert query_of(host)["role"] == "MODERATOR"
    assert query_of(host)["fullName"] == "Chair"
    assert_signed(host)
    assert host not in repr(meeting) and host not in meeting.model_dump_json()


def test_update_meeting_makes_no_api_call_and_returns_the_new_plan(rsps: Any) -> None:
    adapter = make_adapter()
    meeting = adapter.create_meeting(make_request())
    moved = make_request(start=START + timedelta(days=1), topic="Day 1 (moved)")
    updated = adapter.update_meeting(meeting, moved)
    assert len(rsps.calls) == 0
    assert updated.meeting_id == meeting.meeting_id
    assert (updated.start, updated.topic) == (moved.start, "Day 1 (moved)")


# -- per-participant links ----------------------------------------------------------------


def test_participant_link_is_a_signed_viewer_join_for_that_participant() -> None:
    adapter = make_adapter()
    meeting = adapter.create_meeting(make_request())
    url = adapter.join_url_for(meeting, Participant(id="reg-42", name="Ana María Pérez"))
    assert url.startswith(f"{API}/join?")
    assert "fullName=Ana+Mar%C3%ADa+P%C3%A9rez" in url
    query = query_of(url)
    assert query == {"fullName": "Ana María Pérez", "meetingID": meeting.meeting_id,
                     "role": "VIEWER", "userID": "reg-42", "redirect": "true",
                     "checksum": query["checksum"]}
    assert_signed(url)


def test_participant_marked_moderator_still_gets_a_viewer_link() -> None:
    adapter = make_adapter()
    meeting = adapter.create_meeting(make_request())
    url = adapter.join_url_for(meeting, Participant(id="r1", name="Chair", moderator=True))
    assert query_of(url)["role"] == "VIEWER"
    assert "MODERATOR" not in url


def test_participant_link_never_carries_the_secret_or_the_host_link() -> None:
    adapter = make_adapter()
    meeting = adapter.create_meeting(make_request())
    url = adapter.join_url_for(meeting, Participant(id="r1", name="Ana"))
    assert meeting.host_url is not None
    assert SECRET not in url
    assert url != meeting.host_url.get_secret_value()


def test_links_are_signed_with_the_configured_algorithm() -> None:
    adapter = make_adapter(checksum_algorithm="sha512")
    meeting = adapter.create_meeting(make_request())
    assert_signed(adapter.join_url_for(meeting, Participant(id="r1", name="Ana")),
                  algorithm="sha512")


def test_waiting_room_makes_participants_join_as_guests_to_be_admitted() -> None:
    adapter = make_adapter()
    request = make_request(settings=MeetingOptions(waiting_room=True))
    meeting = adapter.create_meeting(request)
    url = adapter.join_url_for(meeting, Participant(id="r1", name="Ana"))
    assert query_of(url)["guest"] == "true"
    assert_signed(url)


# -- prepare: the just-in-time create -----------------------------------------------------


def test_prepare_creates_the_meeting_with_a_signed_create_call(rsps: Any) -> None:
    adapter = make_adapter(welcome="Bienvenidos")
    request = make_request()
    meeting = adapter.create_meeting(request)
    rsps.get(f"{API}/create", body=SUCCESS.replace(b"{id}", meeting.meeting_id.encode()))
    prepared = adapter.prepare(meeting, request)
    sent = rsps.calls[0].request.url
    assert_signed(sent)
    query = query_of(sent)
    assert query["meetingID"] == meeting.meeting_id
    assert query["name"] == "Day 1: what is S3?"
    assert query["welcome"] == "Bienvenidos"
    assert query["guestPolicy"] == "ALWAYS_ACCEPT"
    assert prepared.extra["internal_meeting_id"] == "int-123"


def test_prepare_keeps_an_unjoined_meeting_until_the_session_ends(rsps: Any) -> None:
    adapter = make_adapter()
    request = make_request()
    rsps.get(f"{API}/create", body=DUPLICATE)
    adapter.prepare(adapter.create_meeting(request), request)
    minutes = int(query_of(rsps.calls[0].request.url)["meetingExpireIfNoUserJoinedInMinutes"])
    assert minutes == 24 * 60 + 150


def test_prepare_close_to_the_end_keeps_the_servers_minimum_expiry(rsps: Any) -> None:
    adapter = BigBlueButtonAdapter(
        BigBlueButtonOptions(api_base_url=API, secret=SecretStr(SECRET)),
        clock=lambda: (START + timedelta(hours=3)).timestamp())
    request = make_request()
    rsps.get(f"{API}/create", body=DUPLICATE)
    adapter.prepare(adapter.create_meeting(request), request)
    assert query_of(rsps.calls[0].request.url)["meetingExpireIfNoUserJoinedInMinutes"] == "5"


def test_prepare_twice_accepts_duplicate_warning_as_success(rsps: Any) -> None:
    adapter = make_adapter()
    request = make_request()
    meeting = adapter.create_meeting(request)
    rsps.get(f"{API}/create", body=SUCCESS.replace(b"{id}", b"x"))
    rsps.get(f"{API}/create", body=DUPLICATE)
    first = adapter.prepare(meeting, request)
    second = adapter.prepare(meeting, request)
    assert first.meeting_id == second.meeting_id == meeting.meeting_id
    assert query_of(rsps.calls[0].request.url)["meetingID"] == (
        query_of(rsps.calls[1].request.url)["meetingID"])


def test_prepare_maps_meeting_settings_to_create_parameters(rsps: Any) -> None:
    adapter = make_adapter()
    request = make_request(settings=MeetingOptions(
        waiting_room=True, auto_recording="cloud", mute_on_entry=False))
    rsps.get(f"{API}/create", body=DUPLICATE)
    adapter.prepare(adapter.create_meeting(request), request)
    query = query_of(rsps.calls[0].request.url)
    assert (query["guestPolicy"], query["record"], query["autoStartRecording"],
            query["muteOnStart"]) == ("ASK_MODERATOR", "true", "true", "false")


def test_guest_policy_option_overrides_the_waiting_room_setting(rsps: Any) -> None:
    adapter = make_adapter(guest_policy="ALWAYS_DENY")
    request = make_request(settings=MeetingOptions(waiting_room=True))
    rsps.get(f"{API}/create", body=DUPLICATE)
    adapter.prepare(adapter.create_meeting(request), request)
    assert query_of(rsps.calls[0].request.url)["guestPolicy"] == "ALWAYS_DENY"


def test_checksum_error_is_an_authentication_error_pointing_at_the_secret(rsps: Any) -> None:
    adapter = make_adapter()
    request = make_request()
    rsps.get(f"{API}/create", body=CHECKSUM_ERROR)
    with pytest.raises(AuthenticationError) as caught:
        adapter.prepare(adapter.create_meeting(request), request)
    assert "bbb-conf --secret" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_other_failed_answer_is_an_invalid_request_with_the_servers_message(rsps: Any) -> None:
    adapter = make_adapter()
    request = make_request()
    rsps.get(f"{API}/create", body=b"<response><returncode>FAILED</returncode><messageKey>"
             b"invalidMeetingIdentifier</messageKey><message>Meeting ID is invalid</message>"
             b"</response>")
    with pytest.raises(InvalidRequest, match="Meeting ID is invalid"):
        adapter.prepare(adapter.create_meeting(request), request)


# -- lookup and delete --------------------------------------------------------------------


def test_get_meeting_reports_a_running_meeting(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", body=INFO)
    meeting = make_adapter().get_meeting("s3eabc")
    assert_signed(rsps.calls[0].request.url)
    assert meeting.extra["running"] is True and meeting.extra["participant_count"] == 7
    assert meeting.topic == "Day 1" and meeting.per_participant_links


def test_get_meeting_that_is_not_running_returns_the_planned_meeting(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", body=NOT_FOUND)
    meeting = make_adapter().get_meeting("s3eabc")
    assert meeting is not None
    assert (meeting.meeting_id, meeting.extra["running"]) == ("s3eabc", False)


def test_find_meeting_looks_up_the_id_derived_from_the_marker(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", body=NOT_FOUND)
    found = make_adapter().find_meeting(make_request())
    assert found.meeting_id == make_request().marker
    assert query_of(rsps.calls[0].request.url)["meetingID"] == make_request().marker


def test_delete_meeting_ends_it(rsps: Any) -> None:
    rsps.get(f"{API}/end", body=b"<response><returncode>SUCCESS</returncode><messageKey>"
             b"sentEndMeetingRequest</messageKey></response>")
    make_adapter().delete_meeting(_planned())
    assert query_of(rsps.calls[0].request.url)["meetingID"] == make_request().marker
    assert_signed(rsps.calls[0].request.url)


def test_deleting_a_meeting_that_is_not_running_counts_as_done(rsps: Any) -> None:
    rsps.get(f"{API}/end", body=NOT_FOUND)
    make_adapter().delete_meeting(_planned())
    assert len(rsps.calls) == 1


def test_delete_with_a_wrong_secret_raises(rsps: Any) -> None:
    rsps.get(f"{API}/end", body=CHECKSUM_ERROR)
    with pytest.raises(AuthenticationError):
        make_adapter().delete_meeting(_planned())


def _planned() -> Meeting:
    return make_adapter().create_meeting(make_request())


# -- transport-level failures -------------------------------------------------------------


def test_server_errors_are_retried_with_backoff_then_succeed(
    rsps: Any, recorded_sleep: SleepRecorder
) -> None:
    adapter = BigBlueButtonAdapter(
        BigBlueButtonOptions(api_base_url=API, secret=SecretStr(SECRET)),
        sleep=recorded_sleep, clock=lambda: DAY_BEFORE)
    rsps.get(f"{API}/getMeetingInfo", status=502)
    rsps.get(f"{API}/getMeetingInfo", body=INFO)
    assert adapter.get_meeting("s3eabc").extra["running"] is True
    assert len(recorded_sleep) == 1


def test_a_server_that_stays_down_is_service_unavailable(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", status=503)
    with pytest.raises(ServiceUnavailable):
        make_adapter().get_meeting("s3eabc")
    assert len(rsps.calls) == 4


def test_connection_errors_are_service_unavailable(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", body=requests.ConnectionError("refused"))
    with pytest.raises(ServiceUnavailable, match="could not reach"):
        make_adapter().get_meeting("s3eabc")


def test_http_403_from_a_proxy_is_permission_denied(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", status=403, body="Forbidden")
    with pytest.raises(PermissionDenied):
        make_adapter().get_meeting("s3eabc")


def test_an_answer_that_is_not_api_xml_is_service_unavailable(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", body=b"<html><body>Welcome to nginx</body>")
    with pytest.raises(ServiceUnavailable, match="api_base_url"):
        make_adapter().get_meeting("s3eabc")


def test_xml_without_a_returncode_is_not_taken_for_success(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", body=b"<html><body>ok</body></html>")
    with pytest.raises(ServiceUnavailable, match="returncode"):
        make_adapter().get_meeting("s3eabc")


def test_an_oversized_answer_is_refused(rsps: Any) -> None:
    rsps.get(f"{API}/getMeetingInfo", body=b"<response>" + b" " * 1_100_000 + b"</response>")
    with pytest.raises(ServiceUnavailable, match="bytes"):
        make_adapter().get_meeting("s3eabc")


# -- secrets and configuration ------------------------------------------------------------


def test_secret_and_host_link_stay_out_of_reprs_and_logs(
    rsps: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    adapter = make_adapter()
    request = make_request()
    meeting = adapter.create_meeting(request)
    rsps.get(f"{API}/create", status=503)
    rsps.get(f"{API}/create", body=DUPLICATE)
    prepared = adapter.prepare(meeting, request)
    assert meeting.host_url is not None
    host = meeting.host_url.get_secret_value()
    shown = [repr(adapter), repr(adapter.options), repr(meeting), repr(prepared), str(meeting)]
    assert_not_logged(caplog, SECRET, host, "MODERATOR", shown=shown)


def test_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    adapter = BigBlueButtonAdapter.from_options(
        {"api_base_url": API + "/"},
        environ={"S3EVENTS_BIGBLUEBUTTON_SECRET": SECRET,
                 "S3EVENTS_BIGBLUEBUTTON_CHECKSUM_ALGORITHM": "sha1"})
    assert isinstance(adapter, BigBlueButtonAdapter)
    assert adapter.options.api_base_url == API
    assert adapter.options.checksum_algorithm == "sha1"
    assert adapter.options.secret.get_secret_value() == SECRET


def test_missing_secret_names_the_environment_variable() -> None:
    from s3events.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="S3EVENTS_BIGBLUEBUTTON_SECRET"):
        BigBlueButtonAdapter.from_options({"api_base_url": API}, environ={})


def test_plugin_registers_the_platform_through_the_entry_point() -> None:
    points = {ep.name: ep.value for ep in metadata.entry_points(group="s3events")}
    assert points["bigbluebutton"] == "s3events_bigbluebutton"
    assert s3events_bigbluebutton.s3events_register_platforms() == [BigBlueButtonAdapter]
    assert BigBlueButtonAdapter.name == "bigbluebutton"
    assert BigBlueButtonAdapter.idempotent_create is True


def test_fingerprint_changes_when_the_secret_or_server_changes_and_hides_the_secret() -> None:
    request = make_request()
    base = make_adapter().fingerprint(request)
    assert make_adapter().fingerprint(request) == base
    other_secret = BigBlueButtonAdapter(
        BigBlueButtonOptions(api_base_url=API, secret=SecretStr("another-secret")))
    other_server = BigBlueButtonAdapter(BigBlueButtonOptions(
        api_base_url="https://bbb2.example.org/bigbluebutton/api", secret=SecretStr(SECRET)))
    assert other_secret.fingerprint(request) != base
    assert other_server.fingerprint(request) != base
    assert make_adapter().fingerprint(make_request(topic="Another title")) != base
    assert SECRET not in base


def test_nothing_is_stored_on_the_server_ahead_of_time() -> None:
    assert BigBlueButtonAdapter.stores_meetings is False


# -- the plugin-author kit's contract -----------------------------------------------------


class TestBigBlueButtonContract(PlatformContract):
    """The checks every platform adapter must pass, for a just-in-time platform.

    ``create_meeting`` and ``update_meeting`` make no call, so only ``prepare`` (the API
    ``create``) and ``delete_meeting`` (``end``) are remote. ``get_meeting`` is left out of
    the remote operations on purpose: a meeting that is not running is answered ``notFound``,
    and for BigBlueButton that means "planned, not running", never "gone" (it returns the
    planned meeting, not ``None``; see the lookup tests above).
    """

    adapter_class = BigBlueButtonAdapter
    options: ClassVar[dict[str, Any]] = {"api_base_url": API, "secret": SECRET}
    remote_operations = ("delete", "prepare")

    def make_adapter(self, *, session: requests.Session,
                     sleep: Callable[[float], None]) -> PlatformAdapter:
        """From the options, with the clock fixed so the room's expiry is known exactly."""
        options = BigBlueButtonOptions.model_validate(self.options)
        return self.adapter_class(options, session=session, sleep=sleep,
                                  clock=lambda: CONTRACT_NOW)

    def route(self, operation: str, meeting_id: str) -> tuple[str, str]:
        call = {"prepare": "create", "delete": "end", "get": "getMeetingInfo"}.get(
            operation, "create")
        return "GET", f"{API}/{call}"

    def mock_error(self, rsps: responses.RequestsMock, operation: str, meeting_id: str, *,
                   status: int | None, headers: Mapping[str, str] | None = None) -> None:
        """BigBlueButton answers its own errors as HTTP 200 with FAILED XML; HTTP errors
        (403, 429, 5xx) come from proxies in front of it."""
        _, url = self.route(operation, meeting_id)
        if status in (404, 410) and operation in ("get", "delete"):
            rsps.get(url, body=NOT_FOUND)
        elif status == 401:
            rsps.get(url, body=CHECKSUM_ERROR)
        elif status == 400:
            rsps.get(url, body=b"<response><returncode>FAILED</returncode><messageKey>"
                     b"invalidMeetingIdentifier</messageKey><message>bad id</message></response>")
        else:
            super().mock_error(rsps, operation, meeting_id, status=status, headers=headers)

    def mock_create(self, rsps: responses.RequestsMock, request: MeetingRequest) -> None:
        """Nothing: provisioning makes no call."""

    def mock_update(self, rsps: responses.RequestsMock, meeting: Meeting,
                    request: MeetingRequest) -> None:
        """Nothing: an update changes the plan only."""

    def mock_get(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.get(f"{API}/getMeetingInfo", body=NOT_FOUND)

    def mock_delete(self, rsps: responses.RequestsMock, meeting: Meeting) -> None:
        rsps.get(f"{API}/end", body=b"<response><returncode>SUCCESS</returncode></response>")

    def mock_prepare(self, rsps: responses.RequestsMock, meeting: Meeting,
                     request: MeetingRequest) -> None:
        """Accepts only the room for ``request``: its name, and kept until its end."""
        left = math.ceil((request.end.timestamp() - CONTRACT_NOW) / 60)
        rsps.get(f"{API}/create", body=SUCCESS.replace(b"{id}", meeting.meeting_id.encode()),
                 match=[query_fields({"meetingID": meeting.meeting_id, "name": request.topic,
                                      "meetingExpireIfNoUserJoinedInMinutes": str(left)})])

    def mock_find(self, rsps: responses.RequestsMock, request: MeetingRequest,
                  meeting: Meeting) -> None:
        rsps.get(f"{API}/getMeetingInfo", body=NOT_FOUND)

    def mock_attendance_now(self, rsps: responses.RequestsMock, meeting: Meeting,
                            request: MeetingRequest, *, running: bool) -> list[str]:
        if not running:
            rsps.get(f"{API}/getMeetingInfo", body=NOT_FOUND)
            return []
        attendees = "".join(
            f"<attendee><userID>{uid}</userID><fullName>{name}</fullName><role>VIEWER</role>"
            f"<isPresenter>false</isPresenter><clientType>HTML5</clientType></attendee>"
            for uid, name in (("reg-1", "Zoë Ñúñez"), ("reg-2", "李小龍")))
        rsps.get(f"{API}/getMeetingInfo", body=(
            "<response><returncode>SUCCESS</returncode><meetingName>Contract</meetingName>"
            f"<meetingID>{meeting.meeting_id}</meetingID><running>true</running>"
            f"<participantCount>2</participantCount><attendees>{attendees}</attendees>"
            "</response>").encode())
        return ["Zoë Ñúñez", "李小龍"]

    def test_secrets_and_host_url_never_logged(self) -> None:
        """The kit's check, with the failing calls made by ``prepare``: ``create_meeting``
        calls nothing here, so it cannot fail with a vendor error."""
        meeting = self._create()
        for operation in ("prepare", "get", "update", "delete"):
            self._mock_success(operation, meeting)
            self._run(operation, meeting)
        for status in (401, 500):
            self.mock_error(self.rsps, "prepare", meeting.meeting_id, status=status)
            with pytest.raises(ServiceError):
                self._run("prepare", meeting)
        self.assert_hidden(self.log_text(), "the log (DEBUG)", self._secrets())


class BigBlueButtonForgetsTheEnd(BigBlueButtonAdapter):
    """Keeps an empty room only until the session's start: it forgot the end."""

    def _expiry_minutes(self, request: MeetingRequest) -> int:
        return super()._expiry_minutes(request.model_copy(update={"duration": timedelta(0)}))


def test_the_contract_catches_a_room_that_expires_before_the_session_ends(
        contract_failure: Any) -> None:
    error = contract_failure(TestBigBlueButtonContract, "test_prepare_readies_the_updated_meeting",
                             adapter_class=BigBlueButtonForgetsTheEnd)
    assert "meetingExpireIfNoUserJoinedInMinutes: sent" in str(error)

