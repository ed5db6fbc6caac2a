"""`nautilus up`'s live table fits the terminal, so redrawing it in place leaves nothing stale."""

from __future__ import annotations

import io
import re

import pytest

from nautilus.engines.live_view import LiveView, RunProgress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PROGRESS = RunProgress(0, 600 * 10**9, 1.0, 30.0, "running")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _healths(status: str) -> dict[str, dict[str, object] | None]:
    service = {"consumed": 123_456, "published": 7_890, "handler_errors": 0, "replay": "live"}
    return {
        "marketdata": {"status": status, "service": service, "lanes": {"x": {"lag": 12}}},
        "vpin": {"status": "ok", "service": service, "lanes": {}},
        "risk": None,
    }


def test_every_drawn_line_fits_a_90_column_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    monkeypatch.setenv("LINES", "40")
    out = _Terminal()
    view = LiveView(out)

    for status in ("ok", "degraded: " + "a very long reason " * 10, "ok"):
        view.show(_healths(status), {"marketdata": 8800, "vpin": 10001, "risk": 8200}, PROGRESS)
    view.close()

    lines = ANSI.sub("", out.getvalue()).replace("\r", "\n").splitlines()
    assert lines
    assert max(len(line) for line in lines) <= 90
    assert any("engine" in line and "consumed" in line for line in lines)


def test_a_pipe_gets_plain_progress_lines() -> None:
    out = io.StringIO()
    view = LiveView(out)

    view.show(_healths("ok"), {}, PROGRESS)

    assert "\x1b" not in out.getvalue()
    assert out.getvalue().startswith("running: market +")
