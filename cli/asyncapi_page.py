"""The generated AsyncAPI document as one self-contained HTML page, readable offline.

The page has everything inline (styles, no scripts, no fonts or files fetched from anywhere):
the bus's description and servers, one section per channel (stream) with the messages published
on it and the engines that consume each, one section per message with its wire headers and its
payload's fields in the proto3 JSON mapping, and the operations of each engine. It renders the
AsyncAPI 3 document that `make codegen` writes (generated/nautilus/contract/asyncapi.json); other
documents of the same shape render too, and what the page does not know is left out rather than
guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from html import escape
from typing import Any

__all__ = ["AsyncApiDocumentError", "render_asyncapi"]


class AsyncApiDocumentError(ValueError):
    """The document is not an AsyncAPI 3 document this page can render."""


_STYLE = """
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 0; display: flex; }
nav { width: 260px; flex: none; height: 100vh; overflow-y: auto; position: sticky; top: 0;
      background: #f6f8fa; border-right: 1px solid #d0d7de; padding: 16px; box-sizing: border-box;
      font-size: 13px; }
nav a { color: #0969da; text-decoration: none; display: block; padding: 1px 0; }
nav h3 { font-size: 12px; text-transform: uppercase; color: #59636e; margin: 14px 0 4px; }
main { padding: 24px 40px; max-width: 1100px; }
h1 { margin-top: 0; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: 4px; margin-top: 40px; }
h3 { margin-bottom: 4px; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
              font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 14px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
.desc { color: #3d444d; }
.pill { display: inline-block; padding: 0 8px; border-radius: 10px; background: #ddf4ff;
        color: #0550ae; font-size: 12px; margin-right: 4px; }
.message { border: 1px solid #d0d7de; border-radius: 6px; padding: 4px 16px 8px; margin: 16px 0; }
details summary { cursor: pointer; color: #59636e; }
"""


def _text(value: Any) -> str:
    return escape(str(value))


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-" + "".join(c if c.isalnum() else "-" for c in name)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type_of(schema: Mapping[str, Any]) -> str:
    """A short type for a field: `string`, `number | NonFiniteNumber`, `array of Leg`, ..."""
    if "$ref" in schema:
        return _ref_name(schema["$ref"])
    if "const" in schema:
        return f"const {schema['const']!r}"
    for combinator in ("anyOf", "oneOf", "allOf"):
        if combinator in schema:
            return " | ".join(_type_of(part) for part in schema[combinator])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type_of(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        values = schema["additionalProperties"]
        if isinstance(values, Mapping):
            return f"map of {_type_of(values)}"
    text = " | ".join(kind) if isinstance(kind, list) else str(kind)
    if "pattern" in schema:
        text += f" ({schema['pattern']})"
    if "enum" in schema:
        text += ": " + ", ".join(str(v) for v in schema["enum"])
    return text


def _fields_table(schema: Mapping[str, Any]) -> str:
    properties: Mapping[str, Any] = schema.get("properties", {})
    if not properties:
        return "<p>No fields.</p>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td class=mono>{_text(name)}{' *' if name in required else ''}</td>"
        f"<td class=mono>{_text(_type_of(field))}</td>"
        f"<td class=desc>{_text(field.get('description', ''))}</td></tr>"
        for name, field in properties.items()
    )
    return f"<table><tr><th>field</th><th>type</th><th>description</th></tr>{rows}</table>"


def _definitions(schema: Mapping[str, Any]) -> str:
    defs: Mapping[str, Any] = schema.get("$defs", {})
    if not defs:
        return ""
    parts = []
    for name, definition in defs.items():
        body = (
            _fields_table(definition)
            if "properties" in definition
            else f"<p class=mono>{_text(_type_of(definition))}</p>"
        )
        description = definition.get("description", "")
        parts.append(
            f"<h4 class=mono>{_text(name)}</h4><p class=desc>{_text(description)}</p>{body}"
        )
    return "<details><summary>types used</summary>" + "".join(parts) + "</details>"


def _consumers(document: Mapping[str, Any]) -> dict[str, list[str]]:
    """Message component name -> engines that receive it (from the receive operations)."""
    found: dict[str, list[str]] = defaultdict(list)
    channels: Mapping[str, Any] = document.get("channels", {})
    for operation in document.get("operations", {}).values():
        if operation.get("action") != "receive":
            continue
        engine = operation.get("x-nautilus-engine", "")
        channel = channels.get(_ref_name(operation.get("channel", {}).get("$ref", "")), {})
        for message in operation.get("messages", []):
            short = _ref_name(message.get("$ref", ""))
            target = channel.get("messages", {}).get(short, {}).get("$ref", short)
            found[_ref_name(target)].append(engine)
    return found


def _message(full_name: str, message: Mapping[str, Any], consumers: list[str]) -> str:
    payload = message.get("payload", {})
    schema: Mapping[str, Any] = payload.get("schema", payload) if isinstance(payload, dict) else {}
    headers: Mapping[str, Any] = message.get("headers", {})
    facts = []
    if "x-nautilus-stream" in schema:
        facts.append(f"stream <code>{_text(schema['x-nautilus-stream'])}</code>")
    if "x-nautilus-fingerprint" in schema:
        facts.append(f"fingerprint <code>{_text(schema['x-nautilus-fingerprint'])}</code>")
    if consumers:
        facts.append("consumed by " + "".join(f"<span class=pill>{_text(c)}</span>"
                                             for c in sorted(set(consumers))))  # fmt: skip
    return (
        f"<div class=message id='{_anchor('message', full_name)}'>"
        f"<h3>{_text(message.get('name', full_name))} "
        f"<small class=mono>{_text(full_name)}</small></h3>"
        f"<p>{' · '.join(facts)}</p>"
        f"<p class=desc>{_text(message.get('description', message.get('summary', '')))}</p>"
        f"{_fields_table(schema)}{_definitions(schema)}"
        f"<details><summary>wire headers ({_text(message.get('contentType', ''))})</summary>"
        f"<p class=desc>{_text(headers.get('description', ''))}</p>{_fields_table(headers)}"
        "</details></div>"
    )


def _operations(document: Mapping[str, Any]) -> str:
    by_engine: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for name, operation in document.get("operations", {}).items():
        engine = operation.get("x-nautilus-engine", name.split(".", 1)[0])
        by_engine[engine].append((operation.get("action", ""), operation.get("title", name)))
    rows = "".join(
        f"<tr><td>{_text(engine)}</td><td>"
        + "<br>".join(_text(t) for a, t in sorted(ops) if a == "send")
        + "</td><td>"
        + "<br>".join(_text(t) for a, t in sorted(ops) if a == "receive")
        + "</td></tr>"
        for engine, ops in by_engine.items()
    )
    return (
        "<h2 id=operations>Operations</h2><table><tr><th>engine</th><th>sends</th>"
        f"<th>receives</th></tr>{rows}</table>"
    )


def render_asyncapi(document: Mapping[str, Any]) -> str:
    """The page for `document` (a parsed AsyncAPI 3 document)."""
    version = str(document.get("asyncapi", ""))
    if not version.startswith("3."):
        raise AsyncApiDocumentError(f"not an AsyncAPI 3 document (asyncapi: {version or 'none'})")
    info: Mapping[str, Any] = document.get("info", {})
    channels: Mapping[str, Any] = document.get("channels", {})
    messages: Mapping[str, Any] = document.get("components", {}).get("messages", {})
    consumers = _consumers(document)
    title = f"{info.get('title', 'AsyncAPI')} {info.get('version', '')}".strip()

    nav = ["<nav><strong>" + _text(title) + "</strong><h3>Channels</h3>"]
    nav += [f"<a href='#{_anchor('channel', n)}'>{_text(c.get('address', n))}</a>"
            for n, c in channels.items()]  # fmt: skip
    nav.append("<h3>Messages</h3>")
    by_name = sorted(messages.items(), key=lambda item: str(item[1].get("name", item[0])))
    nav += [f"<a href='#{_anchor('message', n)}'>{_text(m.get('name', n))}</a>" for n, m in by_name]
    nav.append("<h3>Engines</h3><a href='#operations'>Operations</a></nav>")

    body = [f"<main><h1>{_text(title)}</h1>"]
    body.append(f"<p class=desc>{_text(info.get('description', ''))}</p>")
    license_name = info.get("license", {}).get("name")
    if license_name:
        content_type = _text(document.get("defaultContentType", ""))
        body.append(
            f"<p>License: {_text(license_name)} · AsyncAPI {_text(version)} · "
            f"content type {content_type}</p>"
        )
    servers = document.get("servers", {})
    if servers:
        rows = "".join(
            f"<tr><td>{_text(name)}</td><td class=mono>{_text(s.get('protocol', ''))}://"
            f"{_text(s.get('host', ''))}</td><td>{_text(s.get('description', ''))}</td></tr>"
            for name, s in servers.items()
        )
        body.append(f"<h2>Servers</h2><table><tr><th>name</th><th>address</th>"
                    f"<th>description</th></tr>{rows}</table>")  # fmt: skip
    body.append("<h2>Channels</h2>")
    for name, channel in channels.items():
        listed = []
        for short, ref in channel.get("messages", {}).items():
            full = _ref_name(ref.get("$ref", short))
            listed.append(f"<a href='#{_anchor('message', full)}'>{_text(short)}</a>")
        body.append(
            f"<h3 id='{_anchor('channel', name)}' class=mono>{_text(channel.get('address', name))}"
            f"</h3><p>{_text(channel.get('title', ''))}</p>"
            f"<p class=desc>{_text(channel.get('description', ''))}</p>"
            f"<p>Messages: {', '.join(listed) or 'none'}</p>"
        )
    body.append("<h2>Messages</h2>")
    for full_name, message in sorted(messages.items()):
        body.append(_message(full_name, message, consumers.get(full_name, [])))
    body.append(_operations(document))
    body.append("</main>")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width, initial-scale=1'>"
        f"<title>{_text(title)}</title><style>{_STYLE}</style></head><body>"
        + "".join(nav)
        + "".join(body)
        + "</body></html>\n"
    )
