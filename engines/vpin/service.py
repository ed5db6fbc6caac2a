"""The VPIN engine on its generated client: trades and quotes in, toxicity alerts and flash-crash
warnings out.

Bucket volumes follow the instruments' traded volume (about two seconds of a calm market's
volume per bucket), so every instrument builds its VPIN history at the same pace; the window and
thresholds are set so that a ten-minute scenario has history before its crash and alerts are the
rare top percentile of each instrument's own history.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from nautilus.clients.vpin import VPINClient
from nautilus.common.v1 import common_pb2
from nautilus.engines.run_settings import RunSettings, expected_volume_per_tick
from nautilus.engines.service import EngineService
from nautilus.engines.vpin.core import VpinCalculator, VpinConfig, VpinOutput
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

__all__ = ["VpinService", "vpin_config"]

#: Ticks of calm volume per bucket (100 ms ticks: about two seconds).
_TICKS_PER_BUCKET = 20


def vpin_config(settings: RunSettings) -> VpinConfig:
    """VPIN parameters for the run's market."""
    volumes = tuple(
        (spec.instrument_id, round(expected_volume_per_tick(spec) * _TICKS_PER_BUCKET, 6))
        for spec in settings.instruments()
    )
    return VpinConfig(
        bucket_volumes=volumes,
        window_buckets=30,
        min_history=40,
        alert_threshold=0.99,
        critical_threshold=0.999,
        rearm_threshold=0.8,
    )


class VpinService(EngineService[VPINClient]):
    """Publishes every alert and warning the calculator raises, the moment it raises it."""

    ENGINE = "vpin"

    def wire(self) -> None:
        self.core = VpinCalculator(vpin_config(self.settings))
        client = self.client
        self.publishes(ToxicityAlert, client.publish_toxicity_alert)
        self.publishes(FlashCrashWarning, client.publish_flash_crash_warning)
        self._alerts: list[dict[str, Any]] = []
        client.on_trade(self.market(self._on_trade))
        client.on_quote(self.market(self._on_quote))
        client.on_feature_vector(self.record())
        client.on_factor_covariance(self.record())
        client.on_factor_exposures(self.record())
        client.on_factor_returns(self.record())

    def _on_trade(self, trade: Trade, now_ns: int) -> list[VpinOutput]:
        return self._noted(self.core.on_trade(trade, now_ns))

    def _on_quote(self, quote: Quote, now_ns: int) -> list[VpinOutput]:
        return self._noted(self.core.on_quote(quote, now_ns))

    def _noted(self, outputs: list[VpinOutput]) -> list[VpinOutput]:
        for output in outputs:
            self._alerts.append(
                {
                    "type": output.DESCRIPTOR.name,
                    "instrument_id": output.instrument_id,
                    "severity": common_pb2.Severity.Name(output.severity),
                    "ts_event": output.ts_event,
                }
            )
        return outputs

    def facts(self) -> dict[str, Any]:
        by_instrument: Counter[str] = Counter(
            f"{alert['type']}:{alert['instrument_id']}" for alert in self._alerts
        )
        return {
            "toxicity_alerts": sum(a["type"] == "ToxicityAlert" for a in self._alerts),
            "flash_crash_warnings": sum(a["type"] == "FlashCrashWarning" for a in self._alerts),
            "by_type_and_instrument": dict(sorted(by_instrument.items())),
            "first": self._alerts[0] if self._alerts else None,
            "first_flash_crash_warning": next(
                (a for a in self._alerts if a["type"] == "FlashCrashWarning"), None
            ),
        }
