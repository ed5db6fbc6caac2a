"""Every bus message survives protobuf binary and proto3 JSON round trips unchanged."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from google.protobuf.message import Message

from tests.samples import all_bus_message_classes, iter_unset_fields, sample_message

MESSAGE_CLASSES = all_bus_message_classes()
IDS = [cls.DESCRIPTOR.full_name for cls in MESSAGE_CLASSES]


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_samples_set_every_field(cls: type[Message]) -> None:
    assert list(iter_unset_fields(sample_message(cls))) == []


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_binary_round_trip(cls: type[Message]) -> None:
    message = sample_message(cls)
    payload = message.SerializeToString()
    assert cls.FromString(payload) == message


@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=IDS)
def test_json_round_trip(cls: type[Message]) -> None:
    message = sample_message(cls)
    text = json_format.MessageToJson(message)
    assert json_format.Parse(text, cls()) == message
