"""WebSocket: bus messages to frontend updates."""

from __future__ import annotations

import json

import pytest
from google.protobuf import json_format

from nautilus.bus.v1 import options_pb2
from nautilus.common.v1 import common_pb2
from nautilus.common.v1.common_pb2 import NamedValue
from nautilus.engines.websocket import (
    FrontendEncoder,
    NotABusMessageError,
    TopicFilter,
    WebSocketConfig,
    browser_frame,
    snake_case,
)
from nautilus.marketdata.v1.marketdata_pb2 import Quote
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert

T0 = 1_764_028_800_000_000_000
BTC = "BTCUSDT.BINANCE"


def _alert() -> ToxicityAlert:
    return ToxicityAlert(
        instrument_id=BTC,
        vpin=0.71,
        vpin_cdf=0.97,
        severity=common_pb2.SEVERITY_WARNING,
        bucket_volume_e9=2_000_000_000,
        ts_event=T0,
    )


def _quote() -> Quote:
    return Quote(instrument_id=BTC, bid_price_e9=1, ask_price_e9=2, ts_event=T0)


def test_alert_becomes_an_update_in_the_proto3_json_mapping() -> None:
    update = FrontendEncoder().encode(_alert(), T0 + 5)
    assert update is not None
    assert update.topic == "vpin.toxicity_alert"
    assert update.source_type == "nautilus.vpin.v1.ToxicityAlert"
    assert update.source_engine == options_pb2.ENGINE_VPIN
    assert (update.sequence, update.instrument_id) == (1, BTC)
    assert (update.ts_event, update.ts_init) == (T0, T0 + 5)
    payload = json.loads(update.payload_json)
    assert payload == json_format.MessageToDict(_alert())
    assert payload["bucketVolumeE9"] == "2000000000"  # int64 as a string
    assert payload["severity"] == "SEVERITY_WARNING"


def test_marketdata_topics_carry_the_instrument() -> None:
    assert FrontendEncoder().topic(_quote()) == "marketdata.quote.BTCUSDT.BINANCE"


def test_filtered_messages_do_not_consume_sequence_numbers() -> None:
    encoder = FrontendEncoder(WebSocketConfig(topic_filter=TopicFilter(exclude=("marketdata.*",))))
    assert encoder.encode(_quote(), T0) is None
    first = encoder.encode(_alert(), T0)
    second = encoder.encode(_alert(), T0)
    assert first is not None
    assert second is not None
    assert (first.sequence, second.sequence) == (1, 2)
    assert encoder.sequence == 2


def test_instrument_filter() -> None:
    encoder = FrontendEncoder(
        WebSocketConfig(topic_filter=TopicFilter(instruments=("ETHUSDT.BINANCE",)))
    )
    assert encoder.encode(_alert(), T0) is None


def test_browser_frame_embeds_the_payload_object() -> None:
    update = FrontendEncoder().encode(_alert(), T0)
    assert update is not None
    frame = json.loads(browser_frame(update))
    assert "payloadJson" not in frame
    assert frame["payload"]["vpin"] == 0.71
    assert frame["sequence"] == "1"
    assert frame["sourceEngine"] == "ENGINE_VPIN"


def test_non_bus_message_is_rejected() -> None:
    with pytest.raises(NotABusMessageError, match=r"nautilus\.common\.v1\.NamedValue"):
        FrontendEncoder().encode(NamedValue(name="x", value=1.0), T0)


def test_snake_case_of_message_names() -> None:
    assert snake_case("ToxicityAlert") == "toxicity_alert"
    assert snake_case("PnlUpdate") == "pnl_update"
    assert snake_case("FrontendUpdate") == "frontend_update"
