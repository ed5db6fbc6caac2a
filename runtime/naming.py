"""How names of the contract turn into Python and JSON names, in one place.

- `snake_case("ToxicityAlert") == "toxicity_alert"`, acronyms kept whole:
  `snake_case("OFIUpdate") == "ofi_update"`, `snake_case("PnlUpdate") == "pnl_update"`.
- `json_name("bucket_index") == "bucketIndex"`: protoc's default JSON name of a field.
- `major_version("nautilus.risk.v2") == "v2"`: the package's last part when it is `v<N>`.
- `member_stem(message, package)`: the typed-client name of a message type. The rule (README):
  a type of a `v1` package (or a package without a version) is `snake_case(message)`, a type of
  any other major version adds it, `risk_metrics_v2`; so `publish_risk_metrics` and
  `publish_risk_metrics_v2` live side by side, and no name changes when a version comes or goes.
"""

from __future__ import annotations

import re

__all__ = ["json_name", "major_version", "member_stem", "snake_case"]

_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_VERSION = re.compile(r"v\d+")


def snake_case(name: str) -> str:
    """`ToxicityAlert` -> `toxicity_alert`; `OFIUpdate` -> `ofi_update`."""
    return _BOUNDARY.sub("_", name).lower()


def json_name(field_name: str) -> str:
    """protoc's JSON name of a field: lowerCamelCase of its snake_case name."""
    head, *rest = field_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def major_version(package: str) -> str:
    """The package's major version (`v1`, `v2`), or "" when its last part is not one."""
    last = package.rsplit(".", 1)[-1]
    return last if _VERSION.fullmatch(last) else ""


def member_stem(message: str, package: str) -> str:
    """The name a message type gets in typed clients: `risk_metrics`, `risk_metrics_v2`."""
    version = major_version(package)
    stem = snake_case(message)
    return stem if version in ("", "v1") else f"{stem}_{version}"
