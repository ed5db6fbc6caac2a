"""The compiled descriptor set and the fingerprint of every bus message: the registry's seed."""

from __future__ import annotations

import json

from nautilus.codegen.model import ContractModel

__all__ = ["DESCRIPTOR_SET_PATH", "FINGERPRINTS_PATH", "render_descriptors"]

DESCRIPTOR_SET_PATH = "nautilus/contract/descriptor_set.binpb"
FINGERPRINTS_PATH = "nautilus/contract/fingerprints.json"


def render_descriptors(contract: ContractModel) -> dict[str, bytes]:
    fingerprints = {m.full_name: m.fingerprint for m in contract.bus_messages}
    return {
        DESCRIPTOR_SET_PATH: contract.descriptor_set,
        FINGERPRINTS_PATH: (json.dumps(fingerprints, indent=2, sort_keys=True) + "\n").encode(),
    }
