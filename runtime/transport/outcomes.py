"""What became of each write in a batch: an id, or the server's rejection, classified.

A pipelined batch of XADDs is not all-or-nothing: the server answers each command on its own, so a
batch can be part written and part refused (a key of the wrong type, memory full, a server still
loading its data). Transports report one outcome per XADD; the publisher settles each message on
its own outcome. Rejection objects exist only for refused writes: the happy path is a list of ids.
"""

from __future__ import annotations

from typing import NamedTuple

from nautilus.runtime.errors import TransportError

__all__ = [
    "REDIRECT_KINDS",
    "TRANSIENT_KINDS",
    "BatchOutcome",
    "Rejection",
    "WriteInterruptedError",
]

#: Error kinds (the reply's first word) that describe a passing server state rather than the
#: write itself: a server loading its data (LOADING), busy in a script (BUSY), a cluster slot
#: moving (TRYAGAIN, CLUSTERDOWN), a replica whose master is down (MASTERDOWN), a write reaching a
#: replica during a failover (READONLY), too few replicas connected (NOREPLICAS), a cluster slot
#: served by another node (MOVED, ASK: the transport refreshes its slot map, so the retry goes to
#: the node that serves it now). Writes refused with these are retried; any other kind
#: (WRONGTYPE, OOM, NOPERM, ERR, ...) is final.
TRANSIENT_KINDS = frozenset(
    {
        "LOADING",
        "BUSY",
        "TRYAGAIN",
        "CLUSTERDOWN",
        "MASTERDOWN",
        "READONLY",
        "NOREPLICAS",
        "MOVED",
        "ASK",
    }
)

#: The kinds that mean the slot map is out of date.
REDIRECT_KINDS = frozenset({"MOVED", "ASK"})


class Rejection:
    """A write the server refused, with its reply; `transient` when retrying may succeed."""

    __slots__ = ("kind", "reply", "transient")

    def __init__(self, reply: str) -> None:
        self.reply = reply
        self.kind = reply.split(" ", 1)[0]
        self.transient = self.kind in TRANSIENT_KINDS

    def __repr__(self) -> str:
        return f"Rejection({self.reply!r})"


class BatchOutcome(NamedTuple):
    """The outcomes of a batch's writes, in batch order.

    `results` holds an entry id (written) or a `Rejection` per write, for a prefix of the batch:
    writes past its end were not sent (the transport stopped after a transient rejection on a
    fresh connection) and are to be sent again. `rejected` counts the `Rejection`s, so the common
    case is checked without looking at every result.
    """

    results: list[str | Rejection]
    rejected: int


class WriteInterruptedError(TransportError):
    """A batch write broke off (connection lost, timeout) before every reply was read.

    `results` are the outcomes of the writes whose replies arrived (a prefix of the batch). The
    rest are unknown when `maybe_sent` (the server may hold any of them: read them back with
    `Transport.find_written` before sending them again); otherwise nothing of the rest was sent.
    `since_ms` bounds the ids of the unknown entries from below (ms; 0 when nothing bounds them).
    """

    def __init__(
        self,
        operation: str,
        detail: str,
        results: list[str | Rejection],
        *,
        maybe_sent: bool,
        since_ms: int,
    ) -> None:
        super().__init__(operation, detail)
        self.results = results
        self.maybe_sent = maybe_sent
        self.since_ms = since_ms
