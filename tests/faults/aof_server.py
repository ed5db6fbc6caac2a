"""A private redis-server that keeps its data in an append-only file, for crash and restart faults.

Unlike `EmbeddedServer` (no persistence), this one writes every command to its AOF and fsyncs
before it replies (`appendfsync always`), so a reply the publisher received is a promise the
server keeps across kill -9 and restart. `restart(loading_delay_us=...)` slows loading down, key
by key, so the restarted server answers `-LOADING` for a while, as a big dataset would.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

from nautilus.runtime.server import find_server_binary

__all__ = ["AofServer"]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AofServer:
    """One redis-server process on a free port of 127.0.0.1, its data in a private directory."""

    def __init__(self) -> None:
        self.binary = find_server_binary()
        self.port = _free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="nautilus-aof-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """A synchronous client for setting up and inspecting (not the code under test)."""
        return redis.Redis(port=self.port, socket_timeout=30)

    def start(self, *, loading_delay_us: int = 0, timeout_s: float = 30.0) -> None:
        """Start and wait until it accepts connections (it may still be loading its data)."""
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes",
            "--appendfsync", "always",
            "--protected-mode", "no",
        ]  # fmt: skip
        if loading_delay_us:
            command += [
                "--key-load-delay", str(loading_delay_us),
                "--loading-process-events-interval-bytes", "1024",
            ]  # fmt: skip
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.binary} exited with {self._process.returncode}")
            with contextlib.suppress(OSError):
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            time.sleep(0.01)
        raise TimeoutError(f"{self.binary} did not accept connections on port {self.port}")

    def wait_loaded(self, timeout_s: float = 60.0) -> None:
        """Wait until the server has loaded its data and answers PING."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.RedisError, OSError), self.client() as connection:
                if connection.ping():
                    return
            time.sleep(0.02)
        raise TimeoutError("server still loading")

    def kill(self) -> None:
        """SIGKILL, as a crash: only what was fsynced to the AOF survives."""
        if self._process is not None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait()
            self._process = None

    def shutdown(self) -> None:
        """SHUTDOWN: the server closes its clients, syncs its AOF and exits."""
        with contextlib.suppress(redis.ConnectionError), self.client() as connection:
            connection.shutdown(nosave=False)
        if self._process is not None:
            self._process.wait(30)
            self._process = None

    def close(self) -> None:
        self.kill()
        with contextlib.suppress(OSError):
            shutil.rmtree(self.directory)
