"""What each rule reports: the path, both sides as declared, and the reason, word for word.

A registration refused by the registry, `nautilus schema compat` and a dead letter's
`incompatible-schema` detail all show these reports to the person who has to fix the schema, so
each rule's report is pinned here on one small edit of a Quote and its Side enum.
"""

from __future__ import annotations

import pytest

from nautilus.runtime.schema import CompatLevel, CompatMode, Rule, check_compatibility

from .conftest import LoadMessage

QUOTE = "nautilus.marketdata.v1.Quote"
WIRE = CompatLevel.WIRE
JSON = CompatLevel.WIRE_JSON


def quote(
    fields: str, side: str = "SIDE_BUY = 1;\n  SIDE_SELL = 2;", syntax: str = "proto3"
) -> str:
    return f"""
        syntax = "{syntax}";
        package nautilus.marketdata.v1;
        import "google/protobuf/timestamp.proto";
        import "google/protobuf/duration.proto";
        enum Side {{
          SIDE_UNSPECIFIED = 0;
          {side}
        }}
        message Quote {{
          {fields}
        }}
    """


def reports(
    load_message: LoadMessage,
    old: str,
    new: str,
    level: CompatLevel,
    mode: CompatMode = CompatMode.BACKWARD,
) -> list[tuple[str, str, str, Rule, str]]:
    found = check_compatibility(load_message(old, QUOTE), load_message(new, QUOTE), level, mode)
    assert all(v.type == QUOTE for v in found)
    return [(v.field, v.old, v.new, v.rule, v.message) for v in found]


def test_a_renumbered_field_is_a_new_number_and_an_unreserved_old_one(
    load_message: LoadMessage,
) -> None:
    found = reports(
        load_message,
        quote("string instrument_id = 1;\n double bid = 2;"),
        quote("string instrument_id = 1;\n double bid = 12;"),
        JSON,
    )

    assert found == [
        (
            "Quote.bid",
            "2",
            "12",
            Rule.FIELD_NUMBER_CHANGED,
            "2 -> 12: data written under number 2 is no longer read into `bid` (a new number "
            "is a different field on the wire)",
        ),
        (
            "Quote.bid",
            "double bid = 2",
            "",
            Rule.FIELD_REMOVED_NOT_RESERVED,
            "double bid = 2 -> (absent): reserve number 2 so that no later field reuses it and "
            "misreads old data",
        ),
    ]


def test_removed_fields_are_shown_as_declared_with_what_is_left_to_reserve(
    load_message: LoadMessage,
) -> None:
    old = quote(
        "string instrument_id = 1;\n map<string, double> loadings = 3;\n"
        "repeated int64 sizes = 4;\n Side side = 5;"
    )
    new = quote('string instrument_id = 1;\n reserved 4;\n reserved "side";')

    found = reports(load_message, old, new, JSON)

    assert found == [
        (
            "Quote.loadings",
            "map<string, double> loadings = 3",
            "",
            Rule.FIELD_REMOVED_NOT_RESERVED,
            'map<string, double> loadings = 3 -> (absent): reserve number 3 and name "loadings" '
            "so that no later field reuses them and misreads old data",
        ),
        (
            "Quote.sizes",
            "repeated int64 sizes = 4",
            "",
            Rule.FIELD_REMOVED_NOT_RESERVED,
            'repeated int64 sizes = 4 -> (absent): reserve name "sizes" so that no later field '
            "reuses it and misreads old data",
        ),
        (
            "Quote.side",
            "nautilus.marketdata.v1.Side side = 5",
            "",
            Rule.FIELD_REMOVED_NOT_RESERVED,
            "nautilus.marketdata.v1.Side side = 5 -> (absent): reserve number 5 so that no "
            "later field reuses it and misreads old data",
        ),
    ]


def test_a_field_on_a_reserved_number_or_name_is_reported_with_the_reservation(
    load_message: LoadMessage,
) -> None:
    old = quote('string instrument_id = 1;\n reserved 6;\n reserved "ask";')
    new = quote("string instrument_id = 1;\n int64 seq = 6;\n double ask = 7;")

    found = reports(load_message, old, new, JSON)

    assert found == [
        (
            "Quote.seq",
            "reserved number 6",
            "int64 seq = 6",
            Rule.FIELD_RESERVED_REUSED,
            "reserved number 6 -> int64 seq = 6: reusing a reserved field makes data written "
            "before its removal misread",
        ),
        (
            "Quote.ask",
            'reserved name "ask"',
            "double ask = 7",
            Rule.FIELD_RESERVED_REUSED,
            'reserved name "ask" -> double ask = 7: reusing a reserved field makes data written '
            "before its removal misread",
        ),
    ]


def test_a_renamed_field_breaks_json_readers(load_message: LoadMessage) -> None:
    found = reports(
        load_message,
        quote("double bid = 2;"),
        quote("double bid_price = 2;"),
        JSON,
    )

    assert found == [
        (
            "Quote.bid",
            "bid",
            "bid_price",
            Rule.FIELD_NAME_CHANGED,
            "bid -> bid_price: proto3 JSON carries field names: JSON written with one is not "
            "read by the other",
        )
    ]


def test_a_new_json_name_breaks_older_json_readers(load_message: LoadMessage) -> None:
    found = reports(
        load_message,
        quote("double bid = 2;"),
        quote('double bid = 2 [json_name = "b"];'),
        JSON,
        CompatMode.FORWARD,
    )

    assert found == [
        (
            "Quote.bid",
            "bid",
            "b",
            Rule.FIELD_JSON_NAME_CHANGED,
            "bid -> b: JSON written with the camelCase name is not read by the other version",
        )
    ]


def test_one_well_known_type_for_another_breaks_json_readers(load_message: LoadMessage) -> None:
    found = reports(
        load_message,
        quote("google.protobuf.Timestamp quoted_at = 3;"),
        quote("google.protobuf.Duration quoted_at = 3;"),
        JSON,
    )

    assert found == [
        (
            "Quote.quoted_at",
            "google.protobuf.Timestamp",
            "google.protobuf.Duration",
            Rule.FIELD_MESSAGE_TYPE_CHANGED,
            "google.protobuf.Timestamp -> google.protobuf.Duration: google.protobuf types have "
            "their own proto3 JSON form",
        )
    ]


def test_a_renumbered_enum_value_is_a_new_number_and_an_unreserved_old_one(
    load_message: LoadMessage,
) -> None:
    found = reports(
        load_message,
        quote("Side side = 5;"),
        quote("Side side = 5;", side="SIDE_BUY = 1;\n SIDE_SELL = 3;"),
        WIRE,
    )

    assert found == [
        (
            "Quote.side.SIDE_SELL",
            "2",
            "3",
            Rule.ENUM_VALUE_NUMBER_CHANGED,
            "2 -> 3: the wire carries enum numbers, so old data now means another value",
        ),
        (
            "Quote.side.SIDE_SELL",
            "SIDE_SELL = 2",
            "",
            Rule.ENUM_VALUE_REMOVED_NOT_RESERVED,
            "SIDE_SELL = 2 -> (absent): reserve number 2 so that no later value reuses it",
        ),
    ]


@pytest.mark.parametrize(
    ("reserved", "left"),
    [
        pytest.param(
            "", 'number 2 and name "SIDE_SELL" so that no later value reuses them', id="none"
        ),
        pytest.param(
            "reserved 2;", 'name "SIDE_SELL" so that no later value reuses it', id="number"
        ),
    ],
)
def test_a_removed_enum_value_names_what_is_left_to_reserve(
    load_message: LoadMessage, reserved: str, left: str
) -> None:
    found = reports(
        load_message,
        quote("Side side = 5;"),
        quote("Side side = 5;", side=f"SIDE_BUY = 1;\n {reserved}"),
        JSON,
    )

    assert found == [
        (
            "Quote.side.SIDE_SELL",
            "SIDE_SELL = 2",
            "",
            Rule.ENUM_VALUE_REMOVED_NOT_RESERVED,
            f"SIDE_SELL = 2 -> (absent): reserve {left}",
        )
    ]


def test_a_renamed_enum_value_breaks_json_readers(load_message: LoadMessage) -> None:
    found = reports(
        load_message,
        quote("Side side = 5;"),
        quote("Side side = 5;", side="SIDE_BUY = 1;\n SIDE_OFFER = 2;"),
        JSON,
    )

    assert found == [
        (
            "Quote.side.SIDE_SELL",
            "SIDE_SELL",
            "SIDE_OFFER",
            Rule.ENUM_VALUE_NAME_CHANGED,
            "SIDE_SELL -> SIDE_OFFER: proto3 JSON writes enum values by name",
        )
    ]


def test_a_value_added_to_a_closed_enum_is_lost_on_older_readers(
    load_message: LoadMessage,
) -> None:
    found = reports(
        load_message,
        quote("optional Side side = 5;", syntax="proto2"),
        quote(
            "optional Side side = 5;",
            side="SIDE_BUY = 1;\n SIDE_SELL = 2;\n SIDE_SHORT = 3;",
            syntax="proto2",
        ),
        WIRE,
        CompatMode.FORWARD,
    )

    assert found == [
        (
            "Quote.side.SIDE_SHORT",
            "",
            "SIDE_SHORT = 3",
            Rule.ENUM_VALUE_NOT_IN_CLOSED_ENUM,
            "(absent) -> SIDE_SHORT = 3: a closed enum does not keep numbers it does not know: "
            "readers drop the value",
        )
    ]


def test_enum_values_on_reserved_numbers_or_names_are_reported_with_the_reservation(
    load_message: LoadMessage,
) -> None:
    """An enum's reserved range includes its end (5 to 6 is 5 and 6), unlike a message's."""
    old = quote("Side side = 5;", side='SIDE_BUY = 1;\n reserved 5 to 6;\n reserved "SIDE_HOLD";')
    new = quote(
        "Side side = 5;", side="SIDE_BUY = 1;\n SIDE_CROSS = 5;\n SIDE_HOLD = 7;\n reserved 6;"
    )

    found = reports(load_message, old, new, JSON)

    assert found == [
        (
            "Quote.side.SIDE_CROSS",
            "reserved number 5",
            "SIDE_CROSS = 5",
            Rule.ENUM_VALUE_RESERVED_REUSED,
            "reserved number 5 -> SIDE_CROSS = 5: reusing a reserved value makes data written "
            "before its removal misread",
        ),
        (
            "Quote.side.SIDE_HOLD",
            'reserved name "SIDE_HOLD"',
            "SIDE_HOLD = 7",
            Rule.ENUM_VALUE_RESERVED_REUSED,
            'reserved name "SIDE_HOLD" -> SIDE_HOLD = 7: reusing a reserved value makes data '
            "written before its removal misread",
        ),
    ]


@pytest.mark.parametrize(
    "kept",
    [
        pytest.param("reserved 5 to 7, 8 to 9;", id="split"),
        pytest.param("reserved 8 to 9, 5 to 7;", id="split-out-of-order"),
        pytest.param("reserved 8 to 9;\n reserved 5 to 7;", id="two-statements"),
    ],
)
def test_a_reservation_kept_in_pieces_is_kept(load_message: LoadMessage, kept: str) -> None:
    old = quote("string instrument_id = 1;\n reserved 5 to 9;")
    new = quote(f"string instrument_id = 1;\n {kept}")

    assert reports(load_message, old, new, JSON) == []


def test_dropped_reservations_are_reported_with_their_range_or_name(
    load_message: LoadMessage,
) -> None:
    old = quote('string instrument_id = 1;\n reserved 5 to 9, 11;\n reserved "ask";')
    new = quote("string instrument_id = 1;\n reserved 5 to 8;")

    found = reports(load_message, old, new, JSON)

    assert found == [
        (
            "Quote",
            "reserved 5 to 9",
            "",
            Rule.RESERVED_REMOVED,
            "reserved 5 to 9 -> (absent): keep reservations: a later version could reuse the "
            "numbers",
        ),
        (
            "Quote",
            "reserved 11",
            "",
            Rule.RESERVED_REMOVED,
            "reserved 11 -> (absent): keep reservations: a later version could reuse the numbers",
        ),
        (
            "Quote",
            'reserved "ask"',
            "",
            Rule.RESERVED_REMOVED,
            'reserved "ask" -> (absent): keep reservations: a later version could reuse the name',
        ),
    ]


def test_a_singular_reader_of_repeated_data_is_reported_at_wire_level(
    load_message: LoadMessage,
) -> None:
    found = reports(
        load_message, quote("repeated int64 sizes = 4;"), quote("int64 sizes = 4;"), WIRE
    )

    assert found == [
        (
            "Quote.sizes",
            "repeated",
            "singular",
            Rule.FIELD_CARDINALITY_CHANGED,
            "repeated -> singular: a singular reader keeps only the last element of repeated "
            "data (merges messages, cannot read packed numbers)",
        )
    ]


def test_any_change_of_cardinality_breaks_json_readers(load_message: LoadMessage) -> None:
    found = reports(
        load_message, quote("int64 sizes = 4;"), quote("repeated int64 sizes = 4;"), JSON
    )

    assert found == [
        (
            "Quote.sizes",
            "singular",
            "repeated",
            Rule.FIELD_CARDINALITY_CHANGED,
            "singular -> repeated: JSON values, arrays and objects are not interchangeable",
        )
    ]


def test_bytes_read_as_a_string_are_reported_with_protobufs_error(
    load_message: LoadMessage,
) -> None:
    found = reports(load_message, quote("bytes venue = 6;"), quote("string venue = 6;"), WIRE)

    assert found == [
        (
            "Quote.venue",
            "bytes",
            "string",
            Rule.FIELD_TYPE_CHANGED,
            "bytes -> string: bytes that are not valid UTF-8 fail a string reader ('String "
            "field had bad UTF-8')",
        )
    ]


@pytest.mark.parametrize(
    ("old_field", "new_field", "before", "after"),
    [
        pytest.param(
            "oneof price { double mid = 7; }",
            "double mid = 7;",
            "oneof price",
            "no oneof",
            id="out",
        ),
        pytest.param(
            "double mid = 7;", "oneof price { double mid = 7; }", "no oneof", "oneof price", id="in"
        ),
    ],
)
def test_a_field_moved_across_a_oneof_boundary_is_reported_after_a_removed_field(
    load_message: LoadMessage, old_field: str, new_field: str, before: str, after: str
) -> None:
    """The removed field 3 (reserved, so nothing to report about it) comes first by number."""
    old = quote(f"int64 seq = 3;\n {old_field}")
    new = quote(f"reserved 3;\n {new_field}")

    found = reports(load_message, old, new, WIRE)

    assert found == [
        (
            "Quote.mid",
            before,
            after,
            Rule.FIELD_ONEOF_CHANGED,
            f"{before} -> {after}: a oneof holds one of its fields: values one version sets "
            "together overwrite each other in the other's oneof",
        )
    ]


def test_a_reservation_taken_by_a_field_does_not_hide_a_dropped_one(
    load_message: LoadMessage,
) -> None:
    old = quote("string instrument_id = 1;\n reserved 4;\n reserved 11;")
    new = quote("string instrument_id = 1;\n int64 seq = 4;")

    found = reports(load_message, old, new, WIRE)

    assert [(field, old_side, rule) for field, old_side, _, rule, _ in found] == [
        ("Quote.seq", "reserved number 4", Rule.FIELD_RESERVED_REUSED),
        ("Quote", "reserved 11", Rule.RESERVED_REMOVED),
    ]


def test_a_change_inside_a_nested_message_is_reported_on_its_path(
    load_message: LoadMessage,
) -> None:
    level = "message Level {{ {size} size = 1; }}\n Level best = 8;"
    found = reports(
        load_message,
        quote(level.format(size="int64")),
        quote(level.format(size="string")),
        WIRE,
    )

    assert [(field, rule) for field, _, _, rule, _ in found] == [
        ("Quote.best.size", Rule.FIELD_TYPE_CHANGED)
    ]


def test_a_reservation_dropped_from_an_enum_is_reported_on_the_enum(
    load_message: LoadMessage,
) -> None:
    found = reports(
        load_message,
        quote("Side side = 5;", side="SIDE_BUY = 1;\n SIDE_SELL = 2;\n reserved 9;"),
        quote("Side side = 5;"),
        WIRE,
    )

    assert found == [
        (
            "Quote.side",
            "reserved 9",
            "",
            Rule.RESERVED_REMOVED,
            "reserved 9 -> (absent): keep reservations: a later version could reuse the numbers",
        )
    ]


def test_a_value_removed_from_a_closed_enum_is_lost_on_newer_readers(
    load_message: LoadMessage,
) -> None:
    found = reports(
        load_message,
        quote("optional Side side = 5;", syntax="proto2"),
        quote("optional Side side = 5;", side="SIDE_BUY = 1;\n reserved 2;", syntax="proto2"),
        WIRE,
    )

    assert found == [
        (
            "Quote.side.SIDE_SELL",
            "SIDE_SELL = 2",
            "",
            Rule.ENUM_VALUE_NOT_IN_CLOSED_ENUM,
            "SIDE_SELL = 2 -> (absent): a closed enum does not keep numbers it does not know: "
            "readers drop the value",
        )
    ]
