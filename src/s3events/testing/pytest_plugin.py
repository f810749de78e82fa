"""The s3events pytest plugin, registered through the ``pytest11`` entry point.

It adds the ``s3events_no_network`` marker and the ``s3events_no_network`` ini option: a test
so marked (or every test, with the ini option set) fails when it opens a connection to a
non-loopback address. Mocks such as ``responses`` never open sockets, and loopback stays allowed
for local servers (aiosmtpd, a throwaway PostgreSQL).
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

MARKER = "s3events_no_network"


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
