"""The s3events pytest plugin, registered through the ``pytest11`` entry point.

Fixtures (see docs/testing-kit.md):

``s3events_pm``
    A fresh plugin manager: the built-ins and :mod:`s3events.testing.fakes`, no entry points.
``register_plugin``
    ``register_plugin(plugin, name=None)`` registers a plugin in ``s3events_pm`` for this test
    and makes :func:`s3events.plugins.get_plugin_manager` return that manager meanwhile.
``frozen_clock``
    A :class:`~s3events.testing.clock.Clock` at 2021-10-27 12:00 UTC.
``recorded_sleep``
    A :class:`~s3events.testing.helpers.SleepRecorder`: pass it as ``sleep=``; it is the
    list of the waits.
``memory_transport`` / ``fake_platform``
    A :class:`~s3events.testing.fakes.MemoryTransport` (``memory``, channel ``email``) and a
    :class:`~s3events.testing.fakes.FakePlatform` (``fake``), on fresh in-memory state.
``s3events_no_network``
    Fails the test if it connects to a non-loopback address.
``contract_failure``
    ``contract_failure(TestMyContract, "test_update_changes_the_meeting",
    adapter_class=Broken)`` runs one contract check with changed class attributes and
    returns its failure (:func:`s3events.testing.contracts.contract_failure`): proof that
    the contract's mocks catch a broken adapter.

The network guard is applied to every test marked ``@pytest.mark.s3events_no_network`` (or a
module with ``pytestmark = pytest.mark.s3events_no_network``), and to every test when the ini
option ``s3events_no_network = true`` is set. Mocks such as ``responses`` never open sockets,
and loopback stays allowed for local servers (aiosmtpd, a throwaway PostgreSQL).

Nothing heavy is imported when pytest loads this plugin: the fixtures import what they need.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import pluggy

    from .clock import Clock
    from .fakes import FakePlatform, MemoryTransport
    from .helpers import SleepRecorder

MARKER = "s3events_no_network"

# Plain asserts in the contracts report both sides when they fail, as in a test module.
pytest.register_assert_rewrite(
    "s3events.testing.contracts", "s3events.testing._contract_support",
    "s3events.testing.fake_contracts",
)


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ini option that turns the network guard on for every test."""
    parser.addini(
        MARKER,
        "fail any test that connects to a non-loopback address (s3events network guard)",
        type="bool",
        default=False,
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}: fail the test if it connects to a non-loopback address (s3events)",
    )


class NetworkAccessError(AssertionError):
    """A test guarded by ``s3events_no_network`` tried to reach the real network."""


def _is_loopback(address: Any) -> bool:
    if isinstance(address, (str, bytes)):  # AF_UNIX path
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode()
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard_sockets(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address: Any) -> None:
        if not _is_loopback(address):
            raise NetworkAccessError(
                f"this test tried to reach the network ({address!r}); mock the HTTP call "
                "with `responses` or use a loopback server"
            )

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def s3events_no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if it connects to a non-loopback address (loopback stays allowed)."""
    _guard_sockets(monkeypatch)


@pytest.fixture(autouse=True)
def _s3events_network_guard(request: pytest.FixtureRequest) -> None:
    """Apply the guard to tests that opt in with the marker or the ini option."""
    if request.config.getini(MARKER) or request.node.get_closest_marker(MARKER) is not None:
        request.getfixturevalue(MARKER)


@pytest.fixture
def s3events_pm() -> pluggy.PluginManager:
    """A fresh plugin manager: built-ins plus the testing fakes, without entry points."""
    from ..plugins import build_plugin_manager
    from . import fakes

    pm = build_plugin_manager(entry_points=False)
    pm.register(fakes, name="s3events.testing.fakes")
    return pm


@pytest.fixture
def register_plugin(
    s3events_pm: pluggy.PluginManager, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[..., pluggy.PluginManager]]:
    """``register_plugin(plugin, name=None)``: use ``plugin`` for this test only.

    While the test runs, :func:`s3events.plugins.get_plugin_manager` returns ``s3events_pm``
    (however the caller imported it); the plugins are unregistered afterwards.
    """
    from .. import plugins

    plugins.get_plugin_manager.cache_clear()
    monkeypatch.setattr(plugins, "build_plugin_manager", lambda **_: s3events_pm)
    registered: list[object] = []

    def register(plugin: object, name: str | None = None) -> pluggy.PluginManager:
        s3events_pm.register(plugin, name=name)
        registered.append(plugin)
        return s3events_pm

    yield register
    for plugin in registered:
        if s3events_pm.is_registered(plugin):
            s3events_pm.unregister(plugin)
    plugins.get_plugin_manager.cache_clear()


@pytest.fixture
def frozen_clock() -> Clock:
    """A clock that moves only when told to (starts 2021-10-27 12:00 UTC)."""
    from .clock import Clock

    return Clock()


@pytest.fixture
def recorded_sleep() -> SleepRecorder:
    """A ``sleep`` that waits for nothing and records the waits (it is their list)."""
    from .helpers import SleepRecorder

    return SleepRecorder()


@pytest.fixture
def memory_transport() -> Iterator[MemoryTransport]:
    """A ``memory`` transport on an empty mailbox; ``memory_transport.sent`` lists messages."""
    from .fakes import MemoryTransport, reset

    reset()
    yield MemoryTransport()
    reset()


@pytest.fixture
def fake_platform(frozen_clock: Clock) -> Iterator[FakePlatform]:
    """A ``fake`` platform on an empty backend; its waits go to ``frozen_clock.sleep``."""
    from .fakes import FakePlatform, reset

    reset()
    yield FakePlatform(sleep=frozen_clock.sleep)
    reset()


@pytest.fixture
def contract_failure(caplog: pytest.LogCaptureFixture) -> Callable[..., AssertionError]:
    """Run one contract check with changed class attributes; return how it failed."""
    from .contracts import contract_failure as run_check

    def failure(contract: Any, check: str, **attributes: Any) -> AssertionError:
        return run_check(contract, check, caplog=caplog, **attributes)

    return failure
