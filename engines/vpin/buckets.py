"""Equal-volume buckets: the volume clock VPIN runs on.

A bucket closes as soon as it holds exactly `bucket_volume_e9`; a trade larger than the room left
is split, its remainder flowing into the next bucket(s), so every closed bucket has exactly the
same volume and no volume is lost or double counted. Integer `_e9` arithmetic keeps this exact.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["VolumeBucket", "VolumeBucketer"]


@dataclass(frozen=True, slots=True)
class VolumeBucket:
    """A closed bucket. A split trade counts in `trade_count` of every bucket it fed; prices are
    those of the first and last trade (part) in the bucket; times are of its first and last
    trade."""

    index: int
    volume_e9: int
    open_price_e9: int
    close_price_e9: int
    trade_count: int
    ts_start: int
    ts_end: int


class VolumeBucketer:
    """Cuts one instrument's trade stream into buckets of `bucket_volume_e9` each; bucket
    indices count up from 0."""

    def __init__(self, bucket_volume_e9: int) -> None:
        if bucket_volume_e9 <= 0:
            raise ValueError("bucket_volume_e9 must be > 0")
        self.bucket_volume_e9 = bucket_volume_e9
        self._next_index = 0
        self._filled_e9 = 0
        self._open_price_e9 = 0
        self._trade_count = 0
        self._ts_start = 0

    @property
    def filled_e9(self) -> int:
        """Volume in the bucket that is still open."""
        return self._filled_e9

    def add(self, price_e9: int, size_e9: int, ts_ns: int) -> list[VolumeBucket]:
        """Adds a trade; returns the buckets it closed (none, one, or several for a big trade)."""
        if size_e9 <= 0:
            raise ValueError(f"trade size must be > 0, got {size_e9}")
        closed: list[VolumeBucket] = []
        remaining = size_e9
        while remaining > 0:
            if self._filled_e9 == 0:
                self._open_price_e9 = price_e9
                self._ts_start = ts_ns
                self._trade_count = 0
            take = min(remaining, self.bucket_volume_e9 - self._filled_e9)
            self._filled_e9 += take
            self._trade_count += 1
            remaining -= take
            if self._filled_e9 == self.bucket_volume_e9:
                closed.append(self._close(price_e9, ts_ns))
        return closed

    def _close(self, price_e9: int, ts_ns: int) -> VolumeBucket:
        bucket = VolumeBucket(
            index=self._next_index,
            volume_e9=self._filled_e9,
            open_price_e9=self._open_price_e9,
            close_price_e9=price_e9,
            trade_count=self._trade_count,
            ts_start=self._ts_start,
            ts_end=ts_ns,
        )
        self._next_index += 1
        self._filled_e9 = 0
        return bucket
