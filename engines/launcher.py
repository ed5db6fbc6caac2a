"""The supervisor behind `nautilus up`: twelve engine processes on one Redis, one market replay.

A live run:

1. picks the server: the given URL, else REDIS_URL, else a private embedded server started for
   the run (never a server on a default port nobody named); refuses a server whose bus streams
   already hold entries unless told to delete them, since the report counts what the streams hold;
   writes the URL to `.nautilus/server.url` for the operator commands while the run lasts;
   least privilege: the private server runs the bus's generated ACL with a random password per
   user, and each engine gets only its own URL, in a 0600 file named by its environment, never
   on its command line (engines/run_identities.py; `--credentials DIR` does the same on a given
   server); the contract's schemas are registered as schema-admin when the run has that identity;
   with `--tls` the private server listens on TLS only, with a throwaway CA made for the run;
2. starts eleven engines as separate processes (`python -m nautilus.engines.process`), each in a
   session of its own so that Ctrl-C reaches only the supervisor, waits until every one answers
   on its port, then starts MarketData, whose replay is the run's clock;
3. shows the live table until `--duration` has passed since the market started, the market has
   ended, Ctrl-C is pressed, or an engine dies;
4. stops cleanly: MarketData's replay first (SIGUSR1; it writes what it buffered and goes on
   consuming), then waits (bounded) until every consumer group of every lane has read and
   acknowledged everything, then SIGTERM to every engine (SIGKILL after a grace period), each
   writing its summary as it exits; a second Ctrl-C skips the waiting;
5. writes the report from the summaries plus the server's own delivery bookkeeping, and stops the
   private server.

Beside the engines, through the market phase, the alert-propagation floor probe
(engines/alert_probe.py): a reader process blocked on a stream of its own and a writer process,
both started with the engines, the writer set probing when the market starts, timing the bare
XADD → XREADGROUP hop on the same server under the same load; the report sets the alerts'
propagation beside it. Each probe process gets its own identity the way engines do, and a probe
that fails never stops the run: the report then says why it has no floor.

Replicas (`--replicas vpin=2,risk=3`): an engine given N > 1 runs as N processes, `vpin`,
`vpin.2`, ..., each reading only the streams it holds a lease on (runtime/leases.py); the
market starts once every replicated engine's replicas hold their fair shares, so no replica's
state starts with half an instrument. Their summaries are merged into the engine's for the
report (engines/report.py, `merge_summaries`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from nautilus.codegen.render.acl import ServerFlavor
from nautilus.contract import bus_message_classes
from nautilus.engines.alert_probe import (
    DEFAULT_RATE_PER_S,
    PROBE_READER,
    PROBE_USERS,
    PROBE_WRITER,
    reader_file,
    reader_ready_file,
    writer_file,
    writer_ready_file,
)
from nautilus.engines.catalog import ENGINES, engine_port
from nautilus.engines.live_view import LiveView, RunProgress
from nautilus.engines.process import ready_file, replica_name, summary_file
from nautilus.engines.report import (
    build_report,
    merge_summaries,
    render_report_summary,
    write_report,
)
from nautilus.engines.run_identities import (
    PASSWORD_ENV_PREFIX,
    RunIdentities,
    given_identities,
    private_acl,
    private_identities,
    write_identity_files,
)
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.throwaway_tls import TlsSetupError, throwaway_tls
from nautilus.runtime.admin import RedisAdmin, server_errors
from nautilus.runtime.credentials import URL_FILE_ENV, CredentialsError
from nautilus.runtime.errors import MessageBusError, ServerRejectedError, TransportError
from nautilus.runtime.lanes import dead_letter_stream, lanes_in_read_order
from nautilus.runtime.redaction import redacted
from nautilus.runtime.routing import engine_info, message_spec
from nautilus.runtime.schema.registry import SchemaRegistry
from nautilus.runtime.server import (
    EmbeddedCluster,
    EmbeddedServer,
    find_server_binary,
    server_version,
)
from nautilus.runtime.stream_info import lane_info

__all__ = ["LaunchError", "Launcher", "PortPlan", "UpOptions", "fetch_health", "parse_replicas"]

_POLL_S = 0.1
#: Ctrl-C, `kill`, a closed terminal: each stops the run cleanly (twice: without waiting).
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_VIEW_EVERY_S = 1.0


class LaunchError(Exception):
    """The run cannot start or go on; the message says why and what to do."""


#: Engines that cannot run as replicas: MarketData is the run's market (each replica would replay
#: it), WebSocket numbers the updates it sends to browsers in one sequence.
_SINGLE_PROCESS = ("marketdata", "websocket")
#: A replica's lease (ms): a dead replica's streams are taken over within about this long.
DEFAULT_LEASE_MS = 2000


def parse_replicas(text: str) -> dict[str, int]:
    """`vpin=2,risk=3` -> {"vpin": 2, "risk": 3}; ValueError saying what is wrong."""
    replicas: dict[str, int] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        engine, equals, count = item.partition("=")
        if not equals or not count.strip().isdigit():
            raise ValueError(f"--replicas takes ENGINE=N[,ENGINE=N...], got {item!r}")
        engine, number = engine.strip(), int(count)
        if engine not in ENGINES:
            raise ValueError(
                f"--replicas: unknown engine {engine!r}; engines: {', '.join(ENGINES)}"
            )
        if engine in _SINGLE_PROCESS and number != 1:
            raise ValueError(f"--replicas: {engine} runs as one process")
        if number < 1:
            raise ValueError(f"--replicas: {engine} needs at least 1 process, got {number}")
        replicas[engine] = number
    return replicas


@dataclass(frozen=True, slots=True)
class PortPlan:
    """Which port each engine serves on: the seed's (`seed`), any free one (`auto`), or the
    seed's plus an offset (`offset:N`), so two runs or a test can share a machine."""

    mode: str = "seed"
    offset: int = 0

    @classmethod
    def parse(cls, text: str) -> PortPlan:
        if text in ("seed", "auto"):
            return cls(text)
        if text.startswith("offset:"):
            try:
                return cls("offset", int(text.removeprefix("offset:")))
            except ValueError:
                pass
        raise ValueError(f"--ports must be seed, auto or offset:N, got {text!r}")

    def port(self, engine: str) -> int:
        """The port to ask for (0: let the engine pick a free one)."""
        if self.mode == "auto":
            return 0
        return engine_port(engine) + self.offset


@dataclass(frozen=True, slots=True)
class UpOptions:
    """Everything `nautilus up` was asked to do (live mode)."""

    settings: RunSettings
    redis_url: str | None = None
    #: On a given server: one password file per user (engines, operator, optional schema-admin).
    credentials: Path | None = None
    ports: PortPlan = field(default_factory=PortPlan)
    report: Path | None = None
    quiet: bool = False
    #: Where the server URL is written while the run lasts (removed at exit).
    server_url_file: Path = Path(".nautilus") / "server.url"
    #: Credentials of the run (0600 files in a 0700 directory; removed at exit).
    credentials_dir: Path = Path(".nautilus") / "credentials"
    #: The private server listens on TLS only, with a throwaway CA made for the run.
    tls: bool = False
    #: Engine logs, ready files and summaries (emptied at the start of a run).
    run_dir: Path = Path(".nautilus") / "run"
    reset_streams: bool = False
    #: Masters of a private Redis Cluster for the run (`--cluster N`); 0: a single server.
    cluster: int = 0
    #: Processes per engine where more than one (`--replicas`); those read under leases.
    replicas: Mapping[str, int] = field(default_factory=dict)
    lease_ms: int = DEFAULT_LEASE_MS
    #: Probes a second of the alert-propagation floor (engines/alert_probe.py); 0: no probe.
    alert_probe_rate_per_s: float = DEFAULT_RATE_PER_S
    startup_timeout_s: float = 90.0
    drain_timeout_s: float = 60.0
    stop_grace_s: float = 15.0


async def fetch_health(port: int, timeout_s: float = 2.0) -> dict[str, Any] | None:
    """An engine's `/health` answer (200 or 503), or None when it does not answer."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), timeout_s
        )
    except (OSError, TimeoutError):
        return None
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = await asyncio.wait_for(reader.read(), timeout_s)
        answer: dict[str, Any] = json.loads(data.split(b"\r\n\r\n", 1)[1])
        return answer
    except (OSError, TimeoutError, ValueError, IndexError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()


def _environment_of(url_file: Path) -> dict[str, str]:
    """A child's environment with only its own identity: its URL file, and no REDIS_URL or
    password variable inherited from the run."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if k != "REDIS_URL" and not k.startswith(PASSWORD_ENV_PREFIX)
    }
    environment[URL_FILE_ENV] = str(url_file)
    return environment


class _EngineProcess:
    """One engine's OS process, its log and its port."""

    def __init__(self, engine: str, options: UpOptions, url_file: Path, replica: int = 1) -> None:
        self.engine = engine
        self.name = replica_name(engine, replica)
        self.log_path = options.run_dir / f"{self.name}.log"
        self.port = 0
        replicas = (
            ["--replica", str(replica), "--lease-ms", str(options.lease_ms)]
            if options.replicas.get(engine, 1) > 1
            else []
        )
        command = [
            sys.executable, "-m", "nautilus.engines.process", engine,
            "--port", str(options.ports.port(engine) if replica == 1 else 0),
            "--run-dir", str(options.run_dir),
            "--parent-pid", str(os.getpid()),
            *replicas,
            *options.settings.to_argv(),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=_environment_of(url_file),
            )
        self._ready_path = ready_file(options.run_dir, self.name)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def ready(self) -> bool:
        """True once the engine wrote its ready file (it consumes and serves)."""
        try:
            self.port = int(json.loads(self._ready_path.read_text())["port"])
        except (OSError, ValueError, KeyError):
            return False
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def terminate(self) -> None:
        if self.alive:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        if self.alive:
            self.process.kill()


class _AlertProbe:
    """The floor probe's two processes (engines/alert_probe.py) and what they measured.

    `samples_ns` are the reader's samples (None: no floor); `outcome` is the report's
    `run.alert_probe`: the rate, the probes sent and received, and why there is no floor if not.
    """

    #: A reader asked to stop ends its blocking read within a second (alert_probe._BLOCK_MS).
    _STOP_WAIT_S = 3.0

    def __init__(self, options: UpOptions, url_files: Mapping[str, Path]) -> None:
        self._options = options
        self._url_files = url_files
        self._processes: dict[str, subprocess.Popen[bytes]] = {}
        self.samples_ns: list[int] | None = None
        self.sent: int | None = None
        #: Why the run has no floor (None while it may have one).
        self.missing: str | None = None
        if options.alert_probe_rate_per_s <= 0:
            self.missing = "the probe is turned off"
        elif not all(user in url_files for user in PROBE_USERS):
            self.missing = "no identity for the probe on a given server with a user per engine"

    @property
    def outcome(self) -> dict[str, Any]:
        return {
            "rate_per_s": self._options.alert_probe_rate_per_s,
            "sent": self.sent,
            "received": None if self.samples_ns is None else len(self.samples_ns),
            "not_measured": self.missing,
        }

    def _spawn(self, role: str, user: str, *extra: str) -> None:
        run_dir = self._options.run_dir
        command = [
            sys.executable, "-m", "nautilus.engines.alert_probe", role,
            "--run-dir", str(run_dir), "--parent-pid", str(os.getpid()), *extra,
        ]  # fmt: skip
        with (run_dir / f"{user}.log").open("wb") as log:
            self._processes[role] = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=_environment_of(self._url_files[user]),
            )

    def _fail(self, why: str) -> None:
        self.missing = f"{why} (logs: {self._options.run_dir}/alert-probe-*.log)"
        self.kill()

    def start(self) -> None:
        """Both processes, with the engines; the writer waits for `begin`."""
        if self.missing is None:
            self._spawn("reader", PROBE_READER)
            rate = self._options.alert_probe_rate_per_s
            self._spawn("writer", PROBE_WRITER, "--rate", f"{rate:g}")

    async def wait_ready(self, timeout_s: float) -> None:
        """Until the reader's group exists and the writer is connected; a probe that fails
        only costs the run its floor."""
        run_dir = self._options.run_dir
        files = {"reader": reader_ready_file(run_dir), "writer": writer_ready_file(run_dir)}
        deadline = time.monotonic() + timeout_s
        while self._processes and self.missing is None:
            if all(path.exists() for path in files.values()):
                return
            exited = [
                role for role, process in self._processes.items() if process.poll() is not None
            ]
            if exited:
                self._fail(f"the probe's {exited[0]} exited during start-up")
            elif time.monotonic() > deadline:
                self._fail("the probe was not ready in time")
            else:
                await asyncio.sleep(_POLL_S)

    def begin(self) -> None:
        """Set the writer probing (the market has started)."""
        writer = self._processes.get("writer")
        if self.missing is None and writer is not None and writer.poll() is None:
            writer.send_signal(signal.SIGUSR1)

    def stop_writer(self) -> None:
        """End the probing (the writer sends the reader an end mark and exits)."""
        writer = self._processes.get("writer")
        if writer is not None and writer.poll() is None:
            writer.send_signal(signal.SIGTERM)

    async def collect(self, timeout_s: float) -> None:
        """Wait (bounded) until both processes have ended, then read what they wrote."""
        if self.missing is not None:
            return
        self.stop_writer()
        deadline = time.monotonic() + timeout_s
        writer, reader = self._processes["writer"], self._processes["reader"]
        await self._wait_exit(writer, deadline)
        if writer.returncode != 0:
            reader.send_signal(signal.SIGTERM)  # no end mark is coming
        await self._wait_exit(reader, deadline)
        self.kill()
        run_dir = self._options.run_dir
        try:
            self.sent = int(json.loads(writer_file(run_dir).read_text())["sent"])
            samples = json.loads(reader_file(run_dir).read_text())["samples_ns"]
            self.samples_ns = [int(sample) for sample in samples]
        except (OSError, ValueError, KeyError, TypeError):
            self.missing = (
                f"the probe did not write its results (logs: {run_dir}/alert-probe-*.log)"
            )

    async def _wait_exit(self, process: subprocess.Popen[bytes], deadline: float) -> None:
        """Until `process` exits, or the deadline passes and then SIGTERM does not end it."""
        while process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(_POLL_S)
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            stop_by = time.monotonic() + self._STOP_WAIT_S
            while process.poll() is None and time.monotonic() < stop_by:
                await asyncio.sleep(_POLL_S)

    def kill(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()


class Launcher:
    """Runs one live run; `run()` returns its report."""

    def __init__(self, options: UpOptions, out: TextIO | None = None) -> None:
        self.options = options
        self.out = out or sys.stdout
        self.view = LiveView(self.out, quiet=options.quiet)
        self.processes: dict[str, _EngineProcess] = {}
        self._interrupts = 0
        self._interrupted = asyncio.Event()
        self._identities: RunIdentities | None = None
        self._url_files: dict[str, Path] = {}
        self._wrote_url_file = False
        self._probe: _AlertProbe | None = None

    def _say(self, text: str) -> None:
        self.view.message(text)

    def _on_sigint(self) -> None:
        self._interrupts += 1
        self._interrupted.set()
        if self._interrupts == 1:
            self._say("\ninterrupted: stopping (Ctrl-C again to stop without waiting)")

    async def run(self) -> dict[str, Any]:
        """The whole run; LaunchError when it cannot start or an engine fails to start."""
        loop = asyncio.get_running_loop()
        for signum in _STOP_SIGNALS:
            loop.add_signal_handler(signum, self._on_sigint)
        server: EmbeddedServer | EmbeddedCluster | None = None
        url = self.options.redis_url or os.environ.get("REDIS_URL", "")
        try:
            await self._check_not_running()
            self._check_ports()
            if url:
                identities = self._given_identities(url)
            else:
                server, identities = _start_private_server(
                    self.options.credentials_dir,
                    tls=self.options.tls,
                    cluster=self.options.cluster,
                )
            self._identities = identities
            admin = RedisAdmin.from_url(identities.operator, connect_timeout_s=2.0)
            try:
                return await self._run_on(admin, identities, private=server is not None)
            except TransportError as exc:
                raise LaunchError(
                    redacted(f"lost the server {identities.server_url}: {exc}")
                ) from None
            finally:
                with contextlib.suppress(TransportError):
                    await admin.close()
        finally:
            self.view.close()
            for signum in _STOP_SIGNALS:
                loop.remove_signal_handler(signum)
            for process in self.processes.values():
                process.kill()
            if self._probe is not None:
                self._probe.kill()
            if self._wrote_url_file:
                with contextlib.suppress(OSError):
                    self.options.server_url_file.unlink()
            self._remove_credentials()
            if server is not None:
                server.close()

    def _given_identities(self, url: str) -> RunIdentities:
        try:
            return given_identities(url, ENGINES, self.options.credentials, os.environ)
        except CredentialsError as exc:
            raise LaunchError(str(exc)) from None

    def _remove_credentials(self) -> None:
        """The run's credential files go with the run (the private server's users go with it)."""
        directory = self.options.credentials_dir
        for path in [*self._url_files.values(), directory / "operator.url"]:
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            (directory / "server.acl").unlink()
        shutil.rmtree(directory / "tls", ignore_errors=True)

    async def _run_on(
        self, admin: RedisAdmin, identities: RunIdentities, *, private: bool
    ) -> dict[str, Any]:
        options, settings = self.options, self.options.settings
        url = identities.server_url
        await self._check_streams(admin)
        self._url_files = write_identity_files(identities, options.credentials_dir)
        if identities.schema_admin is not None:
            await _register_contract(identities.schema_admin)
        options.server_url_file.parent.mkdir(parents=True, exist_ok=True)
        options.server_url_file.write_text(url + "\n")
        self._wrote_url_file = True
        self._prepare_run_dir()
        market = (
            f"{settings.market_csv}"
            if settings.market_csv
            else f"scenario {settings.scenario} (seed {settings.seed}), "
            f"{settings.market_duration_ns / 1e9:,.0f} s of market"
        )
        self._say(f"nautilus up: {market} at {settings.speed:g}x for {settings.duration_s:g} s")
        kind = "private server for this run" if private else "given server"
        self._say(f"server: {url} ({kind}; in {options.server_url_file} while running)")
        if identities.per_engine:
            self._say(
                "identities: one Redis user per engine (generated ACL); operator credentials in "
                f"{options.credentials_dir}/operator.url (0600) while running"
            )
        self._say(f"engine logs: {options.run_dir}/<engine>.log")

        probe = self._probe = _AlertProbe(options, self._url_files)
        probe.start()
        started = time.monotonic()
        await self._start([engine for engine in ENGINES if engine != "marketdata"])
        await self._wait_leases_balanced()
        await probe.wait_ready(options.startup_timeout_s)
        self._say(f"11 engines ready in {time.monotonic() - started:.1f} s; starting the market")
        self._say(
            "every engine serves /health and /metrics on its port; browsers: "
            f"ws://127.0.0.1:{self.processes['websocket'].port}/"
            "?topics=marketdata.quote.BTCUSDT.BINANCE"
        )
        self._say(f"dashboard: http://127.0.0.1:{self.processes['websocket'].port}/")
        await self._start(["marketdata"])
        probe.begin()
        reason = await self._watch(time.monotonic())
        probe.stop_writer()
        self._say(f"stopping: {reason}")
        await self._stop_market()
        await self._drain(admin)
        await self._stop_engines()
        await probe.collect(options.stop_grace_s)
        if probe.missing is not None:
            self._say(f"alert propagation floor not measured: {probe.missing}")
        report = await self._report(admin, reason, probe)
        report["run"]["identities"] = "per-engine" if identities.per_engine else "shared"
        report["run"]["tls"] = identities.server_url.startswith("rediss://")
        report["acl_log"] = await _acl_log(admin)
        if options.report is not None:
            write_report(report, options.report)
            print(f"report: {options.report}", file=self.out, flush=True)
        print(render_report_summary(report), file=self.out, flush=True)
        return report

    async def _check_not_running(self) -> None:
        """Refuse to start beside a live run in the same directory (they would share files)."""
        try:
            url = self.options.server_url_file.read_text().strip()
        except OSError:
            return
        if not url:
            return
        try:
            other = RedisAdmin.from_url(url, socket_timeout_s=0.5, connect_timeout_s=0.5)
        except ValueError:
            return  # not a URL: a stale or damaged file
        try:
            await other.ping()
        except ServerRejectedError:
            pass  # a server that refuses us (e.g. asks who we are) is a live one
        except (TransportError, ValueError):
            return  # a stale file from a run that did not clean up
        finally:
            with contextlib.suppress(TransportError):
                await other.close()
        raise LaunchError(
            f"another run seems to be using this directory ({self.options.server_url_file} "
            f"points at a live server, {redacted(url)}): stop it first, run from another "
            "directory, or delete that file if no run is going on"
        )

    async def _check_streams(self, admin: RedisAdmin) -> None:
        keys = [
            key
            for engine in ENGINES
            for stream in _stored_streams(engine)
            for key in (*lanes_in_read_order(stream), dead_letter_stream(stream))
        ]
        try:
            lengths = [await admin.length(key) for key in keys]
        except TransportError as exc:
            raise LaunchError(f"cannot use the server: {exc}") from None
        if not any(lengths):
            return
        if not self.options.reset_streams:
            raise LaunchError(
                "the server already holds bus streams with entries (an earlier run?); the report "
                "counts what the streams hold. Use a fresh server (omit --redis-url and unset "
                "REDIS_URL for a private one) or pass --reset-streams to delete them"
            )
        for key in keys:  # one key per command: keys of different streams are in other slots
            await admin.delete_keys([key])
        self._say(f"deleted {len(keys)} bus stream keys (--reset-streams)")

    def _prepare_run_dir(self) -> None:
        run_dir = self.options.run_dir
        if run_dir.exists():
            shutil.rmtree(run_dir)
        run_dir.mkdir(parents=True)

    def _check_ports(self) -> None:
        if self.options.ports.mode == "auto":
            return
        for engine in ENGINES:
            port = self.options.ports.port(engine)
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                # As the engines' servers do: connections in TIME_WAIT do not hold the port.
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", port))
                except OSError:
                    raise LaunchError(
                        f"port {port} ({engine}) is in use: pass --ports auto or --ports offset:N"
                    ) from None

    async def _start(self, engines: list[str]) -> None:
        waiting = []
        for engine in engines:
            for replica in range(1, self.options.replicas.get(engine, 1) + 1):
                process = _EngineProcess(engine, self.options, self._url_files[engine], replica)
                self.processes[process.name] = process
                waiting.append(process.name)
        deadline = time.monotonic() + self.options.startup_timeout_s
        while waiting:
            for engine in list(waiting):
                process = self.processes[engine]
                if not process.alive:
                    raise LaunchError(
                        f"{engine} exited during start-up (status {process.process.returncode}); "
                        f"its log ({process.log_path}) ends:\n{process.log_tail()}"
                    )
                if process.ready() and await fetch_health(process.port) is not None:
                    waiting.remove(engine)
            if self._interrupted.is_set():
                raise LaunchError("interrupted during start-up")
            if time.monotonic() > deadline:
                raise LaunchError(f"engines not ready in time: {', '.join(waiting)}")
            if waiting:
                await asyncio.sleep(_POLL_S)

    async def _wait_leases_balanced(self) -> None:
        """Until each replicated engine's replicas all see each other and hold their fair shares
        (the market must not start while streams still move between replicas)."""
        replicated = {e: n for e, n in self.options.replicas.items() if n > 1}
        if not replicated:
            return
        deadline = time.monotonic() + self.options.startup_timeout_s
        while True:
            healths = await self._healths()
            unsettled = [
                engine
                for engine, count in replicated.items()
                if not _leases_settled(
                    [healths.get(replica_name(engine, i)) for i in range(1, count + 1)], count
                )
            ]
            if not unsettled:
                summary = ", ".join(
                    f"{engine} x{count}" for engine, count in sorted(replicated.items())
                )
                self._say(f"replicas: {summary}, each holding its share of the streams")
                return
            if self._interrupted.is_set():
                raise LaunchError("interrupted during start-up")
            if time.monotonic() > deadline:
                raise LaunchError(f"replicas did not settle their leases: {', '.join(unsettled)}")
            await asyncio.sleep(_POLL_S)

    async def _healths(self) -> dict[str, dict[str, Any] | None]:
        answers = await asyncio.gather(
            *(fetch_health(process.port) for process in self.processes.values())
        )
        return dict(zip(self.processes, answers, strict=True))

    def _ports(self) -> dict[str, int]:
        return {engine: process.port for engine, process in self.processes.items()}

    async def _watch(self, market_started: float) -> str:
        """Show the view until the run should stop; returns why it stops."""
        settings = self.options.settings
        start_ns, length_ns = settings.market_start_ns(), settings.market_length_ns()
        while True:
            elapsed = time.monotonic() - market_started
            healths = await self._healths()
            progress = RunProgress(start_ns, length_ns, elapsed, settings.duration_s, "run")
            self.view.show(healths, self._ports(), progress)
            dead = [name for name, process in self.processes.items() if not process.alive]
            if dead:
                process = self.processes[dead[0]]
                self._say(f"{dead[0]} died; its log ({process.log_path}) ends:")
                self._say(process.log_tail())
                return f"{', '.join(dead)} died"
            if self._interrupted.is_set():
                return "interrupted"
            if elapsed >= settings.duration_s:
                return f"--duration {settings.duration_s:g} s reached"
            replay = (healths.get("marketdata") or {}).get("service", {}).get("replay")
            if replay in ("done", "stopped"):
                return "the market ended"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._interrupted.wait(), _VIEW_EVERY_S)

    async def _stop_market(self) -> None:
        """End the replay (SIGUSR1) but keep MarketData consuming until every engine stops, so
        its groups read what the others still publish in reaction to the market."""
        process = self.processes["marketdata"]
        if process.alive:
            process.process.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + self.options.stop_grace_s
        while process.alive and time.monotonic() < deadline and self._interrupts < 2:
            health = await fetch_health(process.port) or {}
            if health.get("service", {}).get("replay") in ("done", "stopped"):
                return
            await asyncio.sleep(_POLL_S)

    async def _drain(self, admin: RedisAdmin) -> bool:
        """Wait until every group of every lane has read and acknowledged everything, twice in a
        row (publishers flush within milliseconds); False on timeout or a second Ctrl-C."""
        started = time.monotonic()
        deadline = started + self.options.drain_timeout_s
        previous: dict[str, int] | None = None
        last_said = started
        while time.monotonic() < deadline and self._interrupts < 2:
            lengths, behind = await _backlog(admin)
            if behind == 0 and lengths == previous:
                self._say(f"all consumer groups caught up ({time.monotonic() - started:.1f} s)")
                return True
            previous = lengths if behind == 0 else None
            if behind and time.monotonic() - last_said >= _VIEW_EVERY_S:
                last_said = time.monotonic()
                self._say(f"draining: {behind:,} entries not yet handled by every group")
            await asyncio.sleep(0.3)
        self._say("stopped before every consumer group caught up")
        return False

    async def _stop_engines(self) -> None:
        running = list(self.processes.values())
        for process in running:
            process.terminate()
        grace = 0.0 if self._interrupts >= 2 else self.options.stop_grace_s
        await self._wait_exit(running, grace)

    async def _wait_exit(self, processes: list[_EngineProcess], grace_s: float) -> None:
        deadline = time.monotonic() + grace_s
        while any(p.alive for p in processes) and time.monotonic() < deadline:
            if self._interrupts >= 2:
                break
            await asyncio.sleep(_POLL_S)
        for process in processes:
            if process.alive:
                self._say(f"{process.engine} did not stop in time: killed")
                process.kill()
                process.process.wait()

    async def _report(self, admin: RedisAdmin, reason: str, probe: _AlertProbe) -> dict[str, Any]:
        summaries: dict[str, Mapping[str, Any]] = {}
        missing = []
        for engine in ENGINES:
            replicas = []
            for replica in range(1, self.options.replicas.get(engine, 1) + 1):
                name = replica_name(engine, replica)
                try:
                    replicas.append(
                        json.loads(summary_file(self.options.run_dir, name).read_text())
                    )
                except (OSError, ValueError):
                    missing.append(name)
            if replicas:
                summaries[engine] = merge_summaries(replicas)
        dead_letters = {
            engine_info(e).stream: sum(
                [await admin.length(dead_letter_stream(s)) for s in _stored_streams(e)]
            )
            for e in ENGINES
        }
        report = build_report(
            self.options.settings,
            summaries,
            mode="live",
            dead_letters=dead_letters,
            extra={"delivery": await _delivery(admin)},
            alert_floor_ns=probe.samples_ns,
        )
        report["run"]["stopped_by"] = reason
        report["run"]["alert_probe"] = probe.outcome
        report["run"]["missing_summaries"] = missing
        report["run"]["replicas"] = {
            e: n for e, n in sorted(self.options.replicas.items()) if n > 1
        }
        return report


def _leases_settled(healths: list[dict[str, Any] | None], replicas: int) -> bool:
    """True when every replica answers, sees all `replicas` members and holds its share, and the
    shares cover every unit."""
    views = [(health or {}).get("leases") for health in healths]
    if not all(views):
        return False
    settled = [view for view in views if view is not None]
    return (
        all(len(view["members"]) == replicas and view["balanced"] for view in settled)
        and sum(len(view["held"]) for view in settled) == settled[0]["units"]
    )


def _server_binary(purpose: str) -> tuple[str, ServerFlavor]:
    """The server binary for a private server or cluster (`purpose` names it in the error) and
    its flavor, which decides the generated ACL's syntax; LaunchError when there is none usable."""
    try:
        binary = find_server_binary()
        return binary, ServerFlavor.for_version(server_version(binary))
    except FileNotFoundError as exc:
        raise LaunchError(f"{exc}: install Redis or pass --redis-url") from None
    except (OSError, RuntimeError, ValueError, subprocess.SubprocessError) as exc:
        raise LaunchError(f"cannot use the server binary for {purpose}: {exc}") from None


def _start_private_server(
    credentials_dir: Path, *, tls: bool = False, cluster: int = 0
) -> tuple[EmbeddedServer | EmbeddedCluster, RunIdentities]:
    """The run's own server, with the generated ACL for its version and fresh passwords; with
    `tls`, listening on TLS only with a throwaway CA's certificate; with `cluster`, a private
    Redis Cluster of that many masters instead (each with the same users)."""
    if cluster:
        return _start_private_cluster(credentials_dir, cluster, tls=tls)
    binary, flavor = _server_binary("the private server")
    acl_file, passwords = private_acl(credentials_dir, flavor)
    try:
        tls_files = throwaway_tls(credentials_dir.absolute() / "tls") if tls else None
    except TlsSetupError as exc:
        raise LaunchError(str(exc)) from None
    server = EmbeddedServer(binary=binary, acl_file=acl_file, tls=tls_files)
    try:
        server.start()
    except (OSError, RuntimeError, TimeoutError) as exc:
        server.close()
        hint = f" ({binary} may have no TLS support)" if tls else ""
        raise LaunchError(f"the private server did not start: {exc}{hint}") from None
    return server, private_identities(server.url, passwords)


def _start_private_cluster(
    credentials_dir: Path, masters: int, *, tls: bool
) -> tuple[EmbeddedCluster, RunIdentities]:
    if tls:
        raise LaunchError(
            "--tls is for a private single server; it does not combine with --cluster"
        )
    binary, flavor = _server_binary("the private cluster")
    acl_file, passwords = private_acl(credentials_dir, flavor)
    cluster = EmbeddedCluster(masters, binary=binary)
    try:
        with server_errors("starting the private cluster"):
            cluster.start()
            cluster.apply_acl(acl_file)
    except (OSError, RuntimeError, TimeoutError, TransportError) as exc:
        cluster.close()
        raise LaunchError(f"the private cluster did not start: {exc}") from None
    return cluster, private_identities(cluster.url, passwords)


async def _register_contract(schema_admin_url: str) -> None:
    """Register every schema of the contract as schema-admin: engines only read the registry."""
    admin = RedisAdmin.from_url(schema_admin_url, connect_timeout_s=2.0)
    try:
        await admin.ping()  # on a cluster node, the admin's client becomes a cluster client
        await SchemaRegistry(admin.redis).register_all(
            [cls.DESCRIPTOR for cls in bus_message_classes().values()], producer="schema-admin"
        )
    except MessageBusError as exc:
        raise LaunchError(redacted(f"registering the contract's schemas failed: {exc}")) from None
    finally:
        with contextlib.suppress(TransportError):
            await admin.close()


async def _acl_log(admin: RedisAdmin) -> list[dict[str, Any]] | None:
    """The server's ACL denials (who was refused what), or None when this identity may not
    read them. Entries carry user names, commands and keys, never passwords."""
    try:
        entries = await admin.acl_log()
    except TransportError:
        return None
    return [
        {
            "reason": str(entry.get("reason", "")),
            "username": str(entry.get("username", "")),
            "object": str(entry.get("object", "")),
            "context": str(entry.get("context", "")),
            "count": int(entry.get("count", 1)),
        }
        for entry in entries
    ]


def _stored_streams(engine: str) -> tuple[str, ...]:
    """The streams holding what `engine` publishes: its stream, or that stream's partitions."""
    stream = engine_info(engine).stream
    for cls in bus_message_classes().values():
        route = message_spec(cls).route
        if route.stream == stream:
            return route.streams
    return (stream,)


async def _backlog(admin: RedisAdmin) -> tuple[dict[str, int], int]:
    """Every lane's length, and the entries not yet read or not yet acknowledged by a group."""
    lengths: dict[str, int] = {}
    behind = 0
    for engine in ENGINES:
        for lane in [lane for s in _stored_streams(engine) for lane in lanes_in_read_order(s)]:
            info = await lane_info(admin, lane, with_consumers=False)
            lengths[lane] = info.entries_added
            for group in info.groups:
                behind += group.pending + (group.lag if group.lag is not None else 0)
    return lengths, behind


async def _delivery(admin: RedisAdmin) -> dict[str, Any]:
    """The server's bookkeeping per lane: entries added and each group's reads and pending."""
    lanes: dict[str, Any] = {}
    complete = True
    for engine in ENGINES:
        for lane in [lane for s in _stored_streams(engine) for lane in lanes_in_read_order(s)]:
            info = await lane_info(admin, lane, with_consumers=False)
            groups = {}
            for group in info.groups:
                groups[group.name] = {
                    "entries_read": group.entries_read,
                    "pending": group.pending,
                    "lag": group.lag,
                }
                caught_up = (
                    group.lag == 0
                    if group.lag is not None
                    else group.entries_read == info.entries_added
                )
                complete &= group.pending == 0 and caught_up
            lanes[lane] = {"entries_added": info.entries_added, "groups": groups}
    return {"lanes": lanes, "every_group_read_everything": complete}
