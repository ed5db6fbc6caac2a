"""Servers started by tests are theirs: a foreign server on the probed port is never mistaken for
the one just started, so a test's FLUSHALL or kill can only reach its own server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from redis.exceptions import AuthenticationError

from nautilus.runtime import server as server_module
from nautilus.runtime.server import EmbeddedServer, ForeignServerError


@pytest.fixture
def foreign_server() -> Iterator[EmbeddedServer]:
    """Someone else's server, holding a key that must survive the test."""
    with EmbeddedServer() as foreign, redis.Redis.from_url(foreign.url) as connection:
        connection.set("owner", "someone else")
        yield foreign


def _owner_key(server: EmbeddedServer) -> bytes | None:
    with redis.Redis.from_url(server.url) as connection:
        value: bytes | None = connection.get("owner")
        return value


def test_a_started_server_reports_the_pid_of_the_process_started(
    private_server: EmbeddedServer,
) -> None:
    with redis.Redis.from_url(private_server.url) as connection:
        assert connection.info("server")["process_id"] == private_server.pid
    private_server.verify_owned()


def test_a_probed_port_taken_by_another_server_is_given_up_for_a_new_one(
    foreign_server: EmbeddedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    probes = iter([foreign_server.port])
    real_probe = server_module._free_port
    monkeypatch.setattr(server_module, "_free_port", lambda: next(probes, None) or real_probe())

    with EmbeddedServer() as ours:
        assert ours.port != foreign_server.port
        ours.verify_owned()
        with redis.Redis.from_url(ours.url) as connection:
            connection.flushall()

    assert _owner_key(foreign_server) == b"someone else"


def test_a_given_port_held_by_another_server_is_refused(foreign_server: EmbeddedServer) -> None:
    ours = EmbeddedServer(port=foreign_server.port)

    with pytest.raises(ForeignServerError, match=f"port {foreign_server.port}"):
        ours.start(timeout_s=10)

    ours.close()
    assert _owner_key(foreign_server) == b"someone else"


def test_a_server_replaced_on_its_port_fails_verification(private_server: EmbeddedServer) -> None:
    private_server.kill()
    with EmbeddedServer(port=private_server.port) as replacement:
        assert replacement.pid is not None
        with pytest.raises(ForeignServerError, match="not the one this process started"):
            private_server.verify_owned()


def test_a_restarted_server_keeps_its_port_and_is_verified_again(
    private_server: EmbeddedServer,
) -> None:
    url, first_pid = private_server.url, private_server.pid
    private_server.restart()
    assert private_server.url == url
    assert private_server.pid != first_pid
    private_server.verify_owned()


def test_a_server_that_refuses_unauthenticated_clients_is_told_apart_by_its_socket(
    tmp_path: Path,
) -> None:
    acl = tmp_path / "users.acl"
    acl.write_text("user default off\n")
    with EmbeddedServer(acl_file=acl) as locked:
        with redis.Redis.from_url(locked.url) as connection, pytest.raises(AuthenticationError):
            connection.ping()
        locked.verify_owned()
        rival = EmbeddedServer(port=locked.port)
        with pytest.raises(ForeignServerError):
            rival.start()
        rival.close()
        locked.verify_owned()
