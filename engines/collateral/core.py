"""Collateral: margin requirement and margin alerts for one account.

Each instrument's margin is its absolute notional (|net quantity| x mark, mark = mid of the
latest quote, or the last fill price before one arrives) times its initial or maintenance rate.
Utilisation is maintenance margin / equity (1e9 when equity is not positive), equity coming
from the account-level PnL updates (`initial_equity` before the first).

Alerts fire on upward crossings only: to WARNING when utilisation reaches `warning_level`, to
CRITICAL at `critical_level` (straight to CRITICAL if it jumps). A level re-arms once utilisation
falls below it by `hysteresis`, so a position hovering at a threshold does not alert on every
tick. `MarginRequirement` is returned on every change, at most once per `requirement_interval_ns`
of market time (0: always).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nautilus.collateral.v1.collateral_pb2 import InstrumentMargin, MarginAlert, MarginRequirement
from nautilus.common.v1 import common_pb2
from nautilus.engines.fixed_point import mul_e9, to_e9
from nautilus.engines.positions import signed_quantity_e9
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.portfolio.v1.portfolio_pb2 import PnlUpdate, PositionUpdate

__all__ = [
    "UNBOUNDED_UTILIZATION",
    "CollateralConfig",
    "CollateralOutput",
    "MarginCalculator",
    "MarginRates",
    "margin_utilization",
]

CollateralOutput = MarginRequirement | MarginAlert

#: Utilisation reported when equity is zero or negative.
UNBOUNDED_UTILIZATION = 1e9


def margin_utilization(maintenance_e9: int, equity_e9: int) -> float:
    """Maintenance margin over equity; `UNBOUNDED_UTILIZATION` when equity is not positive."""
    return maintenance_e9 / equity_e9 if equity_e9 > 0 else UNBOUNDED_UTILIZATION


@dataclass(frozen=True, slots=True)
class MarginRates:
    """Initial and maintenance margin as fractions of notional (0.1 is 10x leverage)."""

    initial: float = 0.10
    maintenance: float = 0.05

    def __post_init__(self) -> None:
        if not 0 < self.maintenance <= self.initial <= 1:
            raise ValueError("need 0 < maintenance <= initial <= 1")


@dataclass(frozen=True, slots=True)
class CollateralConfig:
    """Account, default rates and per-instrument overrides, alert levels and hysteresis."""

    account_id: str = "BINANCE-001"
    currency: str = "USDT"
    initial_equity: float = 100_000.0
    default_rates: MarginRates = MarginRates()
    instrument_rates: tuple[tuple[str, MarginRates], ...] = ()
    warning_level: float = 0.8
    critical_level: float = 0.95
    hysteresis: float = 0.05
    requirement_interval_ns: int = 0
    _rates: dict[str, MarginRates] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if "-" not in self.account_id or not self.currency:
            raise ValueError("account_id must be ISSUER-NUMBER and currency non-empty")
        if not 0 < self.warning_level < self.critical_level:
            raise ValueError("need 0 < warning_level < critical_level")
        if not 0 <= self.hysteresis < self.warning_level or self.requirement_interval_ns < 0:
            raise ValueError("need 0 <= hysteresis < warning_level, requirement_interval_ns >= 0")
        object.__setattr__(self, "_rates", dict(self.instrument_rates))

    def rates(self, instrument_id: str) -> MarginRates:
        """The instrument's margin rates."""
        return self._rates.get(instrument_id, self.default_rates)


class MarginCalculator:
    """Tracks positions, marks and equity; computes margin and raises alerts."""

    def __init__(self, config: CollateralConfig | None = None) -> None:
        self.config = config or CollateralConfig()
        self._positions: dict[tuple[str, str], int] = {}
        self._marks: dict[str, int] = {}
        self._equity_e9 = to_e9(self.config.initial_equity)
        self._armed_level = common_pb2.SEVERITY_UNSPECIFIED
        self._last_requirement_ns: int | None = None
        self._last_instrument = ""

    def on_quote(self, quote: Quote, now_ns: int) -> list[CollateralOutput]:
        """Re-marks the instrument; re-evaluates if it is held."""
        self._marks[quote.instrument_id] = (quote.bid_price_e9 + quote.ask_price_e9 + 1) // 2
        if not self._net_quantity(quote.instrument_id):
            return []
        self._last_instrument = quote.instrument_id
        return self._evaluate(quote.ts_event, now_ns)

    def on_position_update(self, update: PositionUpdate, now_ns: int) -> list[CollateralOutput]:
        """Records the position; re-evaluates."""
        if update.account_id != self.config.account_id:
            return []
        self._positions[(update.strategy_id, update.instrument_id)] = signed_quantity_e9(update)
        self._marks.setdefault(update.instrument_id, update.last_fill_price_e9)
        self._last_instrument = update.instrument_id
        return self._evaluate(update.ts_event, now_ns, force=True)

    def on_pnl_update(self, pnl: PnlUpdate, now_ns: int) -> list[CollateralOutput]:
        """Takes the account equity from account-level updates; re-evaluates."""
        if pnl.account_id != self.config.account_id or pnl.strategy_id or pnl.instrument_id:
            return []
        self._equity_e9 = pnl.equity_e9
        return self._evaluate(pnl.ts_event, now_ns)

    def requirement(self, ts_event: int, now_ns: int) -> MarginRequirement:
        """The account's margin statement at market time `ts_event`."""
        rows = []
        for instrument_id in sorted({i for _, i in self._positions}):
            quantity = self._net_quantity(instrument_id)
            if not quantity:
                continue
            notional = abs(mul_e9(quantity, self._marks.get(instrument_id, 0)))
            rates = self.config.rates(instrument_id)
            rows.append(
                InstrumentMargin(
                    instrument_id=instrument_id,
                    notional_e9=notional,
                    initial_margin_e9=mul_e9(notional, to_e9(rates.initial)),
                    maintenance_margin_e9=mul_e9(notional, to_e9(rates.maintenance)),
                )
            )
        initial = sum(row.initial_margin_e9 for row in rows)
        maintenance = sum(row.maintenance_margin_e9 for row in rows)
        return MarginRequirement(
            account_id=self.config.account_id,
            currency=self.config.currency,
            initial_margin_e9=initial,
            maintenance_margin_e9=maintenance,
            equity_e9=self._equity_e9,
            free_margin_e9=self._equity_e9 - initial,
            utilization=margin_utilization(maintenance, self._equity_e9),
            instruments=rows,
            ts_event=ts_event,
            ts_init=now_ns,
        )

    def _net_quantity(self, instrument_id: str) -> int:
        return sum(q for (_, i), q in self._positions.items() if i == instrument_id)

    def _evaluate(self, ts_event: int, now_ns: int, force: bool = False) -> list[CollateralOutput]:
        requirement = self.requirement(ts_event, now_ns)
        outputs: list[CollateralOutput] = []
        alert = self._alert(requirement)
        interval = self.config.requirement_interval_ns
        due = (
            force
            or self._last_requirement_ns is None
            or ts_event - self._last_requirement_ns >= interval
        )
        if due:
            self._last_requirement_ns = ts_event
            outputs.append(requirement)
        if alert is not None:
            outputs.append(alert)
        return outputs

    def _alert(self, requirement: MarginRequirement) -> MarginAlert | None:
        config = self.config
        utilization = requirement.utilization
        if self._armed_level == common_pb2.SEVERITY_CRITICAL and (
            utilization < config.critical_level - config.hysteresis
        ):
            self._armed_level = common_pb2.SEVERITY_WARNING
        if self._armed_level == common_pb2.SEVERITY_WARNING and (
            utilization < config.warning_level - config.hysteresis
        ):
            self._armed_level = common_pb2.SEVERITY_UNSPECIFIED
        if utilization >= config.critical_level:
            level, threshold = common_pb2.SEVERITY_CRITICAL, config.critical_level
        elif utilization >= config.warning_level:
            level, threshold = common_pb2.SEVERITY_WARNING, config.warning_level
        else:
            return None
        if level <= self._armed_level:
            return None
        self._armed_level = level
        return MarginAlert(
            account_id=config.account_id,
            currency=config.currency,
            severity=level,
            utilization=utilization,
            threshold=threshold,
            required_margin_e9=requirement.maintenance_margin_e9,
            available_collateral_e9=requirement.equity_e9,
            reason=(
                f"utilization {utilization:.2f} >= {threshold:.2f}"
                + (f" after {self._last_instrument} move" if self._last_instrument else "")
            ),
            ts_event=requirement.ts_event,
            ts_init=requirement.ts_init,
        )
