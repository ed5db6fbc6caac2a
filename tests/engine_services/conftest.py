"""Engine-service tests run twice: on the in-process transport and on the session's real server."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine_services.in_process import InProcessBus

MakeBus = Callable[[], InProcessBus]


@pytest.fixture(params=["memory", "redis"])
def make_bus(request: pytest.FixtureRequest) -> MakeBus:
    """Builds the test's bus on the in-memory transport or on a real server."""
    if request.param == "redis":
        redis_url: str = request.getfixturevalue("redis_url")
        return lambda: InProcessBus(redis_url=redis_url)
    return InProcessBus
