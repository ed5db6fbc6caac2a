"""Writes prepared once per lane, type and priority (`Transport.add_preparer`) are the writes
`prepare_add` prepares for the same entry, on both transports, and a publisher using them keeps
one sequence per lane whatever the priority, key or trace context of its messages."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.runtime import (
    InMemoryTransport,
    MessagePriority,
    Transport,
    priority_lane,
)
from nautilus.runtime.partitions import PartitionKeyError, partition_of, partition_stream
from nautilus.runtime.publisher import Publisher
from nautilus.runtime.routing import message_spec
from nautilus.runtime.transport.redis import RedisTransport
from nautilus.runtime.wire import (
    FIELD_KEY,
    FIELD_PAYLOAD,
    FIELD_PRIORITY,
    FIELD_PUBLISHED_AT,
    FIELD_SEQUENCE,
    FIELD_TRACE_CONTEXT,
    EncodedEntry,
    encode_entry,
)

from .conftest import Bus, quote

MARKETDATA = "nautilus-marketdata-streams"
TRACE = "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"


@pytest.fixture(params=["redis", "memory"])
def transport(request: pytest.FixtureRequest) -> Iterator[Transport]:
    """Either transport; preparing writes needs no server."""
    if request.param == "redis":
        yield RedisTransport("redis://127.0.0.1:1/0")
    else:
        yield InMemoryTransport()


def entry(
    payload: bytes,
    published_at_ns: int,
    sequence: int,
    *,
    message_type: bytes = b"nautilus.marketdata.v1.Quote",
    producer: bytes = b"marketdata",
    priority: MessagePriority = MessagePriority.NORMAL,
    key: str | None = None,
) -> EncodedEntry:
    return encode_entry(
        message_type,
        b"0123456789abcdef",
        payload,
        producer=producer,
        published_at_ns=published_at_ns,
        priority=priority,
        key=key,
        instance=b"fedcba9876543210",
        sequence=sequence,
    )


@pytest.mark.parametrize(
    ("payload", "published_at_ns", "sequence"),
    [
        (quote(1).SerializeToString(), 1_764_077_400_000_000_000, 1),
        (b"", 0, 9),
        (b"%d %b %% \r\n$3\r\n", 5, 10),
        (bytes(range(256)) * 4, 10**19, 123_456_789_012),
    ],
)
@pytest.mark.parametrize("priority", [MessagePriority.LOW, MessagePriority.CRITICAL])
def test_a_prepared_write_is_what_prepare_add_gives_for_the_whole_entry(
    transport: Transport,
    payload: bytes,
    published_at_ns: int,
    sequence: int,
    priority: MessagePriority,
) -> None:
    lane = priority_lane(MARKETDATA) if priority.uses_priority_lane else MARKETDATA
    # Constant values with RESP and format characters of their own, which must stay literal.
    odd_type, odd_producer = b"pkg.v1.Odd%dName\r\n", b"m%sd"

    def whole(payload: bytes, published_at_ns: int, sequence: int) -> EncodedEntry:
        return entry(
            payload,
            published_at_ns,
            sequence,
            message_type=odd_type,
            producer=odd_producer,
            priority=priority,
        )

    prepare = transport.add_preparer(lane, whole(b"ignored", 7, 7))
    prepared = prepare(payload, published_at_ns, sequence)

    expected = whole(payload, published_at_ns, sequence)
    assert prepared == transport.prepare_add(lane, expected)
    key, fields = transport.describe_add(prepared)
    assert key == lane
    assert fields == dict(zip(expected[::2], expected[1::2], strict=True))
    assert (fields[FIELD_PAYLOAD], fields[FIELD_PUBLISHED_AT], fields[FIELD_SEQUENCE]) == (
        payload,
        str(published_at_ns).encode(),
        str(sequence).encode(),
    )


@pytest.mark.parametrize(
    "layout",
    [
        entry(b"", 0, 1, key="AAPL.XNAS"),  # a key (or a trace context) follows the sequence
        entry(b"", 0, 1)[:14],  # no producer instance and sequence
        entry(b"", 0, 1)[2:] + entry(b"", 0, 1)[:2],  # the fields in another order
    ],
    ids=["with-key", "unsequenced", "reordered"],
)
def test_a_preparer_is_refused_for_an_entry_of_another_layout(
    transport: Transport, layout: EncodedEntry
) -> None:
    with pytest.raises(ValueError, match="not a sequenced wire entry"):
        transport.add_preparer(MARKETDATA, layout)


async def test_a_lane_keeps_one_sequence_whatever_the_priority_key_or_trace_context(
    bus: Bus,
) -> None:
    producer = bus.client("marketdata")
    await producer.start()
    sent = [
        (MessagePriority.NORMAL, None, None),
        (MessagePriority.LOW, None, None),
        (MessagePriority.NORMAL, "AAPL.XNAS", None),
        (MessagePriority.HIGH, None, None),
        (MessagePriority.NORMAL, None, TRACE),
        (MessagePriority.CRITICAL, None, None),
        (MessagePriority.NORMAL, None, None),
        (MessagePriority.URGENT, "AAPL.XNAS", TRACE),
        (MessagePriority.CRITICAL, None, None),
    ]
    for seq, (priority, key, trace_context) in enumerate(sent):
        producer.publish_nowait(quote(seq), priority=priority, key=key, trace_context=trace_context)
    await producer.flush()
    bulk = [fields for _, fields in await producer.transport.range(MARKETDATA)]
    urgent = [fields for _, fields in await producer.transport.range(priority_lane(MARKETDATA))]
    await producer.close()

    def seen(fields: dict[bytes, bytes]) -> tuple[object, ...]:
        return (
            Quote.FromString(fields[FIELD_PAYLOAD]),
            int(fields[FIELD_PRIORITY]),
            fields.get(FIELD_KEY),
            fields.get(FIELD_TRACE_CONTEXT),
        )

    expected = [
        (quote(seq), int(priority), key and key.encode(), trace and trace.encode())
        for seq, (priority, key, trace) in enumerate(sent)
    ]
    assert [seen(fields) for fields in bulk] == [e for e in expected if e[1] < 4]
    assert [seen(fields) for fields in urgent] == [e for e in expected if e[1] >= 4]
    assert [fields[FIELD_SEQUENCE] for fields in bulk] == [b"1", b"2", b"3", b"4", b"5", b"6"]
    assert [fields[FIELD_SEQUENCE] for fields in urgent] == [b"1", b"2", b"3"]


async def test_a_writer_serves_only_the_route_it_was_made_for(redis_url: str) -> None:
    """Quote's spec, then a spec of Quote with its stream cut into partitions (as another
    contract would give it): the second is not written by the first one's writer."""
    config = Bus("redis", redis_url).config("marketdata", buffer_interval_ms=60_000)
    transport = InMemoryTransport()
    publisher = Publisher(transport, config)
    publisher.start()
    spec = message_spec(Quote)
    partitioned = replace(spec, route=replace(spec.route, partitions=3))

    assert publisher.try_enqueue(spec, quote(1), MessagePriority.NORMAL, None, None)
    with pytest.raises(PartitionKeyError):
        publisher.try_enqueue(partitioned, quote(2), MessagePriority.NORMAL, None, None)
    assert publisher.try_enqueue(partitioned, quote(3), MessagePriority.NORMAL, "AAPL.XNAS", None)
    assert publisher.try_enqueue(spec, quote(4), MessagePriority.NORMAL, None, None)

    await publisher.close()

    partition = partition_stream(MARKETDATA, partition_of("AAPL.XNAS", 3))
    assert [
        Quote.FromString(fields[FIELD_PAYLOAD]) for _, fields in await transport.range(MARKETDATA)
    ] == [quote(1), quote(4)]
    assert [
        Quote.FromString(fields[FIELD_PAYLOAD]) for _, fields in await transport.range(partition)
    ] == [quote(3)]


@pytest.mark.parametrize(
    ("key", "trace_context"),
    [(None, None), (None, TRACE), ("", None)],
    ids=["bare", "traced", "empty-key"],
)
def test_a_partitioned_route_refuses_a_message_without_a_key_however_it_is_prepared(
    key: str | None, trace_context: str | None
) -> None:
    """Without key or trace context a message goes to its writer, with either it is encoded
    whole: both refuse it alike, naming the type, the stream and its partitions."""
    config = Bus("memory", None).config("marketdata")
    publisher = Publisher(InMemoryTransport(), config)
    spec = message_spec(Quote)
    partitioned = replace(spec, route=replace(spec.route, partitions=3))

    with pytest.raises(PartitionKeyError) as refused:
        publisher.try_enqueue(partitioned, quote(1), MessagePriority.NORMAL, key, trace_context)

    assert (refused.value.type_name, refused.value.stream, refused.value.partitions) == (
        "nautilus.marketdata.v1.Quote",
        MARKETDATA,
        3,
    )
    assert publisher.unsent == 0
