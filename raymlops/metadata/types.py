"""Records of the metadata store: artifacts, executions, contexts, events, lineage graphs.

Properties are typed. A type (say ``Dataset``) declares its properties' types (``INT``,
``DOUBLE``, ``STRING``, ``BOOL``, ``STRUCT``); a value of the wrong type is refused.
A property not declared yet is added to the type with the type of its first value (ML
Metadata's ``can_add_fields``); ``custom_properties`` are never checked.

Example:
    >>> infer_property_type(3), infer_property_type(0.5), infer_property_type({"a": 1})
    ('INT', 'DOUBLE', 'STRUCT')
    >>> check_property_value("DOUBLE", 2)
    2.0
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = [
    "Artifact",
    "Execution",
    "Context",
    "Event",
    "LineageGraph",
    "ARTIFACT_STATES",
    "EXECUTION_STATES",
    "PROPERTY_TYPES",
    "infer_property_type",
    "check_property_value",
]

ARTIFACT_STATES = ("UNKNOWN", "PENDING", "LIVE", "MARKED_FOR_DELETION", "DELETED", "ABANDONED", "REFERENCE")
EXECUTION_STATES = ("NEW", "RUNNING", "COMPLETE", "CACHED", "FAILED", "CANCELED")
PROPERTY_TYPES = ("INT", "DOUBLE", "STRING", "BOOL", "STRUCT")


def infer_property_type(value: Any) -> str:
    """The property type a first value gives an undeclared property."""
    if isinstance(value, bool):
        return "BOOL"
    if isinstance(value, int):
        return "INT"
    if isinstance(value, float):
        return "DOUBLE"
    if isinstance(value, str):
        return "STRING"
    return "STRUCT"


def check_property_value(ptype: str, value: Any) -> Any:
    """Return ``value`` coerced to ``ptype`` or raise ``TypeError``."""
    if value is None:
        return None
    if ptype == "BOOL" and isinstance(value, bool):
        return value
    if ptype == "INT" and isinstance(value, int) and not isinstance(value, bool):
        return value
    if ptype == "DOUBLE" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if ptype == "STRING" and isinstance(value, str):
        return value
    if ptype == "STRUCT" and isinstance(value, (dict, list, tuple)):
        return value
    raise TypeError(f"expected {ptype}, got {type(value).__name__}")


@dataclass(kw_only=True)
class Artifact:
    """A piece of data: a file, a dataset, a model, a schema, a blessing.

    Args:
        type: the artifact type's name (``Dataset``, ``Model``, ...).
        uri: where the bytes are.
        sha256: content hash of those bytes, if known.
        state: one of ``ARTIFACT_STATES``.
    """

    type: str
    uri: str = ""
    name: str | None = None
    sha256: str | None = None
    state: str = "LIVE"
    properties: dict[str, Any] = field(default_factory=dict)
    custom_properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    create_time: float | None = None
    update_time: float | None = None

    def __post_init__(self) -> None:
        if self.state not in ARTIFACT_STATES:
            raise InvalidInputError(f"artifact state {self.state!r} is not one of {', '.join(ARTIFACT_STATES)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class Execution:
    """A run of a component: a pipeline step, a training run, a rollout decision."""

    type: str
    name: str | None = None
    state: str = "NEW"
    error: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    custom_properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    create_time: float | None = None
    update_time: float | None = None

    def __post_init__(self) -> None:
        if self.state not in EXECUTION_STATES:
            raise InvalidInputError(f"execution state {self.state!r} is not one of {', '.join(EXECUTION_STATES)}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True)
class Context:
    """A group of artifacts and executions: an experiment, a pipeline run, a model name."""

    type: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)
    custom_properties: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    create_time: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(kw_only=True, frozen=True)
class Event:
    """An artifact going INTO (``INPUT``) or coming OUT of (``OUTPUT``) an execution."""

    artifact_id: int
    execution_id: int
    type: str
    path: str | None = None
    time: float | None = None


@dataclass
class LineageGraph:
    """The answer of a lineage query.

    ``nodes`` maps node ids (``"artifact:12"``, ``"execution:7"``) to their records;
    ``edges`` are ``(source, target, type)`` in the direction data flows: an INPUT edge
    goes artifact → execution, an OUTPUT edge execution → artifact.
    """

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: set[tuple[str, str, str]] = field(default_factory=set)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": sorted(self.nodes.values(), key=lambda n: (n["kind"], n["pk"])),
            "edges": [{"source": s, "target": t, "type": ty} for s, t, ty in sorted(self.edges)],
        }
