"""The run report: what a run of the twelve engines did, as one JSON document.

Built from the engines' own summaries (`EngineService.summary()`), which a backtest collects
directly and a live run collects from the files the engine processes write when they stop, so both
modes report the same fields the same way. A backtest's report holds nothing that depends on the
machine or the wall clock (no host names, ports, pids or wall times; latencies come from the test
clock), and is written with sorted keys: two backtests of the same settings write identical bytes.

Sections:

- `run`: mode, scenario, seed, market source, duration and speed, market start and length;
- `streams`: per stream, messages published by type and consumed by each consumer group by type,
  and entries dead-lettered;
- `alerts`: toxicity alerts and flash-crash warnings raised (by instrument, the first of each),
  how many each receiving engine handled, margin alerts and limit events;
- `orders`: orders sent by side, opening versus reducing, before and after the first alert
  Strategy handled, and `opened_while_gated` (opening orders on an instrument while an alert on it
  was in force: always 0 when Strategy honours alerts), plus signals and fills;
- `pnl`: the account's final PnL (the last account-level PnlUpdate) and positions;
- `latency_ms`: percentiles (nearest rank) of alert propagation, from an alert's publication to
  the end of its handling in Risk, Strategy and Analytics, per engine and overall; in a live run
  also its floor (`alert_propagation_floor`: the bare XADD → XREADGROUP hop timed by a probe of
  its own on the same server under the same load, engines/alert_probe.py, with the same
  percentiles) and `alert_propagation_p99_vs_floor`, so a reader can tell the machine's part
  from the bus's. A backtest has neither: they are the machine's;
- `engines`: per engine, messages consumed and published, handler errors and its own facts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from nautilus.contract import bus_message_classes
from nautilus.engines.run_settings import NS_PER_SECOND, RunSettings
from nautilus.runtime.routing import message_spec

__all__ = [
    "ALERT_RECEIVERS",
    "build_report",
    "latency_percentiles",
    "merge_summaries",
    "render_report_summary",
    "write_report",
]

#: The engines an alert must reach, whose handling time the latency section measures.
ALERT_RECEIVERS = ("risk", "strategy", "analytics")
_ALERT_TYPES = ("nautilus.vpin.v1.ToxicityAlert", "nautilus.vpin.v1.FlashCrashWarning")
_PERCENTILES = (50, 90, 99)
_NS_PER_MS = 1_000_000


def latency_percentiles(samples_ns: Sequence[int]) -> dict[str, Any]:
    """Count, p50/p90/p99 (nearest rank) and max of `samples_ns`, in milliseconds."""
    ordered = sorted(samples_ns)
    result: dict[str, Any] = {"count": len(ordered)}
    for p in _PERCENTILES:
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        result[f"p{p}"] = round(ordered[rank - 1] / _NS_PER_MS, 3) if ordered else None
    result["max"] = round(ordered[-1] / _NS_PER_MS, 3) if ordered else None
    return result


def merge_summaries(replicas: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One engine's summary from the summaries of its replicas (`nautilus up --replicas`).

    Each replica handled a disjoint share of the engine's streams, so counts add up, latency
    samples are pooled, market time is the furthest reached; in the engine's facts, numbers add
    up, lists are joined, and of records stamped with `ts_event` (the first alert) the earliest
    is kept. A single summary is returned unchanged.
    """
    if len(replicas) == 1:
        return dict(replicas[0])
    merged = _merge_values([dict(summary) for summary in replicas])
    merged["market_time_ns"] = max(int(s.get("market_time_ns", 0)) for s in replicas)
    return dict(merged)


def _merge_values(values: Sequence[Any]) -> Any:
    present = [value for value in values if value is not None]
    if not present:
        return None
    if all(isinstance(v, bool) for v in present):
        return any(present)
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return sum(present)
    if all(isinstance(v, list) for v in present):
        return [item for value in present for item in value]
    if all(isinstance(v, Mapping) for v in present):
        if all("ts_event" in v for v in present):
            return dict(min(present, key=lambda record: record["ts_event"]))
        keys = sorted({key for value in present for key in value})
        return {key: _merge_values([value.get(key) for value in present]) for key in keys}
    return present[0]


def _streams(
    summaries: Mapping[str, Mapping[str, Any]], dead_letters: Mapping[str, int]
) -> dict[str, Any]:
    streams: dict[str, Any] = {}
    for full_name, cls in sorted(bus_message_classes().items()):
        route = message_spec(cls).route
        entry = streams.setdefault(
            route.stream,
            {"published": {}, "consumed": {}, "dead_lettered": dead_letters.get(route.stream, 0)},
        )
        name = cls.DESCRIPTOR.name
        producer = summaries.get(route.producer, {})
        entry["published"][name] = producer.get("published", {}).get(full_name, 0)
        for group in sorted(route.consumers):
            if group not in summaries:
                continue  # an external party (the frontend): no consumer group on the bus
            consumed = summaries[group].get("consumed", {}).get(full_name, 0)
            entry["consumed"].setdefault(group, {})[name] = consumed
    return dict(sorted(streams.items()))


def _facts(summaries: Mapping[str, Mapping[str, Any]], engine: str) -> dict[str, Any]:
    facts: dict[str, Any] = summaries.get(engine, {}).get("facts", {})
    return facts


def _alerts(summaries: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    vpin = _facts(summaries, "vpin")
    handled = {
        engine: {
            full_name.rsplit(".", 1)[1]: summaries.get(engine, {})
            .get("consumed", {})
            .get(full_name, 0)
            for full_name in _ALERT_TYPES
        }
        for engine in ALERT_RECEIVERS
    }
    return {
        "toxicity_alerts": vpin.get("toxicity_alerts", 0),
        "flash_crash_warnings": vpin.get("flash_crash_warnings", 0),
        "by_type_and_instrument": vpin.get("by_type_and_instrument", {}),
        "first": vpin.get("first"),
        "first_flash_crash_warning": vpin.get("first_flash_crash_warning"),
        "handled": handled,
        "strategy_first_alert_handled": _facts(summaries, "strategy").get("first_alert_handled"),
        "margin_alerts": _facts(summaries, "collateral").get("margin_alerts", {}),
        "limit_events": _facts(summaries, "risk").get("limit_events", {}),
    }


def _latency(
    summaries: Mapping[str, Mapping[str, Any]], mode: str, floor_ns: Sequence[int] | None
) -> dict[str, Any]:
    per_engine = {
        engine: summaries.get(engine, {}).get("alert_latency_ns", []) for engine in ALERT_RECEIVERS
    }
    every = [sample for samples in per_engine.values() for sample in samples]
    overall = latency_percentiles(every)
    section: dict[str, Any] = {
        "clock": "test" if mode == "backtest" else "live",
        "alert_propagation": {
            **{engine: latency_percentiles(samples) for engine, samples in per_engine.items()},
            "all": overall,
        },
    }
    if mode != "backtest":
        floor = None if floor_ns is None else latency_percentiles(floor_ns)
        section["alert_propagation_floor"] = floor
        section["alert_propagation_p99_vs_floor"] = _ratio(
            overall["p99"], floor["p99"] if floor else None
        )
    return section


def _ratio(value: float | None, floor: float | None) -> float | None:
    """`value` / `floor` from the figures as reported (so the JSON reproduces it), or None."""
    if value is None or not floor:
        return None
    return round(value / floor, 2)


def _engines(summaries: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    return {
        engine: {
            "consumed": sum(summary.get("consumed", {}).values()),
            "published": sum(summary.get("published", {}).values()),
            "handler_errors": summary.get("handler_errors", {}),
            "facts": summary.get("facts", {}),
        }
        for engine, summary in sorted(summaries.items())
    }


def build_report(
    settings: RunSettings,
    summaries: Mapping[str, Mapping[str, Any]],
    *,
    mode: str,
    dead_letters: Mapping[str, int] | None = None,
    extra: Mapping[str, Any] | None = None,
    alert_floor_ns: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The report of one run from each engine's summary; `extra` adds mode-specific sections.

    `alert_floor_ns`: a live run's floor probe samples (None: not measured); a backtest's report
    never has a floor, whatever is passed.
    """
    marketdata = _facts(summaries, "marketdata")
    portfolio = _facts(summaries, "portfolio")
    strategy = _facts(summaries, "strategy")
    run: dict[str, Any] = {
        "mode": mode,
        "scenario": None if settings.market_csv else settings.scenario,
        "seed": None if settings.market_csv else settings.seed,
        "market": settings.source_name,
        "market_csv": Path(settings.market_csv).name if settings.market_csv else None,
        "duration_s": settings.duration_s,
        "speed": settings.speed,
        "market_start_ns": settings.start_ns,
        "market_events": marketdata.get("events", 0),
        "market_seconds_replayed": _market_seconds(summaries, settings),
    }
    report: dict[str, Any] = {
        "run": run,
        "streams": _streams(summaries, dead_letters or {}),
        "alerts": _alerts(summaries),
        "orders": {
            **strategy.get("orders", {}),
            "signals": strategy.get("signals", 0),
            "fills": portfolio.get("fills", 0),
        },
        "pnl": {"final": portfolio.get("pnl"), "positions": portfolio.get("positions", {})},
        "latency_ms": _latency(summaries, mode, alert_floor_ns),
        "engines": _engines(summaries),
    }
    report.update(extra or {})
    return report


def _market_seconds(summaries: Mapping[str, Mapping[str, Any]], settings: RunSettings) -> float:
    reached = int(summaries.get("marketdata", {}).get("market_time_ns", 0))
    if not reached:
        return 0.0
    return round((reached - settings.market_start_ns()) / NS_PER_SECOND, 3)


def write_report(report: Mapping[str, Any], path: Path | str) -> Path:
    """Write `report` as indented JSON with sorted keys (creating the parent directory)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    return target


def render_report_summary(report: Mapping[str, Any]) -> str:
    """A few lines for the terminal: what the run did, in words and numbers."""
    alerts, orders, pnl = report["alerts"], report["orders"], report["pnl"]["final"]
    latency = report["latency_ms"]["alert_propagation"]["all"]
    published = sum(sum(s["published"].values()) for s in report["streams"].values())
    first = alerts.get("first_flash_crash_warning") or alerts.get("first")
    lines = [
        f"messages published: {published:,} on {len(report['streams'])} streams; "
        f"dead-lettered: {sum(s['dead_lettered'] for s in report['streams'].values())}",
        f"alerts: {alerts['toxicity_alerts']} toxicity, {alerts['flash_crash_warnings']} "
        f"flash-crash warnings; handled by risk/strategy/analytics: "
        + "/".join(str(sum(alerts["handled"][e].values())) for e in ALERT_RECEIVERS),
    ]
    if first:
        lines.append(f"first {first['type']}: {first['instrument_id']} ({first['severity']})")
    lines.append(
        f"orders: {orders.get('count', 0)} ({orders.get('opening', 0)} opening, "
        f"{orders.get('reducing', 0)} reducing); opened while an alert was in force: "
        f"{orders.get('opened_while_gated', 0)}"
    )
    if pnl:
        lines.append(
            f"final PnL: total {pnl['total']:,.2f} {pnl['currency']} (realised "
            f"{pnl['realized']:,.2f}, unrealised {pnl['unrealized']:,.2f})"
        )
    floor = _floor_words(report["latency_ms"])
    if latency["count"]:
        lines.append(
            f"alert propagation ({report['latency_ms']['clock']} clock): p50 {latency['p50']} ms,"
            f" p99 {latency['p99']} ms, max {latency['max']} ms over {latency['count']} handlings"
            + (f"; {floor}" if floor else "")
        )
    elif floor:
        lines.append(f"alert propagation: none handled; {floor}")
    return "\n".join(lines)


def _floor_words(latency_ms: Mapping[str, Any]) -> str:
    """The floor beside the propagation figures ("" in a backtest, which has none)."""
    if "alert_propagation_floor" not in latency_ms:
        return ""
    floor = latency_ms["alert_propagation_floor"]
    if not floor or not floor["count"]:
        return "floor not measured"
    words = (
        f"floor (bare XADD -> XREADGROUP, same server and load): p50 {floor['p50']} ms, "
        f"p99 {floor['p99']} ms over {floor['count']} probes"
    )
    ratio = latency_ms.get("alert_propagation_p99_vs_floor")
    return words + (f"; p99 {ratio}x the floor's" if ratio is not None else "")
