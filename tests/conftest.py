"""Shared fixtures: private Redis-compatible servers, and coroutine tests run with asyncio.run.

Tests never touch a server they did not start: the session server and per-test servers listen on
free ports of 127.0.0.1, are checked to be the processes these fixtures started (pid from
`INFO server`) before a flush, and are flushed or killed only by these fixtures.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Iterator

import pytest
import redis

from nautilus.runtime.server import EmbeddedServer


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
