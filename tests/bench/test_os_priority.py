"""The OS-priority CRITICAL variant changes scheduling only where allowed, and always undoes it.

The bench's worker processes live for the whole run and the server may be reused, so a policy or
niceness left behind would skew every later scenario: each change is checked to be undone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from nautilus.bench.os_priority import (
    REALTIME_PRIORITY,
    SERVER_NICENESS,
    niceness,
    realtime_refusal,
    realtime_thread,
)
from nautilus.bench.runner import _os_priority_server_pid
from nautilus.bench.settings import BenchSettings
from nautilus.bench.topology import BenchServer

_ALLOWED = realtime_refusal() is None
needs_cap_sys_nice = pytest.mark.skipif(not _ALLOWED, reason="needs CAP_SYS_NICE")

#: A child with a second thread, as a server has background threads.
_TWO_THREADS = (
    "import threading, time\n"
    "threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def child_with_two_threads() -> Iterator[int]:
    process = subprocess.Popen(
        [sys.executable, "-c", _TWO_THREADS], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        yield process.pid
    finally:
        process.kill()
        process.wait()


def _thread_niceness(pid: int) -> list[int]:
    return [
        os.getpriority(os.PRIO_PROCESS, int(task.name))
        for task in sorted(Path(f"/proc/{pid}/task").iterdir())
    ]


@needs_cap_sys_nice
def test_niceness_applies_to_every_thread_of_the_server_and_is_undone(
    child_with_two_threads: int,
) -> None:
    pid = child_with_two_threads
    before = _thread_niceness(pid)
    assert len(before) == 2

    with niceness(pid):
        assert _thread_niceness(pid) == [SERVER_NICENESS, SERVER_NICENESS]

    assert _thread_niceness(pid) == before


@needs_cap_sys_nice
def test_niceness_is_undone_when_the_measured_block_fails(child_with_two_threads: int) -> None:
    pid = child_with_two_threads
    before = _thread_niceness(pid)

    with pytest.raises(RuntimeError, match="scenario failed"), niceness(pid):
        raise RuntimeError("scenario failed")

    assert _thread_niceness(pid) == before


@needs_cap_sys_nice
def test_realtime_thread_raises_only_the_calling_thread_and_restores_its_policy() -> None:
    seen: dict[str, object] = {}

    def reader() -> None:
        with realtime_thread():
            seen["inside"] = (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)
            seen["main thread inside"] = os.sched_getscheduler(main_tid)
        seen["after"] = (os.sched_getscheduler(0), os.sched_getparam(0).sched_priority)

    main_tid = threading.get_native_id()
    thread = threading.Thread(target=reader)
    thread.start()
    thread.join()

    assert seen["inside"] == (os.SCHED_FIFO, REALTIME_PRIORITY)
    assert seen["main thread inside"] == os.SCHED_OTHER
    assert seen["after"] == (os.SCHED_OTHER, 0)


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="needs setpriv (util-linux)")
def test_without_cap_sys_nice_the_refusal_names_the_capability() -> None:
    probe = subprocess.run(
        [
            "setpriv",
            "--bounding-set",
            "-sys_nice",
            "--inh-caps",
            "-sys_nice",
            sys.executable,
            "-c",
            "from nautilus.bench.os_priority import realtime_refusal; print(realtime_refusal())",
        ],
        capture_output=True,
        text=True,
        check=True,
    )

    assert "CAP_SYS_NICE" in probe.stdout


def _single_server() -> BenchServer:
    url = "redis://127.0.0.1:6390/0"
    return BenchServer(url=url, masters=(url,), stream_url=url, cluster=False)


def test_a_server_the_bench_did_not_start_is_never_reniced() -> None:
    skipped: list[str] = []
    server = _single_server()

    pid = _os_priority_server_pid(BenchSettings.tiny(), server, None, skipped)

    assert pid is None
    assert skipped == [
        "CRITICAL with OS priority not measured: "
        "the server is not one the bench started (--redis-url)"
    ]


def test_turning_the_variant_off_skips_it_without_a_note() -> None:
    skipped: list[str] = []
    settings = BenchSettings(**{**BenchSettings.tiny().as_dict(), "critical_os_priority": False})
    server = _single_server()

    assert _os_priority_server_pid(settings, server, os.getpid(), skipped) is None
    assert skipped == []
