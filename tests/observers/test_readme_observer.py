"""The README's observer example, run as a script beside Risk on a real server, takes nothing
from Risk: Risk handles every alert and warning once, and the script sees every one too."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from nautilus.clients.risk import RiskClient
from nautilus.clients.vpin import VPINClient
from nautilus.runtime import Delivery
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert
from tests.runtime.conftest import flash_crash_warning, toxicity_alert

README = Path(__file__).resolve().parents[2] / "README.md"
VPIN = "nautilus-vpin-streams"
MESSAGES = 40
DEADLINE_S = 60.0


def readme_observer_example() -> str:
    """The README's Python block that creates an observer."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (example,) = [
        block for block in blocks if 'observer="desk"' in block and "asyncio.run" in block
    ]
    return example


async def until(condition: object, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not condition():  # type: ignore[operator]
        assert loop.time() < deadline, f"not within {DEADLINE_S} s: {what}"
        await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_the_readme_observer_takes_nothing_from_risk(redis_url: str, tmp_path: Path) -> None:
    handled: list[str] = []

    async def risk_alert(message: ToxicityAlert, delivery: Delivery[ToxicityAlert]) -> None:
        handled.append(f"alert {message.bucket_index}")

    async def risk_warning(message: FlashCrashWarning, d: Delivery[FlashCrashWarning]) -> None:
        handled.append(f"warning {message.ts_init}")

    risk = RiskClient.create(redis_url=redis_url, consumer_name="risk-1", trim_interval_ms=0)
    risk.on_toxicity_alert(risk_alert)
    risk.on_flash_crash_warning(risk_warning)
    script = tmp_path / "desk.py"
    script.write_text(readme_observer_example())
    observer = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        cwd=tmp_path,
        env={**os.environ, "REDIS_URL": redis_url},
        stdout=asyncio.subprocess.PIPE,
    )
    seen: list[str] = []

    async def read_observer() -> None:
        assert observer.stdout is not None
        async for line in observer.stdout:
            seen.append(line.decode().split()[0])

    reader = asyncio.create_task(read_observer())
    vpin = VPINClient.create(redis_url=redis_url, trim_interval_ms=0)

    async def publish(indexes: range) -> None:
        for index in indexes:
            await vpin.publish_toxicity_alert(toxicity_alert(index))
            warning = flash_crash_warning()
            warning.ts_init += index
            await vpin.publish_flash_crash_warning(warning)
        await vpin.flush()

    try:
        # Half the traffic before Risk starts: an example in Risk's group would take it alone.
        async with vpin:
            await publish(range(MESSAGES // 2))
            await until(lambda: len(seen) >= 1, "the observer is reading")
            async with risk:
                await publish(range(MESSAGES // 2, MESSAGES))
                await until(lambda: len(handled) >= 2 * MESSAGES, "Risk handles every entry")
                await until(lambda: len(seen) >= 2 * MESSAGES, "the observer sees every entry")
                await asyncio.sleep(0.3)  # room for a duplicate to show up, were there one
        assert sorted(handled) == sorted(
            [f"alert {i}" for i in range(MESSAGES)]
            + [f"warning {flash_crash_warning().ts_init + i}" for i in range(MESSAGES)]
        )
        assert seen.count("alert") == MESSAGES
        assert seen.count("flash-crash") == MESSAGES
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        for lane in (VPIN, "{" + VPIN + "}:urgent"):
            groups = {g["name"]: g for g in await client.xinfo_groups(lane)}
            risk_consumers = await client.xinfo_consumers(lane, "risk")
            assert {c["name"] for c in risk_consumers} <= {"risk-1"}  # Risk's process only
            assert groups["risk"]["pending"] == 0
            assert "observer:desk" in groups
        await client.aclose()
    finally:
        observer.terminate()
        await observer.wait()
        reader.cancel()
