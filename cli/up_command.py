"""`nautilus up`: run the twelve engines on a replayed market, live or as a backtest.

Live (the default): twelve engine processes on Redis (`--redis-url`, else REDIS_URL, else a
private server started for the run), a live summary table, a clean stop after `--duration`
seconds or on Ctrl-C, and `--report FILE`. `--backtest`: the same engines in this process on the
in-process transport under a test clock, as fast as they go; the same settings give the same
report, byte for byte. See engines/launcher.py and engines/backtest.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from nautilus.cli.arguments import non_negative_float, redis_url
from nautilus.cli.server_url import SERVER_URL_FILE
from nautilus.engines.marketdata import SCENARIOS
from nautilus.engines.run_settings import DEFAULT_SEED, DEFAULT_SPEED, NS_PER_SECOND, RunSettings
from nautilus.runtime.redaction import redacted

__all__ = ["register"]

_EXAMPLES = """\
examples:
  nautilus up --scenario flash-crash --duration 30 --report reports/flash-crash.json
  nautilus up --backtest --report backtest.json       same engines, one process, test clock
  nautilus up --market-csv ticks.csv --speed 1        replay recorded quotes and trades
  nautilus up --ports auto                            any free ports instead of the seed's
  nautilus up --replicas vpin=2,risk=3                several processes of an engine, under leases
  nautilus up --cluster 3                             on a private 3-master Redis Cluster
"""


def _run(args: Any) -> int:
    from nautilus.engines.launcher import LaunchError, PortPlan, parse_replicas

    try:
        replicas = parse_replicas(args.replicas)
        if replicas and args.backtest:
            raise ValueError("--replicas runs processes: it is for live runs, not --backtest")
        settings = RunSettings(
            scenario=args.scenario,
            seed=args.seed,
            duration_s=args.duration,
            speed=args.speed,
            market_csv=args.market_csv,
        )
        ports = PortPlan.parse(args.ports)
    except ValueError as exc:
        print(f"nautilus up: {exc}", file=sys.stderr)
        return 2
    report_path = Path(args.report) if args.report else None
    try:
        if args.backtest:
            return _backtest(settings, report_path, quiet=args.quiet)
        return _live(args, settings, ports, report_path, replicas)
    except LaunchError as exc:
        print(f"nautilus up: {redacted(str(exc))}", file=sys.stderr)
        return 1


def _live(
    args: Any,
    settings: RunSettings,
    ports: Any,
    report_path: Path | None,
    replicas: dict[str, int],
) -> int:
    from nautilus.engines.launcher import Launcher, LaunchError, UpOptions

    if args.tls and (args.redis_url or os.environ.get("REDIS_URL")):
        raise LaunchError("--tls is for the private server; for a given one use a rediss:// URL")
    if args.cluster < 0:
        raise LaunchError(f"--cluster takes a number of masters, at least 1: {args.cluster}")
    if args.cluster and (args.redis_url or os.environ.get("REDIS_URL")):
        raise LaunchError(
            "--cluster starts a private cluster; a given cluster is used through its URL alone"
        )

    options = UpOptions(
        settings=settings,
        redis_url=args.redis_url,
        credentials=Path(args.credentials) if args.credentials else None,
        tls=args.tls,
        ports=ports,
        report=report_path,
        quiet=args.quiet,
        server_url_file=SERVER_URL_FILE,
        credentials_dir=SERVER_URL_FILE.parent / "credentials",
        run_dir=SERVER_URL_FILE.parent / "run",
        reset_streams=args.reset_streams,
        replicas=replicas,
        cluster=args.cluster,
    )
    report = asyncio.run(Launcher(options).run())
    stopped_by = str(report["run"].get("stopped_by", ""))
    return 1 if "died" in stopped_by or report["run"].get("missing_summaries") else 0


def _backtest(settings: RunSettings, report_path: Path | None, *, quiet: bool) -> int:
    from nautilus.engines.backtest import run_backtest
    from nautilus.engines.marketdata import CsvReplayError
    from nautilus.engines.report import render_report_summary, write_report

    length_s = settings.market_duration_ns / NS_PER_SECOND
    tty = sys.stdout.isatty()

    def progress(market_ns: int, events: int) -> None:
        if tty and not quiet:
            if settings.market_csv:
                print(f"\rbacktest: {events:,} events", end="", flush=True)
                return
            reached = (market_ns - settings.start_ns) / NS_PER_SECOND
            print(
                f"\rbacktest: market +{reached:,.0f} s of {length_s:,.0f} s, {events:,} events",
                end="",
                flush=True,
            )

    if not quiet:
        source = (
            f"{settings.market_csv}, replayed in full"
            if settings.market_csv
            else f"scenario {settings.scenario} (seed {settings.seed}), {length_s:,.0f} s of market"
        )
        print(f"nautilus up --backtest: {source}, on a test clock")
    try:
        report = asyncio.run(run_backtest(settings, progress))
    except CsvReplayError as exc:
        print(f"\nnautilus up: bad market data: {exc}", file=sys.stderr)
        return 1
    if tty and not quiet:
        print()
    if report_path is not None:
        write_report(report, report_path)
        print(f"report: {report_path}")
    print(render_report_summary(report))
    return 0


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "up",
        help="run the twelve engines on a replayed market (live on Redis, or --backtest)",
        description=(
            "Run the twelve engines on a replayed market: as separate processes on Redis with a "
            "live summary table (stop with Ctrl-C or --duration), or with --backtest in one "
            "process on a test clock. --report writes what happened as JSON."
        ),
        epilog=_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scenario", choices=SCENARIOS, default="flash-crash")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="synthetic market seed")
    parser.add_argument(
        "--duration",
        type=non_negative_float,
        default=30.0,
        metavar="SECONDS",
        help="wall-clock length of a live run; the market lasts SECONDS x --speed (default 30)",
    )
    parser.add_argument(
        "--speed",
        type=float,
        default=DEFAULT_SPEED,
        help=f"market seconds per wall second (default {DEFAULT_SPEED:g})",
    )
    parser.add_argument(
        "--market-csv", metavar="FILE", help="replay quotes and trades from a CSV file"
    )
    parser.add_argument("--report", metavar="FILE", help="write the run report (JSON) here")
    parser.add_argument(
        "--backtest",
        action="store_true",
        help="one process, in-process transport, test clock: a reproducible report",
    )
    parser.add_argument(
        "--redis-url",
        type=redis_url,
        metavar="URL",
        help="use this server (default: REDIS_URL, else a private server for the run, with "
        "the generated ACL and a user per engine); a password in URL is taken off the command "
        "line at once (nautilus runs itself again with URL in its environment), but REDIS_URL "
        "never shows it at all",
    )
    parser.add_argument(
        "--credentials",
        metavar="DIR",
        help="with a given server: a password file per user (each engine, operator, optionally "
        "schema-admin), as `nautilus acl --passwords DIR` writes them; each engine connects as "
        "its own user. Without it, NAUTILUS_PASSWORD_<USER> variables (NAUTILUS_PASSWORD_VPIN, "
        "..., NAUTILUS_PASSWORD_OPERATOR) do the same",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="the private server listens on TLS only, with a throwaway CA made for the run "
        "(for a given server, use a rediss:// URL)",
    )
    parser.add_argument(
        "--ports",
        default="seed",
        metavar="seed|auto|offset:N",
        help="engine health/metrics ports: the seed's (default), any free ones, or seed + N",
    )
    parser.add_argument(
        "--reset-streams",
        action="store_true",
        help="delete the bus streams on the given server first (their data is lost)",
    )
    parser.add_argument(
        "--replicas",
        default="",
        metavar="ENGINE=N[,...]",
        help="run N processes of an engine (not marketdata or websocket); each reads only the "
        "streams it holds a lease on, so one instrument is never split between them",
    )
    parser.add_argument(
        "--cluster",
        type=int,
        default=0,
        metavar="N",
        help="run on a private Redis Cluster of N masters (started and stopped with the run) "
        "instead of a private single server; a given cluster needs only its URL (any node)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live table, only the summary")
    parser.set_defaults(handler=_run)
