"""What the figures were measured on: the machine, its load, and the versions in play.

Benchmarks on a shared 2-core machine are only comparable with their context, so every report
carries the CPU model and count, the load average before and after, and the versions of Python,
the Redis client stack, protobuf and the server.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import redis

__all__ = ["cpu_model", "load_average", "machine_info", "package_versions", "server_info"]

_PACKAGES = (
    "nautilus-messagebus",
    "redis",
    "hiredis",
    "protobuf",
    "hdrhistogram",
    "matplotlib",
    "faststream",
)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages (empty where the OS has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages whose speed the figures depend on (None: absent)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def server_info(url: str) -> dict[str, Any]:
    """The server's name, version and memory allocator, read with INFO server."""
    with redis.Redis.from_url(url) as client:
        info: Any = client.info("server")
    name = "valkey" if "valkey_version" in info else "redis"
    return {
        "name": name,
        "version": str(info.get("valkey_version") or info.get("redis_version")),
        "allocator": str(info.get("mem_allocator", "")),
        "io_threads": int(info.get("io_threads_active", 0) or 0),
    }


def machine_info() -> dict[str, Any]:
    """CPU, memory, OS and load: where the figures come from."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        pages = 0
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model(),
        "memory_gib": round(pages / 2**30, 1),
        "platform": platform.platform(),
        "python_implementation": platform.python_implementation(),
        "load_average": load_average(),
    }
