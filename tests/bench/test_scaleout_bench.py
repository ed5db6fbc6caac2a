"""The scale-out section accounts for every delivery and divides the servers' CPU consistently.

It runs small (a few thousand quotes per layout) on the private server and private 3-master
cluster it starts itself, with the bench's worker processes. It asserts what the figures must be
made of (every quote delivered to every group, shares that add up to the whole, a partitioned
stream on every master, an unpartitioned one on one), never how fast anything was.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import pytest

from nautilus.bench.machine import load_average, machine_info, package_versions
from nautilus.bench.report import build_scale_out_report, render_scale_out
from nautilus.bench.runner import run_scale_out_only
from nautilus.bench.scaleout import layouts, quote_spec, scaleout_instruments, scaleout_quotes
from nautilus.bench.settings import BenchSettings
from nautilus.cli.main import build_parser
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime.partitions import partition_of
from nautilus.runtime.routing import message_spec

MASTERS = 3
PARTITIONS = 6
SETTINGS = replace(
    BenchSettings.tiny(),
    scale_out=True,
    scaleout_masters=MASTERS,
    scaleout_partitions=PARTITIONS,
    scaleout_rate=2_000,
    scaleout_duration_s=1.0,
    scaleout_runs=1,
)
QUOTES = 2_000


@pytest.fixture(scope="module")
def section() -> dict[str, Any]:
    results = run_scale_out_only(SETTINGS, progress=lambda _: None)
    assert results["skipped"] == []
    return dict(results["scale_out"])


def _figures(section: dict[str, Any]) -> dict[str, dict[str, Any]]:
    (run,) = section["runs"]
    return dict(run)


def test_the_quotes_fall_evenly_on_the_partitions() -> None:
    instruments = scaleout_instruments(PARTITIONS)
    spread = [partition_of(instrument, PARTITIONS) for instrument in instruments]
    assert sorted(spread.count(index) for index in range(PARTITIONS)) == [2] * PARTITIONS
    for grouped in (False, True):
        pool = [quote.instrument_id for quote in scaleout_quotes(PARTITIONS, grouped=grouped)]
        assert {pool.count(instrument) for instrument in instruments} == {
            len(pool) // len(instruments)
        }


def test_the_grouped_order_sends_runs_of_one_instrument() -> None:
    interleaved = [quote.instrument_id for quote in scaleout_quotes(PARTITIONS)]
    grouped = [quote.instrument_id for quote in scaleout_quotes(PARTITIONS, grouped=True)]
    assert interleaved[0] != interleaved[1]
    assert len(set(grouped[:40])) == 1


def test_the_partitioned_route_is_a_copy_the_shipped_contract_does_not_see() -> None:
    assert quote_spec(PARTITIONS).route.partitions == PARTITIONS
    assert quote_spec(PARTITIONS).route.stream == message_spec(Quote).route.stream
    assert message_spec(Quote).route.partitions == 0
    assert quote_spec(0) is message_spec(Quote)


@pytest.mark.slow
def test_every_layout_sends_the_same_quotes_and_every_group_handles_each(
    section: dict[str, Any],
) -> None:
    figures = _figures(section)
    assert set(figures) == {layout.key for layout in layouts(MASTERS, PARTITIONS)}
    for key, layout in figures.items():
        assert layout["quotes"] == QUOTES, key
        assert layout["groups"] == 11, key
        assert layout["deliveries"] == QUOTES * 11, key
        assert layout["xadd_calls_per_quote"] >= 1, key


@pytest.mark.slow
def test_the_masters_shares_of_the_server_cpu_add_up_to_the_whole(
    section: dict[str, Any],
) -> None:
    for key, layout in _figures(section).items():
        masters = layout["per_master"]
        assert len(masters) == layout["masters"], key
        assert math.isclose(sum(m["share"] for m in masters.values()), 1.0), key
        busiest = max(masters.values(), key=lambda m: m["share"])
        assert layout["busiest_master_share"] == busiest["share"], key
        assert layout["busiest_master_us_per_quote"] == busiest["server_us_per_quote"], key


@pytest.mark.slow
def test_partitions_put_part_of_the_stream_and_of_the_work_on_every_master(
    section: dict[str, Any],
) -> None:
    for order in ("", "_grouped"):
        cluster = _figures(section)[f"{MASTERS}_masters_{PARTITIONS}_partitions{order}"]
        masters = cluster["per_master"].values()
        assert sum(m["streams"] for m in masters) == PARTITIONS
        assert all(m["streams"] >= 1 for m in masters)
        assert all(m["share"] > 0 for m in masters)


@pytest.mark.slow
def test_without_partitions_the_stream_is_on_one_master(section: dict[str, Any]) -> None:
    cluster = _figures(section)[f"{MASTERS}_masters"]
    assert sorted(m["streams"] for m in cluster["per_master"].values()) == [0, 0, 1]


@pytest.mark.slow
def test_delivering_costs_server_cpu_and_the_ceiling_is_its_busiest_masters(
    section: dict[str, Any],
) -> None:
    for key, layout in _figures(section).items():
        assert layout["server_us_per_group_delivery"] > 0, key
        assert layout["busiest_master_us_per_quote"] > 0, key
        assert math.isclose(
            layout["ceiling_quotes_per_s"], 1e6 / layout["busiest_master_us_per_quote"]
        ), key
        assert layout["balanced_ceiling_quotes_per_s"] >= layout["ceiling_quotes_per_s"] * 0.999
        assert layout["xreadgroup_calls_per_delivery"] > 0, key
    figures = _figures(section)
    assert figures["1_master"]["ceiling_vs_one_server"] == 1.0
    assert math.isclose(
        figures[f"{MASTERS}_masters"]["ceiling_vs_one_server"],
        figures[f"{MASTERS}_masters"]["ceiling_quotes_per_s"]
        / figures["1_master"]["ceiling_quotes_per_s"],
    )


@pytest.mark.slow
def test_the_section_is_printed_and_reported_with_its_medians(section: dict[str, Any]) -> None:
    report = build_scale_out_report(
        {"scale_out": section, "skipped": [], "elapsed_s": 1.0},
        SETTINGS,
        machine=machine_info(),
        versions=package_versions(),
        load_before=load_average(),
        load_after=load_average(),
    )
    text = render_scale_out(report)

    assert report["scale_out"]["median"] == _figures(section)
    assert section["server"]["version"]
    assert f"{MASTERS} masters, {PARTITIONS} partitions" in text
    assert f"{MASTERS} masters, {PARTITIONS} partitions, grouped" in text
    assert "1 server" in text
    assert "ceiling" in text


def test_the_command_runs_the_section_alone_or_without_it() -> None:
    only = build_parser().parse_args(["bench", "--only", "scale-out"])
    without = build_parser().parse_args(["bench", "--no-scale-out"])
    assert (only.only, only.no_scale_out) == ("scale-out", False)
    assert (without.only, without.no_scale_out) == (None, True)
