"""The generator pipeline: compile → model → render every output → sync `generated/`.

Output is deterministic (no timestamps, sorted everywhere), so running the pipeline twice changes
nothing, and CI can detect stale generated code by running it and looking for a diff.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from nautilus.codegen.compile import CodegenError, compile_descriptor_set
from nautilus.codegen.model import ContractModel
from nautilus.codegen.parse import parse_contract
from nautilus.codegen.render import Renderer
from nautilus.codegen.render.acl import render_acl
from nautilus.codegen.render.asyncapi import render_asyncapi
from nautilus.codegen.render.contract_module import render_contract_module
from nautilus.codegen.render.descriptors import render_descriptors
from nautilus.codegen.render.jsonschema import render_json_schema
from nautilus.codegen.render.protobuf import render_protobuf
from nautilus.codegen.render.pydantic_models import render_pydantic_models
from nautilus.codegen.render.typed_clients import render_typed_clients

__all__ = ["RENDERERS", "GenerationResult", "generate", "load_contract", "render_all"]

#: Every output of `make codegen`, one renderer each.
RENDERERS: tuple[Renderer, ...] = (
    render_protobuf,
    render_descriptors,
    render_json_schema,
    render_pydantic_models,
    render_contract_module,
    render_asyncapi,
    render_typed_clients,
    render_acl,
)

_IGNORED = {"__pycache__"}


@dataclass(frozen=True)
class GenerationResult:
    """What a run changed under the output directory (relative paths, sorted)."""

    contract: ContractModel
    written: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed)


def load_contract(schemas_dir: Path) -> ContractModel:
    """Compile and parse the schemas under `schemas_dir` (a buf module root)."""
    return parse_contract(compile_descriptor_set(schemas_dir))


def render_all(contract: ContractModel) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for renderer in RENDERERS:
        for path, data in renderer(contract).items():
            if path in files:
                raise CodegenError(f"two renderers produce {path}")
            files[path] = data
    return dict(sorted(files.items()))


def _existing(out_dir: Path) -> set[str]:
    if not out_dir.exists():
        return set()
    return {
        p.relative_to(out_dir).as_posix()
        for p in out_dir.rglob("*")
        if p.is_file() and not _IGNORED.intersection(p.relative_to(out_dir).parts)
    }


def generate(schemas_dir: Path, out_dir: Path, *, check: bool = False) -> GenerationResult:
    """Regenerate `out_dir` from `schemas_dir`; with `check`, only report what would change."""
    contract = load_contract(schemas_dir)
    files = render_all(contract)
    written = tuple(
        path
        for path, data in files.items()
        if not (out_dir / path).is_file() or (out_dir / path).read_bytes() != data
    )
    removed = tuple(sorted(_existing(out_dir) - files.keys()))
    if not check:
        for path in written:
            target = out_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[path])
        for path in removed:
            (out_dir / path).unlink()
        _remove_empty_dirs(out_dir)
    return GenerationResult(contract=contract, written=written, removed=removed)


def _remove_empty_dirs(root: Path) -> None:
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if directory.name in _IGNORED:
            shutil.rmtree(directory, ignore_errors=True)
        elif not any(directory.iterdir()):
            directory.rmdir()
