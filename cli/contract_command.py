"""`nautilus contract`: the bus contract at a glance — streams, producers, consumers, messages."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

from nautilus.codegen.model import ContractModel
from nautilus.codegen.parse import parse_contract

__all__ = ["contract_json", "load_generated_contract", "register", "render_summary"]


def load_generated_contract() -> ContractModel:
    """The contract as compiled into generated/ (what running engines use)."""
    from nautilus.contract import DESCRIPTOR_SET_PATH

    data = Path(DESCRIPTOR_SET_PATH).read_bytes()
    return parse_contract(descriptor_pb2.FileDescriptorSet.FromString(data))


def render_summary(contract: ContractModel) -> str:
    """A plain-text table: one row per bus message, grouped by stream."""
    names = {e.name: e.display_name for e in contract.engines}
    rows = [("stream", "producer", "message", "priority", "consumers")]
    for stream, messages in contract.streams.items():
        for message in messages:
            route = message.route
            assert route is not None
            consumers = ", ".join(names[c] for c in route.consumers)
            rows.append(
                (stream, names[route.producer], message.full_name, route.priority, consumers)
            )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row[:4])) + "  " + row[4]
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths) + "  " + "-" * 9)
    engines = [e for e in contract.engines if not e.external]
    lines.append("")
    lines.append(
        f"{len(contract.bus_messages)} message types on {len(contract.streams)} streams; "
        f"{len(engines)} engines"
    )
    return "\n".join(lines)


def contract_json(contract: ContractModel) -> dict[str, Any]:
    """The contract as data: engines, then per stream its messages with their routes."""
    streams = []
    for stream, messages in contract.streams.items():
        routed = []
        for message in messages:
            route = message.route
            assert route is not None
            routed.append(
                {
                    "type": message.full_name,
                    "producer": route.producer,
                    "consumers": list(route.consumers),
                    "priority": route.priority,
                }
            )
        streams.append({"stream": stream, "messages": routed})
    engines = [
        {
            "name": engine.name,
            "display_name": engine.display_name,
            "stream": engine.stream,
            "port": engine.port,
            "external": engine.external,
        }
        for engine in contract.engines
    ]
    return {"engines": engines, "streams": streams}


def _run(args: Any) -> int:
    contract = load_generated_contract()
    if args.json:
        print(json.dumps(contract_json(contract), indent=2))
    else:
        print(render_summary(contract))
    return 0


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "contract",
        help="print the bus contract: streams, producers, consumers",
        description=(
            "The contract compiled into this installation: per stream, each message type with "
            "its producer, priority and consuming engines; --json gives the same with the "
            "engines' ports and streams."
        ),
    )
    parser.add_argument("--json", action="store_true", help="one JSON document")
    parser.set_defaults(handler=_run)
