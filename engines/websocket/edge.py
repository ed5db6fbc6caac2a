"""A WebSocket edge: more browsers than one process can write to, served from the same stream.

One WebSocket engine consumes the bus (its consumer group), encodes each selected message once
and publishes it as a `FrontendUpdate` on `nautilus-websocket-streams`. An edge process reads that
stream the way `nautilus tail` does (plain XREAD, no consumer group: every edge gets every
update, and none takes anything from another) and writes each update to its own browsers through
the same per-browser queues as the engine (`fanout.py`). Edges serve the same port layout as the
engine: the WebSocket, the dashboard, `/api/engines`, `/api/desk`, `/health` and `/metrics`.

    python -m nautilus.engines.websocket.edge --redis-url URL --port 8601 [--run-dir DIR]

Browsers are spread over the edges by whatever balances connections in front of them (DNS, a TCP
load balancer); docs/scaling.md says how many edges a number of browsers needs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from google.protobuf.message import Message

from nautilus.engines.run_files import write_run_file
from nautilus.engines.websocket.core import browser_frame
from nautilus.engines.websocket.fanout import Fanout
from nautilus.engines.websocket.service import DESK_HISTORY, DESK_TOPICS
from nautilus.engines.websocket.stream_tail import StreamTail
from nautilus.websocket.v1.websocket_pb2 import FrontendUpdate

__all__ = ["EdgeRelay", "main"]

_log = logging.getLogger("nautilus.engines.websocket.edge")


class EdgeRelay:
    """Frontend updates from the bus to this process's browsers (and its recent desk frames)."""

    ENGINE = "websocket-edge"

    def __init__(self, redis_url: str) -> None:
        self.fanout = Fanout()
        #: The last desk frames (alerts, orders, PnL), for browsers that connect later.
        self.desk_history: deque[str] = deque(maxlen=DESK_HISTORY)
        self.feed = StreamTail(redis_url, self.relay, types=(FrontendUpdate,))
        self.relayed = 0

    async def relay(self, message: Message) -> None:
        """Push one `FrontendUpdate` to the browsers whose topics select it."""
        assert isinstance(message, FrontendUpdate)
        frame = browser_frame(message)
        if message.topic in DESK_TOPICS:
            self.desk_history.append(frame)
        self.relayed += 1
        if self.fanout.browsers:
            self.fanout.push(frame.encode(), message.topic, message.instrument_id)

    def health(self) -> dict[str, Any]:
        """The edge's `/health` answer."""
        stats = self.fanout.stats
        return {
            "engine": self.ENGINE,
            "status": "ok",
            "lanes": {},
            "service": {
                "browsers": len(self.fanout),
                "relayed": self.relayed,
                "unreadable": self.feed.unreadable,
                "frames_sent": stats.written,
                "frames_queued": stats.queued,
                "quotes_dropped": stats.quotes_dropped,
                "browsers_disconnected_behind": stats.disconnected_behind,
            },
        }


async def run_edge(redis_url: str, host: str, port: int, run_dir: Path | None) -> int:
    """Serve browsers from the stream until SIGTERM or SIGINT."""
    from nautilus.engines.websocket.browser_server import BrowserServer
    from nautilus.engines.websocket.peers import PeerWatch
    from nautilus.runtime.metrics import BusMetrics

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    relay = EdgeRelay(redis_url)
    server = BrowserServer(
        relay, BusMetrics(), peers=PeerWatch(run_dir, lambda: server.port), tail=relay.feed
    )
    await server.start(host, port)
    if run_dir is not None:
        write_run_file(run_dir / f"edge-{os.getpid()}.ready.json", f'{{"port": {server.port}}}')
    _log.info("edge serving browsers on ws://%s:%d/", host, server.port)
    try:
        await stop.wait()
    finally:
        await server.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nautilus.engines.websocket.edge",
        description="Serve browsers the WebSocket engine's updates, read from the bus.",
    )
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--run-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if not args.redis_url:
        print("no Redis: pass --redis-url or set REDIS_URL", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s edge %(levelname)s %(message)s")
    from nautilus.engines.process import raise_open_file_limit

    raise_open_file_limit()
    return asyncio.run(run_edge(args.redis_url, args.host, args.port, args.run_dir))


if __name__ == "__main__":
    sys.exit(main())
