"""Students: the registry of student kinds (one capacity knob each, for sweeps) and the
validated :class:`DistillationConfig` that says what to distil into."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from raymlops.core.errors import InvalidInputError
from raymlops.training.distill._checks import is_real
from raymlops.training.distill.soft_targets import TEACHER_OUTPUTS

__all__ = ["STUDENT_KINDS", "DistillationConfig", "StudentKind", "make_student"]


@dataclass(frozen=True)
class StudentKind:
    """A registered kind of student.

    Attributes:
        capacity: what the capacity knob means (for help texts and sweep reports).
        default_capacity: the capacity when the config gives none.
        integer: whether the capacity must be a whole number.
        build: ``(capacity, seed, params) -> unfitted estimator``; the estimator (or a
            pipeline's last step) must minimise a log-loss and accept ``sample_weight``.
    """

    capacity: str
    default_capacity: float
    integer: bool
    build: Callable[[float, int, Mapping[str, Any]], BaseEstimator]


def _logreg(capacity: float, seed: int, params: Mapping[str, Any]) -> BaseEstimator:
    est = LogisticRegression(C=float(capacity), max_iter=10_000, random_state=seed)
    return make_pipeline(StandardScaler(), est.set_params(**params))


def _mlp(capacity: float, seed: int, params: Mapping[str, Any]) -> BaseEstimator:
    # L-BFGS is full-batch: with a mini-batch solver the replicated rows of a
    # distillation set would mean (k + 1) times more updates per epoch than hard training.
    est = MLPClassifier(
        hidden_layer_sizes=(int(capacity),), solver="lbfgs", alpha=1.0, max_iter=5000, random_state=seed
    )
    return make_pipeline(StandardScaler(), est.set_params(**params))


def _hgb(capacity: float, seed: int, params: Mapping[str, Any]) -> BaseEstimator:
    # no early stopping: it would hold out a different validation split of the
    # replicated rows than of the hard rows (and switches itself on above 10,000 rows)
    est = HistGradientBoostingClassifier(
        max_iter=int(capacity), max_leaf_nodes=15, early_stopping=False, random_state=seed
    )
    return est.set_params(**params)


#: The student registry: kind → :class:`StudentKind`. One line per kind.
STUDENT_KINDS: Mapping[str, StudentKind] = {
    "logreg": StudentKind("C, the inverse L2 strength (size does not change)", 1.0, False, _logreg),
    "mlp": StudentKind("hidden units of a one-layer MLP (L-BFGS, L2 alpha=1.0)", 16, True, _mlp),
    "hgb": StudentKind("boosting rounds (max_iter) of 15-leaf trees", 50, True, _hgb),
}


@dataclass(frozen=True, kw_only=True)
class DistillationConfig:
    """What to distil into: temperature, hard-label weight and the student.

    Args:
        temperature: ``t`` > 0 (1 keeps the teacher's distribution; larger is softer).
        alpha: weight of the hard labels in [0, 1] (0: soft targets only).
        student: a kind from :data:`STUDENT_KINDS`.
        capacity: the kind's capacity (see :data:`STUDENT_KINDS`); ``None`` for its default.
        student_params: extra keyword arguments for the student's estimator (for a
            pipeline, its last step), e.g. ``{"alpha": 0.01}`` for the MLP's L2.
        normalize_weights: divide the sample weights by ``alpha + (1 − alpha) t²`` so
            every row weighs 1 in total (see :mod:`raymlops.training.distill`).
        teacher_output: how to read the teacher (see :func:`teacher_logits`).

    Raises:
        InvalidInputError: any value out of range, an unknown student kind or an
            estimator parameter the student does not have.

    Example:
        >>> config = DistillationConfig(temperature=4, alpha=0.1, student="mlp", capacity=8.0)
        >>> config  # doctest: +NORMALIZE_WHITESPACE
        DistillationConfig(temperature=4.0, alpha=0.1, student='mlp', capacity=8, student_params={},
                           normalize_weights=True, teacher_output='auto')
        >>> DistillationConfig.from_dict(config.to_dict()) == config
        True
        >>> config.options(temperature=2).temperature
        2.0
    """

    temperature: float = 2.0
    alpha: float = 0.1
    student: str = "mlp"
    capacity: float | None = None
    student_params: Mapping[str, Any] = field(default_factory=dict)
    normalize_weights: bool = True
    teacher_output: Literal["auto", "decision_function", "predict_proba"] = "auto"

    __hash__ = None  # type: ignore[assignment]  # student_params is a dict

    def __post_init__(self) -> None:
        t = self.temperature
        if not is_real(t) or not math.isfinite(t) or t <= 0:
            raise InvalidInputError(f"temperature={t!r}: use a finite number > 0 (1 keeps the teacher's outputs)")
        a = self.alpha
        if not is_real(a) or not 0.0 <= a <= 1.0:
            raise InvalidInputError(f"alpha={a!r}: use a number in [0, 1], the weight of the hard labels")
        kind = STUDENT_KINDS.get(self.student) if isinstance(self.student, str) else None
        if kind is None:
            raise InvalidInputError(f"student={self.student!r}: use one of {sorted(STUDENT_KINDS)}")
        cap = kind.default_capacity if self.capacity is None else self.capacity
        if not is_real(cap) or not math.isfinite(cap) or cap <= 0 or (kind.integer and cap != int(cap)):
            need = "a whole number >= 1" if kind.integer else "a number > 0"
            raise InvalidInputError(f"capacity={cap!r} for student {self.student!r} ({kind.capacity}): use {need}")
        if not isinstance(self.normalize_weights, bool):
            raise InvalidInputError(f"normalize_weights={self.normalize_weights!r}: use True or False")
        if self.teacher_output not in TEACHER_OUTPUTS:
            raise InvalidInputError(f"teacher_output={self.teacher_output!r}: use one of {list(TEACHER_OUTPUTS)}")
        if not isinstance(self.student_params, Mapping) or not all(isinstance(k, str) for k in self.student_params):
            raise InvalidInputError(
                f"student_params={self.student_params!r}: use a dict of estimator keyword arguments"
            )
        object.__setattr__(self, "temperature", float(t))
        object.__setattr__(self, "alpha", float(a))
        object.__setattr__(self, "capacity", int(cap) if kind.integer else float(cap))
        object.__setattr__(self, "student_params", dict(self.student_params))
        make_student(self)  # unknown estimator parameters fail here, not in a trial

    @property
    def weight_scale(self) -> float:
        """``alpha + (1 − alpha) t²``: the total weight of one row in the distillation set."""
        return self.alpha + (1.0 - self.alpha) * self.temperature**2

    def options(self, **changes: Any) -> DistillationConfig:
        """A validated copy with ``changes`` applied (the config is immutable)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (for run params and lineage)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out["student_params"] = dict(self.student_params)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DistillationConfig:
        """Inverse of :meth:`to_dict`.

        Raises:
            InvalidInputError: unknown keys or invalid values.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise InvalidInputError(f"unknown DistillationConfig key(s) {unknown}: use {sorted(names)}")
        return cls(**data)


def make_student(config: DistillationConfig, *, seed: int = 0) -> BaseEstimator:
    """The unfitted student estimator ``config`` describes.

    Raises:
        InvalidInputError: ``student_params`` names a parameter the estimator lacks.
    """
    kind = STUDENT_KINDS[config.student]
    capacity = kind.default_capacity if config.capacity is None else config.capacity
    try:
        return kind.build(capacity, int(seed), config.student_params)
    except ValueError as exc:
        raise InvalidInputError(
            f"student_params={dict(config.student_params)!r} do not fit student {config.student!r}: {exc}"
        ) from None
