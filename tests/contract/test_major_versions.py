"""Major versions side by side: nautilus.risk.v2 beside v1, each with its own typed methods."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nautilus.codegen import CodegenError
from nautilus.codegen.pipeline import generate, load_contract, render_all

PROJECT = Path(__file__).resolve().parents[2]
RISK_V1 = "nautilus/risk/v1/risk.proto"
RISK_V2 = "nautilus/risk/v2/risk.proto"


def add_risk_v2(schemas: Path) -> None:
    """A v2 of the risk package: the same types under nautilus.risk.v2, with one field more."""
    source = (
        (schemas / RISK_V1)
        .read_text()
        .replace("package nautilus.risk.v1;", "package nautilus.risk.v2;")
    )
    marker = "message RiskMetrics {"
    assert marker in source
    source = source.replace(
        marker,
        f"{marker}\n  // Expected shortfall at 97.5%, fixed-point 1e9.\n  int64 es_975_e9 = 100;",
        1,
    )
    target = schemas / RISK_V2
    target.parent.mkdir(parents=True)
    target.write_text(source)


def test_v2_types_get_their_own_methods_beside_v1(schema_copy: Path) -> None:
    add_risk_v2(schema_copy)

    files = render_all(load_contract(schema_copy))

    risk = files["nautilus/clients/risk.py"].decode()
    portfolio = files["nautilus/clients/portfolio.py"].decode()
    assert risk.count("async def publish_risk_metrics(") == 1
    assert risk.count("async def publish_risk_metrics_v2(") == 1
    assert "message: _risk_v2.RiskMetrics" in risk
    assert "def on_risk_metrics(" in portfolio
    assert "def on_risk_metrics_v2(" in portfolio


def test_a_name_collision_stops_codegen_naming_every_clash(schema_copy: Path) -> None:
    add_risk_v2(schema_copy)
    v1 = schema_copy / RISK_V1
    source = v1.read_text()
    start = source.index("message RiskMetrics {")
    end = source.index("\n}\n", start) + 3
    v1.write_text(
        source + source[start:end].replace("message RiskMetrics {", "message RiskMetricsV2 {")
    )

    with pytest.raises(CodegenError) as refused:
        load_contract_and_render(schema_copy)

    message = str(refused.value)
    clash = "nautilus.risk.v1.RiskMetricsV2 and nautilus.risk.v2.RiskMetrics"
    assert f"RiskClient.publish_risk_metrics_v2: {clash}" in message
    assert "PortfolioClient.on_risk_metrics_v2: " in message
    assert "StrategyClient.on_risk_metrics_v2: " in message


def load_contract_and_render(schemas: Path) -> None:
    render_all(load_contract(schemas))


def typecheck_tree(tmp_path: Path, generated: Path) -> Path:
    """A tree like `make typecheck` builds: the generated nautilus package plus the project's."""
    tree = tmp_path / "tree"
    (tree / "nautilus").mkdir(parents=True)
    for item in (generated / "nautilus").iterdir():
        (tree / "nautilus" / item.name).symlink_to(item)
    for name in ("runtime", "codegen", "cli", "engines", "bench"):
        (tree / "nautilus" / name).symlink_to(PROJECT / name)
    return tree


BOTH_VERSIONS = textwrap.dedent(
    """
    import asyncio, sys, time
    from nautilus.clients.portfolio import PortfolioClient
    from nautilus.clients.risk import RiskClient
    from nautilus.risk.v1.risk_pb2 import RiskMetrics as V1
    from nautilus.risk.v2.risk_pb2 import RiskMetrics as V2

    async def main(url):
        settings = dict(redis_url=url, read_block_ms=20, trim_interval_ms=0)
        portfolio = PortfolioClient.create(consumer_name="p-major", **settings)
        got = []
        portfolio.on_risk_metrics(lambda m, d: got.append(("v1", m.account_id)))
        portfolio.on_risk_metrics_v2(lambda m, d: got.append(("v2", m.account_id, m.es_975_e9)))
        await portfolio.start(consume=False)
        async with RiskClient.create(consumer_name="r-major", **settings) as risk:
            await risk.publish_risk_metrics(V1(account_id="acct-1"))
            await risk.publish_risk_metrics_v2(V2(account_id="acct-2", es_975_e9=5))
            await risk.flush()
        deadline = time.monotonic() + 20.0
        while len(got) < 2:
            assert time.monotonic() < deadline, got
            await portfolio.bus.poll(block_ms=20)
        await portfolio.close()
        print(sorted(got))

    asyncio.run(main(sys.argv[1]))
    """
)


@pytest.mark.slow
def test_v1_and_v2_are_generated_typed_and_both_flow_on_a_real_server(
    schema_copy: Path, tmp_path: Path, redis_url: str
) -> None:
    add_risk_v2(schema_copy)
    generated = tmp_path / "generated"
    generate(schema_copy, generated)
    tree = typecheck_tree(tmp_path, generated)
    env = {**os.environ, "PYTHONPATH": str(tree), "MYPYPATH": str(tree)}
    bin_dir = Path(sys.executable).parent

    typed = subprocess.run(
        [str(bin_dir / "mypy"), "--strict", "-p", "nautilus.clients"],
        cwd=tree, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert typed.returncode == 0, typed.stdout + typed.stderr

    flowed = subprocess.run(
        [sys.executable, "-c", BOTH_VERSIONS, redis_url],
        cwd=tree, env=env, capture_output=True, text=True, check=False, timeout=240,
    )  # fmt: skip
    assert flowed.returncode == 0, flowed.stdout + flowed.stderr
    assert flowed.stdout.strip() == "[('v1', 'acct-1'), ('v2', 'acct-2', 5)]"
