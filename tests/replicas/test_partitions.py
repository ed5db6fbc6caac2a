"""Partitioned streams: a route cut into P streams by key. The partition of a key is one any
language computes the same way; routes on a stream agree on its cut; changing the cut breaks the
contract; the generated ACL grants every partition's keys; and, on a real server with a contract
that partitions Quote and Trade, each instrument stays on one partition, in order, read by one
replica."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import redis

from nautilus.codegen import CodegenError
from nautilus.codegen.pipeline import generate, load_contract
from nautilus.codegen.render.acl import ServerFlavor, render_acl_file
from nautilus.runtime.lanes import dead_letter_stream, lanes_in_read_order
from nautilus.runtime.leases import lease_key
from nautilus.runtime.partitions import (
    partition_of,
    partition_stream,
    partition_streams,
    route_stream_of,
)
from nautilus.runtime.route_options import RouteOption, RouteOptions
from nautilus.runtime.schema.route_compat import compare_routes
from nautilus.runtime.schema.violations import Rule

PROJECT = Path(__file__).resolve().parents[2]
MARKETDATA = "nautilus-marketdata-streams"
MARKETDATA_PROTO = "nautilus/marketdata/v1/marketdata.proto"
ROUTE_STREAM = f'    stream: "{MARKETDATA}"\n'


def crc32_ieee(data: bytes) -> int:
    """CRC-32 as another language would write it: reflected polynomial 0xEDB88320, bit by bit."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_the_partition_of_a_key_is_crc32_of_its_utf8_bytes_modulo_the_partitions() -> None:
    for key in ("BTCUSDT.BINANCE", "ETHUSDT.BINANCE", "SOLUSDT.BINANCE", "AAPL.XNAS", "7203.XTKS"):
        for partitions in (1, 2, 4, 16):
            assert partition_of(key, partitions) == crc32_ieee(key.encode()) % partitions
    assert crc32_ieee(b"BTCUSDT.BINANCE") == 43_503_234
    assert [partition_of(k, 4) for k in ("BTCUSDT.BINANCE", "ETHUSDT.BINANCE", "AAPL.XNAS")] == [
        2,
        3,
        1,
    ]


def test_partitions_are_streams_named_after_their_route_stream() -> None:
    assert partition_streams(MARKETDATA, 3) == (
        "nautilus-marketdata-streams.p0",
        "nautilus-marketdata-streams.p1",
        "nautilus-marketdata-streams.p2",
    )
    assert partition_streams(MARKETDATA, 0) == (MARKETDATA,)
    assert partition_streams(MARKETDATA, 1) == (MARKETDATA,)
    assert route_stream_of(partition_stream(MARKETDATA, 11)) == MARKETDATA
    assert route_stream_of(MARKETDATA) == MARKETDATA


def partitioned_schemas(tmp_path: Path, quote: int = 4, trade: int = 4) -> Path:
    """A copy of the project's schemas with Quote and Trade cut into partitions by key."""
    schemas = tmp_path / "schemas"
    shutil.copytree(PROJECT / "schemas", schemas, ignore=shutil.ignore_patterns("*.binpb", "*.md"))
    proto = schemas / MARKETDATA_PROTO
    source = proto.read_text()
    assert source.count(ROUTE_STREAM) == 2
    first, second, rest = source.split(ROUTE_STREAM)
    proto.write_text(
        first
        + ROUTE_STREAM
        + f"    partitions: {quote}\n"
        + second
        + ROUTE_STREAM
        + f"    partitions: {trade}\n"
        + rest
    )
    return schemas


def test_routes_on_one_stream_must_agree_on_its_partitions(tmp_path: Path) -> None:
    with pytest.raises(CodegenError, match="disagree on its partitions"):
        load_contract(partitioned_schemas(tmp_path, quote=4, trade=2))


def test_changing_a_streams_partitions_breaks_the_contract() -> None:
    def options(partitions: int) -> RouteOptions:
        route = RouteOption(MARKETDATA, "marketdata", ("vpin",), 2, partitions=partitions)
        return RouteOptions(engines=(), routes={"nautilus.marketdata.v1.Quote": route})

    found = compare_routes(options(0), options(4))
    assert [violation.rule for violation in found] == [Rule.ROUTE_PARTITIONS_CHANGED]
    assert compare_routes(options(0), options(1)) == []


def test_the_generated_acl_grants_every_partitions_keys(tmp_path: Path) -> None:
    contract = load_contract(partitioned_schemas(tmp_path))
    users = {
        line.split()[1]: line
        for line in render_acl_file(contract, ServerFlavor.REDIS_7_2).splitlines()
        if line.startswith("user ")
    }
    for index in range(4):
        stream = partition_stream(MARKETDATA, index)
        for key in lanes_in_read_order(stream):
            assert f"~{key} " in users["marketdata"]
            assert f"~{key} " in users["vpin"]
        assert f"~{dead_letter_stream(stream)} " in users["vpin"]
        assert f"~{lease_key(stream, 'vpin')} " in users["vpin"]
    assert f"~{MARKETDATA} " not in users["vpin"]


TWO_REPLICAS = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from nautilus.clients.marketdata import MarketDataClient
    from nautilus.clients.vpin import VPINClient
    from nautilus.marketdata.v1.marketdata_pb2 import Quote
    from nautilus.runtime.partitions import PartitionKeyError

    INSTRUMENTS = ("BTCUSDT.BINANCE", "ETHUSDT.BINANCE", "SOLUSDT.BINANCE", "AAPL.XNAS")

    async def until(condition, what):
        deadline = time.monotonic() + 60.0
        while not condition():
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.02)

    async def main(url):
        settings = dict(redis_url=url, read_block_ms=20, trim_interval_ms=0, schema_registry=False)
        seen = {"vpin-a": [], "vpin-b": []}
        replicas = []
        for name, handled in seen.items():
            vpin = VPINClient.create(
                consumer_name=name, replica_lease_ms=1000, reclaim_idle_ms=1000, **settings
            )
            def note(m, d, handled=handled):
                handled.append([m.instrument_id, m.ts_event, d.stream])

            vpin.on_quote(note)
            await vpin.start()
            replicas.append(vpin)
        await until(
            lambda: all(len(r.bus.leases.held) == 2 for r in replicas), "two partitions each"
        )
        held = {r.config.consumer_name: sorted(r.bus.leases.held) for r in replicas}
        refused = ""
        async with MarketDataClient.create(**settings) as marketdata:
            try:
                await marketdata.publish_quote(Quote(instrument_id="BTCUSDT.BINANCE"))
            except PartitionKeyError as exc:
                refused = str(exc)
            for seq in range(1, 201):
                for instrument in INSTRUMENTS:
                    quote = Quote(instrument_id=instrument, ts_event=seq)
                    await marketdata.publish_quote(quote, key=instrument)
            await marketdata.flush()
        await until(lambda: sum(map(len, seen.values())) == 800, "every quote handled")
        for replica in replicas:
            await replica.close()
        print(json.dumps({"seen": seen, "held": held, "refused": refused}))

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.slow
def test_each_instrument_stays_on_its_partition_in_order_and_one_replica_reads_it(
    tmp_path: Path, redis_url: str
) -> None:
    generated = tmp_path / "generated"
    generate(partitioned_schemas(tmp_path), generated)
    tree = tmp_path / "tree"
    (tree / "nautilus").mkdir(parents=True)
    for item in (generated / "nautilus").iterdir():
        (tree / "nautilus" / item.name).symlink_to(item)
    for name in ("runtime", "codegen", "engines"):
        (tree / "nautilus" / name).symlink_to(PROJECT / name)
    env = {**os.environ, "PYTHONPATH": str(tree)}

    ran = subprocess.run(
        [sys.executable, "-c", TWO_REPLICAS, redis_url],
        cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = json.loads(ran.stdout.splitlines()[-1])
    with redis.Redis.from_url(redis_url) as server:
        assert not server.exists(MARKETDATA)
        lengths = [server.xlen(partition_stream(MARKETDATA, index)) for index in range(4)]
    expected = [0, 0, 0, 0]
    for instrument in ("BTCUSDT.BINANCE", "ETHUSDT.BINANCE", "SOLUSDT.BINANCE", "AAPL.XNAS"):
        expected[partition_of(instrument, 4)] += 200
    assert lengths == expected

    assert "publish it with key=<instrument id>" in result["refused"]
    readers: dict[str, set[str]] = {}
    for replica, handled in result["seen"].items():
        assert handled, f"{replica} read nothing"
        by_instrument: dict[str, list[int]] = {}
        for instrument, ts_event, stream in handled:
            assert stream == partition_stream(MARKETDATA, partition_of(instrument, 4))
            assert stream in result["held"][replica]
            by_instrument.setdefault(instrument, []).append(ts_event)
            readers.setdefault(instrument, set()).add(replica)
        for instrument, events in by_instrument.items():
            assert events == list(range(1, 201)), instrument
    assert all(len(names) == 1 for names in readers.values()), readers
    assert len(readers) == 4
