"""Consumer faults on a real server, with an account of every message: consumer processes killed
with SIGKILL while 100,000 messages flow, garbage interleaved, and slow handlers sharing a group.

Expected: nothing lost, nothing reordered, every garbage entry dead-lettered, and no duplicate
without a reason: the redeliveries a kill causes (each seen by its handler with
delivery_count > 1), and takeovers from a live consumer that the machine starved of CPU for
longer than it takes its claims to lapse (each matched to a stall the consumer recorded).
"""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import redis

from nautilus.marketdata.v1.marketdata_pb2 import Trade
from nautilus.runtime import MessageBusConfig, UniversalMessageBusClient
from nautilus.runtime.dead_letter import read_dead_letters
from nautilus.runtime.errors import DeadLetterReason

from .message_account import KILLED, STARVED, MessageAccount, read_handlings, read_stalls

pytestmark = pytest.mark.slow

LANE = "nautilus-marketdata-streams"
WORKER = Path(__file__).with_name("consumer_worker.py")
SEED = 20261130
#: Consumer processes killed (SIGKILL) during a churn run, at least.
MIN_KILLS = 8
#: The churn run's reclaim idle time: far above the CPU starvation a loaded 2-core machine
#: inflicts on a live consumer (stalls of a few hundred ms, rarely over 1 s), so that takeovers
#: come from kills; the slow-handler runs keep the default (1 s), the setting they are about.
CHURN_RECLAIM_IDLE_MS = 10_000
DEFAULT_RECLAIM_IDLE_MS = 1_000


class Consumers:
    """Consumer processes of the `vpin` group (it gets trades at least once), started, killed
    and stopped by the test."""

    def __init__(self, url: str, folder: Path, handler_ms: float, reclaim_idle_ms: int) -> None:
        self.url = url
        self.folder = folder
        self.handler_ms = handler_ms
        self.reclaim_idle_ms = reclaim_idle_ms
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self.killed: list[str] = []
        self._started = 0

    def start(self) -> str:
        self._started += 1
        name = f"vpin-{self._started:03d}"
        self.running[name] = subprocess.Popen(
            [
                sys.executable, str(WORKER), self.url, name, str(self.folder),
                str(self.handler_ms), str(self.reclaim_idle_ms),
            ]
        )  # fmt: skip
        return name

    def has_handled(self, name: str) -> bool:
        """True once consumer `name` has logged a handling (it is past its start-up)."""
        log = self.folder / f"{name}.log"
        return log.exists() and log.stat().st_size > 0

    def kill(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.killed.append(name)

    def stop_all(self) -> None:
        for process in self.running.values():
            process.send_signal(signal.SIGTERM)
        for process in self.running.values():
            process.wait(60)
        self.running.clear()

    def kill_all(self) -> None:
        for process in self.running.values():
            process.kill()
            process.wait()
        self.running.clear()


def numbered(seq: int) -> Trade:
    """Trade number `seq` (its `ts_event`): a type VPIN gets at least once (Quote is best
    effort, read without acknowledgement, so a killed consumer's quotes are not redelivered)."""
    return Trade(
        instrument_id="AAPL.XNAS",
        price_e9=229_150_000_000 + seq,
        size_e9=100_000_000_000,
        trade_id=f"T{seq}",
        ts_event=seq,
    )


def group_done(url: str, expected_entries: int) -> bool:
    """The `vpin` group has received every entry of the lane and acknowledged all of them."""
    with redis.Redis.from_url(url) as connection:
        for group in connection.xinfo_groups(LANE):
            if group["name"] == b"vpin":
                read = group.get("entries-read") or 0
                return int(read) >= expected_entries and int(group["pending"]) == 0
    return False


async def wait_for(condition: object, deadline_s: float, consumers: Consumers) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline_s
    while not condition():  # type: ignore[operator]
        for name, process in consumers.running.items():
            assert process.poll() is None, f"consumer {name} exited with {process.returncode}"
        assert loop.time() < give_up, "the group did not finish within the deadline"
        await asyncio.sleep(0.2)


#: Garbage interleaved with the trades, by the dead-letter reason it must get.
GARBAGE: dict[str, dict[bytes, bytes]] = {
    DeadLetterReason.UNDECODABLE.value: {b"v": b"1", b"t": b"nautilus.marketdata.v1.Trade"},
    DeadLetterReason.UNSUPPORTED_VERSION.value: {b"v": b"9", b"t": b"x"},
    DeadLetterReason.MISROUTED.value: {},  # a real trade claiming another producer: built below
}


def garbage_entry(reason: str, trade_fields: dict[bytes, bytes]) -> dict[bytes, bytes]:
    if reason == DeadLetterReason.MISROUTED.value:
        return {**trade_fields, b"s": b"vpin"}
    return GARBAGE[reason]


async def publish(
    url: str, total: int, *, chunk: int, garbage_every: int | None = None, pause_s: float = 0.0
) -> Counter[str]:
    """Publish trades 1..total in chunks, `pause_s` apart; with `garbage_every`, a garbage entry
    after every that many trades (the reasons in turn). Returns the garbage written, by reason."""
    client = UniversalMessageBusClient(
        MessageBusConfig(engine="marketdata", redis_url=url, trim_interval_ms=0)
    )
    written: Counter[str] = Counter()
    raw = redis.asyncio.Redis.from_url(url)
    await client.start(consume=False)
    reasons = sorted(GARBAGE)
    try:
        for first in range(1, total + 1, chunk):
            last = min(first + chunk, total + 1)
            await client.publish_many(numbered(seq) for seq in range(first, last))
            if garbage_every and (last - 1) // garbage_every > (first - 1) // garbage_every:
                await client.flush()
                sample = (await raw.xrevrange(LANE, count=1))[0][1]
                reason = reasons[sum(written.values()) % len(reasons)]
                await raw.xadd(LANE, garbage_entry(reason, sample))  # type: ignore[arg-type]
                written[reason] += 1
            await asyncio.sleep(pause_s)
        await client.flush()
    finally:
        await client.close()
        await raw.aclose()
    return written


async def test_consumers_killed_during_100k_messages_lose_and_reorder_nothing(
    redis_url: str, tmp_path: Path
) -> None:
    total = 100_000
    chooser = random.Random(SEED)
    consumers = Consumers(redis_url, tmp_path, handler_ms=0, reclaim_idle_ms=CHURN_RECLAIM_IDLE_MS)
    with redis.Redis.from_url(redis_url) as connection:
        connection.xgroup_create(LANE, "vpin", id="0", mkstream=True)
    for _ in range(3):
        consumers.start()
    try:
        publishing = asyncio.create_task(
            publish(redis_url, total, chunk=500, garbage_every=2_000, pause_s=0.1)
        )
        while not publishing.done() or len(consumers.killed) < MIN_KILLS:
            await asyncio.sleep(chooser.uniform(0.5, 1.5))
            working = [name for name in sorted(consumers.running) if consumers.has_handled(name)]
            if working:
                consumers.kill(chooser.choice(working))
                consumers.start()
        garbage = await publishing
        expected_entries = total + sum(garbage.values())
        await wait_for(lambda: group_done(redis_url, expected_entries), 150, consumers)
        consumers.stop_all()
    finally:
        consumers.kill_all()

    raw = redis.asyncio.Redis.from_url(redis_url)
    letters = await read_dead_letters(raw, LANE)
    await raw.aclose()
    account = MessageAccount(
        published=range(1, total + 1),
        handlings=read_handlings(tmp_path),
        # A consumer killed between writing a dead letter and acknowledging the entry writes it
        # again on redelivery: counted once per original entry.
        dead_letters=Counter(
            reason
            for _, reason in {(letter.original_id, letter.reason.value) for letter in letters}
        ),
        garbage=garbage,
        killed=consumers.killed,
        stalls=read_stalls(tmp_path),
        reclaim_idle_ms=CHURN_RECLAIM_IDLE_MS,
    )
    print(account.report())
    print(f"  dead letters written (a kill may repeat one): {len(letters)}")

    assert account.lost == []
    assert account.reordered == []
    assert account.unexplained == []
    assert account.duplicates() == account.duplicates(KILLED) + account.duplicates(STARVED)
    assert account.redelivered >= account.duplicates()
    assert dict(account.dead_letters) == dict(garbage)
    assert len(consumers.killed) >= MIN_KILLS


@pytest.mark.parametrize(
    ("consumer_count", "handler_ms", "total"),
    [(3, 6, 5_000), (2, 20, 800)],
    ids=["3x6ms", "2x20ms"],
)
async def test_slow_handlers_sharing_a_group_handle_each_message_once(
    redis_url: str, tmp_path: Path, consumer_count: int, handler_ms: int, total: int
) -> None:
    with redis.Redis.from_url(redis_url) as connection:
        connection.xgroup_create(LANE, "vpin", id="0", mkstream=True)
    await publish(redis_url, total, chunk=total)
    consumers = Consumers(
        redis_url, tmp_path, handler_ms=handler_ms, reclaim_idle_ms=DEFAULT_RECLAIM_IDLE_MS
    )
    try:
        for _ in range(consumer_count):
            consumers.start()
        await wait_for(lambda: group_done(redis_url, total), 150, consumers)
        consumers.stop_all()
    finally:
        consumers.kill_all()

    account = MessageAccount(
        published=range(1, total + 1),
        handlings=read_handlings(tmp_path),
        stalls=read_stalls(tmp_path),
        reclaim_idle_ms=DEFAULT_RECLAIM_IDLE_MS,
    )
    print(account.report())

    assert account.lost == []
    assert account.unexplained == []
    assert account.duplicates() == account.duplicates(STARVED)
    assert len(account.handlings) == total + account.duplicates()
    assert account.reordered == []
