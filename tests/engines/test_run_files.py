"""Run-directory files appear whole: a process polling for `<engine>.ready.json` never reads
an empty or half-written file (the launcher and the benchmarks poll while engines write)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from nautilus.engines.run_files import write_run_file


def test_a_polling_reader_never_sees_a_partly_written_file(tmp_path: Path) -> None:
    target = tmp_path / "vpin.ready.json"
    # Large enough that a plain write_text is observed half-written by a concurrent reader.
    payload = {"engine": "vpin", "port": 10001, "pid": 4242, "padding": "x" * 200_000}
    done = threading.Event()
    seen_partial: list[int] = []
    reads = 0

    def poll() -> None:
        nonlocal reads
        while not done.is_set():
            try:
                text = target.read_text()
            except FileNotFoundError:
                continue
            reads += 1
            try:
                json.loads(text)
            except ValueError:
                seen_partial.append(len(text))

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    try:
        for _ in range(300):
            write_run_file(target, json.dumps(payload))
    finally:
        done.set()
        reader.join(timeout=30)

    assert seen_partial == []
    assert json.loads(target.read_text())["port"] == 10001


def test_writing_leaves_only_the_named_file(tmp_path: Path) -> None:
    write_run_file(tmp_path / "risk.summary.json", '{"handled": 4}')
    write_run_file(tmp_path / "risk.summary.json", '{"handled": 5}')

    assert [p.name for p in tmp_path.iterdir()] == ["risk.summary.json"]
    assert json.loads((tmp_path / "risk.summary.json").read_text()) == {"handled": 5}


def test_a_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "edge-77.ready.json"
    write_run_file(target, '{"port": 9100}')

    with pytest.raises(UnicodeEncodeError):
        write_run_file(target, '{"port": "\udcff"}')

    assert target.read_text() == '{"port": 9100}'
    assert [p.name for p in tmp_path.iterdir()] == ["edge-77.ready.json"]
