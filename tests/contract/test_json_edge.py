"""The JSON edge: generated JSON Schemas and pydantic models accept protobuf's JSON mapping."""

from __future__ import annotations

import importlib
import json
from typing import Any

import jsonschema
import pydantic
import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
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
    assert model_error.value.errors()[0]["loc"][0] == "bidPriceE9"


def test_an_unknown_field_is_ignored_as_the_wire_json_verdict_assumes() -> None:
    document = _quote_json() | {"venueCondition": "1"}

    _validator("nautilus.marketdata.v1.Quote").validate(document)
    marketdata_json.Quote.model_validate(document)
    parsed = json_format.ParseDict(document, Quote(), ignore_unknown_fields=True)
    assert parsed == json_format.ParseDict(_quote_json(), Quote())


def test_int64_as_a_json_number_is_accepted_like_json_format() -> None:
    document = _quote_json() | {"bidPriceE9": 64_250_100_000_000}

    _validator("nautilus.marketdata.v1.Quote").validate(document)
    assert marketdata_json.Quote.model_validate(document).bidPriceE9 == 64_250_100_000_000
    assert json_format.ParseDict(document, Quote()).bid_price_e9 == 64_250_100_000_000


def test_the_proto_field_name_is_accepted_like_json_format() -> None:
    document = _quote_json()
    document["instrument_id"] = document.pop("instrumentId")

    _validator("nautilus.marketdata.v1.Quote").validate(document)
    assert marketdata_json.Quote.model_validate(document).instrument_id == "BTCUSDT.BINANCE"
    assert json_format.ParseDict(document, Quote()).instrument_id == "BTCUSDT.BINANCE"


def _variants(cls: type[Message]) -> list[tuple[str, dict[str, Any]]]:
    """The sample's canonical JSON and changes of it: every field under its proto name, every
    integer as the other JSON kind, an unknown field, a field under both names, a wrong type."""
    canonical = json_format.MessageToDict(sample_message(cls))
    fields = {f.json_name: f for f in cls.DESCRIPTOR.fields}
    variants = [("canonical", canonical)]
    for json_name, value in canonical.items():
        field = fields[json_name]
        if field.name != json_name:
            renamed = {k: v for k, v in canonical.items() if k != json_name} | {field.name: value}
            variants.append((f"{field.name} by proto name", renamed))
            variants.append((f"{field.name} twice", canonical | {field.name: value}))
        if field.cpp_type in _INTEGERS and not field.is_repeated:
            other = int(value) if isinstance(value, str) else str(value)
            variants.append(
                (f"{json_name} as {type(other).__name__}", canonical | {json_name: other})
            )
        if field.cpp_type == field.CPPTYPE_STRING and not field.is_repeated:
            variants.append((f"{json_name} as a number", canonical | {json_name: 1.5}))
    variants.append(("unknown field", canonical | {"notInTheSchema": 1}))
    return variants


_INTEGERS = {
    FieldDescriptor.CPPTYPE_INT32,
    FieldDescriptor.CPPTYPE_INT64,
    FieldDescriptor.CPPTYPE_UINT32,
    FieldDescriptor.CPPTYPE_UINT64,
}


def _parses(cls: type[Message], document: dict[str, Any]) -> bool:
    try:
        json_format.ParseDict(document, cls(), ignore_unknown_fields=True)
    except json_format.ParseError:
        return False
    return True


def _loads(model: type[pydantic.BaseModel], document: dict[str, Any]) -> bool:
    try:
        model.model_validate(document)
    except pydantic.ValidationError:
        return False
    return True


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_the_pydantic_model_accepts_what_json_format_parses(cls: type[Message]) -> None:
    model = _json_model(cls)
    disagreements = [
        f"{what}: model {'accepts' if _loads(model, doc) else 'rejects'}"
        for what, doc in _variants(cls)
        if _loads(model, doc) != _parses(cls, doc)
    ]
    assert disagreements == []


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_the_schema_accepts_what_json_format_parses(cls: type[Message]) -> None:
    validator = _validator(cls.DESCRIPTOR.full_name)
    disagreements = [
        f"{what}: schema {'accepts' if validator.is_valid(doc) else 'rejects'}"
        for what, doc in _variants(cls)
        if validator.is_valid(doc) != _parses(cls, doc)
    ]
    assert disagreements == []


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
