"""The write path under server faults: crashes, shutdowns, loading, full memory, wrong key types.

Each run is seeded and accounts for every message it published: lost, duplicated by producer
retries, reordered, refused for good. The server keeps its data in an AOF fsynced before every
reply, so whatever the producer was told is written must survive a crash.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import redis

from nautilus.runtime import (
    BackpressureError,
    EmbeddedServer,
    MessageBusConfig,
    MessagePriority,
    PublishRejectedError,
    UniversalMessageBusClient,
    priority_lane,
)

from .aof_server import AofServer
from .write_account import STREAM, Account, numbered_quote, read_numbers

pytestmark = pytest.mark.slow

URGENT_LANE = priority_lane(STREAM)
#: Numbers of the CRITICAL messages, apart from the bulk ones.
CRITICAL_BASE = 10_000_000


@pytest.fixture
def aof_server() -> Iterator[AofServer]:
    server = AofServer()
    server.start()
    yield server
    server.close()


def _producer(url: str, **overrides: object) -> UniversalMessageBusClient:
    settings: dict[str, object] = {
        "engine": "marketdata",
        "consumer_name": "marketdata-faults",
        "redis_url": url,
        "trim_interval_ms": 0,
        "reconnect_initial_ms": 5,
        "reconnect_max_ms": 100,
        "max_unsent_messages": 1_000_000,
        "schema_registry": False,
        "declare_consumer_groups": False,
    }
    settings.update(overrides)
    return UniversalMessageBusClient(MessageBusConfig(**settings))  # type: ignore[arg-type]


async def _publish_through(
    server: AofServer,
    scenario: str,
    *,
    seed: int,
    total: int,
    fault: Callable[[random.Random], str],
    fault_count: int,
) -> tuple[Account, UniversalMessageBusClient]:
    """Publish `total` bulk messages and awaited CRITICAL ones while `fault` strikes
    `fault_count` times at seeded points; then flush and read both lanes back."""
    rng = random.Random(seed)
    fault_rng = random.Random(seed + 1)
    producer = _producer(server.url, max_buffer_size=rng.choice([500, 2000, 5000]))
    await producer.start()
    strikes = sorted(rng.sample(range(total // 10, total * 9 // 10), fault_count))
    faults: list[str] = []
    fault_tasks: list[asyncio.Task[str]] = []
    bulk: list[int] = []
    confirmed_critical: list[int] = []
    done = asyncio.Event()

    async def critical() -> None:
        number = CRITICAL_BASE
        while not done.is_set():
            await producer.publish(numbered_quote(number), priority=MessagePriority.CRITICAL)
            confirmed_critical.append(number)
            number += 1
            await asyncio.sleep(rng.uniform(0.001, 0.01))

    critical_task = asyncio.create_task(critical())
    number = 0
    while number < total:
        for _ in range(min(rng.randint(50, 400), total - number)):
            while True:
                try:
                    producer.publish_nowait(numbered_quote(number))
                    break
                except BackpressureError:
                    await asyncio.sleep(0.01)
            bulk.append(number)
            number += 1
        if strikes and number >= strikes[0] and all(task.done() for task in fault_tasks):
            strikes.pop(0)
            fault_tasks.append(asyncio.create_task(asyncio.to_thread(fault, fault_rng)))
        await asyncio.sleep(rng.uniform(0, 0.003))
    while strikes:  # a strike point passed while the previous fault was still going on
        await asyncio.gather(*fault_tasks)
        strikes.pop(0)
        fault_tasks.append(asyncio.create_task(asyncio.to_thread(fault, fault_rng)))
    faults += [await task for task in fault_tasks]
    await asyncio.to_thread(server.wait_loaded)
    await producer.flush(timeout_s=120)
    done.set()
    await asyncio.wait_for(critical_task, 120)
    with server.client() as connection:
        held = {STREAM: read_numbers(connection, STREAM)}
        held[URGENT_LANE] = read_numbers(connection, URGENT_LANE)
    # Every CRITICAL publish that returned was confirmed; the account covers those.
    account = Account(
        scenario, seed, {STREAM: bulk, URGENT_LANE: confirmed_critical}, held, faults=faults
    )
    stats = producer.publisher.stats
    account.notes = {
        "found after lost replies": stats.found_after_loss,
        "refusals retried": stats.retried_rejections,
        "broken-off writes": stats.failed_writes,
    }
    return account, producer


def _kill_and_restart(
    server: AofServer, loading_delay_us: int = 0
) -> Callable[[random.Random], str]:
    def strike(rng: random.Random) -> str:
        server.kill()
        down_s = rng.uniform(0.05, 0.3)
        time.sleep(down_s)
        server.start(loading_delay_us=loading_delay_us)
        return f"kill -9, down {down_s * 1000:.0f} ms"

    return strike


def _fill_for_a_slow_load(server: AofServer) -> None:
    """8,000 keys in the AOF's base file: with a load delay of 25 µs per key, a restart answers
    -LOADING for seconds (each key also costs a round of event processing)."""
    with server.client() as connection:
        pipe = connection.pipeline(transaction=False)
        for i in range(8_000):
            pipe.set(f"filler:{i}", "x")
        pipe.execute()
        connection.bgrewriteaof()
        while connection.info("persistence")["aof_rewrite_in_progress"]:
            time.sleep(0.05)


def _assert_exact(account: Account) -> None:
    print(account.report())
    assert account.lost() == 0
    assert account.duplicated() == 0
    assert account.reordered() == 0


async def test_server_killed_during_publishing_loses_duplicates_and_reorders_nothing(
    aof_server: AofServer,
) -> None:
    account, producer = await _publish_through(
        aof_server, "server kill -9 x3", seed=1009, total=30_000,
        fault=_kill_and_restart(aof_server), fault_count=3,
    )  # fmt: skip
    await producer.close()
    _assert_exact(account)
    assert len(account.held[STREAM]) == 30_000


async def test_server_shut_down_during_publishing_loses_duplicates_and_reorders_nothing(
    aof_server: AofServer,
) -> None:
    def shut_down_and_restart(rng: random.Random) -> str:
        aof_server.shutdown()
        down_s = rng.uniform(0.05, 0.3)
        time.sleep(down_s)
        aof_server.start()
        return f"SHUTDOWN, down {down_s * 1000:.0f} ms"

    account, producer = await _publish_through(
        aof_server, "server SHUTDOWN x2", seed=2003, total=20_000,
        fault=shut_down_and_restart, fault_count=2,
    )  # fmt: skip
    await producer.close()
    _assert_exact(account)
    assert len(account.held[STREAM]) == 20_000


async def test_writes_refused_while_the_server_loads_are_sent_again_in_order_once(
    aof_server: AofServer,
) -> None:
    # A restarted server answers -LOADING for seconds, and the producer keeps publishing into
    # that phase. Batches sent while it loads are refused, or would be, in part, when loading
    # ends in the middle of one.
    seed = 3001
    rng = random.Random(seed)
    _fill_for_a_slow_load(aof_server)
    producer = _producer(aof_server.url, max_buffer_size=5000)
    await producer.start()
    published: list[int] = []

    def publish(count: int) -> None:
        for _ in range(count):
            producer.publish_nowait(numbered_quote(len(published)))
            published.append(len(published))

    faults = []
    for _ in range(2):
        publish(rng.randint(1000, 3000))
        await producer.flush(timeout_s=60)
        await asyncio.to_thread(aof_server.kill)
        await asyncio.to_thread(aof_server.start, loading_delay_us=25)
        faults.append("kill -9, restart loading 8,000 keys")
        loaded = asyncio.create_task(asyncio.to_thread(aof_server.wait_loaded))
        cap = len(published) + 8000
        while not loaded.done() and len(published) < cap:
            publish(rng.randint(100, 1500))
            await asyncio.sleep(rng.uniform(0.01, 0.05))
        await loaded
    await producer.flush(timeout_s=60)
    with aof_server.client() as connection:
        held = read_numbers(connection, STREAM)
    stats = producer.publisher.stats
    account = Account(
        "restart with a loading phase x2", seed, {STREAM: published}, {STREAM: held},
        rejected=stats.rejected, faults=faults,
    )  # fmt: skip
    account.notes = {"refusals retried": stats.retried_rejections}
    await producer.close()
    _assert_exact(account)
    assert stats.retried_rejections > 0, "the server never answered LOADING"
    assert stats.rejected == 0
    assert stats.out_of_order == 0


async def test_memory_filling_mid_batch_fails_exactly_the_refused_messages(
    private_server: EmbeddedServer,
) -> None:
    seed = 4001
    rng = random.Random(seed)
    with redis.Redis.from_url(private_server.url) as connection:
        used = int(connection.info("memory")["used_memory"])
        connection.config_set("maxmemory-policy", "noeviction")
        connection.config_set("maxmemory", used + rng.randint(200_000, 400_000))
    producer = _producer(private_server.url, max_buffer_size=5000, buffer_interval_ms=60_000)
    refused: list[PublishRejectedError] = []
    producer.on_publish_failure(refused.append)
    await producer.start()
    for number in range(5000):
        producer.publish_nowait(numbered_quote(number))
    with pytest.raises(PublishRejectedError) as raised:
        await producer.flush(timeout_s=60)
    with redis.Redis.from_url(private_server.url) as connection:
        held = read_numbers(connection, STREAM)
        connection.config_set("maxmemory", 0)
    stats = producer.publisher.stats
    account = Account(
        "maxmemory reached mid-batch", seed, {STREAM: list(range(5000))}, {STREAM: held},
        rejected=stats.rejected, faults=["maxmemory, noeviction"],
    )  # fmt: skip
    account.notes = {"written (counted)": stats.written}
    await producer.flush(timeout_s=60)  # reported once: nothing left to raise
    await producer.close()
    _assert_exact(account)
    assert 0 < len(held) < 5000
    assert stats.written == len(held)
    assert stats.rejected == len(refused) == raised.value.count == 5000 - len(held)
    assert raised.value.kind == "OOM"
    assert {error.kind for error in refused} == {"OOM"}


async def test_a_lane_key_of_the_wrong_type_fails_its_messages_and_not_later_ones(
    private_server: EmbeddedServer,
) -> None:
    seed = 5003
    with redis.Redis.from_url(private_server.url) as connection:
        connection.set(STREAM, "not a stream")
    producer = _producer(private_server.url, buffer_interval_ms=60_000)
    refused: list[PublishRejectedError] = []
    producer.on_publish_failure(refused.append)
    await producer.start()
    for number in range(300):
        producer.publish_nowait(numbered_quote(number))
    with pytest.raises(PublishRejectedError) as raised:
        await producer.flush(timeout_s=60)
    with redis.Redis.from_url(private_server.url) as connection:
        connection.delete(STREAM)
    for number in range(300, 600):
        producer.publish_nowait(numbered_quote(number))
    await producer.flush(timeout_s=60)
    with redis.Redis.from_url(private_server.url) as connection:
        held = read_numbers(connection, STREAM)
    stats = producer.publisher.stats
    account = Account(
        "lane key holding a string", seed, {STREAM: list(range(600))}, {STREAM: held},
        rejected=stats.rejected, faults=["SET on the lane key, then DEL"],
    )  # fmt: skip
    await producer.close()
    _assert_exact(account)
    assert held == list(range(300, 600))
    assert raised.value.count == len(refused) == stats.rejected == 300
    assert raised.value.kind == "WRONGTYPE"
    assert [error.sequence for error in refused] == list(range(1, 301))


async def test_a_refusal_for_now_that_outlasts_its_timeout_fails_the_message(
    aof_server: AofServer,
) -> None:
    _fill_for_a_slow_load(aof_server)
    aof_server.kill()
    aof_server.start(loading_delay_us=25)
    # No retry budget: the second LOADING reply fails the message.
    producer = _producer(aof_server.url, rejected_write_timeout_s=0)
    await producer.start()
    with pytest.raises(PublishRejectedError) as raised:
        await producer.publish(numbered_quote(1), wait_landed=True)
    assert raised.value.kind == "LOADING"
    assert producer.publisher.stats.retried_rejections >= 1
    await asyncio.to_thread(aof_server.wait_loaded)
    await producer.publish(numbered_quote(2), wait_landed=True)
    await producer.close()
    with aof_server.client() as connection:
        assert read_numbers(connection, STREAM) == [2]


#: Keeps the server busy for 3 s by its own clock (TIME is allowed in scripts since Redis 5).
_BUSY_SCRIPT = """
local start = redis.call('TIME')
while true do
  local now = redis.call('TIME')
  if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > 3000000 then return 1 end
end
"""


async def test_writes_refused_while_a_script_blocks_the_server_are_sent_again_in_order(
    private_server: EmbeddedServer,
) -> None:
    seed = 6007
    rng = random.Random(seed)
    with redis.Redis.from_url(private_server.url) as connection:
        connection.config_set("busy-reply-threshold", 50)
    producer = _producer(private_server.url, buffer_interval_ms=60_000)
    await producer.start()
    script = asyncio.create_task(asyncio.to_thread(_run_script, private_server.url, _BUSY_SCRIPT))
    await asyncio.to_thread(_wait_until_busy, private_server.url)
    total = rng.randint(2000, 4000)
    for number in range(total):
        producer.publish_nowait(numbered_quote(number))
    await producer.flush(timeout_s=60)
    await script
    with redis.Redis.from_url(private_server.url) as connection:
        held = read_numbers(connection, STREAM)
    stats = producer.publisher.stats
    account = Account(
        "a script blocking the server (BUSY)", seed, {STREAM: list(range(total))},
        {STREAM: held}, rejected=stats.rejected, faults=["EVAL busy loop of 3 s"],
    )  # fmt: skip
    account.notes = {"refusals retried": stats.retried_rejections}
    await producer.close()
    _assert_exact(account)
    assert stats.retried_rejections > 0, "the server never answered BUSY"
    assert stats.out_of_order == 0


#: Keeps the server busy for ARGV[1] microseconds by its own clock.
_SHORT_BUSY_SCRIPT = """
local start = redis.call('TIME')
while true do
  local now = redis.call('TIME')
  if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1]) then return 1 end
end
"""


def _busy_now_and_then(url: str, stop: threading.Event, rng: random.Random) -> int:
    """Run 30 ms busy scripts, 20-80 ms apart, until `stop`; returns how many ran."""
    runs = 0
    with redis.Redis.from_url(url, socket_timeout=60) as connection:
        while not stop.is_set():
            connection.eval(_SHORT_BUSY_SCRIPT, 0, 30_000)
            runs += 1
            time.sleep(rng.uniform(0.02, 0.08))
    return runs


async def test_a_refusal_that_begins_and_ends_inside_one_batch_is_counted_out_of_order(
    private_server: EmbeddedServer,
) -> None:
    # The documented gap (docs/wire-format.md, Outcomes): a batch is pipelined, so when a script
    # makes the server answer BUSY from the middle of a batch and stops before its end, the
    # writes after the refused ones are already done. They overtake the refused ones, which are
    # written once, later; the publisher counts each overtaking entry in `out_of_order`.
    seed = 6011
    rng = random.Random(seed)
    with redis.Redis.from_url(private_server.url) as connection:
        connection.config_set("busy-reply-threshold", 5)
    producer = _producer(private_server.url, max_buffer_size=20_000)
    await producer.start()
    stop = threading.Event()
    scripts = asyncio.create_task(
        asyncio.to_thread(_busy_now_and_then, private_server.url, stop, rng)
    )
    published: list[int] = []
    rounds = 0
    while producer.publisher.stats.out_of_order == 0 and rounds < 40:
        rounds += 1
        for _ in range(20_000):
            producer.publish_nowait(numbered_quote(len(published)))
            published.append(len(published))
        await producer.flush(timeout_s=120)
    stop.set()
    runs = await scripts
    with redis.Redis.from_url(private_server.url) as connection:
        held = read_numbers(connection, STREAM)
    stats = producer.publisher.stats
    account = Account(
        "30 ms scripts blocking the server (BUSY), 20-80 ms apart", seed,
        {STREAM: published}, {STREAM: held}, rejected=stats.rejected,
        faults=[f"{runs} EVAL busy loops of 30 ms"],
    )  # fmt: skip
    account.notes = {
        "refusals retried": stats.retried_rejections,
        "out_of_order (counted)": stats.out_of_order,
        "rounds of 20,000": rounds,
    }
    await producer.close()
    print(account.report())
    assert stats.out_of_order > 0, "no refusal began and ended inside a batch"
    assert account.lost() == 0
    assert account.duplicated() == 0
    assert account.overtaking() == stats.out_of_order
    assert 0 < account.reordered() <= stats.retried_rejections


def _run_script(url: str, script: str) -> None:
    with redis.Redis.from_url(url, socket_timeout=60) as connection:
        connection.eval(script, 0)


def _wait_until_busy(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with redis.Redis.from_url(url, socket_timeout=30) as connection:
            try:
                connection.ping()
            except redis.exceptions.BusyLoadingError:
                return
            except redis.ResponseError as exc:
                if str(exc).startswith("BUSY"):
                    return
        time.sleep(0.01)
    raise TimeoutError("the server never became busy")
