"""mypy rejects what the routes forbid: a wrong type to publish, a type the engine does not own,
a subscription the engine is not routed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from mypy import api as mypy_api

REPO = Path(__file__).resolve().parents[2]
PROJECT_DIRS = ("codegen", "runtime", "engines", "cli")

GOOD = """
from nautilus.clients.vpin import VPINClient
from nautilus.runtime.delivery import Delivery
from nautilus.marketdata.v1.marketdata_pb2 import Trade
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

async def on_trade(trade: Trade, delivery: Delivery[Trade]) -> None:
    print(trade.price_e9, delivery.delivery_count)

async def run(client: VPINClient) -> None:
    client.on_trade(on_trade)
    await client.publish_toxicity_alert(ToxicityAlert(instrument_id="BTCUSDT.BINANCE", vpin=0.91))
"""

BAD = """
from nautilus.clients.vpin import VPINClient
from nautilus.runtime.delivery import Delivery
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.strategy.v1.strategy_pb2 import OrderRequest

async def on_quote(quote: Quote, delivery: Delivery[Quote]) -> None: ...
def on_order(order: OrderRequest, delivery: Delivery[OrderRequest]) -> None: ...

async def run(client: VPINClient) -> None:
    await client.publish_toxicity_alert(Quote())  # expect: [arg-type]
    await client.publish_quote(Quote())  # expect: "VPINClient" has no attribute "publish_quote"
    client.on_order_request(on_order)  # expect: "VPINClient" has no attribute "on_order_request"
    client.on_trade(on_quote)  # expect: [arg-type]
"""


@pytest.fixture(scope="module")
def typecheck_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The nautilus namespace as one tree of links, as `make typecheck` builds it."""
    root = tmp_path_factory.mktemp("typecheck")
    package = root / "nautilus"
    package.mkdir()
    for entry in (REPO / "generated" / "nautilus").iterdir():
        os.symlink(entry, package / entry.name)
    for name in PROJECT_DIRS:
        os.symlink(REPO / name, package / name)
    return root


def _mypy(tmp_path: Path, source: str) -> tuple[str, int]:
    """Strict mypy on one program; errors inside the imported project are not its concern."""
    program = tmp_path / "program.py"
    program.write_text(source)
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n")
    stdout, stderr, status = mypy_api.run(
        [
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            os.devnull,
            "--config-file",
            str(config),
            str(program),
        ]
    )
    return stdout + stderr, status


@pytest.fixture(autouse=True)
def mypy_path(typecheck_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYPYPATH", str(typecheck_root))


def test_routed_usage_type_checks(tmp_path: Path) -> None:
    output, status = _mypy(tmp_path, GOOD)
    assert status == 0, output


def test_unrouted_usage_is_rejected_line_by_line(tmp_path: Path) -> None:
    output, status = _mypy(tmp_path, BAD)
    assert status == 1
    expected = {
        number: line.split("# expect: ")[1]
        for number, line in enumerate(BAD.splitlines(), start=1)
        if "# expect: " in line
    }
    errors = {int(line.split(":")[1]): line for line in output.splitlines() if ": error:" in line}
    assert set(errors) == set(expected), output
    for number, fragment in expected.items():
        assert fragment in errors[number]
