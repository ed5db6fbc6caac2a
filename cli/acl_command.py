"""`nautilus acl`: the Redis ACL of the bus, rendered from the contract for one server version.

The ACL is the least-privilege policy of the bus (codegen/render/acl.py): one user per engine,
`schema-admin` for the schema registry, `operator` for the `nautilus` commands, `default` off.
The server version decides the dialect: given with `--server-version`, or read from the server
named by `--redis-url` (INFO). `--passwords DIR` puts password hashes in the file, taking each
user's password from `DIR/<user>` and generating (0600) the ones missing; without it the users
have no password and cannot log in until given one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nautilus.cli.command_errors import EXIT_OK, CommandError, run_command
from nautilus.cli.server_url import connect
from nautilus.codegen.render.acl import ServerFlavor, acl_users, password_hash, render_acl_file
from nautilus.runtime.admin import RedisAdmin
from nautilus.runtime.credentials import CredentialsError, ensure_passwords

__all__ = ["register", "server_flavor"]

_DESCRIPTION = """\
Print (or --out FILE) the Redis ACL file of the bus, rendered from the contract: one user per
engine (XADD only on its own stream's lanes; group reads, acks and reclaims only on the lanes it
consumes; the schema registry read-only), schema-admin (registry writes), operator (the nautilus
commands: reads, dead-letter replay and purge, trim), and the default user off.

Load it with `redis-server --aclfile FILE` or `ACL LOAD`. Without --passwords the users have no
password. See docs/security.md."""


async def server_flavor(admin: RedisAdmin) -> ServerFlavor:
    """The ACL dialect of the connected server, from INFO's redis_version."""
    info = await admin.server_info("server")
    version = str(info.get("redis_version", ""))
    try:
        return ServerFlavor.for_version(version)
    except ValueError as exc:
        raise CommandError(str(exc)) from None


async def _run(args: Any) -> int:
    if args.server_version:
        flavor = ServerFlavor.for_version(args.server_version)
    elif args.redis_url:
        async with connect(args.redis_url) as (admin, _url):
            flavor = await server_flavor(admin)
    else:
        raise CommandError("say which server: --server-version 7.0|7.2 or --redis-url URL")
    from nautilus.cli.contract_command import load_generated_contract

    contract = load_generated_contract()
    hashes: dict[str, str] = {}
    if args.passwords:
        try:
            passwords, created = ensure_passwords(Path(args.passwords), acl_users(contract))
        except CredentialsError as exc:
            raise CommandError(str(exc)) from None
        hashes = {user: password_hash(password) for user, password in passwords.items()}
        if created:
            print(
                f"new passwords (0600) in {args.passwords}: {', '.join(created)}", file=sys.stderr
            )
    text = render_acl_file(contract, flavor, hashes)
    if args.out:
        Path(args.out).write_text(text)
        print(f"ACL for Redis {flavor.value}+ written to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _parse_version(text: str) -> str:
    try:
        ServerFlavor.for_version(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def register(commands: Any) -> None:
    parser: argparse.ArgumentParser = commands.add_parser(
        "acl",
        help="the Redis ACL of the bus (least privilege per engine), from the contract",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--server-version",
        type=_parse_version,
        metavar="X.Y",
        help="the server's version (7.0; 7.2 or later, Valkey 7.2+)",
    )
    parser.add_argument(
        "--redis-url", metavar="URL", help="read the version from this server (INFO)"
    )
    parser.add_argument(
        "--passwords",
        metavar="DIR",
        help="hash the password in DIR/<user> into the file; generate (0600) missing ones",
    )
    parser.add_argument("--out", metavar="FILE", help="write the file here instead of stdout")
    parser.set_defaults(handler=lambda args: run_command("acl", lambda: _run(args)))
