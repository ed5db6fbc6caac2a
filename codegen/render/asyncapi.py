"""An AsyncAPI 3.0 document of the whole bus: channels are streams, operations are per engine.

Each stream is a channel; each engine gets a `send` operation per message type it produces and a
`receive` operation per message type it consumes, so the document answers "who talks to whom"
the same way the route options do. Message payloads embed the generated JSON Schemas (the proto3
JSON mapping of the protobuf payload) and message headers describe the stream-entry fields of
wire format 1 (docs/wire-format.md).
"""

from __future__ import annotations

import json
from typing import Any

from nautilus.codegen.model import ContractModel, EngineModel, MessageModel
from nautilus.codegen.render.jsonschema import message_json_schema
from nautilus.runtime.lanes import dead_letter_stream, priority_lane
from nautilus.runtime.naming import major_version, member_stem

__all__ = ["ASYNCAPI_PATH", "asyncapi_document", "render_asyncapi"]

ASYNCAPI_PATH = "nautilus/contract/asyncapi.json"
_SCHEMA_FORMAT = "application/schema+json;version=2020-12"


def _member(message: MessageModel) -> str:
    """The message's key in its channel: its name, with the major version beyond v1."""
    version = major_version(message.package)
    return message.name if version in ("", "v1") else f"{message.name}_{version}"


def _headers(message: MessageModel) -> dict[str, Any]:
    """The stream-entry fields that travel beside the protobuf payload."""
    assert message.route is not None
    return {
        "type": "object",
        "description": "Stream-entry fields of wire format 1; the payload is field `p`.",
        "required": ["v", "t", "f", "p", "s", "ts", "pr"],
        "properties": {
            "v": {"const": "1", "description": "Wire-format version."},
            "t": {"const": message.full_name, "description": "Message type (protobuf full name)."},
            "f": {
                "type": "string",
                "pattern": "^[0-9a-f]{16}$",
                "description": f"Writer's schema fingerprint; this version: {message.fingerprint}.",
            },
            "p": {"type": "string", "description": "Protobuf binary encoding of the message."},
            "s": {"const": message.route.producer, "description": "Publishing engine."},
            "ts": {"type": "string", "pattern": "^[0-9]+$", "description": "Publish time, ns."},
            "pr": {
                "type": "string",
                "enum": ["1", "2", "3", "4", "5"],
                "description": "Priority: 1 LOW, 2 NORMAL, 3 HIGH, 4 URGENT, 5 CRITICAL.",
            },
            "k": {"type": "string", "description": "Optional partition key, e.g. instrument id."},
            "tc": {"type": "string", "description": "Optional W3C traceparent."},
        },
    }


def _message(contract: ContractModel, message: MessageModel) -> dict[str, Any]:
    assert message.route is not None
    summary = message.comment.split("\n\n")[0].replace("\n", " ")
    reliable = message.route.at_least_once_consumers
    extra = {"x-nautilus-at-least-once-consumers": list(reliable)} if reliable else {}
    return {
        "name": message.name,
        "title": message.full_name,
        "summary": summary,
        "description": message.comment,
        "contentType": "application/x-protobuf",
        "headers": _headers(message),
        "payload": {
            "schemaFormat": _SCHEMA_FORMAT,
            "schema": message_json_schema(contract, message),
        },
        "x-nautilus-fingerprint": message.fingerprint,
        "x-nautilus-default-priority": message.route.priority,
        "x-nautilus-delivery": message.route.delivery,
        **extra,
    }


def _channel_id(engine: EngineModel) -> str:
    return engine.name


def _channel(engine: EngineModel, messages: tuple[MessageModel, ...]) -> dict[str, Any]:
    stream = engine.stream
    return {
        "address": stream,
        "title": f"{engine.display_name} stream",
        "description": (
            f"Published by the {engine.display_name} engine. Bulk lane `{stream}`, priority lane "
            f"`{priority_lane(stream)}` (URGENT, CRITICAL; read first), dead letters in "
            f"`{dead_letter_stream(stream)}`; all of a stream's keys share one hash slot. One "
            "consumer group per consuming engine."
        ),
        "messages": {
            _member(m): {"$ref": f"#/components/messages/{m.full_name}"} for m in messages
        },
    }


def _operations(contract: ContractModel) -> dict[str, Any]:
    channel_of = {e.stream: _channel_id(e) for e in contract.engines if e.stream}
    operations: dict[str, Any] = {}
    for engine in contract.engines:
        for message in contract.bus_messages:
            route = message.route
            assert route is not None
            if engine.name == route.producer:
                action, verb = "send", "publish"
            elif engine.name in route.consumers:
                action, verb = "receive", "consume"
            else:
                continue
            channel = channel_of[route.stream]
            operation: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel}"},
                "messages": [{"$ref": f"#/channels/{channel}/messages/{_member(message)}"}],
                "title": f"{engine.display_name} {verb}s {message.name}",
                "x-nautilus-engine": engine.name,
            }
            if action == "receive":
                operation["x-nautilus-consumer-group"] = engine.name
            operations[f"{engine.name}.{verb}_{member_stem(message.name, message.package)}"] = (
                operation
            )
    return operations


def asyncapi_document(contract: ContractModel) -> dict[str, Any]:
    streams = contract.streams
    producers = {e.stream: e for e in contract.engines if e.stream}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Nautilus MessageBus",
            "version": "1.0.0",
            "description": (
                "The bus of the Nautilus trading platform: twelve engines exchanging protobuf "
                "messages over Redis Streams. Generated by nautilus.codegen from schemas/."
            ),
            "license": {"name": "Apache-2.0"},
        },
        "defaultContentType": "application/x-protobuf",
        "servers": {
            "redis": {
                "host": "localhost:6379",
                "protocol": "redis",
                "description": "Any Redis 7 or Valkey 8 server (REDIS_URL).",
            }
        },
        "channels": {
            _channel_id(producers[stream]): _channel(producers[stream], messages)
            for stream, messages in streams.items()
        },
        "operations": _operations(contract),
        "components": {
            "messages": {m.full_name: _message(contract, m) for m in contract.bus_messages}
        },
    }


def render_asyncapi(contract: ContractModel) -> dict[str, bytes]:
    text = json.dumps(asyncapi_document(contract), indent=2, ensure_ascii=False) + "\n"
    return {ASYNCAPI_PATH: text.encode()}
