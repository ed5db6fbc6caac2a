"""Routes are contract: which changes of a message's route break the engines that rely on it.

A route says who writes a type (producer, stream), who reads it (consumers) and on which lane
(the default priority: URGENT and CRITICAL travel on the priority lane, LOW to HIGH on the bulk
lane). Readers subscribe to a stream's lanes and a producer declares its consumers' groups, so:

- a changed stream or producer breaks every consumer still reading the old stream
  (ROUTE_STREAM_CHANGED, ROUTE_PRODUCER_CHANGED);
- a removed consumer breaks that engine, which stops receiving the type (ROUTE_CONSUMER_REMOVED);
- a default priority that moves the type to the other lane changes what its consumers read first
  and how it is buffered (ROUTE_LANE_CHANGED);
- a type that keeps its schema but loses its route is no longer on the bus (ROUTE_REMOVED);
- a changed number of partitions moves the stream's entries to other keys, which readers of the
  old cut never read, and splits keys' order across the change (ROUTE_PARTITIONS_CHANGED).

An added consumer, or a priority change within a lane, is compatible. So is a change of delivery
(at least once <-> best effort): the type stays on the same lane, and only how each group reads
that lane changes (XREADGROUP with or without NOACK), which consumers of either contract do
correctly side by side. A deleted type is
MESSAGE_REMOVED (the schema check), not reported again here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from nautilus.runtime.schema.violations import Rule, Violation

if TYPE_CHECKING:  # route_options reads descriptor sets through this package
    from nautilus.runtime.route_options import RouteOption, RouteOptions

__all__ = ["compare_routes", "uses_priority_lane"]

_PRIORITY_LANE_FROM = 4  # MESSAGE_PRIORITY_URGENT
_NORMAL = 2


def uses_priority_lane(priority: int) -> bool:
    """Whether a default priority (enum number; 0 means NORMAL) travels on the priority lane."""
    return (priority or _NORMAL) >= _PRIORITY_LANE_FROM


def _lane(priority: int) -> str:
    return "priority lane" if uses_priority_lane(priority) else "bulk lane"


def _violation(type_name: str, rule: Rule, old: str, new: str, reason: str) -> Violation:
    short = type_name.rsplit(".", 1)[-1]
    message = f"{old or '(absent)'} -> {new or '(absent)'}: {reason}"
    return Violation(type_name, f"{short}(route)", old, new, rule, message)


def _compare(name: str, old: RouteOption, new: RouteOption) -> list[Violation]:
    found = []
    if old.stream != new.stream:
        found.append(
            _violation(
                name,
                Rule.ROUTE_STREAM_CHANGED,
                old.stream,
                new.stream,
                "consumers read the old stream and would never see the type",
            )
        )
    if old.producer != new.producer:
        found.append(
            _violation(
                name,
                Rule.ROUTE_PRODUCER_CHANGED,
                old.producer,
                new.producer,
                "consumers refuse the type from any engine but the route's producer",
            )
        )
    for consumer in old.consumers:
        if consumer not in new.consumers:
            found.append(
                _violation(
                    name,
                    Rule.ROUTE_CONSUMER_REMOVED,
                    f"consumer {consumer}",
                    "",
                    f"{consumer} would stop receiving the type",
                )
            )
    if uses_priority_lane(old.priority) != uses_priority_lane(new.priority):
        found.append(
            _violation(
                name,
                Rule.ROUTE_LANE_CHANGED,
                f"{old.priority_name} ({_lane(old.priority)})",
                f"{new.priority_name} ({_lane(new.priority)})",
                "the default priority moves the type to the other lane",
            )
        )
    if _cut(old.partitions) != _cut(new.partitions):
        found.append(
            _violation(
                name,
                Rule.ROUTE_PARTITIONS_CHANGED,
                f"{_cut(old.partitions)} partition(s)",
                f"{_cut(new.partitions)} partition(s)",
                "the stream's entries move to other keys: readers of the old cut never see them",
            )
        )
    return found


def _cut(partitions: int) -> int:
    """0 and 1 both mean one stream."""
    return max(1, partitions)


def compare_routes(
    old: RouteOptions, new: RouteOptions, new_types: Iterable[str] | None = None
) -> list[Violation]:
    """Why the routes of `new` break engines relying on `old`; empty when they do not.

    `new_types` are the message types the new contract declares, routed or not; a routed type
    absent from them was deleted, which the schema check reports, so it is skipped here.
    """
    declared = set(new_types) if new_types is not None else None
    found: list[Violation] = []
    for name, route in old.routes.items():
        successor = new.routes.get(name)
        if successor is not None:
            found += _compare(name, route, successor)
        elif declared is None or name in declared:
            found.append(
                _violation(
                    name,
                    Rule.ROUTE_REMOVED,
                    f"{route.stream} from {route.producer}",
                    "",
                    "the type is no longer routed: no engine may publish or consume it",
                )
            )
    return found
