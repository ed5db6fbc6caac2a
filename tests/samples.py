"""Realistic sample messages for every bus message type, with every field set.

Values follow the contract's conventions (fixed-point `_e9` amounts, nanosecond timestamps,
`SYMBOL.VENUE` instruments) and are chosen by field name, so a sample of any message looks like
something an engine would publish. Every field is set to a non-default value, which makes round
trips exercise the whole schema rather than the empty message.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from nautilus.contract import bus_message_classes, fingerprints

__all__ = [
    "all_bus_message_classes",
    "bus_message_class",
    "iter_unset_fields",
    "sample_message",
]

TS_BASE = 1_764_028_800_000_000_000  # 2025-11-25T00:00:00Z in ns

_MONEY_WORDS = (
    "pnl", "equity", "margin", "exposure", "var_", "notional", "limit", "current",
    "collateral", "commission",
)  # fmt: skip
_SIZE_WORDS = ("size", "quantity", "volume")
_UNIT_INTERVAL_WORDS = (
    "probability", "cdf", "vpin", "threshold", "confidence", "utilization", "strength",
    "weight", "r_squared", "accuracy",
)  # fmt: skip


def bus_message_class(full_name: str) -> type[Message]:
    """The generated protobuf class of a bus message, from its full name."""
    return bus_message_classes()[full_name]


def all_bus_message_classes() -> list[type[Message]]:
    """Every bus message type of the contract, sorted by full name."""
    return [bus_message_class(name) for name in sorted(fingerprints())]


def _int64_e9(name: str) -> int:
    if "price" in name:
        return 64_250_125_000_000  # 64,250.125
    if any(word in name for word in _SIZE_WORDS):
        return 1_500_000_000  # 1.5 units
    if any(word in name for word in _MONEY_WORDS):
        return 1_250_000_000_000  # 1,250.00 in the quote currency
    return 1_000_000_000


def _string(field: FieldDescriptor, index: int) -> str:
    name = field.name
    if name.endswith("instrument_id") or name == "instrument":
        return ("BTCUSDT.BINANCE", "ETHUSDT.BINANCE", "SOLUSDT.BINANCE")[index % 3]
    if name == "currency":
        return "USDT"
    if "name" in name:
        return ("momentum", "volatility", "liquidity")[index % 3]
    if name.endswith("_id"):
        return f"{name.removesuffix('_id').replace('_', '-')}-{index + 1:04d}"
    return f"{name.replace('_', ' ')} {index + 1}"


def _double(name: str, index: int) -> float:
    if "bps" in name:
        return -125.5 - index
    if any(word in name for word in _UNIT_INTERVAL_WORDS):
        return 0.93 - 0.01 * index
    return 0.0175 + 0.001 * index


def _scalar(field: FieldDescriptor, index: int) -> Any:
    name = field.name
    kind = field.type
    if kind == FieldDescriptor.TYPE_ENUM:
        values = [v.number for v in field.enum_type.values if v.number != 0]
        return values[index % len(values)]
    if kind == FieldDescriptor.TYPE_STRING:
        return _string(field, index)
    if kind == FieldDescriptor.TYPE_BYTES:
        return f"{name}:{index}".encode()
    if kind == FieldDescriptor.TYPE_BOOL:
        return True
    if kind in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _double(name, index)
    if name.startswith("ts_") or name.endswith("_ts"):
        return TS_BASE + 1_000_000 * (index + 1)
    if name.endswith("_ns"):
        return 5_000_000_000
    if name.endswith("_e9"):
        return _int64_e9(name) + index
    return 7 + index


def _fill(message: Message, depth: int = 0) -> Message:
    descriptor: Descriptor = message.DESCRIPTOR
    seen_oneofs: set[str] = set()
    for field in descriptor.fields:
        oneof = field.containing_oneof
        if oneof is not None and len(oneof.fields) > 1:
            if oneof.name in seen_oneofs:
                continue
            seen_oneofs.add(oneof.name)
        _set_field(message, field, depth)
    return message


def _set_field(message: Message, field: FieldDescriptor, depth: int) -> None:
    target = getattr(message, field.name)
    is_message = field.type == FieldDescriptor.TYPE_MESSAGE
    if is_message and field.message_type.GetOptions().map_entry:
        key_field, value_field = field.message_type.fields
        for i in range(2):
            key = _scalar(key_field, i)
            if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                _fill(target[key], depth + 1)
            else:
                target[key] = _scalar(value_field, i)
    elif field.is_repeated:
        for i in range(3):
            if is_message:
                _fill(target.add(), depth + 1)
            else:
                target.append(_scalar(field, i))
    elif is_message:
        _fill(target, depth + 1)
    else:
        setattr(message, field.name, _scalar(field, 0))


def sample_message(cls: type[Message]) -> Message:
    """A realistic instance of `cls` with every field (and every nested field) set."""
    return _fill(cls())


def iter_unset_fields(message: Message, prefix: str = "") -> Iterator[str]:
    """Paths of fields left at their default value; a complete sample yields none."""
    for field in message.DESCRIPTOR.fields:
        oneof = field.containing_oneof
        in_real_oneof = oneof is not None and len(oneof.fields) > 1
        if in_real_oneof and message.WhichOneof(oneof.name) not in (None, field.name):
            continue
        value = getattr(message, field.name)
        path = f"{prefix}{field.name}"
        if field.is_repeated:
            if len(value) == 0:
                yield path
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            if not message.HasField(field.name):
                yield path
            else:
                yield from iter_unset_fields(value, f"{path}.")
        elif value == field.default_value:
            yield path
