"""`EngineService`: the base of the twelve engine services, each a core wired to its typed client.

An engine service owns one generated client and one computation core. It subscribes a handler for
every message type the contract routes to its engine, publishes each output of the core through
the typed `publish_<type>` method of the output's class, and runs the core's periodic work on
market-time timers (see `market_time.py`). Nothing else touches the bus: no untyped publishing,
no side channels, so the engines prove the generated contract end to end.

Handlers come in four kinds, chosen per subscription in each service's `wire()`:

- `market(compute)`: a Quote or Trade; moves the engine's market time forward (firing due
  timers first), then computes;
- `react(compute)`: any other input the core uses;
- `alert(compute)`: a ToxicityAlert or FlashCrashWarning; like `react`, and records how long the
  alert took from its publication to the end of its handling here (the run report's latency);
- `record()`: a type routed to this engine that its core does not use; consumed and counted, so
  every routed consumer group reads its whole stream, as the contract says.

Errors the core raises for bad input (NoQuoteError, FeatureSetMismatchError, ValueError, ...)
propagate out of the handler: the runtime retries the entry and, after `max_deliveries`, moves it
to the dead-letter stream with the error. The service counts them and logs the first of each kind;
it never stops on them.

Determinism: handlers read time only from the bus client's clock (`now_ns`, stamped as `ts_init`)
and from market time, so on the in-process transport with a `TestClock` the same input yields the
same output.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, TypeVar

from google.protobuf.message import Message

from nautilus.engines.market_time import MarketClock, MarketTimer, TimerCallback
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.tally import ServiceTally
from nautilus.runtime.clock import Clock
from nautilus.runtime.delivery import Delivery
from nautilus.runtime.typed_client import MessageHandler, TypedClient

__all__ = ["Compute", "EngineService", "Publish"]

_log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)
ClientT = TypeVar("ClientT", bound=TypedClient)

#: A core's reaction to one input: `(message, now_ns) -> output messages`.
Compute = Callable[[M, int], Sequence[Message]]
#: A typed client's bound `publish_<type>` method.
Publish = Callable[..., Awaitable[None]]


class EngineService(Generic[ClientT]):
    """Lifecycle, handler kinds, output publishing, timers and counters of one engine."""

    #: The engine this service runs (its client's `ENGINE`).
    ENGINE: ClassVar[str]

    def __init__(self, client: ClientT, settings: RunSettings) -> None:
        if client.ENGINE != self.ENGINE:
            raise ValueError(f"{type(self).__name__} needs the {self.ENGINE!r} engine's client")
        self.client = client
        self.settings = settings
        #: Source of `now_ns` (the bus client's clock: live, or a backtest's TestClock).
        self.clock: Clock = client.config.clock
        #: The market time this engine has reached (its timers run on it).
        self.market_clock = MarketClock()
        self.tally = ServiceTally()
        self._publishers: dict[type[Message], Publish] = {}
        self._timers: list[MarketTimer] = []
        self._logged_errors: set[str] = set()
        self.wire()

    # -- what each engine defines ------------------------------------------------------------

    def wire(self) -> None:
        """Subscribe every routed type, declare the outputs and the timers (called once)."""
        raise NotImplementedError

    def facts(self) -> dict[str, Any]:
        """Engine-specific results for the run report and the live view (JSON data)."""
        return {}

    # -- wiring helpers ----------------------------------------------------------------------

    def publishes(self, message_class: type[Message], publish: Publish) -> None:
        """Send outputs of `message_class` through `publish` (the typed `publish_<type>`)."""
        self._publishers[message_class] = publish

    def every(self, name: str, interval_ns: int, callback: TimerCallback) -> None:
        """Run `callback(boundary_ns, now_ns)` at every `interval_ns` of market time."""
        self._timers.append(MarketTimer(name, interval_ns, callback))

    def market(self, compute: Compute[M] | None = None) -> MessageHandler[M]:
        """Handler for market data: advance market time (timers first), then compute."""

        async def handle(message: M, delivery: Delivery[M]) -> None:
            if self.market_clock.advance(int(getattr(message, "ts_event", 0))):
                await self._fire_timers()
            if compute is not None:
                await self.publish_all(self._compute(compute, message, delivery))
            self.tally.consumed[delivery.message_type] += 1

        return handle

    def react(self, compute: Compute[M]) -> MessageHandler[M]:
        """Handler for an input the core uses."""

        async def handle(message: M, delivery: Delivery[M]) -> None:
            await self.publish_all(self._compute(compute, message, delivery))
            self.tally.consumed[delivery.message_type] += 1

        return handle

    def alert(self, compute: Compute[M]) -> MessageHandler[M]:
        """Handler for a toxicity alert or flash-crash warning; records its propagation time."""

        async def handle(message: M, delivery: Delivery[M]) -> None:
            await self.publish_all(self._compute(compute, message, delivery))
            self.tally.consumed[delivery.message_type] += 1
            self.tally.record_alert_latency(delivery.published_at_ns, self.clock.timestamp_ns())

        return handle

    def record(self) -> MessageHandler[Any]:
        """Handler for a routed type this engine's core does not use: consumed and counted."""

        def handle(message: Message, delivery: Delivery[Any]) -> None:
            self.tally.consumed[delivery.message_type] += 1

        return handle

    # -- running -----------------------------------------------------------------------------

    async def publish_all(self, outputs: Iterable[Message]) -> None:
        """Publish each output through its type's typed method, keyed by instrument if any."""
        for message in outputs:
            publish = self._publishers.get(type(message))
            if publish is None:
                raise TypeError(f"{self.ENGINE} has no publisher for {type(message).__name__}")
            await publish(message, key=getattr(message, "instrument_id", "") or None)
            self.tally.published[message.DESCRIPTOR.full_name] += 1

    async def start(self, *, consume: bool = True) -> None:
        """Start the client: consumer groups, publishing, and (with `consume`) the consume loop."""
        await self.client.start(consume=consume)

    async def close(self, timeout_s: float | None = 5.0) -> None:
        """Write what is buffered and stop the client."""
        await self.client.close(timeout_s)

    def health(self) -> dict[str, Any]:
        """Extra `/health` fields: progress counters the launcher's live view shows, and a
        replica's leases (what it holds of its group's streams)."""
        leases = self.client.bus.leases
        extra = {"leases": leases.view().as_dict()} if leases is not None else {}
        return {
            **extra,
            "service": {
                "market_time_ns": self.market_clock.timestamp_ns(),
                "consumed": sum(self.tally.consumed.values()),
                "published": sum(self.tally.published.values()),
                "handler_errors": sum(self.tally.handler_errors.values()),
                **self.facts(),
            },
        }

    def summary(self) -> dict[str, Any]:
        """Everything the run report needs from this engine (JSON data, sorted keys)."""
        return {
            "engine": self.ENGINE,
            "market_time_ns": self.market_clock.timestamp_ns(),
            **self.tally.summary(),
            "facts": self.facts(),
        }

    def _compute(self, compute: Compute[M], message: M, delivery: Delivery[M]) -> Sequence[Message]:
        try:
            return compute(message, self.clock.timestamp_ns())
        except Exception as exc:
            kind = type(exc).__name__
            self.tally.handler_errors[kind] += 1
            if kind not in self._logged_errors:
                self._logged_errors.add(kind)
                _log.warning(
                    "%s: %s failed on %s %s (the bus retries, then dead-letters): %s",
                    self.ENGINE,
                    getattr(compute, "__name__", "handler"),
                    delivery.message_type,
                    delivery.entry_id,
                    exc,
                )
            raise

    async def _fire_timers(self) -> None:
        market_ns = self.market_clock.timestamp_ns()
        for timer in self._timers:
            for boundary in timer.due(market_ns):
                await self.publish_all(timer.callback(boundary, self.clock.timestamp_ns()))
