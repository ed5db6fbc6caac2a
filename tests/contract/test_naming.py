"""One naming module: snake_case with acronyms, JSON names, the typed-client stem of a type."""

from __future__ import annotations

import pytest

from nautilus.runtime.naming import json_name, major_version, member_stem, snake_case


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("ToxicityAlert", "toxicity_alert"),
        ("OFIUpdate", "ofi_update"),
        ("PnlUpdate", "pnl_update"),
        ("VPINBucket2Closed", "vpin_bucket2_closed"),
        ("Quote", "quote"),
    ],
)
def test_snake_case_keeps_acronyms_whole(name: str, snake: str) -> None:
    assert snake_case(name) == snake


def test_json_name_is_protocs_default() -> None:
    assert json_name("bucket_index") == "bucketIndex"
    assert json_name("ask_size_e9") == "askSizeE9"


def test_types_beyond_v1_carry_their_major_version() -> None:
    assert major_version("nautilus.risk.v2") == "v2"
    assert member_stem("RiskMetrics", "nautilus.risk.v1") == "risk_metrics"
    assert member_stem("RiskMetrics", "nautilus.risk.v2") == "risk_metrics_v2"
    assert member_stem("OFIUpdate", "nautilus.features") == "ofi_update"
