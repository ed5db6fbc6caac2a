"""The seed's communication matrix, asserted from the descriptors of the generated classes."""

from __future__ import annotations

import pytest

from nautilus.bus.v1 import options_pb2
from nautilus.contract import fingerprints
from tests.samples import bus_message_class

OTHERS_OF_MARKETDATA = (
    "vpin", "risk", "ml", "features", "analytics", "strategy", "portfolio", "factor",
    "collateral", "websocket", "toraniko",
)  # fmt: skip
OTHERS_OF_TORANIKO = (
    "vpin", "risk", "ml", "features", "analytics", "strategy", "portfolio", "marketdata",
    "factor", "collateral", "websocket",
)  # fmt: skip

# producer → (stream, its message types, the engines that receive them): the seed's matrix.
MATRIX: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "vpin": (
        "nautilus-vpin-streams",
        ("nautilus.vpin.v1.ToxicityAlert", "nautilus.vpin.v1.FlashCrashWarning"),
        ("risk", "analytics", "strategy", "websocket"),
    ),
    "risk": (
        "nautilus-risk-streams",
        ("nautilus.risk.v1.RiskMetrics", "nautilus.risk.v1.PositionLimitEvent"),
        ("portfolio", "strategy", "collateral"),
    ),
    "ml": (
        "nautilus-ml-streams",
        ("nautilus.ml.v1.Prediction", "nautilus.ml.v1.ModelUpdate"),
        ("strategy", "analytics", "risk"),
    ),
    "features": (
        "nautilus-feature-streams",
        ("nautilus.features.v1.FeatureVector",),
        ("ml", "analytics", "vpin"),
    ),
    "analytics": (
        "nautilus-analytics-streams",
        ("nautilus.analytics.v1.MarketAnalysis", "nautilus.analytics.v1.TrendUpdate"),
        ("risk", "strategy", "portfolio"),
    ),
    "strategy": (
        "nautilus-strategy-streams",
        ("nautilus.strategy.v1.TradingSignal", "nautilus.strategy.v1.OrderRequest"),
        ("portfolio", "risk", "websocket"),
    ),
    "portfolio": (
        "nautilus-portfolio-streams",
        ("nautilus.portfolio.v1.PositionUpdate", "nautilus.portfolio.v1.PnlUpdate"),
        ("risk", "analytics", "collateral", "websocket"),
    ),
    "marketdata": (
        "nautilus-marketdata-streams",
        ("nautilus.marketdata.v1.Quote", "nautilus.marketdata.v1.Trade"),
        OTHERS_OF_MARKETDATA,
    ),
    "factor": (
        "nautilus-factor-streams",
        ("nautilus.factor.v1.FactorValues",),
        ("ml", "analytics"),
    ),
    "collateral": (
        "nautilus-collateral-streams",
        ("nautilus.collateral.v1.MarginAlert", "nautilus.collateral.v1.MarginRequirement"),
        ("risk", "portfolio", "websocket"),
    ),
    "websocket": (
        "nautilus-websocket-streams",
        ("nautilus.websocket.v1.FrontendUpdate",),
        ("frontend",),
    ),
    "toraniko": (
        "nautilus-toraniko-streams",
        (
            "nautilus.toraniko.v1.FactorExposures",
            "nautilus.toraniko.v1.FactorReturns",
            "nautilus.toraniko.v1.FactorCovariance",
        ),
        OTHERS_OF_TORANIKO,
    ),
}

# engine → (port, stream): the seed's engine table.
ENGINES = {
    "vpin": (10001, "nautilus-vpin-streams"),
    "risk": (8200, "nautilus-risk-streams"),
    "ml": (8400, "nautilus-ml-streams"),
    "features": (8500, "nautilus-feature-streams"),
    "analytics": (8100, "nautilus-analytics-streams"),
    "strategy": (8700, "nautilus-strategy-streams"),
    "portfolio": (8900, "nautilus-portfolio-streams"),
    "marketdata": (8800, "nautilus-marketdata-streams"),
    "factor": (8300, "nautilus-factor-streams"),
    "collateral": (9000, "nautilus-collateral-streams"),
    "websocket": (8600, "nautilus-websocket-streams"),
    "toraniko": (8950, "nautilus-toraniko-streams"),
}


def _engine_specs() -> dict[int, options_pb2.EngineSpec]:
    return {
        value.number: value.GetOptions().Extensions[options_pb2.engine]
        for value in options_pb2.Engine.DESCRIPTOR.values
        if value.number != 0
    }


def _route(full_name: str) -> options_pb2.Route:
    options = bus_message_class(full_name).DESCRIPTOR.GetOptions()
    assert options.HasExtension(options_pb2.route), f"{full_name} has no route"
    return options.Extensions[options_pb2.route]


def test_the_engine_table_matches_the_seed() -> None:
    specs = {s.name: (s.port, s.stream) for s in _engine_specs().values() if not s.external}
    assert specs == ENGINES


UPDATE = (
    "The routes in schemas/ no longer match the seed's communication matrix. If the change is "
    "deliberate, update MATRIX in tests/contract/test_routing_matrix.py (producer -> stream, "
    "message types, consumers) to the new routes"
)


def test_every_bus_message_of_the_contract_is_in_the_matrix() -> None:
    in_matrix = {name for _, names, _ in MATRIX.values() for name in names}
    routed = set(fingerprints())
    added, missing = sorted(routed - in_matrix), sorted(in_matrix - routed)
    assert routed == in_matrix, f"{UPDATE}: routed but not in MATRIX {added}; gone {missing}"
    assert len(in_matrix) >= 20
    assert len(MATRIX) == 12


@pytest.mark.parametrize("producer", sorted(MATRIX))
def test_routes_reproduce_the_matrix(producer: str) -> None:
    specs = _engine_specs()
    stream, names, consumers = MATRIX[producer]
    for full_name in names:
        route = _route(full_name)
        assert route.stream == stream, f"{UPDATE}: {full_name} is on {route.stream}"
        assert specs[route.producer].name == producer, f"{UPDATE}: {full_name}'s producer"
        routed = sorted(specs[c].name for c in route.consumers)
        assert routed == sorted(consumers), f"{UPDATE}: {full_name} is consumed by {routed}"


def test_marketdata_and_toraniko_reach_every_other_engine() -> None:
    engines = set(ENGINES)
    assert set(OTHERS_OF_MARKETDATA) == engines - {"marketdata"}
    assert set(OTHERS_OF_TORANIKO) == engines - {"toraniko"}


def test_alerts_default_to_the_priority_lane_and_bulk_to_low() -> None:
    priority = options_pb2.MessagePriority
    assert (
        _route("nautilus.vpin.v1.FlashCrashWarning").priority == priority.MESSAGE_PRIORITY_CRITICAL
    )
    assert _route("nautilus.vpin.v1.ToxicityAlert").priority == priority.MESSAGE_PRIORITY_URGENT
    assert (
        _route("nautilus.risk.v1.PositionLimitEvent").priority == priority.MESSAGE_PRIORITY_CRITICAL
    )
    assert _route("nautilus.toraniko.v1.FactorCovariance").priority == priority.MESSAGE_PRIORITY_LOW


def test_market_data_is_best_effort_except_trades_for_the_engines_that_accumulate_them() -> None:
    best_effort = options_pb2.Delivery.DELIVERY_BEST_EFFORT
    declared = {name for name in fingerprints() if _route(name).delivery == best_effort}
    trade = _route("nautilus.marketdata.v1.Trade")
    at_least_once = {options_pb2.Engine.Name(e) for e in trade.at_least_once_consumers}

    assert declared == {"nautilus.marketdata.v1.Quote", "nautilus.marketdata.v1.Trade"}
    assert not _route("nautilus.marketdata.v1.Quote").at_least_once_consumers
    assert at_least_once == {
        "ENGINE_VPIN",
        "ENGINE_FEATURES",
        "ENGINE_ANALYTICS",
        "ENGINE_FACTOR",
        "ENGINE_TORANIKO",
    }
