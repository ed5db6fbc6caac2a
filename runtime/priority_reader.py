"""`PriorityReader`: a consumer's URGENT/CRITICAL lanes, read by a blocking read of their own.

A consumer busy with bulk traffic handles entries for milliseconds at a time. Before this reader
it looked at its priority lanes between bulk batches and, during a batch, every millisecond: an
XREADGROUP round trip per millisecond of bulk work (a third of a draining consumer's time and
as many extra commands for the server), and a CRITICAL entry still waited for the next look.

The reader instead keeps one XREADGROUP ... BLOCK outstanding on the priority lanes only, on a
connection of its own (the transport gives each concurrent call its own connection), so the
server answers the moment a priority entry is written and no command is spent while none is.
On a single server that is one command over the priority lanes of every subscribed stream; on a
cluster, one per stream (transport/redis.py), the others ended when one returns.
It runs on the consumer's event loop, so handlers keep running on one thread as engines expect;
while the reader runs, the consumer's own cycle reads only the bulk lanes and yields to the loop
every few dozen bulk entries, which is when the reader's reply is taken and handled.

Same group, same consumer name, same processing (acknowledgement, dead letters, reclaim by the
consumer's cycle): only the reading moves. If the reader stops for any reason, the consumer goes
back to reading its priority lanes itself.
"""

from __future__ import annotations

import asyncio
import logging

from nautilus.runtime.backoff import Backoff
from nautilus.runtime.consumer import Consumer
from nautilus.runtime.errors import TransportError

__all__ = ["PriorityReader"]

_log = logging.getLogger(__name__)


class PriorityReader:
    """Reads and handles `consumer`'s priority lanes until stopped (see the module docstring)."""

    def __init__(self, consumer: Consumer) -> None:
        self._consumer = consumer
        #: Entries handled by the reader (monitoring and tests).
        self.handled = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Read the priority lanes with a blocking read until `stop` is set, surviving outages."""
        consumer = self._consumer
        config = consumer.config
        backoff = Backoff(config.reconnect_initial_ms, config.reconnect_max_ms)
        consumer.priority_reader_active = True
        try:
            while not stop.is_set():
                try:
                    self.handled += await consumer.read_priority_lanes(config.read_block_ms)
                except TransportError as exc:
                    await self._pause(backoff, exc)
                except Exception as exc:
                    # A failure here must never leave the priority lanes unread for good.
                    _log.exception("priority reader: unexpected failure")
                    await self._pause(backoff, exc)
                else:
                    backoff.reset()
        finally:
            consumer.priority_reader_active = False

    @staticmethod
    async def _pause(backoff: Backoff, exc: Exception) -> None:
        delay = backoff.next_delay_s()
        if backoff.failures == 1 or backoff.failures % 50 == 0:
            _log.warning("priority reader: %s; retrying in %.3fs", exc, delay)
        await asyncio.sleep(delay)
