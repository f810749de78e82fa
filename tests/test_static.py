"""The built-in static platform: links and passcodes given per session in the series file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from s3events.errors import ConfigurationError
from s3events.platforms.base import Participant
from s3events.platforms.static import StaticAdapter
from s3events.provision import apply, load_adapter, meeting_rows, plan, stored_meetings
from s3events.store import open_store
from tests.test_provision_fakes import NOW, make_series, series_data, shifted

LINK = "https://video.example.org/j/812345"


def static_sessions(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    sessions = series_data()["sessions"]
    for i, session in enumerate(sessions, start=1):
        session["join_url"] = f"{LINK}{i}"
        session["passcode"] = f"47{i}1"
    data = dict(series_data(), sessions=sessions)
    for session_id, change in changes.items():
        data = shifted(data, session_id, **change)
    return data["sessions"]


def test_static_meetings_are_the_links_from_the_series_file(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={"name": "static"}, sessions=static_sessions())
    with open_store(tmp_path / "state.db") as store:
        apply(series, load_adapter(series), store, now=NOW)
        meetings = stored_meetings(store, series.id)
    assert [m.join_url for m in meetings.values()] == [f"{LINK}1", f"{LINK}2", f"{LINK}3"]
    assert meetings["s2"].passcode is not None
    assert meetings["s2"].passcode.get_secret_value() == "4721"
    assert meetings["s2"].host_url is None
    adapter = StaticAdapter()
    assert adapter.join_url_for(meetings["s2"], Participant(id="1", name="A")) == f"{LINK}2"


def test_session_without_a_link_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    sessions = static_sessions()
    del sessions[1]["join_url"]
    series = make_series(tmp_path, platform={"name": "static"}, sessions=sessions)
    with open_store(tmp_path / "state.db") as store:
        with pytest.raises(ConfigurationError) as caught:
            plan(series, load_adapter(series), store, now=NOW)
        assert str(caught.value).startswith("session 's2' has no join_url: the static "
                                            "platform needs a join_url")
        with pytest.raises(ConfigurationError, match="session 's2' has no join_url"):
            apply(series, load_adapter(series), store, now=NOW)
        assert meeting_rows(store, series.id) == {}


def test_changed_link_or_passcode_updates_the_meeting(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={"name": "static"}, sessions=static_sessions())
    new_link = make_series(tmp_path, platform={"name": "static"},
                           sessions=static_sessions(s1={"join_url": f"{LINK}9"}))
    new_code = make_series(tmp_path, platform={"name": "static"},
                           sessions=static_sessions(s1={"join_url": f"{LINK}9"},
                                                    s3={"passcode": "0000"}))
    with open_store(tmp_path / "state.db") as store:
        apply(series, load_adapter(series), store, now=NOW)
        assert [i.action for i in apply(new_link, load_adapter(series), store, now=NOW)] == [
            "update", "unchanged", "unchanged"]
        assert meeting_rows(store, series.id)["s1"].sequence == 1  # a new link: new revision
        assert [i.action for i in apply(new_code, load_adapter(series), store, now=NOW)] == [
            "unchanged", "unchanged", "update"]
        meetings = stored_meetings(store, series.id)
    assert meetings["s1"].join_url == f"{LINK}9"
    assert meetings["s3"].passcode is not None
    assert meetings["s3"].passcode.get_secret_value() == "0000"


def test_static_passcode_stays_out_of_plan_fingerprints_and_reprs(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={"name": "static"}, sessions=static_sessions())
    with open_store(tmp_path / "state.db") as store:
        items = apply(series, load_adapter(series), store, now=NOW)
        row = meeting_rows(store, series.id)["s1"]
    assert "4711" not in repr(items) and "4711" not in repr(row)
    assert row.fingerprint is not None and "4711" not in row.fingerprint
