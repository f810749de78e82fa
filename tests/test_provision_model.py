"""The meeting model: what is asked of a platform and what comes back, secrets kept secret."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import SecretStr

from s3events.platforms.base import Meeting, MeetingRequest, meeting_marker

HOST = "https://video.example.org/s/81234?zak=HOSTTOKEN123"


def meeting() -> Meeting:
    return Meeting(platform="zoom", meeting_id="81234", join_url="https://video.example.org/j/1",
                   passcode=SecretStr("9876"), host_url=SecretStr(HOST))


def test_host_url_never_appears_in_repr_str_or_json() -> None:
    m = meeting()
    for text in (repr(m), str(m), f"{m}", m.model_dump_json(),
                 json.dumps(m.model_dump(mode="json"))):
        assert "HOSTTOKEN123" not in text
        assert "9876" not in text
    assert m.host_url is not None and m.host_url.get_secret_value() == HOST


def test_host_url_never_appears_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("s3events.test").info("meeting %s %r", meeting(), meeting())
    assert "HOSTTOKEN123" not in caplog.text


def test_without_host_url_drops_only_the_host_url() -> None:
    public = meeting().without_host_url()
    assert public.host_url is None
    assert public.join_url == meeting().join_url
    assert public.passcode == meeting().passcode


def test_marker_is_stable_opaque_and_changes_with_the_generation() -> None:
    assert meeting_marker("s", "d1") == meeting_marker("s", "d1")
    assert meeting_marker("s", "d1") != meeting_marker("s", "d2")
    assert meeting_marker("s", "d1", 1) != meeting_marker("s", "d1")
    marker = meeting_marker("s3-latam-2021", "day-1")
    assert len(marker) == 32 and marker.startswith("s3e") and marker.isalnum()


def request(**changes: object) -> MeetingRequest:
    data: dict[str, object] = {
        "series_id": "s", "session_id": "d1", "topic": "Day 1",
        "start": datetime(2021, 10, 28, 15, tzinfo=timezone.utc), "timezone": "Europe/Brussels",
        "duration": timedelta(hours=2), "passcode": SecretStr("1234"),
    }
    data.update(changes)
    return MeetingRequest.model_validate(data)


def test_fingerprint_follows_what_the_platform_must_know_and_nothing_else() -> None:
    base = request().fingerprint()
    assert request(topic="Day one").fingerprint() != base
    assert request(start=datetime(2021, 10, 29, 15, tzinfo=timezone.utc)).fingerprint() != base
    assert request(passcode=SecretStr("4321")).fingerprint() != base
    assert request(generation=3).fingerprint() == base
    assert request(secret=SecretStr("state")).fingerprint() == base
    assert "1234" not in base


def test_state_secret_is_never_dumped() -> None:
    r = request(secret=SecretStr("STATE-SECRET"))
    assert "secret" not in r.model_dump()
    assert "STATE-SECRET" not in repr(r) + r.model_dump_json()


def test_start_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        request(start=datetime(2021, 10, 28, 15))
