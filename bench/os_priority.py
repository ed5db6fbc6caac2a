"""Operating-system scheduling of the CRITICAL path, as a deployment that wants it would set it.

On a machine whose cores are saturated by bulk traffic, a CRITICAL entry waits for a core at
every hop: the server (busy with bulk writes and reads) and the process that reads the priority
lanes (busy with bulk handling, or just one more runnable process). The in-process design can
only remove the waits inside a process; the run queue is the kernel's. One bench variant
therefore measures the deployment that takes the CRITICAL hops out of it:

- the process reading the priority lanes (`consume_priority_lanes`) runs its event loop's thread
  at SCHED_FIFO. It sleeps in a blocking read nearly all the time and handles a few entries when
  one returns, so it preempts whatever runs without starving it (the kernel still keeps 5% of
  every second for normal tasks, `sched_rt_runtime_us`);
- the server runs at nice -10, so it is on a core when the CRITICAL write arrives and when the
  blocked read must be answered, and not only its fair share of the time.

Both need CAP_SYS_NICE (root, or systemd's `CPUSchedulingPolicy=fifo` / `Nice=-10`, or
`chrt -f 10` / `renice -n -10` run by an administrator). Without it the variant is not measured,
and the report says why.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "REALTIME_PRIORITY",
    "SERVER_NICENESS",
    "niceness",
    "realtime_refusal",
    "realtime_thread",
]

#: The SCHED_FIFO priority of the priority reader's thread (1..99; the kernel's own threads that
#: matter sit at 50 and above, so a low value never gets in their way).
REALTIME_PRIORITY = 10
#: The server's niceness in the variant (-20..19; lower runs first and longer).
SERVER_NICENESS = -10

_PROBE = (
    "import os\n"
    f"os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param({REALTIME_PRIORITY}))\n"
    f"os.setpriority(os.PRIO_PROCESS, 0, {SERVER_NICENESS})\n"
)


def realtime_refusal() -> str | None:
    """Why this machine will not let the bench raise the CRITICAL path's scheduling, or None.

    Asked of a throwaway child process, so nothing here changes how the bench itself runs."""
    if not hasattr(os, "sched_setscheduler"):
        return "this system has no POSIX real-time scheduling"
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, check=False
    )
    if probe.returncode == 0:
        return None
    reason = probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else "refused"
    return f"SCHED_FIFO and a negative niceness need CAP_SYS_NICE ({reason})"


@contextlib.contextmanager
def realtime_thread(priority: int = REALTIME_PRIORITY) -> Iterator[None]:
    """The calling thread at SCHED_FIFO `priority` for the block, then back to its old policy.

    Only the calling thread (Linux applies the policy per thread): the event loop's, which does
    the reading and the handling."""
    policy = os.sched_getscheduler(0)
    param = os.sched_getparam(0)
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    try:
        yield
    finally:
        os.sched_setscheduler(0, policy, param)


@contextlib.contextmanager
def niceness(pid: int, value: int = SERVER_NICENESS) -> Iterator[None]:
    """Every thread of process `pid` at niceness `value` for the block, then each back to its own.

    Per thread, because Linux keeps a niceness per thread and a server's background threads were
    started with the niceness of that moment."""
    previous = {tid: os.getpriority(os.PRIO_PROCESS, tid) for tid in _threads(pid)}
    try:
        for tid in previous:
            _set_niceness(tid, value)
        yield
    finally:
        for tid, old in previous.items():
            _set_niceness(tid, old)


def _threads(pid: int) -> list[int]:
    return sorted(int(entry.name) for entry in Path(f"/proc/{pid}/task").iterdir())


def _set_niceness(tid: int, value: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
        os.setpriority(os.PRIO_PROCESS, tid, value)
