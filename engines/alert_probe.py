"""The floor of a live run's alert propagation: the bare XADD → XREADGROUP hop beside the engines.

The run report's alert propagation (engines/report.py) is the time from an alert's publication
to the end of its handling in Risk, Strategy and Analytics. Part of it is the machine: a write to
the server, the server waking a blocked reader, that reader's process waiting for a core among
twelve engines. So that the report can say how much, `nautilus up` runs this probe through the
market phase, on the same server and under the same load, with no bus in the way:

- a **writer** process, set going by SIGUSR1 when the market starts, XADDs one entry at a time,
  `ts <time.time_ns()>` taken just before the write, to a stream of the probe's own, at random
  instants (a Poisson process, 20 a second on average: 500 to 600 samples in a 30 s run, so p99
  rests on the few largest of hundreds, not on one sample). Poisson instants see the machine as
  it is on average over the run, never in step with the engines' own periodic work (publishers'
  flushes, the supervisor's polls). Each probe costs the writer, the server and the reader some
  tens of microseconds of CPU: at 20 a second, about a thousandth of one core of the two.
- a **reader** process, in a consumer group of its own, blocked on `XREADGROUP ... BLOCK` on that
  stream, records received - published (`time.time_ns()` on both sides: one machine, the clock
  the engines' latencies use) as soon as the reply is parsed, then acknowledges the entries.

What the floor leaves out, and so what the propagation above it is made of: docs/performance.md
("Alert propagation in the run").

Both processes use blocking sockets parsed by hiredis, as the bench's latency floor does
(bench/floors.py): the cheapest way Python drives Redis, through the runtime's `RawLink`
(authentication, the database and TLS from the URL as redis-py reads it; on a Redis Cluster a
MOVED reply moves the connection to the node serving the probe's stream).

Least privilege: each process is a user of its own whose only key is the probe's stream
(`probe_acl`): the writer may only XADD to it; the reader may create its group, read and
acknowledge, and delete the stream (before it starts, in case an interrupted run left it, and
when it is done, so no run leaves the key behind). Each reads its URL from the 0600 file named
by NAUTILUS_REDIS_URL_FILE, as engines do; nothing secret is on a command line or in its output.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from nautilus.engines.run_files import write_run_file
from nautilus.runtime.credentials import URL_FILE_ENV, CredentialsError, read_secret_file
from nautilus.runtime.errors import TransportError
from nautilus.runtime.raw_link import RawLink
from nautilus.runtime.redaction import RedactingFilter, redacted

__all__ = [
    "DEFAULT_RATE_PER_S",
    "PROBE_KEY",
    "PROBE_READER",
    "PROBE_USERS",
    "PROBE_WRITER",
    "main",
    "probe_acl",
    "reader_file",
    "reader_ready_file",
    "run_reader",
    "run_writer",
    "writer_file",
    "writer_ready_file",
]

#: The probe's stream: no bus stream or registry key, so no bus user's rule names it.
PROBE_KEY = "nautilus-alert-probe"
#: The probe's users, one per process.
PROBE_WRITER = "alert-probe-writer"
PROBE_READER = "alert-probe-reader"
PROBE_USERS = (PROBE_WRITER, PROBE_READER)
#: Probes per second, on average (module docstring).
DEFAULT_RATE_PER_S = 20.0

_GROUP = b"alert-probe"
_CONSUMER = b"reader"
_TS = b"ts"
_END = b"end"
#: Sets the writer going (`run_writer`).
_GO = signal.SIGUSR1
#: How often a writer waiting to go checks that its parent is still there.
_PARENT_CHECK_S = 1.0
#: The reader's blocking read returns at least this often (ms), to notice a stop or a lost parent.
_BLOCK_MS = 1000
#: A reply that takes longer than this means the server is gone.
_SOCKET_TIMEOUT_S = 30.0

_log = logging.getLogger("nautilus.engines.alert_probe")


def probe_acl(hashes: Mapping[str, str]) -> str:
    """The probe's users in ACL-file form, each with its `#<sha256>` hash from `hashes`.

    Only AUTH besides the probe's commands: the probe sends nothing else on connect.
    """
    key = "~" + PROBE_KEY
    rules = {
        PROBE_WRITER: ("+auth", key, "+xadd"),
        PROBE_READER: ("+auth", key, "+del", "+xgroup|create", "+xreadgroup", "+xack"),
    }
    return "".join(
        " ".join(["user", user, "on", "resetpass", "resetkeys", "resetchannels", "-@all",
                  hashes[user], *rules[user]]) + "\n"
        for user in PROBE_USERS
    )  # fmt: skip


def writer_file(run_dir: Path) -> Path:
    """Written by the writer when it stops: `{"sent": N}`."""
    return run_dir / f"{PROBE_WRITER}.json"


def reader_file(run_dir: Path) -> Path:
    """Written by the reader when it stops: `{"samples_ns": [...]}`, published → received."""
    return run_dir / f"{PROBE_READER}.json"


def reader_ready_file(run_dir: Path) -> Path:
    """Written once the reader's group exists: the writer may start."""
    return run_dir / f"{PROBE_READER}.ready.json"


def writer_ready_file(run_dir: Path) -> Path:
    """Written once the writer is connected and waits for SIGUSR1 to start probing."""
    return run_dir / f"{PROBE_WRITER}.ready.json"


def _parent_gone(parent_pid: int | None) -> bool:
    return parent_pid is not None and os.getppid() != parent_pid


def run_writer(
    url: str,
    rate_per_s: float,
    *,
    ready: Path | None = None,
    parent_pid: int | None = None,
    limit: int = 0,
) -> int:
    """Once connected (and `ready` written), wait for SIGUSR1, then XADD a probe at Poisson
    instants of `rate_per_s` until SIGTERM or SIGINT (or `limit` probes, or the parent is gone);
    then an end mark for the reader. Returns the probes sent.

    Started before the market and set going by a signal, the probing covers the market phase
    from its start, not from whenever a new Python process has finished importing.
    """
    stops = {signal.SIGTERM, signal.SIGINT}
    # Signals are taken only in sigtimedwait: one never interrupts a write, and a stop ends a
    # wait at once.
    signal.pthread_sigmask(signal.SIG_BLOCK, {*stops, _GO})
    key = PROBE_KEY.encode()
    draw = random.Random()
    link = RawLink(url, timeout_s=_SOCKET_TIMEOUT_S)
    sent = 0
    try:
        if ready is not None:
            write_run_file(ready, json.dumps({"pid": os.getpid()}))
        going = _wait_for_go(stops, parent_pid)
        while going and (not limit or sent < limit):
            if signal.sigtimedwait(stops, draw.expovariate(rate_per_s)) is not None:
                break
            if _parent_gone(parent_pid):
                break
            link.call(b"XADD", key, b"*", _TS, b"%d" % time.time_ns())
            sent += 1
        link.call(b"XADD", key, b"*", _END, b"%d" % sent)
    finally:
        link.close()
    return sent


def _wait_for_go(stops: set[signal.Signals], parent_pid: int | None) -> bool:
    """True at SIGUSR1; False at a stop, or once the parent is gone."""
    while not _parent_gone(parent_pid):
        taken = signal.sigtimedwait({*stops, _GO}, _PARENT_CHECK_S)
        if taken is not None:
            return taken.si_signo == _GO
    return False


class _Stop:
    """Set by SIGTERM or SIGINT; the blocking read returns within `_BLOCK_MS` to see it."""

    def __init__(self) -> None:
        self.requested = False
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._set)

    def _set(self, signum: int, frame: object) -> None:
        self.requested = True


def run_reader(url: str, *, ready: Path | None = None, parent_pid: int | None = None) -> list[int]:
    """Time every probe from its publication to the return of the read that brought it, until
    the writer's end mark (or SIGTERM/SIGINT, or the parent is gone); the samples in ns.

    The probe's stream is deleted before the group is made and once the reading is over.
    """
    stop = _Stop()
    key = PROBE_KEY.encode()
    link = RawLink(url, timeout_s=_SOCKET_TIMEOUT_S)
    samples: list[int] = []
    try:
        link.call(b"DEL", key)
        link.call(b"XGROUP", b"CREATE", key, _GROUP, b"$", b"MKSTREAM")
        if ready is not None:
            write_run_file(ready, json.dumps({"pid": os.getpid()}))
        read = (
            b"XREADGROUP", b"GROUP", _GROUP, _CONSUMER, b"COUNT", b"64",
            b"BLOCK", b"%d" % _BLOCK_MS, b"STREAMS", key, b">",
        )  # fmt: skip
        ended = False
        while not ended and not stop.requested and not _parent_gone(parent_pid):
            reply = link.call(*read)
            received_ns = time.time_ns()
            if not reply:
                continue
            entries = reply[0][1]
            for _, fields in entries:
                values = dict(zip(fields[::2], fields[1::2], strict=False))
                if _TS in values:
                    samples.append(max(0, received_ns - int(values[_TS])))
                ended |= _END in values
            link.call(b"XACK", key, _GROUP, *[entry_id for entry_id, _ in entries])
        link.call(b"DEL", key)
    finally:
        link.close()
    return samples


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m nautilus.engines.alert_probe",
        description="One process of the alert-propagation floor probe (nautilus up runs both). "
        f"Its Redis URL comes from the 0600 file named by {URL_FILE_ENV}, else REDIS_URL.",
    )
    parser.add_argument("role", choices=("writer", "reader"))
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--parent-pid", type=int, default=None)
    parser.add_argument(
        "--rate", type=float, default=DEFAULT_RATE_PER_S, help="writer: probes per second"
    )
    parser.add_argument(
        "--count", type=int, default=0, help="writer: stop after this many probes (0: at SIGTERM)"
    )
    return parser


def _redis_url() -> str:
    url_file = os.environ.get(URL_FILE_ENV, "")
    if url_file:
        return read_secret_file(Path(url_file))
    return os.environ.get("REDIS_URL", "")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format=f"%(asctime)s alert-probe-{args.role} %(levelname)s %(message)s"
    )
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactingFilter())
    try:
        url = _redis_url()
    except CredentialsError as exc:
        _log.error("%s", exc)
        return 2
    if not url:
        _log.error("no Redis: set %s or REDIS_URL", URL_FILE_ENV)
        return 2
    try:
        if args.role == "writer":
            sent = run_writer(
                url,
                args.rate,
                ready=writer_ready_file(args.run_dir),
                parent_pid=args.parent_pid,
                limit=args.count,
            )
            write_run_file(writer_file(args.run_dir), json.dumps({"sent": sent}))
            _log.info("sent %d probes", sent)
        else:
            samples = run_reader(
                url, ready=reader_ready_file(args.run_dir), parent_pid=args.parent_pid
            )
            write_run_file(reader_file(args.run_dir), json.dumps({"samples_ns": samples}))
            _log.info("received %d probes", len(samples))
    except (TransportError, OSError) as exc:
        _log.error("%s", redacted(str(exc)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
