"""The WebSocket engine on its generated client: routed bus messages in, `FrontendUpdate`s out,
both on the bus (its own stream) and to every connected browser.

The engine consumes what the contract routes to it (quotes, trades, the factor model, and for
the desk's dashboard the alerts, margin alerts, orders, PnL, signals, positions and margin
requirements), turns each message the topic filter selects into a numbered `FrontendUpdate`,
publishes it, and pushes it as a JSON text frame (`browser_frame`: the update in the proto3 JSON
mapping, payload embedded) to the browsers whose own topic patterns match. By default browsers get
quotes, the factor model and the desk's topics (alerts, margin alerts, orders, PnL); trades are
left out (they double the traffic and the quotes carry the price), and signals, positions and
margin requirements are consumed and counted only. Pushing never waits for a browser: each has
its own bounded queues (`fanout.py`).

The network side (the WebSocket server, with /health and /metrics on the same port) is in
`browser_server.py`; this module only decides what goes where, so it runs unchanged in a backtest,
where no browser is connected.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from google.protobuf.message import Message

from nautilus.clients.websocket import WebSocketClient
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.service import EngineService
from nautilus.engines.websocket.core import FrontendEncoder, WebSocketConfig, browser_frame
from nautilus.engines.websocket.fanout import Fanout
from nautilus.engines.websocket.topics import TopicFilter
from nautilus.websocket.v1.websocket_pb2 import FrontendUpdate

__all__ = ["DEFAULT_TOPICS", "DESK_TOPICS", "WebSocketService", "websocket_config"]

#: Topics pushed by default: every quote and every factor-model estimation.
DEFAULT_TOPICS = ("marketdata.quote.*", "toraniko.*")
#: The desk's view: alerts, orders and PnL (the last of them kept for browsers that connect later).
DESK_TOPICS = (
    "vpin.toxicity_alert",
    "vpin.flash_crash_warning",
    "collateral.margin_alert",
    "strategy.order_request",
    "portfolio.pnl_update",
)

#: How many desk frames the engine keeps for browsers that connect later.
DESK_HISTORY = 200


def websocket_config(settings: RunSettings) -> WebSocketConfig:
    """Quotes, the factor model and the desk's view go to the frontend; trades stay on the bus."""
    return WebSocketConfig(topic_filter=TopicFilter(include=DEFAULT_TOPICS + DESK_TOPICS))


class WebSocketService(EngineService[WebSocketClient]):
    """Encodes, publishes and pushes frontend updates; keeps the set of connected browsers."""

    ENGINE = "websocket"

    def wire(self) -> None:
        self.encoder = FrontendEncoder(websocket_config(self.settings))
        #: Connected browsers, the topics each asked for, and their queues.
        self.fanout = Fanout()
        #: The last desk frames (alerts, orders, PnL), for browsers that connect later.
        self.desk_history: deque[str] = deque(maxlen=DESK_HISTORY)
        client = self.client
        self.publishes(FrontendUpdate, client.publish_frontend_update)
        client.on_quote(self.market(self._encode))
        client.on_trade(self.market(self._encode))
        client.on_factor_covariance(self.react(self._encode))
        client.on_factor_exposures(self.react(self._encode))
        client.on_factor_returns(self.react(self._encode))
        client.on_flash_crash_warning(self.alert(self._desk))
        client.on_toxicity_alert(self.alert(self._desk))
        client.on_margin_alert(self.react(self._desk))
        client.on_order_request(self.react(self._desk))
        client.on_pnl_update(self.react(self._desk))
        client.on_trading_signal(self.record())
        client.on_position_update(self.record())
        client.on_margin_requirement(self.record())

    def _encode(self, message: Message, now_ns: int) -> Sequence[FrontendUpdate]:
        update = self.encoder.encode(message, now_ns)
        if update is None:
            return []
        self.push(update)
        return [update]

    def _desk(self, message: Message, now_ns: int) -> Sequence[FrontendUpdate]:
        """A message of the desk's view: encoded and pushed like the others, and kept among the
        recent ones."""
        updates = self._encode(message, now_ns)
        self.desk_history.extend(browser_frame(update) for update in updates)
        return updates

    def push(self, update: FrontendUpdate) -> None:
        """Send `update` to every connected browser whose topics select it, never waiting for
        any of them (`Fanout.push`)."""
        if self.fanout.browsers:
            frame = browser_frame(update).encode()
            self.fanout.push(frame, update.topic, update.instrument_id)

    def facts(self) -> dict[str, Any]:
        stats = self.fanout.stats
        return {
            "browsers": len(self.fanout),
            "frames_sent": stats.written,
            "frames_queued": stats.queued,
            "quotes_dropped": stats.quotes_dropped,
            "browsers_disconnected_behind": stats.disconnected_behind,
            "updates": self.encoder.sequence,
        }
