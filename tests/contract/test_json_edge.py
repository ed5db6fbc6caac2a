"""The JSON edge: generated JSON Schemas and pydantic models accept protobuf's JSON mapping."""

from __future__ import annotations

import importlib
import json
from typing import Any

import jsonschema
import pydantic
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from nautilus.contract import JSON_SCHEMA_DIR, fingerprints
from nautilus.marketdata.v1 import json_models as marketdata_json
from nautilus.marketdata.v1.marketdata_pb2 import Quote, Trade
from tests.samples import all_bus_message_classes, sample_message

MESSAGE_CLASSES = all_bus_message_classes()
IDS = [cls.DESCRIPTOR.full_name for cls in MESSAGE_CLASSES]


def _schema(full_name: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((JSON_SCHEMA_DIR / f"{full_name}.schema.json").read_text())
    return result


def _validator(full_name: str) -> jsonschema.Draft202012Validator:
    schema = _schema(full_name)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _json_model(cls: type[Message]) -> type[pydantic.BaseModel]:
    package = cls.DESCRIPTOR.file.package
    module = importlib.import_module(f"{package}.json_models")
    model: type[pydantic.BaseModel] = getattr(module, cls.DESCRIPTOR.name)
    return model


def _quote_json() -> dict[str, Any]:
    quote = Quote(
        instrument_id="BTCUSDT.BINANCE",
        bid_price_e9=64_250_100_000_000,
        ask_price_e9=64_250_200_000_000,
        bid_size_e9=1_250_000_000,
        ask_size_e9=800_000_000,
        ts_event=1_764_028_800_000_000_000,
        ts_init=1_764_028_800_000_150_000,
    )
    return json_format.MessageToDict(quote)


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_message_json_validates_against_its_schema(cls: type[Message]) -> None:
    document = json_format.MessageToDict(sample_message(cls))
    _validator(cls.DESCRIPTOR.full_name).validate(document)


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_message_json_loads_into_its_pydantic_model(cls: type[Message]) -> None:
    document = json_format.MessageToDict(sample_message(cls))
    model = _json_model(cls).model_validate(document)
    dumped = model.model_dump(mode="json", exclude_none=True)
    assert json_format.ParseDict(dumped, cls()) == sample_message(cls)


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_schema_carries_the_fingerprint_and_stream(cls: type[Message]) -> None:
    schema = _schema(cls.DESCRIPTOR.full_name)
    assert schema["x-nautilus-fingerprint"] == fingerprints()[cls.DESCRIPTOR.full_name]
    assert schema["x-nautilus-stream"].startswith("nautilus-")


def test_a_wrongly_typed_field_is_rejected_naming_the_field() -> None:
    document = _quote_json() | {"bidPriceE9": 64250.1}
    with pytest.raises(jsonschema.ValidationError) as schema_error:
        _validator("nautilus.marketdata.v1.Quote").validate(document)
    assert list(schema_error.value.absolute_path) == ["bidPriceE9"]
    with pytest.raises(pydantic.ValidationError) as model_error:
        marketdata_json.Quote.model_validate(document)
    assert model_error.value.errors()[0]["loc"] == ("bidPriceE9",)


def test_an_unknown_field_is_rejected_naming_the_field() -> None:
    document = _quote_json() | {"bidPrize": "1"}
    with pytest.raises(jsonschema.ValidationError, match="bidPrize"):
        _validator("nautilus.marketdata.v1.Quote").validate(document)
    with pytest.raises(pydantic.ValidationError, match="bidPrize"):
        marketdata_json.Quote.model_validate(document)


def test_an_unknown_enum_name_is_rejected() -> None:
    trade = json_format.MessageToDict(sample_message(Trade)) | {"aggressorSide": "ORDER_SIDE_BUYY"}
    with pytest.raises(jsonschema.ValidationError) as error:
        _validator("nautilus.marketdata.v1.Trade").validate(trade)
    assert list(error.value.absolute_path) == ["aggressorSide"]


def test_int64_amounts_are_decimal_strings_in_json() -> None:
    document = _quote_json()
    assert document["bidPriceE9"] == "64250100000000"
    _validator("nautilus.marketdata.v1.Quote").validate(document)
    assert marketdata_json.Quote.model_validate(document).bidPriceE9 == "64250100000000"
