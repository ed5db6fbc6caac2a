"""`nautilus schema list|show|register`: the schema registry on the bus's server, for operators.

`list` and `show` only read. `register` does what a producer does on start (the same
`SchemaRegistry.register`, the same compatibility modes), so a schema can be registered ahead of a
deployment and an incompatible one is refused with every violation listed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from nautilus.cli.command_errors import EXIT_FAILURE, EXIT_OK, CommandError, run_command
from nautilus.cli.entry_view import iso_ns
from nautilus.cli.server_url import SERVER_SELECTION_HELP, add_server_option, connect
from nautilus.cli.tables import Cell, render_table
from nautilus.contract import bus_message_classes, fingerprints
from nautilus.runtime.route_options import RouteOptionsError, read_route_options
from nautilus.runtime.schema import (
    DEFAULT_LEVEL,
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
    async with connect(args.redis_url) as (admin, _url):
        registry = SchemaRegistry(admin.redis)
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
        "deprecated": version.deprecated,
    }


async def _show(args: argparse.Namespace) -> int:
    contract = fingerprints()
    async with connect(args.redis_url) as (admin, _url):
        registry = SchemaRegistry(admin.redis)
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
            ", ".join(
                part
                for part in (
                    "contract" if v.fingerprint == contract.get(name) else "",
                    f"deprecated: {v.deprecated}" if v.deprecated else "",
                )
                if part
            ),
        ]
        for v in history
    ]
    print(render_table(["version", "fingerprint", "producer", "registered", ""], rows))
    if not history:
        print(f"\n{name} has no registered versions")
    return EXIT_OK


def _candidate(source: str) -> tuple[Any, list[str]]:
    """The pool of contract `source` and its bus (routed) message types."""
    from nautilus.cli.schema_command import SchemaInputError, load_contract

    try:
        descriptor_set = load_contract(Path(source))
        pool = build_pool(descriptor_set)
        routed = sorted(read_route_options(descriptor_set).routes)
    except (SchemaInputError, DescriptorSetError, RouteOptionsError) as exc:
        raise CommandError(str(exc)) from None
    return pool, routed


def _descriptors(args: argparse.Namespace) -> list[MessageDescriptor]:
    """The types named on the command line (or --all), from this contract or from --from."""
    if args.all == bool(args.types):
        raise CommandError("name the types, or --all (not both)")
    if args.source is None:
        contract = sorted(fingerprints())
        classes = bus_message_classes()
        names = contract if args.all else [_full_name(t, contract) for t in args.types]
        return [classes[name].DESCRIPTOR for name in names]
    pool, routed = _candidate(args.source)
    names = routed if args.all else [_full_name(t, routed) for t in args.types]
    return [pool.FindMessageTypeByName(name) for name in names]


def _mode_of(args: argparse.Namespace) -> CompatMode | None:
    mode = _MODES[args.mode] if args.mode else None
    if mode is CompatMode.NONE:
        print(
            "WARNING: --mode none registers without any compatibility check. Readers and writers "
            "of incompatible versions will misread or dead-letter each other's messages, and "
            "every later version is checked against this one.",
            file=sys.stderr,
        )
    return mode


async def _register(args: argparse.Namespace) -> int:
    descriptors = _descriptors(args)
    mode, level = _mode_of(args), _LEVELS[args.level]
    async with connect(args.redis_url) as (admin, _url):
        registry = SchemaRegistry(admin.redis)
        for descriptor in descriptors:
            try:
                done = await registry.register(
                    descriptor, mode=mode, level=level, producer=args.producer
                )
            except SchemaIncompatibleError as exc:
                for violation in exc.violations:
                    print(violation)
                used = mode or await registry.mode(descriptor.full_name)
                print(
                    f"refused: {descriptor.full_name} is incompatible ({used.value}, {level.value})"
                )
                return EXIT_FAILURE
            verb = "registered" if done.created else "already registered"
            print(f"{done.message_type} {done.fingerprint}: {verb} as version {done.version}")
    return EXIT_OK


async def _check(args: argparse.Namespace) -> int:
    descriptors = _descriptors(args)
    mode, level = _mode_of(args), _LEVELS[args.level]
    failed = False
    async with connect(args.redis_url) as (admin, _url):
        registry = SchemaRegistry(admin.redis)
        for descriptor in descriptors:
            violations = await registry.check(descriptor, mode=mode, level=level)
            used = mode or await registry.mode(descriptor.full_name)
            for violation in violations:
                print(violation)
            verdict = "incompatible" if violations else "compatible"
            print(f"{descriptor.full_name}: {verdict} ({used.value}, {level.value})")
            failed = failed or bool(violations)
    return EXIT_FAILURE if failed else EXIT_OK


async def _deprecate(args: argparse.Namespace) -> int:
    async with connect(args.redis_url) as (admin, _url):
        registry = SchemaRegistry(admin.redis)
        name = _full_name(args.type, sorted(set(fingerprints()) | set(await registry.types())))
        try:
            await registry.deprecate(name, args.fingerprint, args.reason)
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from None
    print(f"{name} {args.fingerprint}: deprecated (still readable)")
    return EXIT_OK


async def _delete(args: argparse.Namespace) -> int:
    if not args.force:
        raise CommandError(
            "deleting a version makes entries written with it undecodable; add --force"
        )
    async with connect(args.redis_url) as (admin, _url):
        registry = SchemaRegistry(admin.redis)
        name = _full_name(args.type, sorted(set(fingerprints()) | set(await registry.types())))
        try:
            await registry.delete(name, args.fingerprint)
        except KeyError as exc:
            raise CommandError(str(exc.args[0])) from None
    print(f"{name} {args.fingerprint}: deleted")
    return EXIT_OK


async def _mode(args: argparse.Namespace) -> int:
    async with connect(args.redis_url) as (admin, _url):
        registry = SchemaRegistry(admin.redis)
        if args.registry_default == bool(args.type):
            raise CommandError("name a TYPE, or --global for the registry's default (not both)")
        name = None
        if args.type:
            name = _full_name(args.type, sorted(set(fingerprints()) | set(await registry.types())))
        if args.set is not None:
            await registry.set_mode(name, _MODES[args.set])
        mode = await registry.mode(name)
    print(f"{name or 'registry default'}: {mode.value}")
    return EXIT_OK


def _selection_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("types", nargs="*", metavar="TYPE", help="full or short type names")
    parser.add_argument("--all", action="store_true", help="every bus message type")
    parser.add_argument(
        "--from",
        dest="source",
        metavar="PATH",
        help="a candidate contract (directory or descriptor set): its types, even new ones",
    )
    parser.add_argument(
        "--mode",
        choices=sorted(_MODES),
        default=None,
        help="compatibility mode (default: the type's mode in the registry, else FULL)",
    )
    parser.add_argument(
        "--level",
        choices=sorted(_LEVELS),
        default=DEFAULT_LEVEL.value.lower(),
        help="wire or wire_json (default)",
    )


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
    _selection_arguments(register)
    register.add_argument(
        "--producer", default="", help="engine to record as the registrant (default: none)"
    )
    add_server_option(register)
    register.set_defaults(handler=lambda a: run_command("schema register", lambda: _register(a)))

    check: argparse.ArgumentParser = actions.add_parser(
        "check",
        help="dry run of register: would these schemas be accepted? (writes nothing)",
        description=(
            "Check each TYPE (or --all) from this contract or --from against its registered "
            "versions, as `register` would, without writing. Violations name the registered "
            "version they conflict with. Exit status: 0 compatible, 1 incompatible, 2 bad "
            "arguments. " + SERVER_SELECTION_HELP
        ),
    )
    _selection_arguments(check)
    add_server_option(check)
    check.set_defaults(handler=lambda a: run_command("schema check", lambda: _check(a)))

    deprecate: argparse.ArgumentParser = actions.add_parser(
        "deprecate",
        help="mark a registered version deprecated (it stays readable)",
        description="Mark version FINGERPRINT of TYPE deprecated. " + SERVER_SELECTION_HELP,
    )
    deprecate.add_argument("type", metavar="TYPE")
    deprecate.add_argument("fingerprint", metavar="FINGERPRINT")
    deprecate.add_argument("--reason", default="", help="recorded with the version")
    add_server_option(deprecate)
    deprecate.set_defaults(handler=lambda a: run_command("schema deprecate", lambda: _deprecate(a)))

    delete: argparse.ArgumentParser = actions.add_parser(
        "delete",
        help="delete a registered version (needs --force)",
        description=(
            "Delete version FINGERPRINT of TYPE: consumers can no longer decode entries written "
            "with it (they are dead-lettered as unknown-fingerprint). " + SERVER_SELECTION_HELP
        ),
    )
    delete.add_argument("type", metavar="TYPE")
    delete.add_argument("fingerprint", metavar="FINGERPRINT")
    delete.add_argument("--force", action="store_true", help="really delete it")
    add_server_option(delete)
    delete.set_defaults(handler=lambda a: run_command("schema delete", lambda: _delete(a)))

    mode: argparse.ArgumentParser = actions.add_parser(
        "mode",
        help="show or set a type's compatibility mode (or the registry default with --global)",
        description=(
            "Print the compatibility mode TYPE is checked under; with --set, store it in the "
            "registry first. --global: the registry's default (FULL when unset). "
            + SERVER_SELECTION_HELP
        ),
    )
    mode.add_argument("type", metavar="TYPE", nargs="?", default="", help="full or short name")
    mode.add_argument(
        "--global", dest="registry_default", action="store_true", help="the registry's default"
    )
    mode.add_argument("--set", choices=sorted(_MODES), default=None, help="the mode to store")
    add_server_option(mode)
    mode.set_defaults(handler=lambda a: run_command("schema mode", lambda: _mode(a)))
