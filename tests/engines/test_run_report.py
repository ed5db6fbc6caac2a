"""The run report's latency section and summary line: a live run sets the alerts' propagation
beside its floor (same nearest-rank percentiles, and the ratio of the p99s); a backtest's report
has no floor at all, since the floor is the machine's."""

from __future__ import annotations

import json
from typing import Any

from nautilus.engines.report import build_report, latency_percentiles, render_report_summary
from nautilus.engines.run_settings import RunSettings

_MS = 1_000_000
#: Alert propagation of the twelve handlings of a run: 1..12 ms.
_ALERTS_NS = {
    "risk": [1 * _MS, 4 * _MS, 7 * _MS, 10 * _MS],
    "strategy": [2 * _MS, 5 * _MS, 8 * _MS, 11 * _MS],
    "analytics": [3 * _MS, 6 * _MS, 9 * _MS, 12 * _MS],
}
#: The probe's samples: 0.01 .. 2.00 ms, 200 of them.
_FLOOR_NS = [10_000 * i for i in range(1, 201)]


def _summaries() -> dict[str, dict[str, Any]]:
    return {engine: {"alert_latency_ns": samples} for engine, samples in _ALERTS_NS.items()}


def _report(mode: str, floor_ns: list[int] | None) -> dict[str, Any]:
    return build_report(RunSettings(), _summaries(), mode=mode, alert_floor_ns=floor_ns)


def test_a_live_report_has_the_floor_with_the_same_percentiles_as_the_propagation() -> None:
    latency = _report("live", _FLOOR_NS)["latency_ms"]

    assert latency["alert_propagation"]["all"] == {
        "count": 12, "p50": 6.0, "p90": 11.0, "p99": 12.0, "max": 12.0,
    }  # fmt: skip
    # Nearest rank of 200: p50 the 100th, p90 the 180th, p99 the 198th.
    assert latency["alert_propagation_floor"] == {
        "count": 200, "p50": 1.0, "p90": 1.8, "p99": 1.98, "max": 2.0,
    }  # fmt: skip
    assert latency["alert_propagation_floor"] == latency_percentiles(_FLOOR_NS)
    assert latency["alert_propagation_p99_vs_floor"] == round(12.0 / 1.98, 2)


def test_a_live_report_without_probe_samples_says_the_floor_was_not_measured() -> None:
    latency = _report("live", None)["latency_ms"]

    assert latency["alert_propagation_floor"] is None
    assert latency["alert_propagation_p99_vs_floor"] is None
    assert "floor not measured" in render_report_summary(_report("live", None))


def test_a_floor_with_no_sample_or_no_alert_gives_no_ratio() -> None:
    empty_floor = _report("live", [])["latency_ms"]
    assert empty_floor["alert_propagation_floor"]["count"] == 0
    assert empty_floor["alert_propagation_p99_vs_floor"] is None

    no_alerts = build_report(RunSettings(), {}, mode="live", alert_floor_ns=_FLOOR_NS)
    assert no_alerts["latency_ms"]["alert_propagation_floor"]["count"] == 200
    assert no_alerts["latency_ms"]["alert_propagation_p99_vs_floor"] is None
    assert "none handled; floor (bare XADD" in render_report_summary(no_alerts)


def test_a_backtest_report_has_no_floor_even_if_given_samples() -> None:
    with_samples = _report("backtest", _FLOOR_NS)
    without = _report("backtest", None)

    assert set(with_samples["latency_ms"]) == {"clock", "alert_propagation"}
    assert json.dumps(with_samples, sort_keys=True) == json.dumps(without, sort_keys=True)
    assert "floor" not in render_report_summary(with_samples)


def test_the_summary_line_shows_the_floor_beside_the_propagation() -> None:
    lines = render_report_summary(_report("live", _FLOOR_NS)).splitlines()

    [line] = [line for line in lines if line.startswith("alert propagation")]
    assert line == (
        "alert propagation (live clock): p50 6.0 ms, p99 12.0 ms, max 12.0 ms over 12 handlings;"
        " floor (bare XADD -> XREADGROUP, same server and load): p50 1.0 ms, p99 1.98 ms over"
        " 200 probes; p99 6.06x the floor's"
    )
