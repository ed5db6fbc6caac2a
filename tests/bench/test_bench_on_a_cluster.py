"""`nautilus bench` on a cluster: the URL of any node is enough.

Our clients get the URL as given; the references (redis-py, raw hiredis sockets, peers) get the
master owning the bench stream's slot, and the report says so, since its ratios are then per
master. The tiny preset, as the smoke test runs it; no figure is judged.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from nautilus.bench.machine import load_average, machine_info, package_versions, server_info
from nautilus.bench.payloads import BULK_STREAM
from nautilus.bench.report import build_report, render_text
from nautilus.bench.runner import run_bench
from nautilus.bench.scenarios import reset_streams
from nautilus.bench.settings import BenchSettings
from nautilus.runtime.lanes import dead_letter_stream, lanes_in_read_order
from nautilus.runtime.server import EmbeddedCluster

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[EmbeddedCluster]:
    # A cluster of its own: the session cluster is emptied by other tests between theirs.
    with EmbeddedCluster(masters=3) as private:
        yield private


@pytest.fixture(scope="module")
def report(cluster: EmbeddedCluster) -> dict:
    url = cluster.urls[-1]
    settings = BenchSettings.tiny()
    results = run_bench(url, settings, progress=lambda _: None)
    return build_report(
        results,
        settings,
        server=server_info(url),
        machine=machine_info(),
        versions=package_versions(),
        load_before=load_average(),
        load_after=load_average(),
        notes=[],
    )


def _owner_of(cluster: EmbeddedCluster, key: str) -> str:
    with redis.RedisCluster.from_url(cluster.url) as client:
        node = client.get_node_from_key(key)
        return f"{node.host}:{node.port}"


def test_the_tiny_preset_completes_and_every_publish_landed_on_the_owning_master(
    report: dict,
) -> None:
    # XLEN on the master owning the stream's slot found every entry sent, in every round.
    count = report["settings"]["publish_count"]
    for figures in report["rounds"]:
        landed = figures["publish_landed"]
        assert {"redis_py_pipeline", "hiredis_packed", "typed_publish_awaited"} <= set(landed)
        for name in ("redis_py_pipeline", "hiredis_packed", "typed_publish_awaited"):
            assert landed[name] == count, name
        assert figures["end_to_end"]["messages"] == report["settings"]["end_to_end_count"]


def test_the_report_names_the_cluster_and_the_master_holding_the_streams(
    report: dict, cluster: EmbeddedCluster
) -> None:
    owner = _owner_of(cluster, BULK_STREAM)
    server = report["server"]
    assert server["kind"] == "cluster"
    assert server["masters"] == 3
    assert server["streams_on"] == owner
    assert f"cluster, 3 masters; streams on {owner}" in render_text(report)


def test_the_fan_out_server_cpu_is_measured_on_the_cluster(report: dict) -> None:
    fanout = report["median"]["fanout"]
    assert fanout["quotes"] > 0
    assert fanout["server_us_per_group_delivery"] > 0


def test_resetting_the_streams_deletes_each_key_on_its_own_master(
    cluster: EmbeddedCluster,
) -> None:
    streams = ("nautilus-marketdata-streams", "nautilus-vpin-streams")
    keys = [
        key
        for stream in streams
        for key in (*lanes_in_read_order(stream), dead_letter_stream(stream))
    ]
    with redis.RedisCluster.from_url(cluster.url) as client:
        for key in keys:
            client.xadd(key, {"f": "v"})
        assert len({_owner_of(cluster, key) for key in keys}) > 1
        reset_streams(cluster.url)
        assert [key for key in keys if client.exists(key)] == []
