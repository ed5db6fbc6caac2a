"""Observers: consumers outside the engines that watch the bus without taking anything from it.

An engine's consumer group owns the engine's share of a stream: every entry read through the
group is delivered to one of the engine's consumers and acknowledged. A script, a dashboard or an
operator's durable tail that joined that group would take entries away from the engine. An
observer reads through a group of its own, `observer:<name>`, so it sees every entry of the lanes
it subscribes to while the engines' groups are untouched; and it is read-only: it publishes
nothing, registers no schemas and declares no engine groups.

An observer's group is durable like an engine's: a restarted observer of the same name resumes
where it left off, and safe trimming keeps what it has not read. So the group of an observer that
is gone for good holds trimming back until it is removed (`nautilus group destroy`).
"""

from __future__ import annotations

import re

__all__ = [
    "OBSERVER_GROUP_PREFIX",
    "is_observer_group",
    "observer_group",
    "observer_name_problem",
]

#: Prefix of every observer's consumer group; no engine group starts with it.
OBSERVER_GROUP_PREFIX = "observer:"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def observer_name_problem(name: str) -> str | None:
    """Why `name` is not a valid observer name, or None when it is."""
    if _NAME.fullmatch(name):
        return None
    return (
        f"observer name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )


def observer_group(name: str) -> str:
    """The consumer group of observer `name`; ValueError when the name is not valid."""
    name = name.removeprefix(OBSERVER_GROUP_PREFIX)
    problem = observer_name_problem(name)
    if problem is not None:
        raise ValueError(problem)
    return OBSERVER_GROUP_PREFIX + name


def is_observer_group(group: str) -> bool:
    """True for an observer's group (as opposed to an engine's)."""
    return group.startswith(OBSERVER_GROUP_PREFIX)
