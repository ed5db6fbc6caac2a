"""Fan-out of frames to many browsers, where a slow browser never holds up the others.

Each browser has its own bounded queues, and nothing in `push` waits for any browser:

- A browser that keeps up (nothing queued, its socket accepting writes) gets the frame written
  straight to its socket, together with every other such browser (`websockets.broadcast`: the
  frame is encoded once).
- A browser whose socket is full (the kernel and the connection's write buffer are above the
  high-water mark) gets the frame queued instead; its own sender task writes the queue out as the
  socket drains.
- Queued quotes are bounded per browser and drop the oldest first (`quote_limit`): a stale price
  is worth nothing once a newer one is there. Every other frame (alerts, orders, PnL, the factor
  model) is kept: it is never dropped. A browser that falls more than `kept_limit` such frames
  behind is disconnected with close code 1013 ("try again later") rather than buffered without
  bound; the dashboard then reconnects and reloads the recent alerts from `/api/desk`.

`FanoutStats` counts what was written, queued, dropped (quotes only) and disconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field

from websockets.asyncio.connection import Connection, broadcast
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from nautilus.engines.websocket.topics import TopicFilter

__all__ = ["DROPPABLE_TOPIC_PREFIX", "Browser", "Fanout", "FanoutStats"]

#: Topics whose frames may be dropped (oldest first) for a browser that is behind: quotes.
DROPPABLE_TOPIC_PREFIX = "marketdata.quote."
#: The close code for a browser too far behind on frames that are never dropped.
_TRY_AGAIN_LATER = 1013


@dataclass(slots=True)
class FanoutStats:
    """What the fan-out did since it started (frames counted per browser)."""

    written: int = 0
    queued: int = 0
    quotes_dropped: int = 0
    disconnected_behind: int = 0


@dataclass(eq=False, slots=True)
class Browser:
    """One connected browser: its topics and the frames waiting for its socket to drain."""

    connection: Connection
    topics: TopicFilter | None
    quotes: deque[bytes]
    kept: deque[bytes] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def behind(self) -> bool:
        """True while frames wait in its queues or its socket does not take writes."""
        return bool(self.kept or self.quotes) or self.connection.paused


class Fanout:
    """The connected browsers and the per-browser queues between the engine and their sockets."""

    def __init__(self, *, quote_limit: int = 256, kept_limit: int = 10_000) -> None:
        if quote_limit < 1 or kept_limit < 1:
            raise ValueError("quote_limit and kept_limit must be at least 1")
        self.quote_limit = quote_limit
        self.kept_limit = kept_limit
        self.browsers: dict[Connection, Browser] = {}
        self.stats = FanoutStats()
        self._selected: dict[tuple[TopicFilter, str, str], bool] = {}
        self._closing: set[asyncio.Future[None]] = set()

    def __len__(self) -> int:
        return len(self.browsers)

    async def serve(self, connection: Connection, topics: TopicFilter | None) -> None:
        """Register `connection` and keep it fed until it closes (the server's handler)."""
        browser = Browser(connection, topics, deque(maxlen=self.quote_limit))
        self.browsers[connection] = browser
        sender = asyncio.create_task(self._send_queued(browser))
        try:
            async for _ in connection:
                pass  # browsers only listen; anything they send is ignored
        except ConnectionClosed:
            pass
        finally:
            self.browsers.pop(connection, None)
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender

    def push(self, frame: bytes, topic: str, instrument_id: str = "") -> int:
        """Send `frame` (UTF-8 JSON text) to every browser whose topics select it; returns how
        many browsers it went to (written now or queued)."""
        droppable = topic.startswith(DROPPABLE_TOPIC_PREFIX)
        ready: list[Connection] = []
        too_far_behind: list[Browser] = []
        stats = self.stats
        count = 0
        for connection, browser in self.browsers.items():
            topics = browser.topics
            if topics is not None and not self._selects(topics, topic, instrument_id):
                continue
            count += 1
            if not browser.behind:
                ready.append(connection)
                continue
            stats.queued += 1
            if droppable:
                if len(browser.quotes) == self.quote_limit:
                    stats.quotes_dropped += 1
                browser.quotes.append(frame)
            elif len(browser.kept) >= self.kept_limit:
                too_far_behind.append(browser)
                continue
            else:
                browser.kept.append(frame)
            browser.wake.set()
        if ready:
            broadcast(ready, frame, text=True)
            stats.written += len(ready)
        for browser in too_far_behind:
            self._disconnect_behind(browser)
        return count

    def _selects(self, topics: TopicFilter, topic: str, instrument_id: str) -> bool:
        key = (topics, topic, instrument_id)
        selected = self._selected.get(key)
        if selected is None:
            if len(self._selected) > 100_000:
                self._selected.clear()
            selected = self._selected[key] = topics.allows(topic, instrument_id)
        return selected

    def _disconnect_behind(self, browser: Browser) -> None:
        self.stats.disconnected_behind += 1
        browser.kept.clear()
        browser.quotes.clear()
        self.browsers.pop(browser.connection, None)
        closing = asyncio.ensure_future(
            browser.connection.close(_TRY_AGAIN_LATER, "too far behind: reconnect")
        )
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    async def _send_queued(self, browser: Browser) -> None:
        """Write the browser's queues out as its socket drains: kept frames in order first,
        then the newest quotes."""
        connection = browser.connection
        while True:
            await browser.wake.wait()
            browser.wake.clear()
            while browser.kept or browser.quotes:
                await connection.drain()
                if connection.protocol.state is not State.OPEN:
                    return
                queue = browser.kept if browser.kept else browser.quotes
                broadcast([connection], queue.popleft(), text=True)
                self.stats.written += 1
