"""Every subcommand refuses bad input with one line on stderr and exit status 2, before any I/O,
and reports an unreachable server in one line with exit status 1: never a traceback."""

from __future__ import annotations

import argparse
import socket

import pytest

from nautilus.cli.main import build_parser

from .conftest import RunCli

VPIN = "nautilus-vpin-streams"


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


DOWN = f"redis://127.0.0.1:{_closed_port()}/0"
BAD_URL = "redis://127.0.0.1:notaport/0"

# (argv, a fragment of the one-line error)
USAGE_ERRORS: list[tuple[list[str], str]] = [
    (["no-such-command"], "invalid choice"),
    (["contract", "--bogus"], "unrecognized arguments"),
    (["schema", "show"], "required: TYPE"),
    (["schema", "compat", "/no/such/old", "/no/such/new"], "/no/such/old"),
    (["schema", "register", "--mode", "sideways"], "invalid choice"),
    (["schema", "check"], "name the types, or --all"),
    (["schema", "check", "NoSuchType"], "unknown message type 'NoSuchType'"),
    (["schema", "deprecate", "ToxicityAlert"], "required: FINGERPRINT"),
    (["schema", "delete", "ToxicityAlert", "0f3a"], "add --force"),
    (["schema", "mode", "--set", "sideways"], "invalid choice"),
    (["schema", "gate", "--root", "/no/such/project"], "/no/such/project"),
    (["schema", "baseline", "--root", "/no/such/project"], "/no/such/project"),
    (["schema", "list", "--redis-url", BAD_URL], "malformed Redis URL"),
    (["tail", "no-such-stream"], "unknown stream 'no-such-stream'"),
    (["tail", VPIN, "--count", "-5"], "--count: must not be negative"),
    (["tail", VPIN, "--count", "many"], "--count: not a whole number"),
    (["tail", VPIN, "--max-entries", "0"], "--max-entries: must be at least 1"),
    (["tail", VPIN, "--redis-url", BAD_URL], "malformed Redis URL"),
    (["tail", VPIN, "--redis-url", "localhost:6379"], "malformed Redis URL"),
    (["tail", VPIN, "--observer", "desk 2"], "observer name 'desk 2'"),
    (["tail", VPIN, "--observer", "desk", "--group", "risk"], "not allowed with argument"),
    (["publish", "NoSuchType", "--json", "{}"], "unknown message type 'NoSuchType'"),
    (["publish", "ToxicityAlert"], "required: --json"),
    (["publish", "ToxicityAlert", "--json", "{", "--as-engine", "vpin"], "not a valid"),
    (["publish", "ToxicityAlert", "--json", "{}", "--as-engine", "zeus"], "invalid choice"),
    (["publish", "ToxicityAlert", "--json", "{}", "--as-engine", "risk"], "does not produce"),
    (
        ["publish", "Quote", "--json", "{}", "--as-engine", "marketdata", "--priority", "ASAP"],
        "invalid choice",
    ),
    (["tail", VPIN, "--since", "last tuesday"], "neither an entry id nor an ISO 8601 time"),
    (["tail", VPIN, "--type", "NoSuchType"], "unknown message type"),
    (["tail", VPIN, "--format", "{nope}"], "unknown field {nope}"),
    (["stats", "--interval", "-1"], "--interval: must be a finite number >= 0"),
    (["stats", "--interval", "nan"], "--interval: must be a finite number >= 0"),
    (["stats", "no-such-stream"], "unknown stream"),
    (["group", "list", "no-such-stream"], "unknown stream"),
    (["group", "setid", VPIN, "observer:x", "yesterday"], "neither an entry id nor an ISO"),
    (["group", "setid", VPIN, "observer:x", "$", "--redis-url", DOWN], "add --yes"),
    (["group", "destroy", VPIN, "risk", "--yes"], "group of an engine"),
    (["group", "destroy", VPIN, "observer:x", "--redis-url", DOWN], "add --yes"),
    (["group", "delconsumer", VPIN, "observer:x"], "required: CONSUMER"),
    (["dlq", "list", VPIN, "--count", "-1"], "--count: must be at least 1"),
    (["dlq", "list", VPIN, "--reason", "boredom"], "invalid choice"),
    (["dlq", "show", VPIN, "not-an-id"], "not a stream entry id: 'not-an-id'"),
    (["dlq", "replay", VPIN, "--id", "1-2-3"], "not a stream entry id"),
    (["dlq", "replay", VPIN, "--redis-url", DOWN], "--id ID (repeatable) or --all"),
    (["dlq", "purge", "no-such-stream", "--all"], "unknown stream"),
    (["trim", VPIN, "--max-len", "-1"], "--max-len: must not be negative"),
    (["trim", VPIN, "--max-age-ms", "soon"], "--max-age-ms: not a whole number"),
    (["trim", VPIN, "--redis-url", DOWN], "give a bound"),
    (["codegen", "--bogus"], "unrecognized arguments"),
    (["up", "--redis-url", BAD_URL], "malformed Redis URL"),
    (["up", "--duration", "-3"], "--duration: must be a finite number >= 0"),
    (["up", "--scenario", "meteor"], "invalid choice"),
    (["up", "--ports", "sideways"], "ports"),
    (["acl", "--server-version", "seven"], "seven"),
    (["bench", "--rounds", "many"], "--rounds: not a whole number"),
    (["bench", "--rounds", "-1"], "--rounds: must not be negative"),
    (["dashboard", "--port", "0"], "--port must be 1..65535"),
    (["docs", "--asyncapi", "/no/such/asyncapi.json"], "cannot read /no/such/asyncapi.json"),
]


def _label(value: object) -> str:
    return " ".join(value)[:60] if isinstance(value, list) else ""


@pytest.mark.parametrize(("argv", "fragment"), USAGE_ERRORS, ids=_label)
def test_bad_input_is_one_line_and_exit_status_2(
    cli: RunCli, argv: list[str], fragment: str
) -> None:
    result = cli(*argv)

    assert result.status == 2, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert fragment in result.err
    assert result.err.startswith("nautilus")
    assert result.out == ""


SERVER_COMMANDS: list[list[str]] = [
    ["schema", "list"],
    ["schema", "show", "nautilus.vpin.v1.ToxicityAlert"],
    ["tail", VPIN],
    ["tail", VPIN, "--observer", "desk"],
    ["stats", "--interval", "0"],
    ["group", "list"],
    ["group", "setid", VPIN, "observer:x", "$", "--yes"],
    ["group", "delconsumer", VPIN, "observer:x", "gone"],
    ["group", "destroy", VPIN, "observer:x", "--yes"],
    ["dlq", "list", VPIN],
    ["dlq", "show", VPIN, "1-0"],
    ["dlq", "replay", VPIN, "--all"],
    ["dlq", "purge", VPIN, "--all", "--yes"],
    ["trim", VPIN, "--max-len", "10"],
    ["publish", "ToxicityAlert", "--json", "{}", "--as-engine", "vpin"],
]


@pytest.mark.parametrize("argv", SERVER_COMMANDS, ids=" ".join)
def test_an_unreachable_server_is_one_line_and_exit_status_1(cli: RunCli, argv: list[str]) -> None:
    result = cli(*argv, "--redis-url", DOWN)

    assert result.status == 1, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert f"cannot reach Redis at {DOWN}" in result.err


def _actions(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _every_subcommand() -> list[str]:
    """Each command of `nautilus`, and each action of the commands that have actions."""
    found = []
    for name, parser in _actions(build_parser()).items():
        actions = _actions(parser)
        found += [f"{name} {action}" for action in actions] if actions else [name]
    return found


@pytest.mark.parametrize("subcommand", _every_subcommand())
def test_every_subcommand_is_fed_bad_input_above(subcommand: str) -> None:
    words = len(subcommand.split())
    fed = {" ".join(argv[:words]) for argv, _ in USAGE_ERRORS}

    assert subcommand in fed


def test_version_names_the_installed_package(cli: RunCli) -> None:
    result = cli("--version")

    assert result.status == 0
    assert result.out.startswith("nautilus 0.")


# Names and ids the server does not know: still one line and exit status 2.
UNKNOWN_ON_THE_SERVER: list[tuple[list[str], str]] = [
    (["schema", "show", "NoSuchType"], "NoSuchType"),
    (["tail", VPIN, "--group", "nobody"], "group 'nobody' does not exist"),
    (["group", "setid", VPIN, "observer:nobody", "$", "--yes"], "no group 'observer:nobody'"),
    (["group", "destroy", VPIN, "observer:nobody", "--yes"], "no group 'observer:nobody'"),
    (["group", "delconsumer", VPIN, "observer:nobody", "c"], "no group 'observer:nobody'"),
    (["dlq", "show", VPIN, "1-0"], "no dead letter 1-0"),
    (["dlq", "replay", VPIN, "--id", "1-0"], "no dead letter 1-0"),
    (["dlq", "purge", VPIN, "--id", "1-0", "--yes"], "no dead letter 1-0"),
]


@pytest.mark.parametrize(("argv", "fragment"), UNKNOWN_ON_THE_SERVER, ids=_label)
def test_names_the_server_does_not_know_are_one_line_and_exit_status_2(
    cli: RunCli, redis_url: str, argv: list[str], fragment: str
) -> None:
    result = cli(*argv, "--redis-url", redis_url)

    assert result.status == 2, result.err
    assert len(result.err.strip().splitlines()) == 1, result.err
    assert fragment in result.err
