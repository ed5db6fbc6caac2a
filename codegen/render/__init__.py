"""Renderers: each turns the contract model into one kind of output file under `generated/`.

A renderer is a callable taking the model and returning `{relative path: file bytes}`. The
pipeline runs them all and writes the union, so every output is independent of the others.
"""

from collections.abc import Callable, Mapping

from nautilus.codegen.model import ContractModel

__all__ = ["RenderedFiles", "Renderer"]

RenderedFiles = Mapping[str, bytes]
Renderer = Callable[[ContractModel], RenderedFiles]
