"""The test servers bind their ports once, or retry when they cannot (PostgreSQL)."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fixtures import postgres
from tests.fixtures.smtp import start_server


def test_smtp_servers_listen_on_the_socket_they_bound() -> None:
    servers = [start_server(), start_server()]
    try:
        assert len({server.port for server in servers}) == 2
        for server in servers:
            assert server.port > 0
            assert server.controller.sock.getsockname()[1] == server.port
            with smtplib.SMTP(server.host, server.port, timeout=10) as client:
                client.sendmail("a@example.org", ["b@example.org"], b"Subject: x\r\n\r\nhi\r\n")
            assert server.wait_for(1)
    finally:
        for server in servers:
            server.stop()
    with socket.socket() as probe:  # stopped: the port is free again
        probe.bind(("127.0.0.1", servers[0].port))


def test_live_web_app_serves_at_the_address_its_links_name(live_web_app: Any) -> None:
    import requests

    test = live_web_app()
    page = requests.get(f"{test.base_url}/es/", timeout=30)
    assert page.status_code == 200
    assert test.base_url.startswith("http://127.0.0.1:") and not test.base_url.endswith(":0")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield sock.getsockname()[1]


@pytest.mark.postgres
def test_postgres_tries_another_port_when_its_port_was_taken(
        taken_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = postgres.find_postgres_bin()
    if bindir is None:
        pytest.skip(postgres.MISSING_BINARIES)
    pytest.importorskip("psycopg", reason=postgres.MISSING_DRIVER)
    import psycopg

    ports = iter([taken_port])
    real = postgres._free_port
    monkeypatch.setattr(postgres, "_free_port", lambda: next(ports, None) or real())
    server = postgres._start_server(bindir)
    try:
        assert server.port != taken_port
        assert postgres._port_taken(server.log_text())  # the first start could not bind
        with psycopg.connect(server.url(), connect_timeout=10) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        server.stop()
        postgres.shutil.rmtree(server.root, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_gives_up_naming_the_ports_it_tried(
        taken_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    bindir = postgres.find_postgres_bin()
    if bindir is None:
        pytest.skip(postgres.MISSING_BINARIES)
    monkeypatch.setattr(postgres, "PORT_ATTEMPTS", 2)
    monkeypatch.setattr(postgres, "_free_port", lambda: taken_port)
    with pytest.raises(RuntimeError, match=rf"\[{taken_port}, {taken_port}\] were all taken"):
        postgres._start_server(bindir)
