"""`MessageBusConfig`: one validated, immutable description of how a client uses the bus."""

from __future__ import annotations

import os
import socket
from typing import Literal
from urllib.parse import unquote, urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from nautilus.runtime.clock import Clock, LiveClock
from nautilus.runtime.observer import observer_group
from nautilus.runtime.routing import engine_info
from nautilus.runtime.schema.modes import DEFAULT_LEVEL, CompatLevel, CompatMode

__all__ = ["BackpressurePolicy", "MessageBusConfig", "SchemaRegistration"]

#: What a producer does on start when its schemas are not yet in the registry: register them
#: (when its identity may; development servers) or only check and refuse to start (engines under
#: the generated ACL, where only schema-admin writes the registry).
SchemaRegistration = Literal["register", "verify"]

#: What `publish` does when the producer already holds `max_unsent_messages` unsent messages.
BackpressurePolicy = Literal["block", "raise"]


def _default_consumer_name(engine: str) -> str:
    return f"{engine}-{socket.gethostname()}-{os.getpid()}"


def _split_password(url: str) -> tuple[str, str | None]:
    """`url` without its password, and the password (decoded), if it had one."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    identity, host = parts.netloc.rsplit("@", 1)
    username = identity.split(":", 1)[0]
    netloc = f"{username}@{host}" if username else host
    return urlunsplit(parts._replace(netloc=netloc)), unquote(parts.password)


class MessageBusConfig(BaseModel):
    """Settings of one engine's bus client. Defaults are the safe production choice.

    The client is built for one engine: it publishes only the message types whose route names this
    engine as producer, and consumes through the consumer group named after the engine. With
    `observer` it is an observer instead (runtime/observer.py): read-only, consuming through the
    group `observer:<name>`, so it never takes an entry from an engine.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, extra="forbid")

    #: The engine this client acts for, e.g. "vpin" (must be declared in the schemas). An observer
    #: may leave it empty, or name the engine whose typed client it uses to subscribe.
    engine: str = ""
    #: Makes this client a read-only observer named so, consuming through `observer:<name>`.
    observer: str = ""
    #: The engine's own stream; defaults to the stream declared for the engine. Publishing always
    #: goes to each message's route stream, which for a producer is this one.
    stream_key: str = ""
    #: Consumer group: always the consuming engine's name (defaults to `engine`), or
    #: `observer:<observer>` for an observer.
    consumer_group: str = ""
    #: This process's name inside the group; unique per process so a restart is a new consumer.
    consumer_name: str = ""
    #: Redis URL; when empty, the REDIS_URL environment variable. Without either, a client needs
    #: a transport given to it (the in-process one: tests, backtests). A password in the URL is
    #: moved to `redis_password`, so this field never holds one and is safe to print.
    redis_url: str = ""
    #: The password of `redis_url`'s user, kept as a secret (shown as `**********`).
    redis_password: SecretStr | None = None

    #: Bulk-lane flush interval: the longest a buffered message waits before it is written.
    buffer_interval_ms: int = Field(default=10, ge=0, le=60_000)
    #: Bulk-lane flush size: a buffer of this many messages is written at once.
    max_buffer_size: int = Field(default=5000, ge=1, le=1_000_000)
    #: Memory bound: unsent messages (both lanes) a producer holds before applying backpressure.
    max_unsent_messages: int = Field(default=100_000, ge=1)
    #: What a publish does when the bound is reached: wait for room, or raise at once.
    backpressure: BackpressurePolicy = "block"
    #: Longest a "block" publish waits before raising BackpressureError.
    backpressure_timeout_s: float = Field(default=5.0, ge=0)
    #: Reconnect backoff: first delay, doubled after each failure up to the maximum.
    reconnect_initial_ms: int = Field(default=20, ge=1)
    reconnect_max_ms: int = Field(default=1000, ge=1)
    #: How long writes the server refuses for a passing reason (LOADING, BUSY, READONLY during a
    #: failover, ...) are retried before they fail with PublishRejectedError.
    rejected_write_timeout_s: float = Field(default=60.0, ge=0)

    #: Entries fetched per XREADGROUP, per lane.
    read_count: int = Field(default=500, ge=1)
    #: How long a consumer's read blocks waiting for new entries.
    read_block_ms: int = Field(default=100, ge=1)
    #: Pending entries idle this long (their consumer died or failed) are reclaimed by a live one.
    reclaim_idle_ms: int = Field(default=1000, ge=1)
    #: Consumers of the group that hold no pending entry and were idle this long (dead processes)
    #: are removed from the group by the live ones, which look every half of this time.
    stale_consumer_idle_ms: int = Field(default=300_000, ge=1)
    #: Deliveries after which a failing entry moves to the dead-letter stream.
    max_deliveries: int = Field(default=5, ge=1)
    #: Replicas: 0 (the default) lets every consumer of the group read every stream it
    #: subscribes to. Above 0, this process is one replica of its engine and reads only the
    #: streams (partitions) it holds a lease on, leases lasting this long (runtime/leases.py);
    #: every process of the engine must then use leases. A dead replica's streams are taken
    #: over after at most about this long.
    replica_lease_ms: int = Field(default=0, ge=0)

    #: Trim bound: keep at most this many entries per lane (None: no length bound).
    trim_max_len: int | None = Field(default=1_000_000, ge=0)
    #: Trim bound: drop entries older than this (None: no age bound).
    trim_max_age_ms: int | None = Field(default=None, ge=0)
    #: How often a producer trims the lanes it publishes to (0: only when asked).
    trim_interval_ms: int = Field(default=5_000, ge=0)

    #: Producers create the consumer group of every routed engine on the streams they publish to,
    #: so nothing published before a consumer's first start is trimmed before it is received.
    declare_consumer_groups: bool = True
    #: Keep schema versions in the registry on the Redis server: producers register the schemas
    #: they publish on start (refusing to start with an incompatible one), and consumers decode
    #: any registered version their schema can read. Off with the in-process transport.
    schema_registry: bool = True
    #: Register missing schemas on start ("register", when this identity may write the registry)
    #: or only check that they are registered ("verify"). Either way a producer whose schemas are
    #: missing and cannot be registered refuses to start with SchemaNotRegisteredError.
    schema_registration: SchemaRegistration = "register"
    #: How a new schema version must relate to the registered ones (producers, on start); None:
    #: the type's mode stored in the registry, else the registry's default, else FULL.
    schema_compat_mode: CompatMode | None = None
    #: WIRE (binary) or WIRE_JSON (also names, for the JSON edge) for that check.
    schema_compat_level: CompatLevel = DEFAULT_LEVEL

    #: Source of every timestamp the runtime writes.
    clock: Clock = Field(default_factory=LiveClock)

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: object) -> object:
        if not isinstance(data, dict):
            return data
        engine = data.get("engine", "")
        observer = data.get("observer", "")
        if not isinstance(engine, str) or not isinstance(observer, str):
            return data
        if not engine and not observer:
            raise ValueError("engine is required (or observer, for a read-only observer)")
        filled = dict(data)
        if engine:
            try:
                info = engine_info(engine)
            except KeyError as exc:
                raise ValueError(str(exc)) from None
            filled["stream_key"] = data.get("stream_key") or info.stream
        if observer:
            group = observer_group(observer)
            filled["consumer_group"] = data.get("consumer_group") or group
            filled["consumer_name"] = data.get("consumer_name") or _default_consumer_name(group)
        else:
            filled["consumer_group"] = data.get("consumer_group") or engine
            filled["consumer_name"] = data.get("consumer_name") or _default_consumer_name(engine)
        url = data.get("redis_url") or os.environ.get("REDIS_URL", "")
        filled["redis_url"], password = _split_password(url)
        if password is not None and data.get("redis_password") is None:
            filled["redis_password"] = SecretStr(password)
        return filled

    @model_validator(mode="after")
    def _check(self) -> MessageBusConfig:
        if self.observer:
            if self.consumer_group != observer_group(self.observer):
                raise ValueError(
                    f"an observer consumes through {observer_group(self.observer)!r}, "
                    f"got consumer_group {self.consumer_group!r}"
                )
        elif self.consumer_group != self.engine:
            raise ValueError(
                f"consumer_group must be the engine's name {self.engine!r}, "
                f"got {self.consumer_group!r}: one group per consuming engine "
                "(to watch streams without taking the engine's entries: observer=NAME)"
            )
        if 0 < self.replica_lease_ms < 30:
            raise ValueError("replica_lease_ms must be 0 (no leases) or at least 30")
        if self.replica_lease_ms and self.observer:
            raise ValueError("an observer reads everything: it takes no replica leases")
        if self.reconnect_max_ms < self.reconnect_initial_ms:
            raise ValueError("reconnect_max_ms must be >= reconnect_initial_ms")
        return self
