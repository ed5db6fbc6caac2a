"""Fan-out to browsers: a browser that stops reading never holds up the others; its quotes are
bounded (the oldest dropped first) and its alerts are all delivered, in order, once it reads
again. Real WebSocket connections on loopback; the stalled browser is a socket that completed the
handshake and then stopped reading."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from nautilus.engines.websocket.fanout import Fanout

QUOTE = "marketdata.quote.BTCUSDT.BINANCE"
ALERT = "vpin.flash_crash_warning"
#: Padding that makes quote frames large enough to fill the stalled socket quickly.
_PAD = "x" * 2048
_SMALL_BUFFER = 8192


def _frame(topic: str, n: int) -> bytes:
    pad = _PAD if topic == QUOTE else ""
    return json.dumps({"topic": topic, "n": n, "pad": pad}).encode()


async def _wait_for(condition: object) -> None:
    deadline = time.monotonic() + 30.0  # bounds a hang; asserts no timing
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)


@asynccontextmanager
async def _fanout_server(fanout: Fanout) -> AsyncIterator[int]:
    async def handler(connection: ServerConnection) -> None:
        await fanout.serve(connection, None)

    async with serve(handler, "127.0.0.1", 0, write_limit=_SMALL_BUFFER) as server:
        listening = next(iter(server.sockets))
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SMALL_BUFFER)
        yield int(listening.getsockname()[1])


class _StalledBrowser:
    """A WebSocket client that does the handshake, then reads nothing until `read_all`."""

    async def open(self, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _SMALL_BUFFER)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
        self.reader, self.writer = await asyncio.open_connection(sock=sock)
        key = base64.b64encode(os.urandom(16)).decode()
        self.writer.write(
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101")

    async def read_all(self, until: bytes) -> list[dict[str, object]]:
        """Every text frame up to and including the one equal to `until`."""
        frames: list[dict[str, object]] = []
        while True:
            first, second = await self.reader.readexactly(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(await self.reader.readexactly(2), "big")
            elif length == 127:
                length = int.from_bytes(await self.reader.readexactly(8), "big")
            payload = await self.reader.readexactly(length)
            if first & 0x0F != 0x1:
                continue  # a ping: not ours to count
            frames.append(json.loads(payload))
            if payload == until:
                return frames

    def close(self) -> None:
        self.writer.transport.abort()


async def test_a_stalled_browser_holds_up_no_one_and_loses_no_alert() -> None:
    fanout = Fanout(quote_limit=16)
    quotes, alerts = 600, 60
    async with _fanout_server(fanout) as port:
        stalled = _StalledBrowser()
        await stalled.open(port)
        async with connect(f"ws://127.0.0.1:{port}/", max_size=None) as fast:
            await _wait_for(lambda: len(fanout) == 2)
            received: list[dict[str, object]] = []
            last_alert = _frame(ALERT, alerts - 1)

            async def read_fast() -> None:
                async for message in fast:
                    received.append(json.loads(message))
                    if message == last_alert.decode():
                        return

            reading = asyncio.create_task(read_fast())
            for n in range(quotes):
                fanout.push(_frame(QUOTE, n), QUOTE)
                if n % (quotes // alerts) == 0:
                    fanout.push(_frame(ALERT, n // (quotes // alerts)), ALERT)
                await asyncio.sleep(0)
            await asyncio.wait_for(reading, 30.0)  # while the stalled browser still reads nothing

            fast_alerts = [f["n"] for f in received if f["topic"] == ALERT]
            assert fast_alerts == list(range(alerts))
            stalled_frames = await asyncio.wait_for(stalled.read_all(last_alert), 30.0)
            stalled.close()

    stalled_alerts = [f["n"] for f in stalled_frames if f["topic"] == ALERT]
    assert stalled_alerts == list(range(alerts))  # every alert, in order
    stalled_quotes = [f["n"] for f in stalled_frames if f["topic"] == QUOTE]
    assert len(stalled_quotes) < quotes  # bounded: the stalled browser did not get them all
    assert stalled_quotes == sorted(stalled_quotes)
    assert fanout.stats.quotes_dropped > 0


async def test_a_browser_too_far_behind_on_alerts_is_told_to_reconnect() -> None:
    fanout = Fanout(kept_limit=20)
    async with _fanout_server(fanout) as port:
        stalled = _StalledBrowser()
        await stalled.open(port)
        await _wait_for(lambda: len(fanout) == 1)
        n = 0
        while len(fanout) == 1:
            fanout.push(_frame(ALERT, n) + _PAD.encode(), ALERT)  # big frames fill the socket
            n += 1
            await asyncio.sleep(0)
            assert n < 100_000
        stalled.close()

    assert fanout.stats.disconnected_behind == 1
    assert fanout.stats.quotes_dropped == 0
