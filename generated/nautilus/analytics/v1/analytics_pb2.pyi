from nautilus.bus.v1 import options_pb2 as _options_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VolatilityRegime(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOLATILITY_REGIME_UNSPECIFIED: _ClassVar[VolatilityRegime]
    VOLATILITY_REGIME_LOW: _ClassVar[VolatilityRegime]
    VOLATILITY_REGIME_NORMAL: _ClassVar[VolatilityRegime]
    VOLATILITY_REGIME_HIGH: _ClassVar[VolatilityRegime]
    VOLATILITY_REGIME_EXTREME: _ClassVar[VolatilityRegime]

class TrendDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TREND_DIRECTION_UNSPECIFIED: _ClassVar[TrendDirection]
    TREND_DIRECTION_UP: _ClassVar[TrendDirection]
    TREND_DIRECTION_DOWN: _ClassVar[TrendDirection]
    TREND_DIRECTION_SIDEWAYS: _ClassVar[TrendDirection]
VOLATILITY_REGIME_UNSPECIFIED: VolatilityRegime
VOLATILITY_REGIME_LOW: VolatilityRegime
VOLATILITY_REGIME_NORMAL: VolatilityRegime
VOLATILITY_REGIME_HIGH: VolatilityRegime
VOLATILITY_REGIME_EXTREME: VolatilityRegime
TREND_DIRECTION_UNSPECIFIED: TrendDirection
TREND_DIRECTION_UP: TrendDirection
TREND_DIRECTION_DOWN: TrendDirection
TREND_DIRECTION_SIDEWAYS: TrendDirection

class MarketAnalysis(_message.Message):
    __slots__ = ("instrument_id", "volatility_regime", "realized_vol", "realized_vol_percentile", "trend_direction", "trend_strength", "mean_spread_bps", "volume_e9", "mid_price_e9", "window_ns", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    VOLATILITY_REGIME_FIELD_NUMBER: _ClassVar[int]
    REALIZED_VOL_FIELD_NUMBER: _ClassVar[int]
    REALIZED_VOL_PERCENTILE_FIELD_NUMBER: _ClassVar[int]
    TREND_DIRECTION_FIELD_NUMBER: _ClassVar[int]
    TREND_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    MEAN_SPREAD_BPS_FIELD_NUMBER: _ClassVar[int]
    VOLUME_E9_FIELD_NUMBER: _ClassVar[int]
    MID_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    WINDOW_NS_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    volatility_regime: VolatilityRegime
    realized_vol: float
    realized_vol_percentile: float
    trend_direction: TrendDirection
    trend_strength: float
    mean_spread_bps: float
    volume_e9: int
    mid_price_e9: int
    window_ns: int
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., volatility_regime: _Optional[_Union[VolatilityRegime, str]] = ..., realized_vol: _Optional[float] = ..., realized_vol_percentile: _Optional[float] = ..., trend_direction: _Optional[_Union[TrendDirection, str]] = ..., trend_strength: _Optional[float] = ..., mean_spread_bps: _Optional[float] = ..., volume_e9: _Optional[int] = ..., mid_price_e9: _Optional[int] = ..., window_ns: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...

class TrendUpdate(_message.Message):
    __slots__ = ("instrument_id", "direction", "previous_direction", "strength", "slope_bps", "r_squared", "lookback_ns", "mid_price_e9", "ts_event", "ts_init")
    INSTRUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_DIRECTION_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    SLOPE_BPS_FIELD_NUMBER: _ClassVar[int]
    R_SQUARED_FIELD_NUMBER: _ClassVar[int]
    LOOKBACK_NS_FIELD_NUMBER: _ClassVar[int]
    MID_PRICE_E9_FIELD_NUMBER: _ClassVar[int]
    TS_EVENT_FIELD_NUMBER: _ClassVar[int]
    TS_INIT_FIELD_NUMBER: _ClassVar[int]
    instrument_id: str
    direction: TrendDirection
    previous_direction: TrendDirection
    strength: float
    slope_bps: float
    r_squared: float
    lookback_ns: int
    mid_price_e9: int
    ts_event: int
    ts_init: int
    def __init__(self, instrument_id: _Optional[str] = ..., direction: _Optional[_Union[TrendDirection, str]] = ..., previous_direction: _Optional[_Union[TrendDirection, str]] = ..., strength: _Optional[float] = ..., slope_bps: _Optional[float] = ..., r_squared: _Optional[float] = ..., lookback_ns: _Optional[int] = ..., mid_price_e9: _Optional[int] = ..., ts_event: _Optional[int] = ..., ts_init: _Optional[int] = ...) -> None: ...
