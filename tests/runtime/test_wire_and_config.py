"""The pure parts: entry layout, lane naming, configuration and routing rules."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import (
    ClientStateError,
    DeadLetterReason,
    InMemoryTransport,
    LiveClock,
    MessageBusConfig,
    MessagePriority,
    RoutingError,
    UndeliverableEntryError,
    UniversalMessageBusClient,
    dead_letter_stream,
    priority_lane,
)
from nautilus.runtime.lanes import lane_for
from nautilus.runtime.routing import message_spec
from nautilus.runtime.schema.fingerprint import fingerprint
from nautilus.runtime.wire import decode_entry, encode_entry
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

from .conftest import TS_OPEN, quote


def _fields(entry: tuple[bytes, ...]) -> dict[bytes, bytes]:
    return dict(zip(entry[::2], entry[1::2], strict=True))


def test_entry_layout_is_version_type_fingerprint_payload_producer_time_priority() -> None:
    payload = quote(1).SerializeToString()
    entry = encode_entry(
        b"nautilus.marketdata.v1.Quote",
        b"3207ec30b9ef7f54",
        payload,
        producer=b"marketdata",
        published_at_ns=TS_OPEN,
        priority=MessagePriority.NORMAL,
        key="AAPL.XNAS",
    )

    assert entry == (
        b"v", b"1",
        b"t", b"nautilus.marketdata.v1.Quote",
        b"f", b"3207ec30b9ef7f54",
        b"p", payload,
        b"s", b"marketdata",
        b"ts", str(TS_OPEN).encode(),
        b"pr", b"2",
        b"k", b"AAPL.XNAS",
    )  # fmt: skip


def test_decoding_reads_back_what_was_encoded() -> None:
    payload = quote(1).SerializeToString()
    entry = encode_entry(
        b"nautilus.marketdata.v1.Quote",
        b"3207ec30b9ef7f54",
        payload,
        producer=b"marketdata",
        published_at_ns=TS_OPEN,
        priority=MessagePriority.HIGH,
        trace_context="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    )

    wire = decode_entry(_fields(entry))

    assert (wire.message_type, wire.fingerprint, wire.payload) == (
        "nautilus.marketdata.v1.Quote",
        "3207ec30b9ef7f54",
        payload,
    )
    assert (wire.producer, wire.published_at_ns, wire.priority) == (
        "marketdata",
        TS_OPEN,
        MessagePriority.HIGH,
    )
    assert wire.key is None
    assert wire.trace_context == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({b"garbage": b"\xff"}, DeadLetterReason.UNDECODABLE),
        ({b"v": b"2", b"t": b"x"}, DeadLetterReason.UNSUPPORTED_VERSION),
        ({b"v": b"1", b"t": b"nautilus.marketdata.v1.Quote"}, DeadLetterReason.UNDECODABLE),
    ],
    ids=["no-version", "future-version", "missing-fields"],
)
def test_malformed_entries_are_rejected_with_a_reason(
    fields: dict[bytes, bytes], reason: DeadLetterReason
) -> None:
    with pytest.raises(UndeliverableEntryError) as rejected:
        decode_entry(fields)
    assert rejected.value.reason is reason


def test_non_numeric_timestamp_is_undecodable() -> None:
    entry = _fields(
        encode_entry(
            b"t", b"f", b"", producer=b"s", published_at_ns=1, priority=MessagePriority.LOW
        )
    )
    entry[b"ts"] = b"yesterday"
    with pytest.raises(UndeliverableEntryError, match="malformed header"):
        decode_entry(entry)


def test_lanes_are_derived_from_the_route_stream() -> None:
    stream = "nautilus-vpin-streams"
    assert priority_lane(stream) == "{nautilus-vpin-streams}:urgent"
    assert dead_letter_stream(stream) == "{nautilus-vpin-streams}:dead-letter"
    assert lane_for(stream, MessagePriority.HIGH) == stream
    assert lane_for(stream, MessagePriority.URGENT) == "{nautilus-vpin-streams}:urgent"


def test_priorities_match_the_proto_enum() -> None:
    from nautilus.bus.v1 import options_pb2

    for priority in MessagePriority:
        assert options_pb2.MessagePriority.Value(f"MESSAGE_PRIORITY_{priority.name}") == priority


def test_message_spec_reads_the_route_and_fingerprint() -> None:
    spec = message_spec(ToxicityAlert)

    assert spec.route.stream == "nautilus-vpin-streams"
    assert spec.route.producer == "vpin"
    assert spec.route.consumers == {"risk", "analytics", "strategy", "websocket"}
    assert spec.route.priority is MessagePriority.URGENT
    assert spec.fingerprint == fingerprint(ToxicityAlert.DESCRIPTOR)


def test_config_defaults_come_from_the_engine() -> None:
    config = MessageBusConfig(engine="vpin", redis_url="redis://127.0.0.1:1/0")

    assert config.stream_key == "nautilus-vpin-streams"
    assert config.consumer_group == "vpin"
    assert config.consumer_name.startswith("vpin-")
    assert (config.buffer_interval_ms, config.max_buffer_size) == (10, 5000)
    assert config.reclaim_idle_ms == 1000
    assert config.max_deliveries == 5
    assert (config.trim_interval_ms, config.trim_max_len, config.trim_max_age_ms) == (
        5_000,
        1_000_000,
        None,
    )


def test_config_rejects_unknown_engines_and_foreign_groups() -> None:
    with pytest.raises(ValidationError, match="unknown engine"):
        MessageBusConfig(engine="hft")
    with pytest.raises(ValidationError, match="consumer_group must be"):
        MessageBusConfig(engine="risk", consumer_group="risk-replay")
    with pytest.raises(ValidationError):
        MessageBusConfig(engine="risk", max_buffer_size=0)


async def test_an_engine_may_only_publish_its_own_message_types() -> None:
    client = UniversalMessageBusClient(
        MessageBusConfig(engine="vpin", trim_interval_ms=0), InMemoryTransport(LiveClock())
    )
    await client.start()

    with pytest.raises(RoutingError, match="producer is 'marketdata'") as refused:
        await client.publish(quote(1))

    assert (refused.value.engine, refused.value.message_type) == (
        "vpin",
        "nautilus.marketdata.v1.Quote",
    )
    await client.close()


def test_an_engine_may_only_subscribe_to_types_routed_to_it() -> None:
    client = UniversalMessageBusClient(
        MessageBusConfig(engine="marketdata"), InMemoryTransport(LiveClock())
    )

    with pytest.raises(RoutingError, match="may not subscribe to"):
        client.subscribe(ToxicityAlert, lambda delivery: None)


async def test_publishing_before_start_is_refused() -> None:
    client = UniversalMessageBusClient(
        MessageBusConfig(engine="marketdata"), InMemoryTransport(LiveClock())
    )
    with pytest.raises(ClientStateError):
        await client.publish(Quote())
