"""`nautilus docs` writes the contract's AsyncAPI document as one offline HTML page; `nautilus
dashboard` finds a running WebSocket engine's dashboard and checks it answers. Bad input exits
with one line, never a traceback."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from importlib import resources
from pathlib import Path

import pytest

from nautilus.cli.asyncapi_page import AsyncApiDocumentError, render_asyncapi
from nautilus.cli.main import main
from nautilus.clients.websocket import WebSocketClient
from nautilus.engines.run_settings import RunSettings
from nautilus.engines.websocket.browser_server import BrowserServer
from nautilus.engines.websocket.service import WebSocketService
from nautilus.runtime.client import UniversalMessageBusClient
from nautilus.runtime.config import MessageBusConfig
from nautilus.runtime.metrics import BusMetrics
from nautilus.runtime.transport.memory import InMemoryTransport


def _contract() -> dict[str, object]:
    text = (resources.files("nautilus.contract") / "asyncapi.json").read_text()
    document: dict[str, object] = json.loads(text)
    return document


def test_the_page_shows_every_channel_message_and_field_of_the_contract() -> None:
    document = _contract()
    page = render_asyncapi(document)

    for channel in document["channels"].values():  # type: ignore[attr-defined]
        assert f">{channel['address']}</h3>" in page
    for name, message in document["components"]["messages"].items():  # type: ignore[index]
        assert f"id='message-{name.replace('.', '-')}'" in page
        for field in message["payload"]["schema"].get("properties", {}):
            assert f"<td class=mono>{field}" in page
    assert "consumed by <span class=pill>analytics</span>" in page


def test_the_page_loads_nothing_from_elsewhere() -> None:
    page = render_asyncapi(_contract())

    assert "<script" not in page
    assert "<link" not in page
    assert not re.search(r"""(src|href)=['"]?(https?:)?//""", page)
    assert "@import" not in page


def test_a_document_that_is_not_asyncapi_3_is_refused() -> None:
    with pytest.raises(AsyncApiDocumentError, match="not an AsyncAPI 3 document"):
        render_asyncapi({"asyncapi": "2.6.0"})


def test_nautilus_docs_writes_the_page_and_prints_its_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "site" / "asyncapi.html"

    status = main(["docs", "--out", str(out)])

    assert status == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert out.read_text() == render_asyncapi(_contract())


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "cannot read"),
        ("{not json", "not an AsyncAPI 3 document"),
        ('{"asyncapi": "2.6.0"}', "not an AsyncAPI 3 document (asyncapi: 2.6.0)"),
        ("[1, 2]", "not an AsyncAPI 3 document"),
    ],
)
def test_nautilus_docs_refuses_a_bad_document_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, reason: str
) -> None:
    document = tmp_path / "asyncapi.json"
    if content is not None:
        document.write_text(content)

    status = main(["docs", "--asyncapi", str(document), "--out", str(tmp_path / "out.html")])

    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1
    assert err.startswith("nautilus docs: error: ")
    assert reason in err
    assert not (tmp_path / "out.html").exists()


def test_nautilus_dashboard_without_a_run_says_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["dashboard", "--run-dir", str(tmp_path)])

    err = capsys.readouterr().err
    assert status == 1
    assert err.count("\n") == 1
    assert "nautilus up" in err


def test_nautilus_dashboard_refuses_a_bad_port(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", "--port", "70000"]) == 2
    assert capsys.readouterr().err.startswith("nautilus dashboard: error: --port must be")


async def test_nautilus_dashboard_prints_the_address_of_a_running_engine(tmp_path: Path) -> None:
    bus = UniversalMessageBusClient(
        MessageBusConfig(engine="websocket", trim_interval_ms=0), InMemoryTransport()
    )
    service = WebSocketService(WebSocketClient(bus), RunSettings())
    server = BrowserServer(service, BusMetrics())
    await service.start(consume=False)
    await server.start("127.0.0.1", 0)
    port = server.port
    (tmp_path / "websocket.ready.json").write_text(json.dumps({"port": port}))
    out = tmp_path / "out.json"
    try:
        status = await asyncio.to_thread(
            _main_to_file, ["dashboard", "--run-dir", str(tmp_path), "--json"], out
        )
    finally:
        await server.close()
        await service.close()

    assert status == 0
    assert json.loads(out.read_text()) == {
        "url": f"http://127.0.0.1:{port}/",
        "engines": [],
    }


def _main_to_file(argv: list[str], out: Path) -> int:
    with out.open("w") as file, contextlib.redirect_stdout(file):
        return main(argv)
