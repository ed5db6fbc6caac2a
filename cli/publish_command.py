"""`nautilus publish TYPE --json '{...}' --as-engine ENGINE`: one message, by hand, like kcat -P.

The message goes through the same client an engine uses, so it gets the right envelope (type,
fingerprint, producer, publish time, priority, key), lands on the route's lane for its priority,
and the schema registry is checked as a producer's start checks it. Consumers accept only
entries from a type's producer, so publishing by hand means acting as that engine: the command
says so and refuses unless `--as-engine` names the type's producer (with that engine's
credentials in the URL when the server enforces the bus's ACL).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message

from nautilus.cli.arguments import message_type
from nautilus.cli.command_errors import EXIT_FAILURE, EXIT_OK, CommandError, run_command
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.contract import bus_message_classes
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.errors import MessageBusError, TransportError
from nautilus.runtime.lanes import lane_for
from nautilus.runtime.priority import MessagePriority
from nautilus.runtime.routing import engines, message_spec

__all__ = ["register"]

_DESCRIPTION = f"""\
Publish one message of TYPE (full name, or the short name when it is unique), given as proto3
JSON, on its route's stream: the priority lane for URGENT/CRITICAL, the bulk lane otherwise.
--as-engine must name TYPE's producer: consumers dead-letter entries from anyone else. The
producer's schema must be registered (as for an engine's start).

{SERVER_SELECTION_HELP}
Exit status: 0 published, 1 server unreachable or the registry refused, 2 bad arguments
(unknown type, JSON that is not a TYPE, an engine that does not produce TYPE)."""


def _message(cls: type[Message], text: str) -> Message:
    if text == "-":
        text = sys.stdin.read()
    try:
        return json_format.Parse(text, cls())
    except json_format.ParseError as exc:
        raise CommandError(f"not a valid {cls.DESCRIPTOR.full_name} as JSON: {exc}") from None


def _checked_engine(type_name: str, engine: str | None) -> str:
    producer = message_spec(bus_message_classes()[type_name]).route.producer
    if engine is None:
        raise CommandError(
            f"publishing {type_name} means writing as its producer: add --as-engine {producer} "
            "(with its credentials in the URL when the server has the bus's ACL)"
        )
    if engine != producer:
        raise CommandError(
            f"engine {engine!r} does not produce {type_name} (its producer is {producer!r}); "
            "consumers would dead-letter it as misrouted"
        )
    return engine


async def _publish(args: argparse.Namespace) -> int:
    cls = bus_message_classes()[args.type]
    engine = _checked_engine(args.type, args.as_engine)
    message = _message(cls, args.json)
    spec = message_spec(cls)
    priority = MessagePriority[args.priority] if args.priority else spec.route.priority
    async with connect(args.redis_url) as (_redis, url):
        config = MessageBusConfig(engine=engine, redis_url=url, trim_interval_ms=0)
        client = UniversalMessageBusClient(config, publishes=(cls,))
        try:
            await client.start(consume=False)
            await client.publish(message, priority=priority, key=args.key)
            await client.flush()
        except TransportError:
            raise
        except MessageBusError as exc:  # the registry refused the schema, or a write was refused
            raise CommandError(str(exc), EXIT_FAILURE) from None
        finally:
            await client.close()
    report = {
        "type": spec.full_name,
        "fingerprint": spec.fingerprint,
        "producer": engine,
        "lane_key": lane_for(spec.route.stream, priority),
        "priority": priority.name,
        "key": args.key,
    }
    if args.report_json:
        print(json.dumps(report, separators=(",", ":")))
    else:
        print(
            f"published {spec.full_name} ({spec.fingerprint}) to {report['lane_key']} "
            f"as {engine}, priority {priority.name}" + (f", key {args.key}" if args.key else "")
        )
    return EXIT_OK


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "publish",
        help="publish one message given as JSON, as its producer (like kcat -P)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("type", metavar="TYPE", type=message_type, help="message type")
    parser.add_argument(
        "--json", required=True, metavar="JSON", help="the message as proto3 JSON ('-': stdin)"
    )
    parser.add_argument(
        "--as-engine",
        metavar="ENGINE",
        choices=sorted(info.name for info in engines()),
        help="publish as this engine: must be TYPE's producer",
    )
    parser.add_argument("--key", metavar="K", help="partition key of the message")
    parser.add_argument(
        "--priority",
        choices=[p.name for p in MessagePriority],
        help="override the route's default priority (and so the lane)",
    )
    parser.add_argument(
        "--report-json", action="store_true", help="report what was published as JSON"
    )
    add_server_option(parser)
    parser.set_defaults(handler=lambda a: run_command("publish", lambda: _publish(a)))
