"""One engine as its own process: `python -m nautilus.engines.process ENGINE [options]`.

The process builds the engine's service on its generated client against Redis: the URL in the
0600 file named by NAUTILUS_REDIS_URL_FILE (how `nautilus up` passes each engine its own
identity, never on the command line), else `--redis-url`, else REDIS_URL. It starts consuming,
and serves `/health` and `/metrics` on the engine's port (the contract's seed port unless
`--port` says otherwise; 0 picks a free one). The WebSocket engine serves browsers on the same
port, and the desk's dashboard at `http://HOST:PORT/`. MarketData also starts replaying the
run's market at once.

It runs until SIGTERM or SIGINT (or until the process that started it, `--parent-pid`, is gone),
then stops cleanly: MarketData stops replaying, every buffered message is written, the consumer
stops, and, with `--run-dir`, the engine's summary is written to `<run-dir>/<engine>.summary.json`
for the run report. SIGUSR1 ends only MarketData's replay: the engine goes on consuming. With
`--run-dir` it also writes `<run-dir>/<engine>.ready.json` (its port) once it is consuming and
serving, which is how `nautilus up` knows the engine is up.

Replicas: `--replica N --lease-ms MS` runs the process as replica N of its engine (`nautilus up
--replicas`): it reads only the streams it holds a lease on (runtime/leases.py) and writes its
files under the name `<engine>.<N>` (replica 1 keeps the engine's name).

Run settings (`--scenario`, `--seed`, `--duration`, `--speed`, `--start-ns`, `--market-csv`) are
those of `RunSettings`: every engine of a run gets the same ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import resource
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from nautilus.engines.catalog import ENGINES, build_service, engine_port
from nautilus.engines.marketdata.service import MarketDataService
from nautilus.engines.run_files import write_run_file
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.credentials import URL_FILE_ENV, CredentialsError, read_secret_file
from nautilus.runtime.http_endpoints import serve_http
from nautilus.runtime.metrics import BusMetrics
from nautilus.runtime.redaction import RedactingFilter

__all__ = [
    "main",
    "raise_open_file_limit",
    "ready_file",
    "replica_name",
    "run_engine",
    "summary_file",
]

_log = logging.getLogger("nautilus.engines.process")

#: How often the process checks that its parent is still alive.
_PARENT_CHECK_S = 1.0
#: How long stopping may take to write what is buffered.
_CLOSE_TIMEOUT_S = 10.0


def replica_name(engine: str, replica: int) -> str:
    """The name of an engine's replica in files and tables: `vpin`, `vpin.2`, `vpin.3`, ..."""
    return engine if replica <= 1 else f"{engine}.{replica}"


def ready_file(run_dir: Path, engine: str) -> Path:
    """Written once the engine consumes and serves: `{"engine", "port", "pid"}`."""
    return run_dir / f"{engine}.ready.json"


def summary_file(run_dir: Path, engine: str) -> Path:
    """Written when the engine has stopped: its `EngineService.summary()`."""
    return run_dir / f"{engine}.summary.json"


class _Endpoints(Protocol):
    @property
    def port(self) -> int: ...

    async def close(self) -> None: ...


async def _serve(
    service: EngineService[Any], host: str, port: int, run_dir: Path | None
) -> _Endpoints:
    if service.ENGINE == "websocket":
        from nautilus.engines.websocket.browser_server import BrowserServer
        from nautilus.engines.websocket.peers import PeerWatch
        from nautilus.engines.websocket.service import WebSocketService

        assert isinstance(service, WebSocketService)
        metrics = BusMetrics()
        metrics.attach(service.client.bus)
        server = BrowserServer(service, metrics, peers=PeerWatch(run_dir, lambda: server.port))
        await server.start(host, port)
        return server
    return await serve_http(port, [service.client.bus], health=service.health, host=host)


async def _watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    while not stop.is_set():
        if os.getppid() != parent_pid:
            _log.warning("parent process %d is gone: stopping", parent_pid)
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _PARENT_CHECK_S)


def _freeze_start_up_objects() -> None:
    """Move what start-up built (schemas, clients, caches: it lives as long as the process) out of
    the cyclic collector's generations, so its collections scan only what messages allocate."""
    gc.collect()
    gc.freeze()


async def run_engine(
    engine: str,
    settings: RunSettings,
    *,
    redis_url: str,
    port: int,
    host: str = "127.0.0.1",
    run_dir: Path | None = None,
    parent_pid: int | None = None,
    replica: int = 1,
    lease_ms: int = 0,
) -> int:
    """Run one engine (or, with `lease_ms`, replica `replica` of it) until SIGTERM/SIGINT;
    returns the exit status."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    name = replica_name(engine, replica)
    bus = UniversalMessageBusClient(
        MessageBusConfig(engine=engine, redis_url=redis_url, replica_lease_ms=lease_ms)
    )
    service = build_service(engine, bus, settings)
    await service.start()
    endpoints = await _serve(service, host, port, run_dir)
    _freeze_start_up_objects()
    watchers: list[asyncio.Task[None]] = []
    if parent_pid is not None:
        watchers.append(asyncio.create_task(_watch_parent(parent_pid, stop)))
    replay: asyncio.Task[None] | None = None
    # SIGUSR1 ends the replay but not the engine, which goes on consuming until SIGTERM.
    replay_stop = asyncio.Event()
    if isinstance(service, MarketDataService):
        loop.add_signal_handler(signal.SIGUSR1, replay_stop.set)
        replay = asyncio.create_task(service.replay(settings.market(), settings.speed, replay_stop))
        replay.add_done_callback(lambda task: _stop_on_failure(task, stop))
    if run_dir is not None:
        ready = {"engine": engine, "port": endpoints.port, "pid": os.getpid()}
        write_run_file(ready_file(run_dir, name), json.dumps(ready))
    _log.info("%s consuming; health and metrics on http://%s:%d", engine, host, endpoints.port)
    failed = False
    try:
        await stop.wait()
    finally:
        if replay is not None:
            # The replay ends at its next market instant; closing the client flushes.
            replay_stop.set()
            try:
                await replay
            except Exception:
                failed = True
        try:
            await service.close(timeout_s=_CLOSE_TIMEOUT_S)
        except TimeoutError:
            _log.error("%s: buffered messages still unsent after %.0f s", engine, _CLOSE_TIMEOUT_S)
            failed = True
        await endpoints.close()
        for task in watchers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if run_dir is not None:
            write_run_file(
                summary_file(run_dir, name), json.dumps(service.summary(), sort_keys=True)
            )
    _log.info("%s stopped", engine)
    return 1 if failed else 0


def _stop_on_failure(task: asyncio.Task[None], stop: asyncio.Event) -> None:
    if not task.cancelled() and task.exception() is not None:
        _log.error("market replay failed: %s", task.exception())
        stop.set()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nautilus.engines.process",
        description="Run one Nautilus engine on the bus until SIGTERM or Ctrl-C.",
    )
    parser.add_argument("engine", choices=list(ENGINES))
    parser.add_argument(
        "--redis-url", default="", help=f"prefer {URL_FILE_ENV} or REDIS_URL: argv is public"
    )
    parser.add_argument(
        "--port", type=int, default=None, help="health/metrics port (default: the seed's)"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--run-dir", type=Path, default=None)
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument(
        "--replica", type=int, default=1, help="this process's number among its engine's replicas"
    )
    parser.add_argument(
        "--lease-ms",
        type=int,
        default=0,
        help="read only the streams held under leases of this length (replicas; 0: all)",
    )
    return parser


def raise_open_file_limit() -> None:
    """Up to the hard limit: the WebSocket engine holds one socket per connected browser."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and (hard == resource.RLIM_INFINITY or soft < hard):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _redis_url(given: str) -> str:
    """The URL file of NAUTILUS_REDIS_URL_FILE, else `--redis-url`, else REDIS_URL."""
    url_file = os.environ.get(URL_FILE_ENV, "")
    if url_file:
        return read_secret_file(Path(url_file))
    return given or os.environ.get("REDIS_URL", "")


def main(argv: Sequence[str] | None = None) -> int:
    args, rest = _parser().parse_known_args(argv)
    if args.engine == "websocket":
        raise_open_file_limit()
    try:
        redis_url = _redis_url(args.redis_url)
    except CredentialsError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    if not redis_url:
        print(f"no Redis: set {URL_FILE_ENV}, pass --redis-url or set REDIS_URL", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s {args.engine} %(levelname)s %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    settings = RunSettings.from_argv(rest)
    port = engine_port(args.engine) if args.port is None else args.port
    return asyncio.run(
        run_engine(
            args.engine,
            settings,
            redis_url=redis_url,
            port=port,
            host=args.host,
            run_dir=args.run_dir,
            parent_pid=args.parent_pid,
            replica=args.replica,
            lease_ms=args.lease_ms,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
