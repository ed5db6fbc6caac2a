"""`UniversalMessageBusClient`: the untyped core that generated typed clients wrap.

One client acts for one engine. It publishes only the message types whose route names the engine
as producer, subscribes only to types whose route lists it as a consumer, and consumes through
the group named after the engine; or, configured with `observer`, it is a read-only observer
consuming through `observer:<name>` (runtime/observer.py). The transport is Redis at the
configured URL (or REDIS_URL); without one a client refuses to start rather than guess. Tests
and backtests pass an in-process transport (`nautilus.runtime.testing.TestBus`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Iterable
from types import TracebackType
from typing import Any, Self

from google.protobuf.message import Message
from redis.exceptions import NoPermissionError

from nautilus.contract import bus_message_classes
from nautilus.runtime.backoff import Backoff
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.consumer import Consumer
from nautilus.runtime.dead_letter import DeadLetter
from nautilus.runtime.delivery import Handler, M
from nautilus.runtime.errors import (
    ClientStateError,
    RegistryEntryError,
    RoutingError,
    SchemaNotRegisteredError,
    TransportError,
)
from nautilus.runtime.lanes import dead_letter_stream, lanes_in_read_order
from nautilus.runtime.leases import LeaseKeeper
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.priority_reader import PriorityReader
from nautilus.runtime.publisher import Publisher, RejectionHook
from nautilus.runtime.redaction import redacted
from nautilus.runtime.resolver import LocalTypeResolver, TypeResolver
from nautilus.runtime.routing import (
    MessageSpec,
    engine_info,
    message_spec,
    require_consumer,
    require_producer,
)
from nautilus.runtime.schema.modes import CompatLevel
from nautilus.runtime.schema.registry import (
    REGISTRY_PREFIX,
    Registration,
    RegistryTypeResolver,
    SchemaRegistry,
)
from nautilus.runtime.schema.registry_writes import RegistryKeys
from nautilus.runtime.transport.base import Transport
from nautilus.runtime.transport.redis import RedisTransport
from nautilus.runtime.trim import TrimLoop, TrimResult, safe_trim

__all__ = ["UniversalMessageBusClient", "default_transport"]

_log = logging.getLogger(__name__)

_URGENT = MessagePriority.URGENT


def default_transport(config: MessageBusConfig) -> Transport:
    """Redis at `config.redis_url` (which defaults to REDIS_URL); ClientStateError without one.

    A client never guesses: without a server it would otherwise run on a private in-process bus,
    and a misconfigured deployment would look healthy while talking to nobody.
    """
    if config.redis_url:
        return RedisTransport(config.redis_url, password=config.redis_password)
    raise ClientStateError(
        "no Redis server given: set redis_url or REDIS_URL; for a bus inside this process "
        "(tests, backtests) pass transport=InMemoryTransport(clock), or use "
        "nautilus.runtime.testing.TestBus"
    )


class UniversalMessageBusClient:
    """Publish and consume any bus message type, with routing enforced for `config.engine`.

    Lifecycle: construct, `subscribe(...)`, then `await start()` (or `async with client:`), which
    creates the consumer groups and starts the flushers and, with `consume=True`, the consume loop.
    `close()` writes what is buffered and stops. Without `start`, `poll()` drives consumption step
    by step (backtests).
    """

    def __init__(
        self,
        config: MessageBusConfig,
        transport: Transport | None = None,
        *,
        resolver: TypeResolver | None = None,
        publishes: Iterable[type[Message]] | None = None,
    ) -> None:
        self.config = config
        self.transport: Transport = transport or default_transport(config)
        self._owns_transport = transport is None
        #: The schema registry on the Redis server, when `config.schema_registry` and on Redis.
        self.registry: SchemaRegistry | None = None
        if config.schema_registry and isinstance(self.transport, RedisTransport):
            self.registry = SchemaRegistry(self.transport.client)
        if resolver is None:
            resolver = (
                RegistryTypeResolver(self.registry, level=CompatLevel.WIRE)
                if self.registry is not None
                else LocalTypeResolver()
            )
        self._publishes = tuple(publishes) if publishes is not None else None
        self._publisher = Publisher(self.transport, config)
        #: Specs of the types this engine has been allowed to publish (the routing check, cached).
        self._publish_specs: dict[type[Message], MessageSpec] = {}
        self._consumer = Consumer(self.transport, config, resolver)
        #: The producer's periodic trim (started by `start` when `trim_interval_ms` is set).
        self.trim_loop = TrimLoop(
            self.trim,
            interval_s=config.trim_interval_ms / 1000,
            backoff=Backoff(config.reconnect_initial_ms, config.reconnect_max_ms),
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._consume_task: asyncio.Task[None] | None = None
        #: This replica's leases, when `config.replica_lease_ms` is set (started by `start`).
        self.leases: LeaseKeeper | None = None
        self._started = False
        self._closed = False

    def __repr__(self) -> str:
        config = self.config
        who = f"observer={config.observer!r}" if config.observer else f"engine={config.engine!r}"
        return redacted(f"UniversalMessageBusClient({who}, {self.transport!r})")

    @property
    def publisher(self) -> Publisher:
        return self._publisher

    @property
    def consumer(self) -> Consumer:
        return self._consumer

    @property
    def consuming(self) -> bool:
        """False once a consume loop started by `start` has ended before `close` (/health)."""
        task = self._consume_task
        return task is None or self._closed or not task.done()

    @property
    def consume_failure(self) -> BaseException | None:
        """What ended the consume loop before `close`, if it ended that way."""
        task = self._consume_task
        if task is None or not task.done() or self._closed:
            return None
        return task.exception() if not task.cancelled() else asyncio.CancelledError()

    async def start(self, *, consume: bool = True) -> None:
        """Create consumer groups, start the flushers, and (with `consume`) the consume loop."""
        if self._closed:
            raise ClientStateError("client is closed")
        if self._started:
            return
        observing = bool(self.config.observer)
        if isinstance(self.transport, RedisTransport):
            # A cluster is found before the registry is used through the transport's client.
            await self.transport.connect()
        if self.registry is not None and not observing:
            await self.register_schemas()
        if self.config.declare_consumer_groups and not observing:
            await self.declare_consumer_groups()
        self._started = True
        self._publisher.start()
        if self._consumer.lanes:
            await self._consumer.ensure_groups()
            if self.config.replica_lease_ms:
                await self._start_leases()
            if consume:
                # URGENT/CRITICAL are read by a blocking read of their own (priority_reader.py).
                reader = PriorityReader(self._consumer)
                self._tasks.append(asyncio.create_task(reader.run(self._stop)))
                self._consume_task = asyncio.create_task(self._consumer.run(self._stop))
                self._tasks.append(self._consume_task)
        if self.config.trim_interval_ms and not observing:
            self._tasks.append(asyncio.create_task(self.trim_loop.run(self._stop)))

    async def _start_leases(self) -> None:
        """Read nothing until leases say what (one round now, then every third of a lease)."""
        if not isinstance(self.transport, RedisTransport):
            raise ClientStateError("replica leases need Redis (config.replica_lease_ms)")
        self.leases = LeaseKeeper(
            self.transport.client,
            self._consumer,
            group=self.config.consumer_group,
            name=self.config.consumer_name,
            units=self._consumer.streams,
            lease_ms=self.config.replica_lease_ms,
        )
        await self._consumer.hold(())
        await self.leases.round()
        self._tasks.append(asyncio.create_task(self.leases.run(self._stop)))

    async def declare_consumer_groups(self) -> None:
        """Create the consumer group of every routed engine on both lanes of the streams this
        client publishes to; done by `start` (config.declare_consumer_groups).

        The groups are part of the contract, so creating them with the producer means an entry
        published before a consuming engine first starts is already owed to that engine's group,
        and safe trimming keeps it until the engine has received it. External parties (the
        frontend) are not engines the platform runs: they create their own group when they attach.
        """
        groups: dict[str, set[str]] = {}
        for cls in self.published_types():
            route = message_spec(cls).route
            engines = {c for c in route.consumers if not engine_info(c).external}
            for stream in route.streams:
                groups.setdefault(stream, set()).update(engines)
        for stream, names in sorted(groups.items()):
            for lane in lanes_in_read_order(stream):
                for group in sorted(names):
                    await self.transport.ensure_group(lane, group)

    def published_types(self) -> tuple[type[Message], ...]:
        """The types this client publishes: as given, else every contract type its engine owns
        (none for an observer)."""
        if self.config.observer:
            return ()
        if self._publishes is not None:
            return self._publishes
        engine = self.config.engine
        return tuple(
            cls
            for cls in bus_message_classes().values()
            if message_spec(cls).route.producer == engine
        )

    async def register_schemas(self) -> list[Registration]:
        """Make sure the schema of every published type is registered; done by `start`.

        Types already registered are only read (an identity that may not write the registry,
        like an engine's under the generated ACL, starts without a refused command). Missing ones
        are registered under `config.schema_registration == "register"`; SchemaNotRegisteredError
        when they may not be (`"verify"`, or the server refuses the write), SchemaIncompatibleError,
        listing every violation, when a schema is incompatible with the registered versions under
        `config.schema_compat_mode` (default: the type's mode in the registry): the producer must
        not start.
        """
        if self.registry is None:
            raise ClientStateError("no schema registry: it needs Redis and config.schema_registry")
        registered, missing = await self._registered(self.published_types())
        if not missing:
            return registered
        fingerprints = {cls.DESCRIPTOR.full_name: message_spec(cls).fingerprint for cls in missing}
        if self.config.schema_registration == "verify":
            raise SchemaNotRegisteredError(self.config.engine, fingerprints)
        try:
            created = await self.registry.register_all(
                [cls.DESCRIPTOR for cls in missing],
                mode=self.config.schema_compat_mode,
                level=self.config.schema_compat_level,
                producer=self.config.engine,
                now_ns=self.config.clock.timestamp_ns(),
            )
        except TransportError as exc:
            if not isinstance(exc.__cause__, NoPermissionError):
                raise
            raise SchemaNotRegisteredError(
                self.config.engine, fingerprints, "this identity may not write the registry"
            ) from None
        return registered + created

    async def _registered(
        self, types: Iterable[type[Message]]
    ) -> tuple[list[Registration], list[type[Message]]]:
        """Registrations of the types already registered (read only), and the missing types."""
        assert self.registry is not None
        registered: list[Registration] = []
        missing: list[type[Message]] = []
        for cls in types:
            spec = message_spec(cls)
            try:
                known = await self.registry.versions(spec.full_name)
            except TransportError as exc:
                if "WRONGTYPE" not in exc.detail:
                    raise
                key = RegistryKeys(REGISTRY_PREFIX).versions(spec.full_name)
                raise RegistryEntryError(key, "not a list of fingerprints") from None
            if spec.fingerprint in known:
                version = known.index(spec.fingerprint) + 1
                registered.append(Registration(spec.full_name, spec.fingerprint, False, version))
            else:
                missing.append(cls)
        return registered, missing

    async def close(self, timeout_s: float | None = 5.0) -> None:
        """Flush (up to `timeout_s`), stop the loops, release a transport this client made."""
        if self._closed:
            return
        failure = self.consume_failure
        self._closed = True
        self._stop.set()
        try:
            await self._publisher.close(timeout_s)
            consume = self._consume_task
            if consume is not None and self._consumer.reads_best_effort:
                # Entries of a NOACK read exist nowhere but here: let the cycle in hand finish
                # (the loop then sees `stop`) rather than drop them.
                await asyncio.wait([consume], timeout=timeout_s)
        finally:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait([task])
            if failure is not None:
                _log.error("the consume loop had ended: %r", failure)
            await self._release_leases()
            await self._leave_group()
            if self._owns_transport:
                await self.transport.close()

    async def _release_leases(self) -> None:
        """Hand this replica's units to the others now rather than at its leases' expiry."""
        if self.leases is None:
            return
        try:
            await self.leases.release_all()
        except TransportError as exc:
            _log.warning("replica %s could not release its leases: %s", self._consumer.name, exc)

    async def _leave_group(self) -> None:
        """Delete this consumer from its group where it holds nothing (consumer.leave)."""
        if not self._started or not self._consumer.lanes:
            return
        try:
            await self._consumer.leave()
        except TransportError as exc:
            _log.warning("consumer %s could not leave its group: %s", self._consumer.name, exc)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _check_open(self) -> None:
        if not self._started or self._closed:
            raise ClientStateError("client is not started" if not self._closed else "closed")

    async def publish(
        self,
        message: Message,
        *,
        priority: MessagePriority | None = None,
        key: str | None = None,
        trace_context: str | None = None,
        wait_landed: bool = False,
    ) -> None:
        """Publish `message` on its route's stream, at `priority` (default: the route's).

        URGENT and CRITICAL messages (and any message with `wait_landed`) return once the server
        holds the entry, and raise PublishRejectedError if it refused it. Other messages return
        once buffered: they are written within `buffer_interval_ms`, and `flush()` is their
        durability point. Applies backpressure when `max_unsent_messages` are unsent.
        Raises RoutingError if this engine is not the type's producer.
        """
        pending = self.begin_publish(message, priority, key, trace_context, wait_landed)
        if pending is not None:
            await pending

    def begin_publish(
        self,
        message: Message,
        priority: MessagePriority | None = None,
        key: str | None = None,
        trace_context: str | None = None,
        wait_landed: bool = False,
    ) -> Awaitable[None] | None:
        """`publish` without a coroutine of its own, for callers that are one already (the
        generated clients' `publish_<type>`): a message buffered with nothing left to wait for
        costs no coroutine, no suspension.

        Accepts `message` now if there is room and returns None when the publish is complete;
        otherwise returns what completes it, which the caller must await: the wait for room
        (backpressure), and for URGENT, CRITICAL or `wait_landed`, the wait for the server.
        Raises at once what `publish` raises before it waits (not started, routing).
        """
        if not self._started or self._closed:
            self._check_open()
        spec = self._publish_specs.get(type(message)) or self._permit(type(message))
        chosen = priority or spec.route.priority
        urgent = chosen >= _URGENT
        if not self._publisher.try_enqueue(spec, message, chosen, key, trace_context):
            return self._publish_when_room(
                spec, message, chosen, key=key, trace_context=trace_context, landed=wait_landed
            )
        if wait_landed or urgent:
            return self._publisher.landed(urgent)
        return None

    async def _publish_when_room(
        self,
        spec: MessageSpec,
        message: Message,
        priority: MessagePriority,
        *,
        key: str | None,
        trace_context: str | None,
        landed: bool,
    ) -> None:
        await self._publisher.enqueue(spec, message, priority, key, trace_context)
        urgent = priority >= _URGENT
        if landed or urgent:
            await self._publisher.landed(urgent)

    def publish_nowait(
        self,
        message: Message,
        *,
        priority: MessagePriority | None = None,
        key: str | None = None,
        trace_context: str | None = None,
    ) -> None:
        """Publish without awaiting: the bulk fast path. BackpressureError at once when full.

        Returns once buffered, at any priority. Should the server refuse the message, the failure
        goes to the `on_publish_failure` hook, the counters and the log, and the next `flush()`
        or `close()` raises PublishRejectedError.
        """
        if not self._started or self._closed:
            self._check_open()
        spec = self._publish_specs.get(type(message)) or self._permit(type(message))
        chosen = priority or spec.route.priority
        if not self._publisher.try_enqueue(spec, message, chosen, key, trace_context):
            raise self._publisher.refuse(spec.route.stream)

    def _permit(self, message_class: type[Message]) -> MessageSpec:
        """The spec of a type this engine may publish (cached); RoutingError otherwise."""
        spec = message_spec(message_class)
        if self.config.observer:
            raise RoutingError(
                spec.full_name, self.config.consumer_group, "publish", "observers are read-only"
            )
        require_producer(spec, self.config.engine)
        self._publish_specs[message_class] = spec
        return spec

    async def publish_many(
        self, messages: Iterable[Message], *, priority: MessagePriority | None = None
    ) -> None:
        """Publish a batch in order; waits only when backpressure applies."""
        self._check_open()
        publisher = self._publisher
        specs = self._publish_specs
        for message in messages:
            spec = specs.get(type(message)) or self._permit(type(message))
            chosen = priority or spec.route.priority
            if not publisher.try_enqueue(spec, message, chosen, None, None):
                await publisher.enqueue(spec, message, chosen, None, None)

    async def flush(self, timeout_s: float | None = None) -> None:
        """Wait until every accepted message is in the server: the durability point of buffered
        publishes. Raises PublishRejectedError (count, first reply) if the server refused any
        message published without waiting since the last flush, TimeoutError after `timeout_s`."""
        await self._publisher.flush(timeout_s)

    def on_publish_failure(self, hook: RejectionHook | None) -> None:
        """Call `hook` with the PublishRejectedError of each message the server refuses for good
        when no publish is waiting for it (`publish_nowait`, buffered `publish`). None removes it.
        """
        self._publisher.on_rejected = hook

    def subscribe(self, message_class: type[M], handler: Handler[M]) -> None:
        """Handle every `message_class` message on its stream with `handler` (before `start`).

        Raises RoutingError if this engine is not among the type's consumers. An observer may
        watch any bus message type.
        """
        if self._started:
            raise ClientStateError("subscribe before start()")
        spec = message_spec(message_class)
        if not self.config.observer:
            require_consumer(spec, self.config.engine)
        self._consumer.subscribe(spec, handler)

    async def poll(self, block_ms: int | None = None) -> int:
        """Process one batch of the subscribed lanes (priority first); entries processed."""
        return await self._consumer.poll(block_ms)

    async def drain(self, max_cycles: int = 1_000_000) -> int:
        """Poll until no entry is left (backtests and tests); entries processed."""
        total = 0
        for _ in range(max_cycles):
            processed = await self._consumer.poll(None)
            if not processed:
                break
            total += processed
        return total

    async def trim(self) -> list[TrimResult]:
        """Safely trim every lane this client has published to (see trim.py for the policy)."""
        results = []
        for lane in sorted(self._publisher.lanes_used):
            results.append(
                await safe_trim(
                    self.transport,
                    lane,
                    max_len=self.config.trim_max_len,
                    max_age_ms=self.config.trim_max_age_ms,
                    clock=self.config.clock,
                )
            )
        return results

    async def dead_letters(self, message_class: type[Message]) -> list[DeadLetter]:
        """The entries in the dead-letter streams of `message_class`'s route stream (of each of
        its partitions, in partition order)."""
        letters = []
        for stream in message_spec(message_class).route.streams:
            entries = await self.transport.range(dead_letter_stream(stream))
            letters += [DeadLetter.from_entry(entry) for entry in entries]
        return letters

    def stats(self) -> dict[str, Any]:
        """Publisher and consumer counters."""
        p, c = self._publisher.stats, self._consumer.stats
        return {
            "published": p.written,
            "unsent": self._publisher.unsent,
            "failed_writes": p.failed_writes,
            "publish_rejected": p.rejected,
            "publish_retried_rejections": p.retried_rejections,
            "publish_found_after_loss": p.found_after_loss,
            "publish_lost_confirmed": p.lost_confirmed,
            "backpressure_events": p.backpressure_events,
            "handled": c.handled,
            "failed": c.failed,
            "ignored": c.ignored,
            "reclaimed": c.reclaimed,
            "dead_lettered": c.dead_lettered,
            "trim_failures": self.trim_loop.failures,
            "consumer_restarts": c.loop_restarts,
            "taken_over": c.skipped_taken_over,
        }
