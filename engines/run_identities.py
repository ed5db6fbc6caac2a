"""Who each process of a `nautilus up` run is on the Redis server, and where it finds out.

Least privilege by default: the private server of a run starts with the bus's generated ACL
(codegen/render/acl.py) and a fresh random password for every user, so each engine connects as
itself and can write only its own stream. On a server the run is given (`--redis-url`), engines
connect as the users of `--credentials DIR` (one password file per user, as `nautilus acl
--passwords DIR` writes them), else as the users whose passwords `nautilus up` finds in its
environment (NAUTILUS_PASSWORD_<USER>, e.g. NAUTILUS_PASSWORD_VPIN,
NAUTILUS_PASSWORD_SCHEMA_ADMIN), else all as the URL's identity.

Secrets never travel on a command line: each engine reads its URL from a 0600 file named by the
NAUTILUS_REDIS_URL_FILE environment variable; the operator commands find the operator's URL in
`.nautilus/credentials/operator.url` (0600) while the run lasts.

The alert-propagation floor probe (engines/alert_probe.py) is two more parties: on the private
server each of its processes is a user of its own, limited to the probe's stream; with a shared
identity it uses that identity, as every engine does; on a given server with a user per engine
there is no user for it, and the run measures no floor rather than lend it someone else's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nautilus.codegen.model import ContractModel
from nautilus.codegen.render.acl import (
    OBSERVER,
    OPERATOR,
    SCHEMA_ADMIN,
    ServerFlavor,
    acl_users,
    password_hash,
    render_acl_file,
)
from nautilus.engines.alert_probe import PROBE_USERS, probe_acl
from nautilus.runtime.credentials import (
    CredentialsError,
    new_password,
    read_passwords,
    url_with_credentials,
    without_password,
    write_secret_file,
)

__all__ = [
    "PASSWORD_ENV_PREFIX",
    "RunIdentities",
    "given_identities",
    "password_env",
    "private_acl",
    "private_identities",
    "write_identity_files",
]


@dataclass(frozen=True)
class RunIdentities:
    """The URLs (with secrets: keep them in memory or 0600 files) each party of a run uses."""

    #: The server's address without any credentials: for messages and `.nautilus/server.url`.
    server_url: str
    #: Each engine's URL.
    engines: dict[str, str]
    #: The supervisor's and the operator commands' URL.
    operator: str
    #: schema-admin's URL when the run registers the contract's schemas itself, else None.
    schema_admin: str | None
    #: True when every engine has a user of its own.
    per_engine: bool
    #: The floor probe's URL per user (engines/alert_probe.py); empty when the run has no
    #: identity for it.
    probes: dict[str, str] = field(default_factory=dict)


def private_acl(directory: Path, flavor: ServerFlavor) -> tuple[Path, dict[str, str]]:
    """A fresh random password for every user of the ACL and for the floor probe's users, and the
    ACL file with their hashes, both written 0600 under `directory`."""
    contract = _contract()
    passwords = {user: new_password() for user in (*acl_users(contract), *PROBE_USERS)}
    hashes = {user: password_hash(password) for user, password in passwords.items()}
    acl_file = (directory / "server.acl").absolute()
    write_secret_file(acl_file, render_acl_file(contract, flavor, hashes) + probe_acl(hashes))
    return acl_file, passwords


def private_identities(server_url: str, passwords: dict[str, str]) -> RunIdentities:
    """Every engine, the operator, schema-admin and the probe as their own users on the private
    server."""
    urls = {
        user: url_with_credentials(server_url, user, password)
        for user, password in passwords.items()
    }
    return RunIdentities(
        server_url=without_password(server_url),
        engines={
            user: url
            for user, url in urls.items()
            if user not in (OPERATOR, SCHEMA_ADMIN, OBSERVER, *PROBE_USERS)
        },
        operator=urls[OPERATOR],
        schema_admin=urls[SCHEMA_ADMIN],
        per_engine=True,
        probes={user: urls[user] for user in PROBE_USERS if user in urls},
    )


#: `nautilus up` takes a user's password from NAUTILUS_PASSWORD_<USER> when no --credentials
#: directory is given; engines never inherit these variables.
PASSWORD_ENV_PREFIX = "NAUTILUS_PASSWORD_"


def password_env(user: str) -> str:
    """The environment variable holding `user`'s password: NAUTILUS_PASSWORD_SCHEMA_ADMIN."""
    return PASSWORD_ENV_PREFIX + user.upper().replace("-", "_")


def given_identities(
    url: str,
    engines: Iterable[str],
    credentials: Path | None,
    environment: Mapping[str, str] | None = None,
) -> RunIdentities:
    """Identities on a server the run was given: the users of `credentials` (a password file per
    user), else of the NAUTILUS_PASSWORD_<USER> variables of `environment`, else the URL's for
    all. Every engine and the operator need a password; schema-admin is optional.

    CredentialsError names the missing or unsafe files, or the missing variables.
    """
    engines = list(engines)
    users = [*engines, OPERATOR, SCHEMA_ADMIN]
    if credentials is not None:
        passwords = read_passwords(credentials, users)
        source = f"--credentials {credentials}: no password file for"
        how = "one file per user, named after it: `nautilus acl --passwords DIR` writes them"
    else:
        variables = environment or {}
        passwords = {u: variables[password_env(u)] for u in users if variables.get(password_env(u))}
        source = "no password in the environment for"
        how = "set NAUTILUS_PASSWORD_<USER> for every engine and the operator, or none of them"
    if not passwords and credentials is None:
        return RunIdentities(
            server_url=without_password(url),
            engines=dict.fromkeys(engines, url),
            operator=url,
            schema_admin=None,
            per_engine=False,
            probes=dict.fromkeys(PROBE_USERS, url),
        )
    missing = [user for user in (*engines, OPERATOR) if user not in passwords]
    if missing:
        raise CredentialsError(f"{source} {', '.join(missing)} ({how})")
    admin = passwords.get(SCHEMA_ADMIN)
    return RunIdentities(
        server_url=without_password(url),
        engines={e: url_with_credentials(url, e, passwords[e]) for e in engines},
        operator=url_with_credentials(url, OPERATOR, passwords[OPERATOR]),
        schema_admin=url_with_credentials(url, SCHEMA_ADMIN, admin) if admin else None,
        per_engine=True,
    )


def write_identity_files(identities: RunIdentities, directory: Path) -> dict[str, Path]:
    """Each engine's and probe user's URL in `directory/<name>.url` and the operator's in
    `operator.url`, all 0600; returns the engines' and the probe's files (absolute) for their
    NAUTILUS_REDIS_URL_FILE."""
    files = {}
    for name, url in {**identities.engines, **identities.probes}.items():
        path = (directory / f"{name}.url").absolute()
        write_secret_file(path, url + "\n")
        files[name] = path
    write_secret_file(directory / f"{OPERATOR}.url", identities.operator + "\n")
    return files


def _contract() -> ContractModel:
    from nautilus.cli.contract_command import load_generated_contract

    return load_generated_contract()
