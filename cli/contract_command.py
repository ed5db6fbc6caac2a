"""`nautilus contract`: the bus contract at a glance — streams, producers, consumers, messages."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from google.protobuf import descriptor_pb2

from nautilus.codegen.model import ContractModel
from nautilus.codegen.parse import parse_contract

__all__ = ["load_generated_contract", "register", "render_summary"]


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


def _run(args: Any) -> int:
    print(render_summary(load_generated_contract()))
    return 0


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "contract", help="print the bus contract: streams, producers, consumers"
    )
    parser.set_defaults(handler=_run)
