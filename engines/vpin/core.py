"""VPIN: order-flow toxicity per instrument, with alerts and flash-crash warnings.

Per instrument, trades fill equal-volume buckets; each closed bucket's volume is split into buy
and sell volume by bulk volume classification of its price change, and

    VPIN = mean over the last n buckets of |V_buy - V_sell| / V

Its empirical CDF is the mid-rank of the current value among the instrument's earlier VPIN
values (up to `cdf_history`; ties count half, see `RollingEcdf`). A `ToxicityAlert` fires when
the CDF reaches `alert_threshold`, once per episode: the episode ends when the CDF falls below
`rearm_threshold` (hysteresis), and a new one cannot alert within `cooldown_buckets` of the last
alert. An episode that deepens from WARNING to CRITICAL alerts once more. A `FlashCrashWarning`
fires when the CDF is at least `flash_cdf_threshold` and the mid price (trade prices until the
first quote) fell by at least `flash_drop_bps` within `flash_window_ns`, at most once per
`flash_cooldown_ns`.

Deterministic: outputs depend only on the messages and `now_ns` values passed in.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from nautilus.common.v1 import common_pb2
from nautilus.engines.fixed_point import from_e9, to_e9
from nautilus.engines.vpin.buckets import VolumeBucket, VolumeBucketer
from nautilus.engines.vpin.classification import BulkVolumeClassifier
from nautilus.engines.vpin.ecdf import RollingEcdf
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

__all__ = ["VpinCalculator", "VpinConfig", "VpinOutput"]

VpinOutput = ToxicityAlert | FlashCrashWarning


@dataclass(frozen=True, slots=True)
class VpinConfig:
    """VPIN parameters. Volumes are instrument units; `bucket_volumes` overrides
    `bucket_volume` per instrument (pairs of instrument id and volume)."""

    bucket_volume: float = 2.0
    bucket_volumes: tuple[tuple[str, float], ...] = ()
    window_buckets: int = 50
    sigma_window: int = 50
    cdf_history: int = 5_000
    min_history: int = 50
    alert_threshold: float = 0.9
    critical_threshold: float = 0.99
    rearm_threshold: float = 0.8
    cooldown_buckets: int = 10
    flash_cdf_threshold: float = 0.95
    flash_drop_bps: float = 200.0
    flash_hard_drop_bps: float = 500.0
    flash_hard_cdf: float = 0.99
    flash_window_ns: int = 60_000_000_000
    flash_cooldown_ns: int = 60_000_000_000
    _volumes: dict[str, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        volumes = dict(self.bucket_volumes)
        if self.bucket_volume <= 0 or any(v <= 0 for v in volumes.values()):
            raise ValueError("bucket volumes must be > 0")
        if self.window_buckets < 1 or self.sigma_window < 2:
            raise ValueError("window_buckets must be >= 1 and sigma_window >= 2")
        if self.cdf_history < 1 or not 0 <= self.min_history <= self.cdf_history:
            raise ValueError("need cdf_history >= 1 and 0 <= min_history <= cdf_history")
        if not 0 <= self.rearm_threshold <= self.alert_threshold <= self.critical_threshold <= 1:
            raise ValueError(
                "need 0 <= rearm_threshold <= alert_threshold <= critical_threshold <= 1"
            )
        if not 0 <= self.flash_cdf_threshold <= self.flash_hard_cdf <= 1:
            raise ValueError("need 0 <= flash_cdf_threshold <= flash_hard_cdf <= 1")
        if not 0 < self.flash_drop_bps <= self.flash_hard_drop_bps:
            raise ValueError("need 0 < flash_drop_bps <= flash_hard_drop_bps")
        if self.cooldown_buckets < 0 or self.flash_window_ns <= 0 or self.flash_cooldown_ns < 0:
            raise ValueError("cooldowns must be >= 0 and flash_window_ns > 0")
        object.__setattr__(self, "_volumes", volumes)

    def bucket_volume_e9(self, instrument_id: str) -> int:
        """Bucket size V of an instrument, fixed-point."""
        return to_e9(self._volumes.get(instrument_id, self.bucket_volume))


class _Instrument:
    """Everything VPIN remembers about one instrument."""

    def __init__(self, config: VpinConfig, instrument_id: str) -> None:
        self.bucketer = VolumeBucketer(config.bucket_volume_e9(instrument_id))
        self.classifier = BulkVolumeClassifier(config.sigma_window)
        self.imbalances: deque[float] = deque(maxlen=config.window_buckets)
        self.window_open_prices: deque[int] = deque(maxlen=config.window_buckets)
        self.history = RollingEcdf(config.cdf_history)
        self.last_close_e9: int | None = None
        self.vpin: float | None = None
        self.vpin_cdf: float | None = None
        self.episode_severity = common_pb2.SEVERITY_UNSPECIFIED
        self.last_alert_bucket: int | None = None
        self.has_quotes = False
        self.prices: deque[tuple[int, int]] = deque()
        self.volumes: deque[tuple[int, int]] = deque()
        self.last_flash_ts: int | None = None


class VpinCalculator:
    """Computes VPIN per instrument from trades (and mids from quotes) and decides alerts."""

    def __init__(self, config: VpinConfig | None = None) -> None:
        self.config = config or VpinConfig()
        self._instruments: dict[str, _Instrument] = {}

    def vpin(self, instrument_id: str) -> float | None:
        """Latest VPIN of an instrument; None before `window_buckets` buckets closed."""
        state = self._instruments.get(instrument_id)
        return state.vpin if state else None

    def vpin_cdf(self, instrument_id: str) -> float | None:
        """Empirical CDF of the latest VPIN; None until there is history to rank against."""
        state = self._instruments.get(instrument_id)
        return state.vpin_cdf if state else None

    def on_quote(self, quote: Quote, now_ns: int) -> list[VpinOutput]:
        """Tracks the mid price; may warn of a flash crash if toxicity is already extreme."""
        state = self._state(quote.instrument_id)
        if not state.has_quotes:
            state.has_quotes = True
            state.prices.clear()
        mid = (quote.bid_price_e9 + quote.ask_price_e9) // 2
        self._record_price(state, quote.ts_event, mid)
        warning = self._flash_check(quote.instrument_id, state, quote.ts_event, now_ns)
        return [warning] if warning else []

    def on_trade(self, trade: Trade, now_ns: int) -> list[VpinOutput]:
        """Adds a trade; returns alerts and warnings for every bucket it closed, in order."""
        state = self._state(trade.instrument_id)
        if not state.has_quotes:
            self._record_price(state, trade.ts_event, trade.price_e9)
        state.volumes.append((trade.ts_event, trade.size_e9))
        self._prune(state, trade.ts_event)
        outputs: list[VpinOutput] = []
        for bucket in state.bucketer.add(trade.price_e9, trade.size_e9, trade.ts_event):
            outputs.extend(self._on_bucket(trade.instrument_id, state, bucket, now_ns))
        return outputs

    def _state(self, instrument_id: str) -> _Instrument:
        state = self._instruments.get(instrument_id)
        if state is None:
            state = self._instruments[instrument_id] = _Instrument(self.config, instrument_id)
        return state

    def _record_price(self, state: _Instrument, ts_ns: int, price_e9: int) -> None:
        state.prices.append((ts_ns, price_e9))
        self._prune(state, ts_ns)

    def _prune(self, state: _Instrument, ts_ns: int) -> None:
        horizon = ts_ns - self.config.flash_window_ns
        while len(state.prices) > 1 and state.prices[0][0] < horizon:
            state.prices.popleft()
        while state.volumes and state.volumes[0][0] < horizon:
            state.volumes.popleft()

    def _on_bucket(
        self, instrument_id: str, state: _Instrument, bucket: VolumeBucket, now_ns: int
    ) -> list[VpinOutput]:
        reference = state.last_close_e9 if state.last_close_e9 is not None else bucket.open_price_e9
        fraction = state.classifier.classify(from_e9(bucket.close_price_e9 - reference))
        state.last_close_e9 = bucket.close_price_e9
        state.imbalances.append(abs(2.0 * fraction - 1.0))
        state.window_open_prices.append(bucket.open_price_e9)
        if len(state.imbalances) < self.config.window_buckets:
            return []
        vpin = sum(state.imbalances) / len(state.imbalances)
        enough_history = len(state.history) >= max(1, self.config.min_history)
        state.vpin = vpin
        state.vpin_cdf = state.history.cdf(vpin) if enough_history else None
        state.history.add(vpin)
        outputs: list[VpinOutput] = []
        if state.vpin_cdf is not None:
            alert = self._alert_check(instrument_id, state, bucket, now_ns)
            if alert:
                outputs.append(alert)
        warning = self._flash_check(instrument_id, state, bucket.ts_end, now_ns)
        if warning:
            outputs.append(warning)
        return outputs

    def _alert_check(
        self, instrument_id: str, state: _Instrument, bucket: VolumeBucket, now_ns: int
    ) -> ToxicityAlert | None:
        config = self.config
        cdf = state.vpin_cdf
        assert cdf is not None
        assert state.vpin is not None
        if state.episode_severity and cdf < config.rearm_threshold:
            state.episode_severity = common_pb2.SEVERITY_UNSPECIFIED
        if cdf < config.alert_threshold:
            return None
        critical = cdf >= config.critical_threshold
        severity = common_pb2.SEVERITY_CRITICAL if critical else common_pb2.SEVERITY_WARNING
        if state.episode_severity:
            if severity <= state.episode_severity:
                return None
        elif (
            state.last_alert_bucket is not None
            and bucket.index - state.last_alert_bucket < config.cooldown_buckets
        ):
            return None
        state.episode_severity = severity
        state.last_alert_bucket = bucket.index
        start = state.window_open_prices[0]
        return ToxicityAlert(
            instrument_id=instrument_id,
            vpin=state.vpin,
            vpin_cdf=cdf,
            threshold=config.alert_threshold,
            severity=severity,
            bucket_index=bucket.index,
            bucket_volume_e9=bucket.volume_e9,
            window_buckets=config.window_buckets,
            price_change_bps=(bucket.close_price_e9 - start) / start * 1e4,
            ts_event=bucket.ts_end,
            ts_init=now_ns,
        )

    def _flash_check(
        self, instrument_id: str, state: _Instrument, ts_ns: int, now_ns: int
    ) -> FlashCrashWarning | None:
        config = self.config
        cdf = state.vpin_cdf
        if cdf is None or state.vpin is None or cdf < config.flash_cdf_threshold:
            return None
        if (
            state.last_flash_ts is not None
            and ts_ns - state.last_flash_ts < config.flash_cooldown_ns
        ):
            return None
        reference = state.prices[0][1]
        current = state.prices[-1][1]
        drop_bps = (reference - current) / reference * 1e4
        if drop_bps < config.flash_drop_bps:
            return None
        state.last_flash_ts = ts_ns
        hard = drop_bps >= config.flash_hard_drop_bps and cdf >= config.flash_hard_cdf
        return FlashCrashWarning(
            instrument_id=instrument_id,
            price_drop_bps=drop_bps,
            window_ns=config.flash_window_ns,
            reference_mid_price_e9=reference,
            mid_price_e9=current,
            vpin=state.vpin,
            vpin_cdf=cdf,
            window_volume_e9=sum(size for _, size in state.volumes),
            severity=common_pb2.SEVERITY_CRITICAL if hard else common_pb2.SEVERITY_WARNING,
            ts_event=ts_ns,
            ts_init=now_ns,
        )
