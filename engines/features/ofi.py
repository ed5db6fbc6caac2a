"""Order-flow imbalance at the best bid and offer (Cont, Kukanov and Stoikov 2014).

Between two consecutive quotes the contribution is

    e = 1{Pb >= Pb'} qb - 1{Pb <= Pb'} qb' - 1{Pa <= Pa'} qa + 1{Pa >= Pa'} qa'

(primes are the previous quote): growing or improving bids add buying pressure, growing or
improving offers add selling pressure. Summed over an interval it explains most short-horizon
mid-price changes. Units are instrument units.
"""

from __future__ import annotations

from nautilus.engines.fixed_point import from_e9
from nautilus.marketdata.v1.marketdata_pb2 import Quote

__all__ = ["ofi_contribution"]


def ofi_contribution(previous: Quote, current: Quote) -> float:
    """The OFI contribution of `current` after `previous`, instrument units."""
    flow_e9 = 0
    if current.bid_price_e9 >= previous.bid_price_e9:
        flow_e9 += current.bid_size_e9
    if current.bid_price_e9 <= previous.bid_price_e9:
        flow_e9 -= previous.bid_size_e9
    if current.ask_price_e9 <= previous.ask_price_e9:
        flow_e9 -= current.ask_size_e9
    if current.ask_price_e9 >= previous.ask_price_e9:
        flow_e9 += previous.ask_size_e9
    return from_e9(flow_e9)
