"""Risk: exposures, historical VaR, drawdown and limits for one account.

Inputs: quotes (marks at the mid; the last fill price until a quote arrives), position updates
(netted across strategies per instrument), the account-level PnL updates (equity; narrowed PnL
updates are ignored), and toxicity alerts / flash-crash warnings, which tighten that
instrument's quantity and notional limits by `toxicity_limit_scale` /
`flash_crash_limit_scale` for `tightening_ns` of market time.

VaR is historical simulation over the last `var_window` equity changes, each measured over one
`var_horizon_ns` (equity is sampled at the first account PnL update at or after each horizon
boundary). Drawdown is tracked on every account PnL update.

Every input re-checks the limits it can move and returns `PositionLimitEvent`s for status
changes only (see `limits.py`); `metrics` builds the periodic `RiskMetrics` snapshot.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from nautilus.engines.fixed_point import mul_e9, to_e9
from nautilus.engines.positions import signed_quantity_e9
from nautilus.engines.risk.limits import LimitBook, LimitCheck
from nautilus.engines.risk.measures import DrawdownTracker, historical_var
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.portfolio.v1.portfolio_pb2 import PnlUpdate, PositionUpdate
from nautilus.risk.v1 import risk_pb2
from nautilus.risk.v1.risk_pb2 import InstrumentLimitUsage, PositionLimitEvent, RiskMetrics
from nautilus.vpin.v1.vpin_pb2 import FlashCrashWarning, ToxicityAlert

__all__ = ["RiskConfig", "RiskMonitor"]


@dataclass(frozen=True, slots=True)
class RiskConfig:
    """Limits in instrument units (quantity) or money (everything else); 0 disables a limit.
    Per-instrument overrides are (instrument id, limit) pairs."""

    account_id: str = "BINANCE-001"
    currency: str = "USDT"
    initial_equity: float = 100_000.0
    position_quantity_limit: float = 0.0
    position_quantity_limits: tuple[tuple[str, float], ...] = ()
    position_notional_limit: float = 50_000.0
    position_notional_limits: tuple[tuple[str, float], ...] = ()
    gross_exposure_limit: float = 200_000.0
    net_exposure_limit: float = 150_000.0
    var_99_limit: float = 5_000.0
    drawdown_limit: float = 10_000.0
    warning_level: float = 0.8
    var_horizon_ns: int = 60_000_000_000
    var_window: int = 500
    min_var_observations: int = 20
    toxicity_limit_scale: float = 0.5
    flash_crash_limit_scale: float = 0.25
    tightening_ns: int = 300_000_000_000
    _quantity_e9: dict[str, int] = field(init=False, repr=False, compare=False)
    _notional_e9: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if "-" not in self.account_id or not self.currency:
            raise ValueError("account_id must be ISSUER-NUMBER and currency non-empty")
        limits = [
            self.position_quantity_limit, self.position_notional_limit,
            self.gross_exposure_limit, self.net_exposure_limit, self.var_99_limit,
            self.drawdown_limit,
            *(v for _, v in self.position_quantity_limits),
            *(v for _, v in self.position_notional_limits),
        ]  # fmt: skip
        if any(limit < 0 for limit in limits):
            raise ValueError("limits must be >= 0 (0 disables a limit)")
        if not 0 < self.warning_level < 1:
            raise ValueError("warning_level must be in (0, 1)")
        if self.var_horizon_ns <= 0 or not 1 <= self.min_var_observations <= self.var_window:
            raise ValueError("need var_horizon_ns > 0 and 1 <= min_var_observations <= var_window")
        scales = (self.toxicity_limit_scale, self.flash_crash_limit_scale)
        if not all(0 < scale <= 1 for scale in scales) or self.tightening_ns < 0:
            raise ValueError("limit scales must be in (0, 1] and tightening_ns >= 0")
        quantity = {k: to_e9(v) for k, v in self.position_quantity_limits}
        notional = {k: to_e9(v) for k, v in self.position_notional_limits}
        object.__setattr__(self, "_quantity_e9", quantity)
        object.__setattr__(self, "_notional_e9", notional)

    def quantity_limit_e9(self, instrument_id: str) -> int:
        """Configured absolute position limit of an instrument, fixed-point (0: none)."""
        return self._quantity_e9.get(instrument_id, to_e9(self.position_quantity_limit))

    def instruments_with_notional_limits(self) -> tuple[str, ...]:
        """Instruments with their own notional limit, sorted."""
        return tuple(sorted(self._notional_e9))

    def notional_limit_e9(self, instrument_id: str) -> int:
        """Configured absolute notional limit of an instrument, fixed-point (0: none)."""
        return self._notional_e9.get(instrument_id, to_e9(self.position_notional_limit))


class RiskMonitor:
    """Measures one account's risk and enforces its limits."""

    def __init__(self, config: RiskConfig | None = None) -> None:
        self.config = config or RiskConfig()
        self._limits = LimitBook(
            self.config.account_id, self.config.currency, self.config.warning_level
        )
        self._positions: dict[tuple[str, str], int] = {}
        self._marks: dict[str, int] = {}
        self._tightening: dict[str, tuple[float, int]] = {}
        self._equity_e9 = to_e9(self.config.initial_equity)
        self._drawdown = DrawdownTracker()
        self._drawdown.update(self.config.initial_equity)
        self._var_changes: deque[float] = deque(maxlen=self.config.var_window)
        self._var_reference: tuple[int, float] | None = None
        self._last_ts = 0

    def on_quote(self, quote: Quote, now_ns: int) -> list[PositionLimitEvent]:
        """Re-marks the instrument; re-checks its limits and the exposure limits."""
        instrument_id = quote.instrument_id
        self._marks[instrument_id] = (quote.bid_price_e9 + quote.ask_price_e9 + 1) // 2
        self._last_ts = max(self._last_ts, quote.ts_event)
        if not self._quantity(instrument_id):
            return []
        return self._check_positions([instrument_id], quote.ts_event, now_ns)

    def on_position_update(self, update: PositionUpdate, now_ns: int) -> list[PositionLimitEvent]:
        """Records a position; re-checks its instrument's limits and the exposure limits."""
        if update.account_id != self.config.account_id:
            return []
        self._positions[(update.strategy_id, update.instrument_id)] = signed_quantity_e9(update)
        self._marks.setdefault(update.instrument_id, update.last_fill_price_e9)
        self._last_ts = max(self._last_ts, update.ts_event)
        return self._check_positions([update.instrument_id], update.ts_event, now_ns)

    def on_pnl_update(self, pnl: PnlUpdate, now_ns: int) -> list[PositionLimitEvent]:
        """Tracks equity (account-level updates only); re-checks VaR and drawdown limits."""
        if pnl.account_id != self.config.account_id or pnl.strategy_id or pnl.instrument_id:
            return []
        self._equity_e9 = pnl.equity_e9
        equity = pnl.equity_e9 / 1e9
        self._drawdown.update(equity)
        self._sample_var(pnl.ts_event, equity)
        self._last_ts = max(self._last_ts, pnl.ts_event)
        config = self.config
        checks = [
            LimitCheck(
                risk_pb2.BREACH_KIND_VALUE_AT_RISK,
                "",
                to_e9(config.var_99_limit),
                self._var_e9(0.99),
            ),
            LimitCheck(
                risk_pb2.BREACH_KIND_DRAWDOWN,
                "",
                to_e9(config.drawdown_limit),
                to_e9(self._drawdown.current),
            ),
        ]
        return self._run(checks, pnl.ts_event, now_ns)

    def on_toxicity_alert(self, alert: ToxicityAlert, now_ns: int) -> list[PositionLimitEvent]:
        """Tightens the instrument's limits for a while; re-checks them."""
        return self._tighten(
            alert.instrument_id, self.config.toxicity_limit_scale, alert.ts_event, now_ns
        )

    def on_flash_crash_warning(
        self, warning: FlashCrashWarning, now_ns: int
    ) -> list[PositionLimitEvent]:
        """Tightens the instrument's limits harder for a while; re-checks them."""
        return self._tighten(
            warning.instrument_id, self.config.flash_crash_limit_scale, warning.ts_event, now_ns
        )

    def metrics(self, ts_event: int, now_ns: int) -> RiskMetrics:
        """The account's risk snapshot at market time `ts_event`."""
        gross, net = self._exposures()
        instruments = sorted(
            {i for i in self._instrument_ids() if self._quantity(i)}
            | set(self.config.instruments_with_notional_limits())
        )
        rows = []
        for instrument_id in instruments:
            quantity = self._quantity(instrument_id)
            notional = abs(mul_e9(quantity, self._marks.get(instrument_id, 0)))
            limit = self._effective(
                instrument_id, self.config.notional_limit_e9(instrument_id), ts_event
            )
            rows.append(
                InstrumentLimitUsage(
                    instrument_id=instrument_id,
                    position_quantity_e9=quantity,
                    notional_e9=notional,
                    notional_limit_e9=limit,
                    usage=notional / limit if limit else 0.0,
                )
            )
        equity = self._equity_e9
        return RiskMetrics(
            account_id=self.config.account_id,
            currency=self.config.currency,
            gross_exposure_e9=gross,
            net_exposure_e9=net,
            var_95_e9=self._var_e9(0.95),
            var_99_e9=self._var_e9(0.99),
            var_horizon_ns=self.config.var_horizon_ns,
            var_observations=len(self._var_changes),
            max_drawdown=self._drawdown.max_drawdown,
            leverage=gross / equity if equity > 0 else 0.0,
            limits=rows,
            ts_event=ts_event,
            ts_init=now_ns,
        )

    def _instrument_ids(self) -> list[str]:
        return sorted({instrument for _, instrument in self._positions})

    def _quantity(self, instrument_id: str) -> int:
        return sum(q for (_, i), q in self._positions.items() if i == instrument_id)

    def _exposures(self) -> tuple[int, int]:
        gross = net = 0
        for instrument_id in self._instrument_ids():
            signed = mul_e9(self._quantity(instrument_id), self._marks.get(instrument_id, 0))
            gross += abs(signed)
            net += signed
        return gross, net

    def _effective(self, instrument_id: str, limit_e9: int, ts_ns: int) -> int:
        scale, until = self._tightening.get(instrument_id, (1.0, 0))
        return round(limit_e9 * scale) if ts_ns < until else limit_e9

    def _tighten(
        self, instrument_id: str, scale: float, ts_ns: int, now_ns: int
    ) -> list[PositionLimitEvent]:
        current_scale, until = self._tightening.get(instrument_id, (1.0, 0))
        if ts_ns < until:
            scale = min(scale, current_scale)
        self._tightening[instrument_id] = (scale, ts_ns + self.config.tightening_ns)
        return self._check_positions([instrument_id], ts_ns, now_ns)

    def _check_positions(
        self, instrument_ids: list[str], ts_ns: int, now_ns: int
    ) -> list[PositionLimitEvent]:
        config = self.config
        checks: list[LimitCheck] = []
        for instrument_id in instrument_ids:
            quantity = self._quantity(instrument_id)
            notional = abs(mul_e9(quantity, self._marks.get(instrument_id, 0)))
            checks += [
                LimitCheck(
                    risk_pb2.BREACH_KIND_POSITION_QUANTITY,
                    instrument_id,
                    self._effective(instrument_id, config.quantity_limit_e9(instrument_id), ts_ns),
                    abs(quantity),
                ),
                LimitCheck(
                    risk_pb2.BREACH_KIND_POSITION_NOTIONAL,
                    instrument_id,
                    self._effective(instrument_id, config.notional_limit_e9(instrument_id), ts_ns),
                    notional,
                ),
            ]
        gross, net = self._exposures()
        checks += [
            LimitCheck(
                risk_pb2.BREACH_KIND_GROSS_EXPOSURE, "", to_e9(config.gross_exposure_limit), gross
            ),
            LimitCheck(
                risk_pb2.BREACH_KIND_NET_EXPOSURE, "", to_e9(config.net_exposure_limit), abs(net)
            ),
        ]
        return self._run(checks, ts_ns, now_ns)

    def _run(self, checks: list[LimitCheck], ts_ns: int, now_ns: int) -> list[PositionLimitEvent]:
        events = (self._limits.check(check, ts_ns, now_ns) for check in checks)
        return [event for event in events if event is not None]

    def _sample_var(self, ts_ns: int, equity: float) -> None:
        horizon = self.config.var_horizon_ns
        if self._var_reference is None:
            self._var_reference = (ts_ns - ts_ns % horizon + horizon, equity)
            return
        boundary, reference = self._var_reference
        if ts_ns >= boundary:
            self._var_changes.append(equity - reference)
            self._var_reference = (ts_ns - ts_ns % horizon + horizon, equity)

    def _var_e9(self, confidence: float) -> int:
        if len(self._var_changes) < self.config.min_var_observations:
            return 0
        return to_e9(historical_var(list(self._var_changes), confidence))
