"""`nautilus schema list|show|register`: the schema registry on the bus's server, for operators.

`list` and `show` only read. `register` does what a producer does on start (the same
`SchemaRegistry.register`, the same compatibility modes), so a schema can be registered ahead of a
deployment and an incompatible one is refused with every violation listed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from nautilus.cli.command_errors import EXIT_FAILURE, EXIT_OK, CommandError, run_command
from nautilus.cli.entry_view import iso_ns
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.cli.tables import Cell, render_table
from nautilus.contract import bus_message_classes, fingerprints
from nautilus.runtime.schema import (
    DEFAULT_LEVEL,
    DEFAULT_MODE,
    CompatLevel,
    CompatMode,
    DescriptorSetError,
    MessageDescriptor,
    SchemaIncompatibleError,
    build_pool,
)
from nautilus.runtime.schema.registry import SchemaRegistry, SchemaVersion

__all__ = ["add_registry_actions"]

_MODES = {mode.value.lower(): mode for mode in CompatMode}
_LEVELS = {level.value.lower(): level for level in CompatLevel}


def _full_name(name: str, known: list[str]) -> str:
    """`name` as a full type name; a short name (ToxicityAlert) is accepted when unambiguous."""
    if name in known:
        return name
    matches = [full for full in known if full.rsplit(".", 1)[-1] == name]
    if len(matches) == 1:
        return matches[0]
    raise CommandError(f"unknown message type {name!r}; known types: {', '.join(known)}")


def _status(contract_fp: str | None, versions: list[str]) -> str:
    if contract_fp is None:
        return "not in this contract"
    if not versions:
        return "not registered"
    if versions[-1] == contract_fp:
        return "contract is latest"
    if contract_fp in versions:
        return f"contract is v{versions.index(contract_fp) + 1}"
    return "contract not registered"


async def _list(args: argparse.Namespace) -> int:
    contract = fingerprints()
    async with connect(args.redis_url) as (redis, _url):
        registry = SchemaRegistry(redis)
        names = sorted(set(contract) | set(await registry.types()))
        listing = [(name, await registry.versions(name)) for name in names]
    if args.json:
        for name, versions in listing:
            document = {"type": name, "versions": versions, "contract": contract.get(name)}
            print(json.dumps(document, separators=(",", ":")))
        return EXIT_OK
    rows: list[list[Cell]] = [
        [
            name,
            len(versions),
            versions[-1] if versions else None,
            contract.get(name),
            _status(contract.get(name), versions),
        ]
        for name, versions in listing
    ]
    print(render_table(["type", "versions", "latest", "contract", "status"], rows))
    return EXIT_OK


def _field_type(field: FieldDescriptor) -> str:
    if field.message_type is not None:
        if field.message_type.GetOptions().map_entry:
            key, value = field.message_type.fields
            return f"map<{_field_type(key)}, {_field_type(value)}>"
        return str(field.message_type.full_name)
    if field.enum_type is not None:
        return str(field.enum_type.full_name)
    names = {
        value: name.removeprefix("TYPE_").lower()
        for name, value in vars(FieldDescriptor).items()
        if name.startswith("TYPE_")
    }
    return names.get(field.type, str(field.type))


def render_message(descriptor: Descriptor) -> str:
    """The message's fields as proto source lines (nested types by full name)."""
    lines = [f"message {descriptor.full_name} {{"]
    for field in descriptor.fields:
        label = "repeated " if field.is_repeated and not _is_map(field) else ""
        lines.append(f"  {label}{_field_type(field)} {field.name} = {field.number};")
    lines.append("}")
    return "\n".join(lines)


def _is_map(field: FieldDescriptor) -> bool:
    return field.message_type is not None and bool(field.message_type.GetOptions().map_entry)


def _version_json(version: SchemaVersion, contract_fp: str | None) -> dict[str, Any]:
    return {
        "version": version.version,
        "fingerprint": version.fingerprint,
        "producer": version.producer,
        "registered_at": iso_ns(version.registered_at_ns),
        "registered_at_ns": version.registered_at_ns,
        "contract": version.fingerprint == contract_fp,
    }


async def _show(args: argparse.Namespace) -> int:
    contract = fingerprints()
    async with connect(args.redis_url) as (redis, _url):
        registry = SchemaRegistry(redis)
        name = _full_name(args.type, sorted(set(contract) | set(await registry.types())))
        history = await registry.version_history(name)
        if args.fingerprint is not None:
            descriptor = await registry.descriptor(name, args.fingerprint)
            if descriptor is None:
                raise CommandError(
                    f"{name} has no registered version {args.fingerprint}; "
                    f"registered: {', '.join(v.fingerprint for v in history) or 'none'}"
                )
            print(render_message(descriptor))
            return EXIT_OK
    if args.json:
        versions = [_version_json(v, contract.get(name)) for v in history]
        document = {"type": name, "contract": contract.get(name), "versions": versions}
        print(json.dumps(document, indent=2))
        return EXIT_OK
    rows: list[list[Cell]] = [
        [
            v.version,
            v.fingerprint,
            v.producer or "(tool)",
            iso_ns(v.registered_at_ns),
            "contract" if v.fingerprint == contract.get(name) else "",
        ]
        for v in history
    ]
    print(render_table(["version", "fingerprint", "producer", "registered", ""], rows))
    if not history:
        print(f"\n{name} has no registered versions")
    return EXIT_OK


def _descriptors_to_register(args: argparse.Namespace) -> list[MessageDescriptor]:
    contract = sorted(fingerprints())
    if args.all == bool(args.types):
        raise CommandError("name the types to register, or --all (not both)")
    names = contract if args.all else [_full_name(t, contract) for t in args.types]
    if args.source is None:
        classes = bus_message_classes()
        return [classes[name].DESCRIPTOR for name in names]
    from nautilus.cli.schema_command import SchemaInputError, load_contract

    try:
        pool = build_pool(load_contract(Path(args.source)))
    except (SchemaInputError, DescriptorSetError) as exc:
        raise CommandError(str(exc)) from None
    found: list[MessageDescriptor] = []
    for name in names:
        try:
            found.append(pool.FindMessageTypeByName(name))
        except KeyError:
            if not args.all:
                raise CommandError(f"{args.source} has no message {name}") from None
    return found


async def _register(args: argparse.Namespace) -> int:
    descriptors = _descriptors_to_register(args)
    mode, level = _MODES[args.mode], _LEVELS[args.level]
    async with connect(args.redis_url) as (redis, _url):
        registry = SchemaRegistry(redis)
        for descriptor in descriptors:
            try:
                done = await registry.register(
                    descriptor, mode=mode, level=level, producer=args.producer
                )
            except SchemaIncompatibleError as exc:
                for violation in exc.violations:
                    print(violation)
                print(
                    f"refused: {descriptor.full_name} is incompatible ({mode.value}, {level.value})"
                )
                return EXIT_FAILURE
            verb = "registered" if done.created else "already registered"
            print(f"{done.message_type} {done.fingerprint}: {verb} as version {done.version}")
    return EXIT_OK


def add_registry_actions(actions: Any) -> None:
    """Add list, show and register to the `schema` command's actions."""
    listing: argparse.ArgumentParser = actions.add_parser(
        "list",
        help="registered types, their versions, and whether this contract's version is latest",
        description=f"Every type of the contract or the registry. {SERVER_SELECTION_HELP}",
    )
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    add_server_option(listing)
    listing.set_defaults(handler=lambda a: run_command("schema list", lambda: _list(a)))

    show: argparse.ArgumentParser = actions.add_parser(
        "show",
        help="a type's registered versions, or one version's fields",
        description=(
            "The registered versions of TYPE (full or short name), oldest first, with who "
            "registered them and when; with --fingerprint, that version's fields. "
            + SERVER_SELECTION_HELP
        ),
    )
    show.add_argument("type", metavar="TYPE", help="e.g. nautilus.vpin.v1.ToxicityAlert")
    show.add_argument("--fingerprint", metavar="F", help="print the fields of this version")
    show.add_argument("--json", action="store_true", help="the versions as JSON")
    add_server_option(show)
    show.set_defaults(handler=lambda a: run_command("schema show", lambda: _show(a)))

    register: argparse.ArgumentParser = actions.add_parser(
        "register",
        help="register schemas as a producer would (refused when incompatible)",
        description=(
            "Register the schema of each TYPE (or --all bus types) from this contract, or from "
            "--from (a .proto module directory or a binary descriptor set), checked against the "
            "registered versions under --mode and --level. Exit status: 0 registered (or already "
            "was), 1 incompatible (violations on stdout) or server unreachable, 2 bad arguments. "
            + SERVER_SELECTION_HELP
        ),
    )
    register.add_argument("types", nargs="*", metavar="TYPE", help="full or short type names")
    register.add_argument("--all", action="store_true", help="every bus message type")
    register.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="register the schemas of this contract instead (directory or descriptor set)",
    )
    register.add_argument(
        "--mode",
        choices=sorted(_MODES),
        default=DEFAULT_MODE.value.lower(),
        help="compatibility mode (default full, the producers' default)",
    )
    register.add_argument(
        "--level",
        choices=sorted(_LEVELS),
        default=DEFAULT_LEVEL.value.lower(),
        help="wire or wire_json (default)",
    )
    register.add_argument(
        "--producer", default="", help="engine to record as the registrant (default: none)"
    )
    add_server_option(register)
    register.set_defaults(handler=lambda a: run_command("schema register", lambda: _register(a)))
