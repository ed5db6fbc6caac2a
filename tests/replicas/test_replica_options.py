"""`nautilus up --replicas`: what the option accepts, how replicas' summaries make one engine's
summary in the run report, and what the live view shows of them."""

from __future__ import annotations

from typing import Any

import pytest

from nautilus.engines.launcher import parse_replicas
from nautilus.engines.live_view import RunProgress, render_progress_line
from nautilus.engines.report import merge_summaries


def test_replicas_are_given_per_engine() -> None:
    assert parse_replicas("vpin=2,risk=3") == {"vpin": 2, "risk": 3}
    assert parse_replicas("") == {}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("vpin", "ENGINE=N"),
        ("vpin=two", "ENGINE=N"),
        ("vpn=2", "unknown engine 'vpn'"),
        ("marketdata=2", "marketdata runs as one process"),
        ("websocket=3", "websocket runs as one process"),
        ("risk=0", "at least 1"),
    ],
)
def test_a_bad_replicas_option_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_replicas(text)


def _vpin_summary(alerts: list[dict[str, object]], trades: int) -> dict[str, object]:
    by_instrument: dict[str, int] = {}
    for alert in alerts:
        key = f"{alert['type']}:{alert['instrument_id']}"
        by_instrument[key] = by_instrument.get(key, 0) + 1
    return {
        "engine": "vpin",
        "market_time_ns": 1_764_077_400_000_000_000 + trades,
        "consumed": {"nautilus.marketdata.v1.Trade": trades},
        "published": {"nautilus.vpin.v1.ToxicityAlert": len(alerts)},
        "handler_errors": {},
        "alert_latency_ns": [],
        "facts": {
            "toxicity_alerts": len(alerts),
            "flash_crash_warnings": 0,
            "by_type_and_instrument": by_instrument,
            "first": alerts[0] if alerts else None,
            "first_flash_crash_warning": None,
        },
    }


def test_replica_summaries_add_up_and_keep_the_earliest_first_alert() -> None:
    eth = {"type": "ToxicityAlert", "instrument_id": "ETHUSDT.BINANCE", "ts_event": 300}
    btc = {"type": "ToxicityAlert", "instrument_id": "BTCUSDT.BINANCE", "ts_event": 200}
    merged = merge_summaries([_vpin_summary([eth, eth], 1000), _vpin_summary([btc], 1500)])
    assert merged["consumed"] == {"nautilus.marketdata.v1.Trade": 2500}
    assert merged["market_time_ns"] == 1_764_077_400_000_000_000 + 1500
    facts = merged["facts"]
    assert facts["toxicity_alerts"] == 3
    assert facts["by_type_and_instrument"] == {
        "ToxicityAlert:BTCUSDT.BINANCE": 1,
        "ToxicityAlert:ETHUSDT.BINANCE": 2,
    }
    assert facts["first"] == btc
    assert facts["first_flash_crash_warning"] is None


def test_one_summary_is_the_engines_summary() -> None:
    summary = _vpin_summary([], 10)
    assert merge_summaries([summary]) == summary


def test_the_live_progress_line_counts_the_alerts_of_every_vpin_replica() -> None:
    healths: dict[str, dict[str, Any] | None] = {
        "vpin": {"status": "ok", "service": {"toxicity_alerts": 0, "flash_crash_warnings": 0}},
        "vpin.2": {"status": "ok", "service": {"toxicity_alerts": 3, "flash_crash_warnings": 1}},
    }
    line = render_progress_line(healths, RunProgress(0, 600 * 10**9, 12.0, 30.0, "run"))
    assert "alerts 3 toxicity, 1 flash crash" in line
