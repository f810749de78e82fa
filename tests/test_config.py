"""Platform options: series file, environment overrides, ``--platform``, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field, SecretStr

from s3events.config import env_options, env_prefix, platform_choice, resolve_options
from s3events.errors import ConfigurationError
from s3events.models import PlatformSettings
from s3events.platforms.base import PlatformOptions
from s3events.platforms.jitsi import JitsiAdapter
from s3events.provision import load_adapter
from tests.test_provision_fakes import make_series

SECRET = "cs-5ecr3t-value"


class MeetOptions(PlatformOptions):
    """Options shaped like the google-meet plugin's."""

    calendar_id: str
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    max_results: int = 10
    api_base: str = Field(default="https://www.googleapis.com/calendar/v3", alias="api-base")


def test_prefix_turns_dashes_into_underscores() -> None:
    assert env_prefix("google-meet") == "S3EVENTS_GOOGLE_MEET_"


def test_environment_wins_over_the_series_file() -> None:
    options = resolve_options(
        "platform", "google-meet", MeetOptions,
        {"calendar_id": "file@example.org", "client_id": "from-file"},
        {"S3EVENTS_GOOGLE_MEET_CALENDAR_ID": "env@example.org",
         "S3EVENTS_GOOGLE_MEET_CLIENT_SECRET": SECRET},
    )
    assert options.calendar_id == "env@example.org"
    assert options.client_id == "from-file"
    assert options.client_secret is not None
    assert options.client_secret.get_secret_value() == SECRET
    assert SECRET not in repr(options)


def test_unknown_and_foreign_variables_are_ignored() -> None:
    environ = {
        "S3EVENTS_GOOGLE_MEET_CALENDAR_ID": "c@example.org",
        "S3EVENTS_GOOGLE_MEET_NO_SUCH_OPTION": "x",
        "S3EVENTS_GOOGLE_CALENDAR_ID": "wrong prefix",
        "S3EVENTS_ZOOM_CLIENT_ID": "another platform",
        "GOOGLE_MEET_CLIENT_ID": "no prefix",
    }
    assert env_options("google-meet", MeetOptions, environ) == {"calendar_id": "c@example.org"}
    options = resolve_options("platform", "google-meet", MeetOptions, {}, environ)
    assert options.client_id is None


def test_aliased_option_can_be_set_by_alias_or_field_name() -> None:
    by_alias = env_options("google-meet", MeetOptions, {"S3EVENTS_GOOGLE_MEET_API_BASE": "u"})
    assert by_alias == {"api-base": "u"}
    options = resolve_options("platform", "google-meet", MeetOptions, {"calendar_id": "c"},
                              {"S3EVENTS_GOOGLE_MEET_API_BASE": "http://localhost:8080"})
    assert options.api_base == "http://localhost:8080"


def test_missing_options_are_all_named_with_their_variable() -> None:
    class Needs(PlatformOptions):
        account_id: str
        client_secret: SecretStr

    with pytest.raises(ConfigurationError) as caught:
        resolve_options("platform", "zoom", Needs, {}, {})
    assert str(caught.value).splitlines() == [
        "platform 'zoom': option 'account_id' is required (set it in the series file or as "
        "S3EVENTS_ZOOM_ACCOUNT_ID)",
        "platform 'zoom': option 'client_secret' is required (set it in the series file or as "
        "S3EVENTS_ZOOM_CLIENT_SECRET)",
    ]


def test_unknown_option_in_the_file_lists_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_options("platform", "google-meet", MeetOptions,
                        {"calendar_id": "c", "calender": "typo"}, {})
    assert str(caught.value) == (
        "platform 'google-meet': unknown option 'calender' (options: api_base, calendar_id, "
        "client_id, client_secret, max_results, refresh_token)")


def test_invalid_value_says_where_it_came_from_but_never_the_value() -> None:
    with pytest.raises(ConfigurationError) as caught:
        resolve_options("platform", "google-meet", MeetOptions, {"calendar_id": "c"},
                        {"S3EVENTS_GOOGLE_MEET_MAX_RESULTS": SECRET})
    message = str(caught.value)
    assert message.startswith("platform 'google-meet': option 'max_results' from "
                              "S3EVENTS_GOOGLE_MEET_MAX_RESULTS: ")
    assert SECRET not in message


def test_platform_choice_drops_file_options_meant_for_another_platform() -> None:
    settings = PlatformSettings(name="zoom", options={"account_id": "a1"})
    assert platform_choice(settings) == ("zoom", {"account_id": "a1"})
    assert platform_choice(settings, "zoom") == ("zoom", {"account_id": "a1"})
    assert platform_choice(settings, "jitsi") == ("jitsi", {})


def test_platform_override_on_the_command_line_takes_options_from_the_environment(
    tmp_path: Path,
) -> None:
    series = make_series(tmp_path, platform={"name": "static", "options": {}})
    adapter = load_adapter(series, platform="jitsi",
                           environ={"S3EVENTS_JITSI_DOMAIN": "meet.example.org"})
    assert isinstance(adapter, JitsiAdapter)
    assert adapter.options.domain == "meet.example.org"


def test_file_options_of_the_series_platform_are_used(tmp_path: Path) -> None:
    series = make_series(tmp_path, platform={
        "name": "jitsi", "options": {"domain": "meet.example.org", "tenant": "team"}})
    adapter = load_adapter(series, environ={"S3EVENTS_JITSI_TENANT": "other"})
    assert isinstance(adapter, JitsiAdapter)
    assert (adapter.options.domain, adapter.options.tenant) == ("meet.example.org", "other")
