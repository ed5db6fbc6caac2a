"""Turns the `.proto` contract under `schemas/` into everything under `generated/`.

The generator is a pipeline: compile the schemas into descriptors, read those into a small plain
model of the contract (engines, streams, messages, routes), then let each renderer produce its
files from that model. Adding an output means adding a renderer; the parser stays as it is.
"""

from nautilus.codegen.compile import CodegenError, compile_descriptor_set
from nautilus.codegen.model import ContractModel, EngineModel, MessageModel, RouteModel
from nautilus.codegen.parse import parse_contract
from nautilus.codegen.pipeline import generate

__all__ = [
    "CodegenError",
    "ContractModel",
    "EngineModel",
    "MessageModel",
    "RouteModel",
    "compile_descriptor_set",
    "generate",
    "parse_contract",
]
