"""`Worker`: a long-lived child process that runs benchmark jobs sent to it over a pipe.

End-to-end figures need the publisher and the consumer in different processes (as two engines
are), and a quick run cannot afford to start interpreters per measurement, so each role gets one
process for the whole run. A job is a coroutine function from `jobs.JOBS`, called with keyword
arguments and a `notify` callback (to say "ready" before the clock starts); its return value
(plain data) is sent back. Children are started with "spawn": a clean interpreter, like an engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import traceback
from multiprocessing.connection import Connection
from typing import Any

__all__ = ["Worker", "WorkerError"]

_READY = "ready"


class WorkerError(RuntimeError):
    """A job failed in a worker; carries the worker's traceback."""


def _serve(connection: Connection) -> None:
    from nautilus.bench.jobs import JOBS

    while True:
        request = connection.recv()
        if request is None:
            return
        name, arguments = request

        def notify(event: str) -> None:
            connection.send(("event", event))

        try:
            result: Any = asyncio.run(JOBS[name](notify=notify, **arguments))
        except Exception:
            connection.send(("error", traceback.format_exc()))
        else:
            connection.send(("result", result))


class Worker:
    """One child process; `submit` a job, then `wait_ready` and/or `result`."""

    def __init__(self, name: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.name = name
        self._connection, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child,), name=name, daemon=True)
        self._process.start()
        child.close()

    def submit(self, job: str, **arguments: Any) -> None:
        self._connection.send((job, arguments))

    def _receive(self, timeout_s: float) -> tuple[str, Any]:
        try:
            if not self._connection.poll(timeout_s):
                raise WorkerError(f"{self.name}: no answer within {timeout_s:.0f} s")
            kind, payload = self._connection.recv()
        except (EOFError, OSError) as exc:
            raise WorkerError(f"{self.name} exited (code {self._process.exitcode})") from exc
        if kind == "error":
            raise WorkerError(f"{self.name} failed:\n{payload}")
        return kind, payload

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Wait for the running job's `notify("ready")`."""
        kind, payload = self._receive(timeout_s)
        if (kind, payload) != ("event", _READY):
            raise WorkerError(f"{self.name}: expected ready, got {kind} {payload!r}")

    def result(self, timeout_s: float = 120.0) -> Any:
        """The running job's return value."""
        while True:
            kind, payload = self._receive(timeout_s)
            if kind == "result":
                return payload

    def close(self) -> None:
        """Ask the process to exit; kill it if it does not."""
        if self._process.is_alive():
            with contextlib.suppress(OSError):
                self._connection.send(None)
            self._process.join(5)
        if self._process.is_alive():
            self._process.kill()
            self._process.join()
        self._connection.close()
