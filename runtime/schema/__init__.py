"""Schema identity and compatibility: what the runtime checks before it trusts a payload."""

from nautilus.runtime.schema.compat import (
    MessageDescriptor,
    check_compatibility,
    check_mode,
    compare_contracts,
    compare_descriptor_sets,
    require_compatible,
)
from nautilus.runtime.schema.descriptor_sets import (
    DescriptorSetError,
    build_pool,
    message_descriptor,
    parse_descriptor_set,
)
from nautilus.runtime.schema.fingerprint import canonical_form, fingerprint
from nautilus.runtime.schema.modes import DEFAULT_LEVEL, DEFAULT_MODE, CompatLevel, CompatMode
from nautilus.runtime.schema.violations import Rule, SchemaIncompatibleError, Violation

__all__ = [
    "DEFAULT_LEVEL",
    "DEFAULT_MODE",
    "CompatLevel",
    "CompatMode",
    "DescriptorSetError",
    "MessageDescriptor",
    "Rule",
    "SchemaIncompatibleError",
    "Violation",
    "build_pool",
    "canonical_form",
    "check_compatibility",
    "check_mode",
    "compare_contracts",
    "compare_descriptor_sets",
    "fingerprint",
    "message_descriptor",
    "parse_descriptor_set",
    "require_compatible",
]
