"""The base of gate definitions: :class:`Gate`, the registry :data:`GATE_TYPES` and :func:`gate_from_dict`.

A gate is a subclass in its own file (``kind``, ``_params``, ``_check``) and one line in
:mod:`raymlops.serving.gates.registry`, which fills :data:`GATE_TYPES`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates._checks import count
from raymlops.serving.gates.stats import VersionStats
from raymlops.serving.gates.verdict import GateCheck, GateStatus

__all__ = ["GATE_TYPES", "Gate", "gate_from_dict"]


class Gate:
    """Base of the gate definitions: keyword-only, validated, with equality and to/from dict.

    A subclass sets ``kind`` and ``_params`` (its constructor arguments besides ``name``
    and ``min_samples``) and implements ``_check``.
    """

    kind: ClassVar[str] = ""
    _params: ClassVar[tuple[str, ...]] = ()
    name: str
    min_samples: int

    def _init_common(self, name: str | None, min_samples: int) -> None:
        name = self.default_name() if name is None else name
        if not isinstance(name, str) or not name.strip():
            raise InvalidInputError(f"a gate name must be a non-empty string, got {name!r}")
        self.name = name
        self.min_samples = count(min_samples, f"min_samples of gate {name!r}")

    def default_name(self) -> str:
        return self.kind

    def check(
        self, canary: VersionStats, baseline: VersionStats | None = None, *, drift: bool | float | None = None
    ) -> GateCheck:
        """Check the new version's stats (and the baseline's, for relative gates)."""
        return self._check(canary, baseline, drift)

    def _check(self, canary: VersionStats, baseline: VersionStats | None, drift: bool | float | None) -> GateCheck:
        raise NotImplementedError

    def _result(
        self, status: GateStatus, value: float | None, threshold: float | None, samples: int, message: str,
        baseline: float | None = None,
    ) -> GateCheck:  # fmt: skip
        message = f"{self.name}: {message}"
        return GateCheck(self.name, self.kind, status, value, threshold, samples, self.min_samples, message, baseline)

    def _insufficient(self, samples: int, what: str) -> GateCheck:
        return self._result(
            GateStatus.INSUFFICIENT_DATA, None, None, samples, f"{samples} of {self.min_samples} {what} needed so far"
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "name": self.name}
        out.update({p: getattr(self, p) for p in self._params})
        out["min_samples"] = self.min_samples
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Gate:
        """Rebuild a gate of this class (or, on :class:`Gate`, of the dict's ``kind``)."""
        if cls is Gate:
            return gate_from_dict(data)
        if not isinstance(data, Mapping) or data.get("kind") != cls.kind:
            raise InvalidInputError(f"expected a {cls.kind!r} gate dict, got {data!r}")
        args = {k: v for k, v in data.items() if k != "kind"}
        try:
            return cls(**args)
        except TypeError as e:
            raise InvalidInputError(
                f"invalid {cls.kind!r} gate dict {dict(data)!r}: {e}; pass the output of to_dict()"
            ) from None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Gate):
            return NotImplemented
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(tuple(sorted((k, repr(v)) for k, v in self.to_dict().items())))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items() if k != "kind")
        return f"{type(self).__name__}({args})"


GATE_TYPES: dict[str, type[Gate]] = {}
"""Gate classes by ``kind``, filled by :mod:`raymlops.serving.gates.registry` (a new gate: a subclass and one line there)."""


def gate_from_dict(data: Mapping[str, Any]) -> Gate:
    """Rebuild any gate from its :meth:`Gate.to_dict` output (its ``kind`` picks the class).

    Raises:
        InvalidInputError: on an unknown kind or invalid fields.
    """
    kind = data.get("kind") if isinstance(data, Mapping) else None
    cls = GATE_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidInputError(f"unknown gate kind {kind!r}: use one of {', '.join(GATE_TYPES)}")
    return cls.from_dict(data)
