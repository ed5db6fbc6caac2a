"""The WebSocket engine on its generated client: routed bus messages in, `FrontendUpdate`s out,
both on the bus (its own stream) and to every connected browser.

The engine consumes what the contract routes to it (quotes, trades and the factor model), turns
each message the topic filter selects into a numbered `FrontendUpdate`, publishes it, and pushes
it as a JSON text frame (`browser_frame`: the update in the proto3 JSON mapping, payload
embedded) to the browsers whose own topic patterns match. By default browsers get quotes and the
factor model; trades are left out (they double the traffic and the quotes carry the price).

The network side (the WebSocket server, with /health and /metrics on the same port) is in
`browser_server.py`; this module only decides what goes where, so it runs unchanged in a backtest,
where no browser is connected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message
from websockets.asyncio.connection import Connection, broadcast

from nautilus.clients.websocket import WebSocketClient
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.engines.websocket.core import FrontendEncoder, WebSocketConfig, browser_frame
from nautilus.engines.websocket.topics import TopicFilter
from nautilus.websocket.v1.websocket_pb2 import FrontendUpdate

__all__ = ["DEFAULT_TOPICS", "WebSocketService", "websocket_config"]

#: Topics pushed by default: every quote and every factor-model estimation.
DEFAULT_TOPICS = ("marketdata.quote.*", "toraniko.*")


def websocket_config(settings: RunSettings) -> WebSocketConfig:
    """Quotes and the factor model go to the frontend; trades stay on the bus."""
    return WebSocketConfig(topic_filter=TopicFilter(include=DEFAULT_TOPICS))


class WebSocketService(EngineService[WebSocketClient]):
    """Encodes, publishes and pushes frontend updates; keeps the set of connected browsers."""

    ENGINE = "websocket"

    def wire(self) -> None:
        self.encoder = FrontendEncoder(websocket_config(self.settings))
        #: Connected browsers and the topics each asked for (None: everything selected).
        self.browsers: dict[Connection, TopicFilter | None] = {}
        self.frames_sent = 0
        client = self.client
        self.publishes(FrontendUpdate, client.publish_frontend_update)
        client.on_quote(self.market(self._encode))
        client.on_trade(self.market(self._encode))
        client.on_factor_covariance(self.react(self._encode))
        client.on_factor_exposures(self.react(self._encode))
        client.on_factor_returns(self.react(self._encode))

    def _encode(self, message: Message, now_ns: int) -> Sequence[FrontendUpdate]:
        update = self.encoder.encode(message, now_ns)
        if update is None:
            return []
        self.push(update)
        return [update]

    def push(self, update: FrontendUpdate) -> None:
        """Send `update` to every connected browser whose topics select it (no waiting: a slow
        browser's frames queue in its own buffer, and the connection's ping timeout ends it)."""
        if not self.browsers:
            return
        targets = [
            connection
            for connection, topics in self.browsers.items()
            if topics is None or topics.allows(update.topic, update.instrument_id)
        ]
        if targets:
            broadcast(targets, browser_frame(update))
            self.frames_sent += len(targets)

    def facts(self) -> dict[str, Any]:
        return {
            "browsers": len(self.browsers),
            "frames_sent": self.frames_sent,
            "updates": self.encoder.sequence,
        }
