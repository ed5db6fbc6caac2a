"""An engine process takes its start-up objects out of the cyclic collector's generations."""

from __future__ import annotations

import gc

from nautilus.engines.process import _freeze_start_up_objects


def test_start_up_objects_are_frozen_out_of_the_cyclic_collector() -> None:
    start_up = [{"schema": index} for index in range(100)]
    try:
        _freeze_start_up_objects()

        assert gc.get_freeze_count() >= len(start_up)
        assert not any(gc.is_tracked(item) and item in gc.get_objects(0) for item in start_up)
    finally:
        gc.unfreeze()
