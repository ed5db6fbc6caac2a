"""Shared fixtures: private Redis-compatible servers, and coroutine tests run with asyncio.run.

Tests never touch a server they did not start: the session server, the session cluster and
per-test servers listen on free ports of 127.0.0.1, are checked to be the processes these
fixtures started (pid from `INFO server`) before a flush, and are flushed or killed only by these
fixtures. `server_url` runs a test on a single server and on a 3-master Redis Cluster.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest
import redis

from nautilus.runtime.server import EmbeddedCluster, EmbeddedServer


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run `async def` tests in a fresh event loop each (no plugin needed)."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    arguments = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    asyncio.run(pyfuncitem.obj(**arguments))
    return True


@pytest.fixture(scope="session")
def session_server() -> Iterator[EmbeddedServer]:
    """One private server for the whole session (tests that do not stop it)."""
    server = EmbeddedServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def redis_url(session_server: EmbeddedServer) -> str:
    """URL of the session server with an empty keyspace for this test."""
    session_server.verify_owned()
    with redis.Redis.from_url(session_server.url) as connection:
        connection.flushall()
    return session_server.url


@pytest.fixture
def private_server() -> Iterator[EmbeddedServer]:
    """A server of this test's own, which the test may kill and restart."""
    server = EmbeddedServer()
    server.start()
    yield server
    server.close()


@pytest.fixture(scope="session")
def session_cluster() -> Iterator[EmbeddedCluster]:
    """One private 3-master Redis Cluster for the whole session (started when first needed)."""
    cluster = EmbeddedCluster(masters=3)
    cluster.start()
    yield cluster
    cluster.close()


@pytest.fixture
def cluster_url(session_cluster: EmbeddedCluster) -> str:
    """URL of one node of the session cluster, every master emptied for this test."""
    session_cluster.flush()
    return session_cluster.url


@pytest.fixture(params=["standalone", "cluster"])
def server_url(request: pytest.FixtureRequest) -> str:
    """An empty server of each kind: the session server, then the session cluster."""
    fixture = "redis_url" if request.param == "standalone" else "cluster_url"
    return str(request.getfixturevalue(fixture))
