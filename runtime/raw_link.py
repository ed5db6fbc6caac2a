"""`RawLink`: one blocking connection to a server, with no client library in between.

Instruments that time the server itself (the run's alert-propagation floor, engines/alert_probe.py)
must not go through the bus's transport: its event loop, pools and retries are what they measure
the bus against. They still reach the server as the bus's URL says: user and password, database,
TLS with the context redis-py itself would build from a `rediss://` URL's query, a Unix socket;
on a Redis Cluster a MOVED reply is followed. Engines and operator commands reach Redis only
through the runtime, so the one class that opens such a connection lives here.

Replies are parsed by hiredis, the cheapest parser Python has; the socket is blocking.
"""

from __future__ import annotations

import socket
import ssl
from typing import Any

import hiredis
from redis.asyncio.connection import SSLConnection, UnixDomainSocketConnection, parse_url

from nautilus.runtime.errors import ServerUnreachableError, TransportError

__all__ = ["RawLink"]

_DEFAULT_TIMEOUT_S = 30.0


class RawLink:
    """A blocking connection to the server of `url`, authenticated and on its database.

    `call` sends one command and returns its reply; a refusal raises TransportError, a lost or
    silent server (no reply within `timeout_s`) ServerUnreachableError or OSError."""

    def __init__(self, url: str, *, timeout_s: float = _DEFAULT_TIMEOUT_S) -> None:
        options: dict[str, Any] = dict(parse_url(url))
        connection_class = options.pop("connection_class", None)
        self._timeout_s = timeout_s
        self._path: str | None = (
            options.get("path") if connection_class is UnixDomainSocketConnection else None
        )
        self._address = (str(options.get("host", "localhost")), int(options.get("port", 6379)))
        self._username: str | None = options.get("username")
        self._password: str | None = options.get("password")
        self._db = int(options.get("db", 0) or 0)
        self._tls: ssl.SSLContext | None = None
        if connection_class is SSLConnection:
            tls_connection: Any = SSLConnection(**options)
            self._tls = tls_connection.ssl_context.get()
        self._sock = self._open(self._address)
        self._reader = hiredis.Reader()
        self._hello()

    def _open(self, address: tuple[str, int]) -> socket.socket:
        if self._path is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(self._timeout_s)
            sock.connect(self._path)
            return sock
        sock = socket.create_connection(address, timeout=self._timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls is not None:
            sock = self._tls.wrap_socket(sock, server_hostname=address[0])
        return sock

    def _hello(self) -> None:
        if self._password:
            identity = [self._username.encode()] if self._username else []
            self.call(b"AUTH", *identity, self._password.encode())
        if self._db:
            self.call(b"SELECT", b"%d" % self._db)

    def _reply(self) -> Any:
        while (reply := self._reader.gets()) is False:
            data = self._sock.recv(1 << 16)
            if not data:
                raise ServerUnreachableError("read", "the server closed the connection")
            self._reader.feed(data)
        return reply

    def call(self, *args: bytes) -> Any:
        """One command's reply; a MOVED reply is followed once (Redis Cluster)."""
        command: Any = args
        packed = hiredis.pack_command(command)
        self._sock.sendall(packed)
        reply = self._reply()
        if isinstance(reply, hiredis.ReplyError) and str(reply).startswith("MOVED "):
            self._move(str(reply))
            self._sock.sendall(packed)
            reply = self._reply()
        if isinstance(reply, hiredis.ReplyError):
            raise TransportError(args[0].decode(errors="replace"), f"refused: {reply}")
        return reply

    def _move(self, moved: str) -> None:
        """To the node a `MOVED <slot> <host>:<port>` reply names (no host: this one's)."""
        host, _, port = moved.split()[2].rpartition(":")
        self._sock.close()
        self._address = (host or self._address[0], int(port))
        self._sock = self._open(self._address)
        self._reader = hiredis.Reader()
        self._hello()

    def close(self) -> None:
        self._sock.close()
