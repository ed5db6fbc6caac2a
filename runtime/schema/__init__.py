"""Schema identity and compatibility: what the runtime checks before it trusts a payload."""

from nautilus.runtime.schema.fingerprint import canonical_form, fingerprint

__all__ = ["canonical_form", "fingerprint"]
