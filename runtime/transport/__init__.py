"""Transports: where stream entries live (Redis, or this process's memory for backtests)."""

from nautilus.runtime.transport.base import ClaimResult, Entry, GroupState, Transport
from nautilus.runtime.transport.memory import InMemoryTransport
from nautilus.runtime.transport.redis import RedisTransport

__all__ = ["ClaimResult", "Entry", "GroupState", "InMemoryTransport", "RedisTransport", "Transport"]
