"""`nautilus up` on real servers: each engine works as its own user and no secret leaks.

Short flash-crash runs, each watched while it runs: the default one, on its private server with
the generated ACL and a password per user; one on a given server whose password is in
`--redis-url`; two on a given server running the generated ACL, with `--credentials DIR` and with
the passwords in NAUTILUS_PASSWORD_<USER> variables. The argv of `nautilus up` itself and of every
engine process, the output, the logs, the report, every file under `.nautilus/` and every
engine's /health and /metrics are searched for each password; engines inherit no password
variable. The alert-propagation floor probe runs as its own two users on the private server, as
the shared identity on a given server without users, and not at all where every engine has a
user of its own but the probe has none.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from nautilus.cli.argv_secrets import FROM_ARGV_ENV
from nautilus.engines.alert_probe import PROBE_USERS
from nautilus.engines.catalog import ENGINES
from nautilus.engines.run_identities import PASSWORD_ENV_PREFIX, password_env
from nautilus.runtime.credentials import new_password, url_with_credentials
from nautilus.runtime.server import EmbeddedServer, find_server_binary, server_version

pytestmark = pytest.mark.slow

_DEADLINE_S = 180.0
_RUN = ("--scenario", "flash-crash", "--speed", "40", "--duration", "6", "--ports", "auto")


@dataclass
class WatchedRun:
    """What a run showed while it ran and after it ended."""

    returncode: int
    output: str
    report: dict[str, Any]
    #: argv of `nautilus up` itself and of every engine process, read while they ran.
    up_argv: str
    engine_argv: dict[str, str]
    #: Names of the environment variables of every engine process, read while they ran.
    engine_environment: dict[str, set[str]]
    #: /health and /metrics bodies of every engine, read while they ran.
    endpoints: str
    #: Files holding credentials while the run lasted: path -> (mode, text).
    credential_files: dict[str, tuple[int, str]]
    credentials_dir_mode: int
    #: Every file left under .nautilus/ and the reports: path -> text.
    files_after: dict[str, str]
    operator_stats: subprocess.CompletedProcess[str] | None


def _read_argv(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def _environment_names(pid: int) -> set[str]:
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return {entry.split(b"=", 1)[0].decode() for entry in entries if entry}


def _fetch(port: int, path: str) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as answer:
        return str(answer.read().decode())


def _fetch_any(port: int, path: str) -> str:
    try:
        return _fetch(port, path)
    except urllib.error.HTTPError as error:  # 503 still has a body
        return str(error.read().decode())


def _wait_ready(run_dir: Path, up: subprocess.Popen[str]) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + _DEADLINE_S
    while time.monotonic() < deadline:
        ready = {}
        for engine in ENGINES:
            try:
                ready[engine] = json.loads((run_dir / f"{engine}.ready.json").read_text())
            except (OSError, ValueError):
                break
        if len(ready) == len(ENGINES):
            return ready
        assert up.poll() is None, "nautilus up ended before every engine was ready"
        time.sleep(0.2)
    raise AssertionError("engines not ready in time")


def _watch(workdir: Path, *args: str, env: dict[str, str] | None = None) -> WatchedRun:
    report_path = workdir / "report.json"
    up = subprocess.Popen(
        [sys.executable, "-m", "nautilus.cli.main", "up", *_RUN, "--quiet",
         "--report", str(report_path), *args],
        cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, **(env or {})},
    )  # fmt: skip
    try:
        ready = _wait_ready(workdir / ".nautilus" / "run", up)
        up_argv = _read_argv(up.pid)
        engine_argv = {e: _read_argv(int(info["pid"])) for e, info in ready.items()}
        engine_environment = {e: _environment_names(int(info["pid"])) for e, info in ready.items()}
        endpoints = "".join(
            _fetch_any(int(info["port"]), "/health") + _fetch(int(info["port"]), "/metrics")
            for info in ready.values()
        )
        credentials = workdir / ".nautilus" / "credentials"
        credential_files = {
            str(p): (stat.S_IMODE(p.stat().st_mode), p.read_text())
            for p in credentials.iterdir()
            if p.is_file()
        }
        stats = subprocess.run(
            [sys.executable, "-m", "nautilus.cli.main", "stats", "--interval", "0", "--json"],
            cwd=workdir, capture_output=True, text=True, timeout=60, check=False,
            env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        )  # fmt: skip
        output, _ = up.communicate(timeout=_DEADLINE_S)
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()
    files_after = {str(p): p.read_text(errors="replace") for p in workdir.rglob("*") if p.is_file()}
    return WatchedRun(
        returncode=up.returncode,
        output=output,
        report=json.loads(report_path.read_text()),
        up_argv=up_argv,
        engine_argv=engine_argv,
        engine_environment=engine_environment,
        endpoints=endpoints,
        credential_files=credential_files,
        credentials_dir_mode=stat.S_IMODE(credentials.stat().st_mode),
        files_after=files_after,
        operator_stats=stats,
    )


def _secrets_of(run: WatchedRun) -> set[str]:
    """Every password the run's credential files held (the URL files' passwords)."""
    found = set()
    for _, text in run.credential_files.values():
        for line in text.splitlines():
            if "@" in line and "://" in line:
                found.add(line.split("://", 1)[1].rsplit("@", 1)[0].split(":", 1)[1])
    return found


def _assert_nothing_shows(run: WatchedRun, secrets: set[str]) -> None:
    assert secrets
    public = {
        "argv of nautilus up": run.up_argv,
        "argv of the engines": " ".join(run.engine_argv.values()),
        "output": run.output,
        "health and metrics": run.endpoints,
        "operator command": run.operator_stats.stdout + run.operator_stats.stderr
        if run.operator_stats
        else "",
        **run.files_after,
    }
    for where, text in public.items():
        for secret in secrets:
            assert secret not in text, f"a password shows in {where}"


@pytest.fixture(scope="module")
def private_run(tmp_path_factory: pytest.TempPathFactory) -> WatchedRun:
    """The default: a private server with the generated ACL."""
    return _watch(tmp_path_factory.mktemp("private"), env={"REDIS_URL": ""})


def test_every_engine_runs_as_its_own_user_with_no_denial(private_run: WatchedRun) -> None:
    assert private_run.returncode == 0, private_run.output
    run = private_run.report["run"]
    assert run["identities"] == "per-engine"
    assert run["missing_summaries"] == []
    assert private_run.report["acl_log"] == []
    assert all(s["dead_lettered"] == 0 for s in private_run.report["streams"].values())
    assert private_run.report["latency_ms"]["alert_propagation_floor"]["count"] > 0


def test_the_flash_crash_run_under_per_engine_users_still_warns_risk(
    private_run: WatchedRun,
) -> None:
    assert private_run.report["alerts"]["first_flash_crash_warning"] is not None


def test_each_engine_gets_only_its_own_credentials_and_none_on_its_command_line(
    private_run: WatchedRun,
) -> None:
    secrets = _secrets_of(private_run)
    assert len(secrets) == len(ENGINES) + 1 + len(PROBE_USERS)  # engines, operator, probe
    for engine, argv in private_run.engine_argv.items():
        assert "--redis-url" not in argv, engine
    for path, (mode, _) in private_run.credential_files.items():
        assert mode == 0o600, path
    assert private_run.credentials_dir_mode == 0o700


def test_no_password_of_the_run_shows_anywhere(private_run: WatchedRun) -> None:
    _assert_nothing_shows(private_run, _secrets_of(private_run))


def test_operator_commands_find_the_operator_credentials(private_run: WatchedRun) -> None:
    stats = private_run.operator_stats
    assert stats is not None
    assert stats.returncode == 0, stats.stderr
    assert "nautilus-vpin-streams" in stats.stdout


def test_credential_files_go_with_the_run(private_run: WatchedRun) -> None:
    left = [path for path in private_run.files_after if "/.nautilus/credentials/" in path]
    assert left == []


@pytest.fixture(scope="module")
def password_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A given server whose default user has a password."""
    password = new_password()
    acl = tmp_path_factory.mktemp("acl") / "users.acl"
    acl.write_text(f"user default on >{password} ~* &* +@all\n")
    server = EmbeddedServer(acl_file=acl)
    server.start()
    yield server.url.replace("redis://", f"redis://:{password}@"), password
    server.close()


def test_a_password_given_in_redis_url_never_shows(
    tmp_path: Path, password_server: tuple[str, str]
) -> None:
    url, password = password_server
    run = _watch(tmp_path, "--redis-url", url)
    assert run.returncode == 0, run.output
    assert run.report["run"]["identities"] == "shared"
    assert run.report["latency_ms"]["alert_propagation_floor"]["count"] > 0
    assert "--redis-url" not in run.up_argv
    _assert_nothing_shows(run, {password})
    assert all(FROM_ARGV_ENV not in names for names in run.engine_environment.values())
    with redis.Redis.from_url(url) as admin:
        assert admin.acl_log() == []


@pytest.fixture(scope="module")
def acl_given_server(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedServer, Path, str]]:
    """A given server running the ACL of `nautilus acl --passwords DIR`, plus a test admin."""
    workdir = tmp_path_factory.mktemp("given")
    credentials, acl = workdir / "credentials", workdir / "bus.acl"
    binary = find_server_binary()
    result = subprocess.run(
        [sys.executable, "-m", "nautilus.cli.main", "acl", "--server-version",
         server_version(binary), "--passwords", str(credentials), "--out", str(acl)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    admin_password = new_password()
    with acl.open("a") as file:
        file.write(f"user test-admin on >{admin_password} ~* &* +@all\n")
    server = EmbeddedServer(binary=binary, acl_file=acl)
    server.start()
    yield server, credentials, url_with_credentials(server.url, "test-admin", admin_password)
    server.close()


def test_given_credentials_make_each_engine_its_own_user_on_a_given_server(
    tmp_path: Path, acl_given_server: tuple[EmbeddedServer, Path, str]
) -> None:
    server, credentials, admin_url = acl_given_server
    run = _watch(tmp_path, "--credentials", str(credentials), env={"REDIS_URL": server.url})
    assert run.returncode == 0, run.output
    assert run.report["run"]["identities"] == "per-engine"
    assert run.report["acl_log"] == []
    # No user for the probe on this server: no floor, rather than a borrowed identity.
    assert run.report["latency_ms"]["alert_propagation_floor"] is None
    assert "no identity for the probe" in run.report["run"]["alert_probe"]["not_measured"]
    passwords = {p.read_text().strip() for p in credentials.iterdir()}
    _assert_nothing_shows(run, passwords)
    with redis.Redis.from_url(admin_url) as admin:
        assert admin.acl_log() == []
        assert admin.llen("{nautilus:schema}:versions:nautilus.vpin.v1.ToxicityAlert") == 1


def test_passwords_in_the_environment_make_each_engine_its_own_user_on_a_given_server(
    tmp_path: Path, acl_given_server: tuple[EmbeddedServer, Path, str]
) -> None:
    server, credentials, admin_url = acl_given_server
    passwords = {p.name: p.read_text().strip() for p in credentials.iterdir()}
    variables = {password_env(user): password for user, password in passwords.items()}
    with redis.Redis.from_url(admin_url) as admin:
        admin.acl_log_reset()
    run = _watch(tmp_path, "--reset-streams", env={"REDIS_URL": server.url, **variables})
    assert run.returncode == 0, run.output
    assert run.report["run"]["identities"] == "per-engine"
    assert run.report["acl_log"] == []
    _assert_nothing_shows(run, set(passwords.values()))
    for engine, names in run.engine_environment.items():
        assert not [n for n in names if n.startswith(PASSWORD_ENV_PREFIX)], engine
