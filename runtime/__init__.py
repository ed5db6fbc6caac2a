"""The Nautilus bus runtime: typed protobuf messages carried over Redis Streams."""
