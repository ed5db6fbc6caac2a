"""The alert-propagation floor probe on private servers: the writer's probes reach the reader,
which records one well-formed sample per probe and leaves no key behind, on a single server and
on a cluster; under the probe's own users (the ACL of `nautilus up`'s private server) it needs
nothing more than they are granted, and they are granted nothing more than the probe's stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import redis

from nautilus.codegen.render.acl import password_hash
from nautilus.engines.alert_probe import (
    PROBE_KEY,
    PROBE_READER,
    PROBE_USERS,
    PROBE_WRITER,
    probe_acl,
    reader_file,
    reader_ready_file,
    writer_file,
    writer_ready_file,
)
from nautilus.runtime.credentials import (
    URL_FILE_ENV,
    new_password,
    url_with_credentials,
    write_secret_file,
)
from nautilus.runtime.server import EmbeddedServer

pytestmark = pytest.mark.slow

_PROBES = 40
#: Bounds a hang only; the probes take a fraction of a second.
_HANG_S = 60.0
_ADMIN = "test-admin"


def _probe(role: str, run_dir: Path, url: str, *args: str) -> subprocess.Popen[bytes]:
    """One probe process as `nautilus up` starts it: its URL in a 0600 file named by the
    environment, no REDIS_URL."""
    url_file = run_dir / f"{role}.url"
    write_secret_file(url_file, url + "\n")
    environment = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    environment[URL_FILE_ENV] = str(url_file)
    module = "nautilus.engines.alert_probe"
    command = [sys.executable, "-m", module, role, "--run-dir", str(run_dir), *args]
    return subprocess.Popen(command, env=environment)


def _run_probe(run_dir: Path, urls: Mapping[str, str]) -> tuple[int, list[int]]:
    """Reader and writer as `nautilus up` runs them: both started, and once both are ready the
    writer set going (SIGUSR1), here for `_PROBES` probes; what each wrote when it stopped."""
    count = ("--rate", "200", "--count", str(_PROBES))
    reader = _probe("reader", run_dir, urls[PROBE_READER])
    writer = _probe("writer", run_dir, urls[PROBE_WRITER], *count)
    try:
        deadline = time.monotonic() + _HANG_S
        while not (reader_ready_file(run_dir).exists() and writer_ready_file(run_dir).exists()):
            assert reader.poll() is None, "the reader exited"
            assert writer.poll() is None, "the writer exited"
            assert time.monotonic() < deadline, "the probe never got ready"
            time.sleep(0.05)
        writer.send_signal(signal.SIGUSR1)
        assert writer.wait(timeout=_HANG_S) == 0
        assert reader.wait(timeout=_HANG_S) == 0  # it ends on the writer's end mark
    finally:
        reader.kill()
        writer.kill()
    sent = json.loads(writer_file(run_dir).read_text())["sent"]
    samples = json.loads(reader_file(run_dir).read_text())["samples_ns"]
    return sent, samples


def _assert_well_formed(sent: int, samples: list[int]) -> None:
    assert sent == _PROBES
    assert len(samples) == sent
    assert all(isinstance(sample, int) and 0 < sample < 60 * 10**9 for sample in samples)


def test_every_probe_sent_is_one_sample_and_the_stream_is_removed(
    tmp_path: Path, private_server: EmbeddedServer
) -> None:
    urls = dict.fromkeys(PROBE_USERS, private_server.url)
    with redis.Redis.from_url(private_server.url) as admin:
        admin.xadd(PROBE_KEY, {"left": "by an interrupted run"})
        sent, samples = _run_probe(tmp_path, urls)
        assert admin.exists(PROBE_KEY) == 0
    _assert_well_formed(sent, samples)


def test_on_a_cluster_the_probe_follows_its_stream_to_the_node_serving_it(
    tmp_path: Path, cluster_url: str
) -> None:
    # The URL names the first master; the probe's stream hashes to another (slot 10801).
    sent, samples = _run_probe(tmp_path, dict.fromkeys(PROBE_USERS, cluster_url))
    _assert_well_formed(sent, samples)


@pytest.fixture
def probe_acl_server(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, dict[str, str]]]:
    """A server with the probe's users as `nautilus up`'s private server has them, plus a
    test-only admin; the probe users' URLs, and the admin's under `_ADMIN`."""
    passwords = {user: new_password() for user in (*PROBE_USERS, _ADMIN)}
    hashes = {user: password_hash(password) for user, password in passwords.items()}
    acl = tmp_path / "probe.acl"
    acl.write_text(
        "user default off resetpass resetkeys resetchannels -@all\n"
        + probe_acl(hashes)
        + f"user {_ADMIN} on {hashes[_ADMIN]} ~* &* +@all\n"
    )
    server = EmbeddedServer(acl_file=acl)
    server.start()
    yield server, {u: url_with_credentials(server.url, u, p) for u, p in passwords.items()}
    server.close()


def test_the_probe_runs_under_its_own_users_with_no_denial(
    tmp_path: Path, probe_acl_server: tuple[EmbeddedServer, dict[str, str]]
) -> None:
    _, urls = probe_acl_server
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    sent, samples = _run_probe(run_dir, urls)
    _assert_well_formed(sent, samples)
    with redis.Redis.from_url(urls[_ADMIN]) as admin:
        assert admin.acl_log() == []
        assert admin.exists(PROBE_KEY) == 0


def _refused(url: str, *command: str) -> bool:
    # redis-py ignores the refusal of the CLIENT SETINFO it sends on connect.
    with redis.Redis.from_url(url) as connection:
        try:
            connection.execute_command(*command)
        except redis.exceptions.NoPermissionError:
            return True
    return False


def test_the_probe_users_may_touch_only_the_probe_stream(
    probe_acl_server: tuple[EmbeddedServer, dict[str, str]],
) -> None:
    _, urls = probe_acl_server
    writer, reader = urls[PROBE_WRITER], urls[PROBE_READER]
    assert not _refused(writer, "XADD", PROBE_KEY, "*", "ts", "1")
    assert _refused(writer, "XADD", "nautilus-vpin-streams", "*", "ts", "1")
    assert _refused(writer, "XREADGROUP", "GROUP", "g", "c", "STREAMS", PROBE_KEY, ">")
    assert _refused(writer, "DEL", PROBE_KEY)
    assert _refused(reader, "XADD", PROBE_KEY, "*", "ts", "1")
    assert _refused(reader, "DEL", "nautilus-vpin-streams")
    assert _refused(reader, "XGROUP", "CREATE", "nautilus-vpin-streams", "g", "$", "MKSTREAM")
    assert _refused(reader, "KEYS", "*")
