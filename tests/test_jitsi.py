"""The built-in jitsi platform: stable unguessable rooms, links, and per-participant JWTs."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt
import pytest
from pydantic import SecretStr

from s3events.errors import ConfigurationError
from s3events.models import Series
from s3events.platforms.base import MeetingRequest, Participant
from s3events.platforms.jitsi import JitsiAdapter, JitsiOptions, room_name
from s3events.provision import (
    apply,
    load_adapter,
    meeting_request,
    meeting_rows,
    plan,
    state_secret,
    stored_meetings,
)
from s3events.store import Store, open_store
from tests.test_provision_fakes import NOW, make_series

START = datetime(2021, 10, 28, 15, 0, tzinfo=timezone.utc)
LENGTH = timedelta(hours=2, minutes=30)
APP_SECRET = "app-secret-0123456789abcdef-0123456789"


def request(session: str = "day-1", secret: str | None = "state-secret",
            start: datetime = START) -> MeetingRequest:
    return MeetingRequest(
        series_id="s3-latam-2021", session_id=session, topic="Day 1", start=start,
        timezone="Europe/Brussels", duration=LENGTH,
        secret=SecretStr(secret) if secret else None,
    )


def jwt_adapter(**options: object) -> JitsiAdapter:
    return JitsiAdapter(JitsiOptions.model_validate(
        {"domain": "meet.example.org", "app_id": "s3events", "app_secret": APP_SECRET,
         **options}))


def decode(url: str, audience: str = "jitsi") -> dict[str, object]:
    token = url.split("?jwt=", 1)[1]
    return jwt.decode(token, APP_SECRET, algorithms=["HS256"], audience=audience,
                      options={"verify_exp": False, "verify_nbf": False})


def test_room_is_stable_unguessable_and_url_safe() -> None:
    room = JitsiAdapter().create_meeting(request()).meeting_id
    assert room == JitsiAdapter().create_meeting(request()).meeting_id
    assert re.fullmatch(r"[a-z0-9-]{20,}", room)
    secret_part = room.rsplit("-", 1)[1]
    assert len(secret_part) == 20
    assert room.startswith("s3-latam-2021-day-1-")
    assert JitsiAdapter().create_meeting(request(secret="another")).meeting_id != room
    assert JitsiAdapter().create_meeting(request(session="day-2")).meeting_id != room


def test_room_depends_only_on_secret_and_marker_not_on_the_time() -> None:
    moved = request(start=START + timedelta(days=1))
    assert JitsiAdapter().create_meeting(moved).meeting_id == JitsiAdapter().create_meeting(
        request()).meeting_id


def test_room_secret_option_wins_over_the_state_secret() -> None:
    adapter = JitsiAdapter(JitsiOptions(room_secret=SecretStr("organiser-chosen")))
    a = adapter.create_meeting(request(secret="one")).meeting_id
    b = adapter.create_meeting(request(secret=None)).meeting_id
    assert a == b
    marker = request().marker
    assert a == room_name("s3-latam-2021", "day-1", marker, "organiser-chosen")


def test_without_any_room_secret_creating_a_room_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="room_secret"):
        JitsiAdapter().create_meeting(request(secret=None))


def test_join_url_uses_the_domain_and_tenant() -> None:
    default = JitsiAdapter().create_meeting(request())
    assert default.join_url == f"https://meet.jit.si/{default.meeting_id}"
    tenant = JitsiAdapter(JitsiOptions(domain="8x8.vc", tenant="vpaas-magic-cookie-abc123"))
    meeting = tenant.create_meeting(request())
    assert meeting.join_url == f"https://8x8.vc/vpaas-magic-cookie-abc123/{meeting.meeting_id}"
    assert meeting.per_participant_links is False
    assert meeting.host_url is None


def test_domain_with_a_scheme_is_refused_with_an_example() -> None:
    with pytest.raises(ConfigurationError, match=r"option 'domain' from the series file: "
                                                 r"'https://meet.example.org' is not a host"):
        JitsiAdapter.from_options({"domain": "https://meet.example.org"}, environ={})


def test_jwt_needs_both_app_id_and_app_secret() -> None:
    with pytest.raises(ConfigurationError, match="JWT needs both app_id and app_secret"):
        JitsiAdapter.from_options({"app_id": "s3events"}, environ={})


def test_participant_link_carries_their_own_token_with_string_claims() -> None:
    adapter = jwt_adapter()
    meeting = adapter.create_meeting(request())
    assert meeting.per_participant_links is True
    ana = Participant(id="r-17", name="Ana Pérez", email="ana@example.org")
    url = adapter.join_url_for(meeting, ana)
    assert url.startswith(f"https://meet.example.org/{meeting.meeting_id}?jwt=")
    claims = decode(url)
    assert claims == {
        "iss": "s3events", "aud": "jitsi", "sub": "meet.example.org",
        "room": meeting.meeting_id,
        "nbf": int((START - timedelta(hours=2)).timestamp()),
        "exp": int((START + LENGTH + timedelta(hours=2)).timestamp()),
        "context": {"user": {"id": "r-17", "name": "Ana Pérez", "email": "ana@example.org"}},
    }
    assert jwt.get_unverified_header(url.split("?jwt=")[1])["alg"] == "HS256"


def test_participant_without_email_gets_no_null_claim() -> None:
    adapter = jwt_adapter()
    meeting = adapter.create_meeting(request())
    claims = decode(adapter.join_url_for(meeting, Participant(id="r-1", name="Luis")))
    assert claims["context"] == {"user": {"id": "r-1", "name": "Luis"}}


def test_participants_never_get_a_moderator_token() -> None:
    adapter = jwt_adapter()
    meeting = adapter.create_meeting(request())
    asked = Participant(id="r-2", name="Eve", email="eve@example.org", moderator=True)
    claims = decode(adapter.join_url_for(meeting, asked))
    assert "moderator" not in claims["context"]["user"]  # type: ignore[index]


def test_organiser_host_link_is_a_secret_moderator_link() -> None:
    adapter = jwt_adapter()
    meeting = adapter.create_meeting(request())
    assert meeting.host_url is not None
    assert "jwt=" not in repr(meeting) and "jwt=" not in str(meeting)
    claims = decode(meeting.host_url.get_secret_value())
    assert claims["context"] == {"user": {"id": "organiser", "name": "Organiser",
                                          "moderator": "true"}}
    named = adapter.moderator_url(meeting, name="JRC team", email="s3@example.org")
    assert isinstance(named, SecretStr)
    user = decode(named.get_secret_value())["context"]["user"]  # type: ignore[index]
    assert user["name"] == "JRC team" and user["moderator"] == "true"


def test_tokens_use_tenant_audience_subject_and_lifetime_options() -> None:
    adapter = jwt_adapter(tenant="team", audience="my-app", token_lifetime="PT30M")
    meeting = adapter.create_meeting(request())
    claims = decode(adapter.join_url_for(meeting, Participant(id="1", name="A")), "my-app")
    assert claims["sub"] == "team"
    assert claims["exp"] == int((START + LENGTH + timedelta(minutes=30)).timestamp())
    explicit = jwt_adapter(subject="meet.example.org", audience="jitsi")
    claims = decode(explicit.join_url_for(meeting, Participant(id="1", name="A")))
    assert claims["sub"] == "meet.example.org"


def test_same_participant_gets_the_same_link_every_time() -> None:
    adapter = jwt_adapter()
    meeting = adapter.create_meeting(request())
    who = Participant(id="r-3", name="Rosa")
    assert adapter.join_url_for(meeting, who) == adapter.join_url_for(meeting, who)


def test_app_secret_can_come_from_the_environment_and_stays_out_of_reprs() -> None:
    adapter = JitsiAdapter.from_options(
        {"domain": "meet.example.org", "app_id": "s3events"},
        environ={"S3EVENTS_JITSI_APP_SECRET": APP_SECRET, "S3EVENTS_JITSI_ROOM_SECRET": "rs"})
    assert isinstance(adapter, JitsiAdapter)
    assert adapter.options.uses_jwt
    assert APP_SECRET not in repr(adapter) and "rs'" not in repr(adapter)
    meeting = adapter.create_meeting(request(secret=None))
    decode(adapter.join_url_for(meeting, Participant(id="1", name="A")))


def test_provisioning_on_jitsi_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={"name": "jitsi"})
    with open_store(tmp_path / "state.db") as store:
        first = apply(series, load_adapter(series), store, now=NOW)
        rows = meeting_rows(store, series.id)
        second = apply(series, load_adapter(series), store, now=NOW)
        assert [i.action for i in first] == ["create"] * 3
        assert [i.action for i in second] == ["unchanged"] * 3
        assert meeting_rows(store, series.id) == rows


def test_rooms_are_the_same_for_every_run_sharing_the_state(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={"name": "jitsi"})
    with open_store(tmp_path / "state.db") as store:
        apply(series, load_adapter(series), store, now=NOW)
        links = {k: m.join_url for k, m in stored_meetings(store, series.id).items()}
    with open_store(tmp_path / "state.db") as store:  # another process, same state
        store_links = {k: m.join_url for k, m in stored_meetings(store, series.id).items()}
        adapter = load_adapter(series)
        assert store_links == links
        again = adapter.create_meeting(request_for(series, store))
        assert again.join_url == links["s1"]
    with open_store(tmp_path / "other.db") as other:  # separate state: other secret, rooms
        apply(series, load_adapter(series), other, now=NOW)
        assert stored_meetings(other, series.id)["s1"].join_url != links["s1"]


def request_for(series: Series, store: Store) -> MeetingRequest:
    return meeting_request(series, series.sessions[0], secret=state_secret(store))


def test_changing_the_domain_updates_every_link_and_bumps_the_sequence(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={"name": "jitsi"})
    moved = make_series(tmp_path, platform={"name": "jitsi",
                                            "options": {"domain": "meet.example.org"}})
    with open_store(tmp_path / "state.db") as store:
        apply(series, load_adapter(series), store, now=NOW)
        items = plan(moved, load_adapter(moved), store, now=NOW)
        assert {i.action for i in items} == {"update"}
        assert items[0].reason == "title, agenda, meeting settings or platform options changed"
        apply(moved, load_adapter(moved), store, now=NOW)
        meetings = stored_meetings(store, series.id)
        assert meetings["s1"].join_url.startswith("https://meet.example.org/demo-s1-")
        assert meeting_rows(store, series.id)["s1"].sequence == 1
