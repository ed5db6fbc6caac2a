"""Static tools see the installed `nautilus` namespace from anywhere, as Python does.

A user's script outside the project, checked by the venv's mypy with no configuration and no
path settings, resolves the generated clients, the protobuf classes and the runtime: a wrong call
is reported as a type error, not as a missing module.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

_SCRIPT = """\
from nautilus.clients.risk import RiskClient
from nautilus.runtime import Delivery
from nautilus.vpin.v1.vpin_pb2 import ToxicityAlert


async def on_alert(alert: ToxicityAlert, delivery: Delivery[ToxicityAlert]) -> None:
    print(alert.instrument_id, delivery.producer)


risk = RiskClient.create(redis_url="redis://127.0.0.1:6390/0")
risk.on_toxicity_alert(on_alert)
engine: int = risk.config.engine
"""


@pytest.mark.slow
def test_mypy_on_a_script_outside_the_project_resolves_the_namespace(tmp_path: Path) -> None:
    (tmp_path / "myscript.py").write_text(_SCRIPT)
    mypy = Path(sys.executable).parent / "mypy"

    result = subprocess.run(
        [str(mypy), "--strict", "--no-incremental", "myscript.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=240,
    )

    assert "Cannot find implementation or library stub" not in result.stdout, result.stdout
    assert result.stdout.splitlines()[0].startswith("myscript.py:12: error: Incompatible types")
    assert "Found 1 error in 1 file" in result.stdout
