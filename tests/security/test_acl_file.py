"""The generated ACL on real servers: each identity can do what the contract lets it, no more."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from nautilus.cli.contract_command import load_generated_contract
from nautilus.codegen.render.acl import ServerFlavor, acl_users, render_acl_file
from nautilus.runtime.lanes import dead_letter_stream, priority_lane
from nautilus.runtime.routing import engine_info
from tests.security.conftest import AclServer

VPIN = engine_info("vpin").stream
STRATEGY = engine_info("strategy").stream
FEATURES = engine_info("features").stream  # VPIN consumes it
REGISTRY_KEY = "{nautilus:schema}:versions:nautilus.strategy.v1.OrderRequest"


def test_the_default_user_is_off(acl_server: AclServer) -> None:
    with (
        redis.Redis.from_url(acl_server.server.url) as anonymous,
        pytest.raises(AuthenticationError),
    ):
        anonymous.ping()


def test_an_engine_writes_both_lanes_of_its_own_stream(acl_server: AclServer) -> None:
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        assert vpin.xadd(VPIN, {"k": "v"})
        assert vpin.xadd(priority_lane(VPIN), {"k": "v"})


def test_an_engine_cannot_write_another_engines_stream(acl_server: AclServer) -> None:
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        for lane in (STRATEGY, priority_lane(STRATEGY), FEATURES):
            with pytest.raises(NoPermissionError):
                vpin.xadd(lane, {"t": "nautilus.strategy.v1.OrderRequest"})
    with acl_server.admin() as admin:
        assert admin.exists(STRATEGY, priority_lane(STRATEGY), FEATURES) == 0


def test_an_engine_reads_with_its_group_only_the_lanes_it_consumes(acl_server: AclServer) -> None:
    with redis.Redis.from_url(acl_server.url("features")) as features:
        entry_id = features.xadd(FEATURES, {"k": "v"})
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        vpin.xgroup_create(FEATURES, "vpin", id="0", mkstream=True)
        [[_, [(read_id, _)]]] = vpin.xreadgroup("vpin", "c1", {FEATURES: ">"}, count=1)
        assert vpin.xack(FEATURES, "vpin", read_id) == 1
        assert read_id == entry_id
        vpin.xadd(dead_letter_stream(FEATURES), {"dl.reason": "undecodable"})
        with pytest.raises(NoPermissionError):
            vpin.xgroup_create(STRATEGY, "vpin", id="0", mkstream=True)
        with pytest.raises(NoPermissionError):
            vpin.xrange(dead_letter_stream(FEATURES))


def test_an_engine_reads_the_schema_registry_but_cannot_write_it(acl_server: AclServer) -> None:
    with acl_server.admin() as admin:
        admin.rpush(REGISTRY_KEY, "genuine")
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        assert vpin.lrange(REGISTRY_KEY, 0, -1) == [b"genuine"]
        with pytest.raises(NoPermissionError):
            vpin.rpush(REGISTRY_KEY, "bogus")
        with pytest.raises(NoPermissionError):
            vpin.hset("{nautilus:schema}:fp:bogus", "type", "x")
        with pytest.raises(NoPermissionError):
            vpin.delete(REGISTRY_KEY)
    with redis.Redis.from_url(acl_server.url("schema-admin")) as schema_admin:
        assert schema_admin.rpush(REGISTRY_KEY, "next") == 2
        with pytest.raises(NoPermissionError):
            schema_admin.xadd(STRATEGY, {"k": "v"})
        with pytest.raises(NoPermissionError):
            schema_admin.flushall()


def test_the_operator_reads_trims_and_purges_but_has_no_registry_writes(
    acl_server: AclServer,
) -> None:
    with redis.Redis.from_url(acl_server.url("operator")) as operator:
        operator.xadd(dead_letter_stream(VPIN), {"dl.reason": "undecodable"})
        assert operator.xlen(dead_letter_stream(VPIN)) == 1
        assert operator.xtrim(VPIN, maxlen=0) == 0
        assert len(operator.acl_log()) >= 0
        with pytest.raises(NoPermissionError):
            operator.rpush(REGISTRY_KEY, "bogus")
        with pytest.raises(NoPermissionError):
            operator.flushall()
        with pytest.raises(NoPermissionError):
            operator.config_get("requirepass")


def test_a_user_without_a_password_in_the_file_cannot_log_in(tmp_path: Path) -> None:
    text = render_acl_file(load_generated_contract(), ServerFlavor.REDIS_7_2)
    assert "#" not in text
    assert ">" not in text
    for user in acl_users(load_generated_contract()):
        assert f"user {user} on resetpass resetkeys resetchannels -@all " in text


def test_acl_with_passwords_writes_private_files_and_only_hashes(tmp_path: Path) -> None:
    passwords = tmp_path / "credentials"
    (passwords).mkdir(mode=0o700)
    (passwords / "vpin").write_text("chosen-by-the-operator\n")
    os.chmod(passwords / "vpin", 0o600)
    out = tmp_path / "bus.acl"
    result = subprocess.run(
        [sys.executable, "-m", "nautilus.cli.main", "acl", "--server-version", "7.0",
         "--passwords", str(passwords), "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for user in acl_users(load_generated_contract()):
        path = passwords / user
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        password = path.read_text().strip()
        assert password not in text
        assert password not in result.stderr + result.stdout
    assert (passwords / "vpin").read_text().strip() == "chosen-by-the-operator"
    assert text.count(" #") == len(acl_users(load_generated_contract()))


def test_acl_refuses_a_password_file_others_can_read(tmp_path: Path) -> None:
    passwords = tmp_path / "credentials"
    passwords.mkdir()
    (passwords / "vpin").write_text("secret\n")
    os.chmod(passwords / "vpin", 0o644)
    result = subprocess.run(
        [sys.executable, "-m", "nautilus.cli.main", "acl", "--server-version", "7.2",
         "--passwords", str(passwords)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "readable by other users" in result.stderr
    assert "secret" not in result.stderr


def test_redis_7_0_refuses_the_7_2_dialect(acl_server: AclServer) -> None:
    if acl_server.flavor is not ServerFlavor.REDIS_7_0:
        pytest.skip("the 7.2 dialect loads on this server")
    with acl_server.admin() as admin, pytest.raises(ResponseError):
        admin.acl_setuser("probe", commands=["+client|setinfo"])
