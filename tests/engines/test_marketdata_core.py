"""MarketData sources: the seeded synthetic market and CSV replay."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from nautilus.common.v1 import common_pb2
from nautilus.engines.marketdata import (
    CsvReplay,
    CsvReplayError,
    FlashCrashScript,
    InstrumentSpec,
    SyntheticMarket,
    SyntheticMarketConfig,
    mid_price_e9,
    scenario,
)
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade

T0 = 1_764_028_800_000_000_000
SECOND = 1_000_000_000
BTC = "BTCUSDT.BINANCE"

CRASH = FlashCrashScript(
    instrument_id=BTC,
    start_ns=T0 + 20 * SECOND,
    fall_fraction=0.06,
    fall_ns=10 * SECOND,
    recovery_fraction=0.5,
    recovery_ns=10 * SECOND,
)


def _config(seed: int, crash: FlashCrashScript | None = None) -> SyntheticMarketConfig:
    return SyntheticMarketConfig(
        seed=seed,
        instruments=(
            InstrumentSpec(BTC, 64_250.0, spread_bps=1.0),
            InstrumentSpec("ETHUSDT.BINANCE", 3_150.0),
        ),
        start_ns=T0,
        tick_ns=SECOND // 10,
        tick_count=500,
        flash_crash=crash,
    )


def _wire(config: SyntheticMarketConfig) -> list[tuple[int, bytes]]:
    return [(ts, message.SerializeToString()) for ts, message in SyntheticMarket(config)]


def _btc_quotes(config: SyntheticMarketConfig) -> dict[int, Quote]:
    return {
        ts: m
        for ts, m in SyntheticMarket(config)
        if isinstance(m, Quote) and m.instrument_id == BTC
    }


def test_same_seed_gives_identical_sequence() -> None:
    assert _wire(_config(42)) == _wire(_config(42))


def test_other_seed_gives_different_sequence() -> None:
    assert _wire(_config(42)) != _wire(_config(43))


def test_sequence_is_time_ordered_with_quotes_and_trades() -> None:
    events = list(SyntheticMarket(_config(1)))
    assert all(a[0] <= b[0] for a, b in pairwise(events))
    assert {type(m) for _, m in events} == {Quote, Trade}


def test_trades_print_at_the_quoted_bid_or_ask() -> None:
    last_quote: dict[str, Quote] = {}
    for _, message in SyntheticMarket(_config(5)):
        if isinstance(message, Quote):
            last_quote[message.instrument_id] = message
            continue
        quote = last_quote[message.instrument_id]
        assert message.price_e9 in (quote.bid_price_e9, quote.ask_price_e9)


def test_flash_crash_falls_by_the_scripted_fraction() -> None:
    quotes = _btc_quotes(_config(7, CRASH))
    before = mid_price_e9(quotes[CRASH.start_ns])
    bottom = mid_price_e9(quotes[CRASH.start_ns + CRASH.fall_ns])
    fall = 1 - bottom / before
    assert fall == pytest.approx(0.06, abs=0.005)


def test_flash_crash_recovers_the_scripted_share_of_the_fall() -> None:
    quotes = _btc_quotes(_config(7, CRASH))
    before = mid_price_e9(quotes[CRASH.start_ns])
    after = mid_price_e9(quotes[CRASH.start_ns + CRASH.fall_ns + CRASH.recovery_ns])
    # Recovering half of a 6% fall leaves the price 3% below where it started.
    assert 1 - after / before == pytest.approx(0.03, abs=0.005)


def test_flash_crash_flow_is_one_sided_selling() -> None:
    trades = [
        m
        for ts, m in SyntheticMarket(_config(7, CRASH))
        if isinstance(m, Trade)
        and m.instrument_id == BTC
        and CRASH.start_ns <= ts < CRASH.start_ns + CRASH.fall_ns
    ]
    sells = sum(t.aggressor_side == common_pb2.ORDER_SIDE_SELL for t in trades)
    assert len(trades) > 50
    assert sells / len(trades) > 0.8


def test_flash_crash_widens_spreads() -> None:
    quotes = _btc_quotes(_config(7, CRASH))

    def spread_bps(q: Quote) -> float:
        return (q.ask_price_e9 - q.bid_price_e9) / mid_price_e9(q) * 1e4

    calm = [spread_bps(q) for ts, q in quotes.items() if ts < CRASH.start_ns]
    crash = [
        spread_bps(q)
        for ts, q in quotes.items()
        if CRASH.start_ns < ts < CRASH.start_ns + CRASH.fall_ns
    ]
    assert sum(crash) / len(crash) > 3 * sum(calm) / len(calm)


def test_scenario_presets_by_name() -> None:
    assert scenario("calm", 1, T0).flash_crash is None
    assert scenario("flash-crash", 1, T0).flash_crash is not None
    with pytest.raises(ValueError, match="unknown scenario 'crash'"):
        scenario("crash", 1, T0)


def test_config_rejects_unknown_crash_instrument() -> None:
    crash = FlashCrashScript(instrument_id="XRPUSDT.BINANCE", start_ns=T0)
    with pytest.raises(ValueError, match=r"flash crash instrument XRPUSDT\.BINANCE unknown"):
        _config(1, crash)


HEADER = "ts_event_ns,kind,instrument_id,bid,ask,bid_size,ask_size,price,size,side\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "session.csv"
    path.write_text(HEADER + body)
    return path


def test_csv_replay_parses_quotes_and_trades_exactly(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"{T0},quote,{BTC},64250.1,64250.2,1.5,2,,,\n"
        f"{T0 + 5},trade,{BTC},,,,,64250.2,0.25,BUY\n"
        f"{T0 + 9},trade,{BTC},,,,,64250.1,0.000000001,\n",
    )
    events = list(CsvReplay(path, latency_ns=3))
    assert [ts for ts, _ in events] == [T0, T0 + 5, T0 + 9]
    quote, buy, unknown = (m for _, m in events)
    assert quote == Quote(
        instrument_id=BTC,
        bid_price_e9=64_250_100_000_000,
        ask_price_e9=64_250_200_000_000,
        bid_size_e9=1_500_000_000,
        ask_size_e9=2_000_000_000,
        ts_event=T0,
        ts_init=T0 + 3,
    )
    assert isinstance(buy, Trade)
    assert (buy.price_e9, buy.size_e9, buy.aggressor_side) == (
        64_250_200_000_000,
        250_000_000,
        common_pb2.ORDER_SIDE_BUY,
    )
    assert buy.trade_id == "session-3"
    assert isinstance(unknown, Trade)
    assert unknown.aggressor_side == common_pb2.ORDER_SIDE_UNSPECIFIED
    assert unknown.size_e9 == 1


def test_csv_replay_reports_the_bad_line_number(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"{T0},quote,{BTC},64250.1,64250.2,1.5,2,,,\n{T0 + 1},trade,{BTC},,,,,abc,0.25,BUY\n",
    )
    with pytest.raises(CsvReplayError, match=r"session\.csv:3: price must be a decimal") as info:
        list(CsvReplay(path))
    assert info.value.line == 3


def test_csv_replay_rejects_time_going_backwards(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        f"{T0},quote,{BTC},1,2,1,1,,,\n{T0 - 1},quote,{BTC},1,2,1,1,,,\n",
    )
    with pytest.raises(CsvReplayError, match="goes back in time") as info:
        list(CsvReplay(path))
    assert info.value.line == 3


def test_csv_replay_rejects_a_wrong_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("ts,kind\n")
    with pytest.raises(CsvReplayError, match="header must be") as info:
        list(CsvReplay(path))
    assert info.value.line == 1
