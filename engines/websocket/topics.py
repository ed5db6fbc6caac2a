"""Topics for frontend updates, and the filter that selects which ones browsers get.

A topic is `<producer engine name>.<message name in snake_case>`, with `.<instrument id>` appended
for the engines in `per_instrument_engines` (by default only `marketdata`, whose volume makes
per-instrument subscriptions worthwhile), for example `vpin.toxicity_alert` or
`marketdata.quote.BTCUSDT.BINANCE`. Patterns are shell-style (`fnmatch`, case-sensitive):
`vpin.*`, `marketdata.quote.*`, `*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from nautilus.runtime.naming import snake_case

__all__ = ["TopicFilter", "snake_case", "topic_for"]


def topic_for(engine: str, message_name: str, instrument_id: str, per_instrument: bool) -> str:
    """The topic of one message."""
    topic = f"{engine}.{snake_case(message_name)}"
    return f"{topic}.{instrument_id}" if per_instrument and instrument_id else topic


@dataclass(frozen=True, slots=True)
class TopicFilter:
    """A topic passes when it matches an `include` pattern and no `exclude` pattern, and its
    instrument (if any) is in `instruments` (empty: every instrument)."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()

    def allows(self, topic: str, instrument_id: str) -> bool:
        """True if an update with this topic and instrument should be sent."""
        if not any(fnmatchcase(topic, pattern) for pattern in self.include):
            return False
        if any(fnmatchcase(topic, pattern) for pattern in self.exclude):
            return False
        return not (self.instruments and instrument_id and instrument_id not in self.instruments)
