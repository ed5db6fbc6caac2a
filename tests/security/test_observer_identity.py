"""The `observer` identity of the generated ACL on real servers: it tails every stream through an
observer group and can write nothing."""

from __future__ import annotations

import pytest
import redis
from redis.exceptions import NoPermissionError

from nautilus.cli.main import main
from nautilus.runtime.lanes import dead_letter_stream, priority_lane
from nautilus.runtime.routing import engine_info
from nautilus.runtime.transport.base import parse_entry_id
from tests.security.conftest import AclServer

VPIN = engine_info("vpin").stream
STRATEGY = engine_info("strategy").stream
REGISTRY_KEY = "{nautilus:schema}:versions:nautilus.strategy.v1.OrderRequest"


def _tail(capsys: pytest.CaptureFixture[str], url: str, *argv: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    status = main(["tail", *argv, "--format", "{id}", "--redis-url", url])
    out, err = capsys.readouterr()
    assert status == 0, err
    return status, out.splitlines()


def test_nautilus_tail_as_observer_resumes_on_a_server_with_the_generated_acl(
    acl_server: AclServer, capsys: pytest.CaptureFixture[str]
) -> None:
    observer = acl_server.url("observer")
    _tail(capsys, observer, VPIN, "--observer", "desk")
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        first = [vpin.xadd(VPIN, {"k": str(n)}).decode() for n in range(3)]
        urgent = vpin.xadd(priority_lane(VPIN), {"k": "u"}).decode()

    _, seen = _tail(capsys, observer, VPIN, "--observer", "desk")
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        later = vpin.xadd(VPIN, {"k": "later"}).decode()
    _, seen_next = _tail(capsys, observer, VPIN, "--observer", "desk")

    assert seen == sorted([*first, urgent], key=parse_entry_id)  # both lanes, in id order
    assert seen_next == [later]
    assert acl_server.acl_log() == []


def test_the_observer_writes_nothing(acl_server: AclServer) -> None:
    with redis.Redis.from_url(acl_server.url("vpin")) as vpin:
        vpin.xadd(VPIN, {"k": "v"})
    with redis.Redis.from_url(acl_server.url("observer")) as observer:
        for write in (
            lambda: observer.xadd(VPIN, {"t": "nautilus.vpin.v1.ToxicityAlert", "s": "vpin"}),
            lambda: observer.xadd(priority_lane(STRATEGY), {"t": "x"}),
            lambda: observer.xadd(dead_letter_stream(VPIN), {"dl.reason": "undecodable"}),
            lambda: observer.xtrim(VPIN, maxlen=0),
            lambda: observer.xdel(VPIN, "0-1"),
            lambda: observer.delete(VPIN),
            lambda: observer.xgroup_setid(VPIN, "risk", "$"),
            lambda: observer.xgroup_destroy(VPIN, "risk"),
            lambda: observer.rpush(REGISTRY_KEY, "bogus"),
            lambda: observer.set("anything", "x"),
        ):
            with pytest.raises(NoPermissionError):
                write()
    with acl_server.admin() as admin:
        assert admin.xlen(VPIN) == 1
        assert admin.exists(dead_letter_stream(VPIN), priority_lane(STRATEGY), "anything") == 0


def test_the_observer_reads_the_registry_but_cannot_write_it(acl_server: AclServer) -> None:
    with acl_server.admin() as admin:
        admin.rpush(REGISTRY_KEY, "genuine")
    with redis.Redis.from_url(acl_server.url("observer")) as observer:
        assert observer.lrange(REGISTRY_KEY, 0, -1) == [b"genuine"]
        with pytest.raises(NoPermissionError):
            observer.lpush(REGISTRY_KEY, "bogus")
