"""``s3events retry`` refuses a filter it cannot honour, instead of re-queuing nothing.

A channel the series does not use, or a kind that does not exist, used to pass silently
("put 0 failed message(s) back"), so a typo looked like "nothing failed". They are bad
input (exit 2) naming what the series has; a channel it uses still works.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from s3events.store import open_store
from tests.test_cli_core import run
from tests.test_dispatch_support import make_series

NOW = "2021-10-02T00:00:00Z"


@pytest.fixture
def two_channels(write_series: Callable[..., Path], state_url: str) -> tuple[str, str]:
    """A series in Bogotá's zone sending by email and Telegram, with its state."""
    series = make_series(write_series, timezone="America/Bogota",
                         dispatch={"channels": ["email", "telegram"]})
    open_store(state_url).close()  # as an import or provision would
    return str(series.source), state_url


@pytest.mark.parametrize("channel", ["nope", "Email", "sms", "telegram\x1b[31m"])
def test_a_channel_the_series_does_not_use_is_bad_input(two_channels: tuple[str, str],
                                                        channel: str) -> None:
    path, state = two_channels
    result = run("retry", path, "--state", state, "--now", NOW, "--channel", channel)
    assert result.code == 2, result.stdout
    assert "does not use the channel" in result.stderr
    assert "its channels (dispatch.channels): email, telegram" in result.stderr
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize("channel", ["email", "telegram"])
def test_a_channel_the_series_uses_is_accepted(two_channels: tuple[str, str],
                                               channel: str) -> None:
    path, state = two_channels
    result = run("retry", path, "--state", state, "--now", NOW, "--channel", channel,
                 "--json")
    assert result.code == 0, result.stderr
    assert '"requeued": 0' in result.stdout


def test_an_unknown_kind_is_bad_input(two_channels: tuple[str, str]) -> None:
    path, state = two_channels
    result = run("retry", path, "--state", state, "--now", NOW, "--kind", "lnk")
    assert result.code == 2
    assert "'lnk' is not one of" in result.stderr and "Traceback" not in result.stderr


def test_the_channel_is_checked_before_the_state(write_series: Callable[..., Path],
                                                 tmp_path: Path) -> None:
    series = make_series(write_series)
    result = run("retry", str(series.source), "--state", str(tmp_path / "none.db"),
                 "--channel", "whatsapp")
    assert result.code == 2
    assert "its channels (dispatch.channels): email" in result.stderr
    assert not (tmp_path / "none.db").exists()
