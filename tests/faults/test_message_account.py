"""The fault runs' account gives every duplicate handling a reason, and a takeover from a live
consumer counts as explained only when that consumer recorded a stall long enough for its claim
to lapse, near the two handlings."""

from __future__ import annotations

from .message_account import (
    KILLED,
    STARVED,
    TAKEN_FROM_LIVE,
    Handling,
    MessageAccount,
    Stall,
)

SECOND_NS = 1_000_000_000
IDLE_MS = 10_000


def _twice(first_by: str, second_by: str, first_at_s: float, second_at_s: float) -> list[Handling]:
    """Message 7 handled first by `first_by`, then, reclaimed, by `second_by`."""
    return [
        Handling(7, 1, first_by, 0, int(first_at_s * SECOND_NS)),
        Handling(7, 2, second_by, 0, int(second_at_s * SECOND_NS)),
    ]


def _stall(start_s: float, end_s: float) -> Stall:
    return Stall(int(start_s * SECOND_NS), int(end_s * SECOND_NS))


def test_a_redelivery_after_a_kill_is_explained() -> None:
    account = MessageAccount(
        published=[7], handlings=_twice("risk-001", "risk-002", 100, 112), killed=["risk-001"]
    )

    assert account.duplicate_reasons == {KILLED: 1}
    assert account.unexplained == []


def test_a_takeover_from_a_consumer_stalled_past_half_the_idle_time_is_explained() -> None:
    account = MessageAccount(
        published=[7],
        handlings=_twice("risk-001", "risk-002", 100, 109),
        stalls={"risk-001": [_stall(100.2, 108.9)]},
        reclaim_idle_ms=IDLE_MS,
    )

    assert account.duplicate_reasons == {STARVED: 1}
    assert account.unexplained == []


def test_a_takeover_from_a_consumer_with_only_short_stalls_is_unexplained() -> None:
    account = MessageAccount(
        published=[7],
        handlings=_twice("risk-001", "risk-002", 100, 111),
        stalls={"risk-001": [_stall(100.2, 100.6), _stall(103, 104)]},
        reclaim_idle_ms=IDLE_MS,
    )

    assert account.duplicate_reasons == {TAKEN_FROM_LIVE: 1}
    assert len(account.unexplained) == 1


def test_a_long_stall_far_from_the_handlings_explains_nothing() -> None:
    account = MessageAccount(
        published=[7],
        handlings=_twice("risk-001", "risk-002", 100, 101),
        stalls={"risk-001": [_stall(40, 52)]},
        reclaim_idle_ms=IDLE_MS,
    )

    assert account.duplicate_reasons == {TAKEN_FROM_LIVE: 1}


def test_a_stall_of_the_consumer_that_took_over_explains_nothing() -> None:
    account = MessageAccount(
        published=[7],
        handlings=_twice("risk-001", "risk-002", 100, 111),
        stalls={"risk-002": [_stall(100.5, 110.5)]},
        reclaim_idle_ms=IDLE_MS,
    )

    assert account.duplicate_reasons == {TAKEN_FROM_LIVE: 1}
