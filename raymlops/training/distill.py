"""Knowledge distillation: a (registered) teacher → a smaller scikit-learn student.

The student is trained on the teacher's outputs softened at temperature ``t`` plus the
hard labels weighted by ``alpha`` (Hinton, Vinyals and Dean, *Distilling the Knowledge
in a Neural Network*, 2015):

.. code-block:: text

    loss(x, y) = alpha · CE(onehot(y), p(x)) + (1 − alpha) · t² · CE(q(x|t), p(x))
    CE(q, p)   = −Σᵢ qᵢ log pᵢ
    q(x|t)     = softmax(z(x) / t)           z: the teacher's logits

scikit-learn students take no soft targets, but every log-loss estimator takes
``sample_weight``; so :func:`distillation_set` writes the loss above as a weighted
log-loss over replicated rows: each training row once per class ``c``, with label ``c``
and weight ``(1 − alpha) · t² · q_c(x|t)``, plus ``alpha`` for its hard label. The
weighted log-loss of any model over those rows *is* the loss above, exactly (the tests
check it to 1e-9), so a log-loss student fitted with those weights minimises it.

Two differences from Hinton's neural-network recipe, both deliberate:

- The student's own outputs are at temperature 1 while it trains (an estimator's
  logits cannot be divided by ``t`` from outside). It therefore learns the softened
  distribution itself: its ``predict_proba`` is as soft as ``q`` — its argmax, and so
  its accuracy, are what matter here, and neither depends on a rescaling of the logits.
  Hinton's ``t²`` keeps the soft term's gradients comparable across temperatures for a
  student at temperature ``t``; for ours it simply weighs the soft term more as ``t``
  grows (read ``alpha`` with that in mind: the hard term's share of the weight is
  ``alpha / (alpha + (1 − alpha) t²)``).
- :func:`distill` divides the weights by ``alpha + (1 − alpha) t²`` by default
  (``DistillationConfig.normalize_weights``), so every original row carries a total
  weight of 1, as in hard-label training. The minimiser of the data term is unchanged;
  what it buys is a fair comparison: scikit-learn scales the L2 penalty against the
  total sample weight (``LogisticRegression``'s ``C``, ``MLPClassifier``'s ``alpha``),
  so unnormalised weights would silently weaken the student's regularisation by that
  factor and make a distilled student look better than the same student on hard labels
  for the wrong reason.

Students come from a small registry (:data:`STUDENT_KINDS`), each with one *capacity*
knob for sweeps: ``"logreg"`` (capacity = ``C``), ``"mlp"`` (one hidden layer of
``capacity`` units, full-batch L-BFGS so replicated rows do not change the number of
updates) and ``"hgb"`` (histogram gradient boosting with ``capacity`` boosting rounds).
:func:`model_size_bytes`, :func:`single_row_latency_ms`, :func:`pareto_front` and
:func:`pick_best` are what a sweep reports per trial and how it chooses the student to
register.

Distillation is a candidate for the sweep to weigh, not a guaranteed win. On digits
(tests), a 4-unit MLP student distilled from a 256-unit MLP at ``t`` = 2–3 beats the
same student on hard labels by about 1.6 points; with the same teacher, logistic
regression and small boosted-tree students gained nothing; an MLP student distilled
from an ``SVC`` (calibrated, or its decision function) did worse than on hard labels,
its scores carrying little of the "dark knowledge" between classes; and a random
forest's already-soft probabilities helped only at ``t = 1``.

Example:
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> teacher = LogisticRegression(max_iter=1000).fit(X, y)
    >>> config = DistillationConfig(temperature=2.0, alpha=0.1, student="logreg", capacity=0.5)
    >>> student = distill(teacher, X, y, config, seed=0)
    >>> round(float((student.predict(X) == y).mean()), 3)
    0.96
    >>> soften(np.array([[2.0, 1.0, 0.0]]), temperature=2.0).round(4)
    array([[0.5065, 0.3072, 0.1863]])
"""

from __future__ import annotations

import dataclasses
import math
import pickle
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import log_softmax
from sklearn.base import BaseEstimator
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from raymlops.core.errors import InvalidInputError

__all__ = [
    "DEFAULT_OBJECTIVES",
    "STUDENT_KINDS",
    "DistillationConfig",
    "StudentKind",
    "distill",
    "distillation_set",
    "make_student",
    "model_size_bytes",
    "pareto_front",
    "pick_best",
    "single_row_latency_ms",
    "soften",
    "teacher_logits",
    "train_hard",
]

#: Smallest probability kept: softened targets are clipped to it (and renormalised), and
#: probabilities are clipped to it before their logarithm is taken.
EPS = 1e-12

#: The objectives of :func:`pareto_front` by default: trial metric → ``"max"``/``"min"``.
DEFAULT_OBJECTIVES: Mapping[str, str] = {"accuracy": "max", "latency_ms": "min", "size_bytes": "min"}


# ---------------------------------------------------------------------------- students


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

_TEACHER_OUTPUTS = ("auto", "decision_function", "predict_proba")


def _is_real(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, (bool, np.bool_))


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
            every row weighs 1 in total (see the module docstring).
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
        if not _is_real(t) or not math.isfinite(t) or t <= 0:
            raise InvalidInputError(f"temperature={t!r}: use a finite number > 0 (1 keeps the teacher's outputs)")
        a = self.alpha
        if not _is_real(a) or not 0.0 <= a <= 1.0:
            raise InvalidInputError(f"alpha={a!r}: use a number in [0, 1], the weight of the hard labels")
        kind = STUDENT_KINDS.get(self.student) if isinstance(self.student, str) else None
        if kind is None:
            raise InvalidInputError(f"student={self.student!r}: use one of {sorted(STUDENT_KINDS)}")
        cap = kind.default_capacity if self.capacity is None else self.capacity
        if not _is_real(cap) or not math.isfinite(cap) or cap <= 0 or (kind.integer and cap != int(cap)):
            need = "a whole number >= 1" if kind.integer else "a number > 0"
            raise InvalidInputError(f"capacity={cap!r} for student {self.student!r} ({kind.capacity}): use {need}")
        if not isinstance(self.normalize_weights, bool):
            raise InvalidInputError(f"normalize_weights={self.normalize_weights!r}: use True or False")
        if self.teacher_output not in _TEACHER_OUTPUTS:
            raise InvalidInputError(f"teacher_output={self.teacher_output!r}: use one of {list(_TEACHER_OUTPUTS)}")
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


# ---------------------------------------------------------------------------- soft targets


def soften(teacher_output: Any, temperature: float, *, output: Literal["logits", "proba"] = "logits") -> np.ndarray:
    """The teacher's class distribution softened at ``temperature``.

    From logits ``z``: ``softmax(z / t)``. From probabilities ``p``:
    ``p^(1/t) / Σ p^(1/t)``, the same thing, since ``log p = z − logsumexp(z)``. Both
    are computed in log space (no overflow for any logits), probabilities are clipped
    to 1e-12 before their log, and the result is clipped to 1e-12 and renormalised, so
    it never holds an exact 0 (a large ``t`` or a confident teacher otherwise underflows).

    Args:
        teacher_output: ``(n, k)`` logits or probabilities; 1-D logits are read as a
            binary decision function ``z`` (logits ``[0, z]``).
        temperature: ``t`` > 0.
        output: ``"logits"`` or ``"proba"``.

    Returns:
        ``(n, k)`` float array whose rows sum to 1.

    Raises:
        InvalidInputError: a bad temperature, non-finite values, probabilities outside
            [0, 1] or not summing to 1.

    Example:
        >>> p = np.array([[0.7, 0.2, 0.1]])
        >>> soften(p, 2.0, output="proba").round(4)
        array([[0.5229, 0.2795, 0.1976]])
        >>> soften(np.log(p), 2.0).round(4)
        array([[0.5229, 0.2795, 0.1976]])
    """
    if not _is_real(temperature) or not math.isfinite(temperature) or temperature <= 0:
        raise InvalidInputError(f"temperature={temperature!r}: use a finite number > 0")
    if output not in ("logits", "proba"):
        raise InvalidInputError(f"output={output!r}: use 'logits' or 'proba'")
    z = np.asarray(teacher_output, dtype=np.float64)
    if z.ndim == 1 and output == "logits":
        z = np.column_stack([np.zeros_like(z), z])
    if z.ndim != 2 or z.shape[1] < 2:
        raise InvalidInputError(f"teacher output of shape {z.shape}: use (rows, classes) with at least 2 classes")
    if output == "proba":
        if not np.all(np.isfinite(z)) or np.any(z < 0) or np.any(z > 1):
            raise InvalidInputError("probabilities must be finite and in [0, 1]")
        if len(z) and np.max(np.abs(z.sum(axis=1) - 1.0)) > 1e-6:
            raise InvalidInputError("probability rows must sum to 1: pass output='logits' for unnormalised scores")
        z = np.log(np.clip(z, EPS, 1.0))
    elif not np.all(np.isfinite(z)):
        raise InvalidInputError("logits must be finite: pass probabilities with output='proba'")
    q = np.exp(log_softmax(z / float(temperature), axis=1))
    q = np.clip(q, EPS, None)
    return q / q.sum(axis=1, keepdims=True)


def teacher_logits(
    teacher: Any, X: Any, *, method: Literal["auto", "decision_function", "predict_proba"] = "auto"
) -> np.ndarray:
    """The teacher's logits on ``X``, one column per ``teacher.classes_``.

    ``"auto"`` uses ``decision_function`` when the teacher has it, else
    ``log(predict_proba)`` (probabilities clipped to 1e-12). A binary decision function
    ``z`` becomes ``[0, z]``, whose softmax is ``[1 − σ(z), σ(z)]``. Prefer
    ``"predict_proba"`` for teachers whose decision function is not a logit, e.g. an
    ``SVC`` (one-vs-rest scores derived from one-vs-one votes) or a calibrated wrapper.

    Raises:
        InvalidInputError: the teacher has neither method (or not the one asked for),
            or its output does not have one column per class.
    """
    if method not in _TEACHER_OUTPUTS:
        raise InvalidInputError(f"method={method!r}: use one of {list(_TEACHER_OUTPUTS)}")
    use_df = method == "decision_function" or (method == "auto" and hasattr(teacher, "decision_function"))
    if use_df:
        if not hasattr(teacher, "decision_function"):
            raise InvalidInputError(f"teacher {type(teacher).__name__} has no decision_function: use 'predict_proba'")
        z = np.asarray(teacher.decision_function(X), dtype=np.float64)
        if z.ndim == 1:
            z = np.column_stack([np.zeros_like(z), z])
    else:
        if not hasattr(teacher, "predict_proba"):
            raise InvalidInputError(
                f"teacher {type(teacher).__name__} has neither predict_proba nor decision_function: "
                "distillation needs a classifier with soft outputs"
            )
        z = np.log(np.clip(np.asarray(teacher.predict_proba(X), dtype=np.float64), EPS, 1.0))
    classes = getattr(teacher, "classes_", None)
    if classes is not None and (z.ndim != 2 or z.shape[1] != len(classes)):
        raise InvalidInputError(f"teacher output of shape {z.shape} does not have one column per class {list(classes)}")
    return z


def _take(X: Any, idx: np.ndarray) -> Any:
    if isinstance(X, pd.DataFrame):
        return X.iloc[idx].reset_index(drop=True)
    return np.asarray(X)[idx]


def distillation_set(
    X: Any,
    y: Any,
    soft: Any,
    *,
    alpha: float,
    temperature: float,
    classes: Sequence[Any],
    normalize: bool = False,
) -> tuple[Any, np.ndarray, np.ndarray]:
    """Replicated rows whose weighted log-loss is the distillation loss.

    Row ``i`` appears once per class ``c``, with label ``c`` and weight
    ``(1 − alpha) · t² · soft[i, c]``, plus ``alpha`` for ``c = y_i`` (its hard label: the
    hard row and the soft row of the same class are one row with the summed weight, which
    gives the same loss with ``n`` rows fewer). For any probabilistic model ``p``:

    .. code-block:: text

        Σ_rows w · (−log p(label | x))
            = Σᵢ [alpha · CE(onehot(yᵢ), p(xᵢ)) + (1 − alpha) t² · CE(soft_i, p(xᵢ))]

    and the weights sum to ``n · (alpha + (1 − alpha) t²)``, so scikit-learn's
    weighted-mean ``log_loss`` is that sum divided by it. Rows of weight exactly 0 are
    left out (they add nothing to the loss). With ``normalize``, weights are divided by
    ``alpha + (1 − alpha) t²`` (every row then weighs 1 in total).

    Args:
        X: ``(n, d)`` features (array or DataFrame; a DataFrame stays one, re-indexed).
        y: ``n`` hard labels, each in ``classes``.
        soft: ``(n, k)`` soft targets, e.g. from :func:`soften`, columns in ``classes`` order.
        alpha: hard-label weight in [0, 1].
        temperature: ``t`` > 0 (only the ``t²`` factor is used here).
        classes: the ``k`` class labels of the columns of ``soft`` (``teacher.classes_``).
        normalize: divide the weights by ``alpha + (1 − alpha) t²``.

    Returns:
        ``(X_rep, y_rep, sample_weight)``.

    Raises:
        InvalidInputError: mismatched lengths, labels not in ``classes``, soft targets
            that are not distributions, or ``alpha``/``temperature`` out of range.

    Example:
        >>> X = np.array([[0.0], [1.0]])
        >>> Xr, yr, w = distillation_set(X, ["a", "b"], [[0.9, 0.1], [0.2, 0.8]], alpha=0.5,
        ...                              temperature=2.0, classes=["a", "b"])
        >>> Xr.ravel().tolist(), yr.tolist(), w.round(2).tolist()
        ([0.0, 0.0, 1.0, 1.0], ['a', 'b', 'a', 'b'], [2.3, 0.2, 0.4, 2.1])
    """
    if not _is_real(alpha) or not 0.0 <= alpha <= 1.0:
        raise InvalidInputError(f"alpha={alpha!r}: use a number in [0, 1]")
    if not _is_real(temperature) or not math.isfinite(temperature) or temperature <= 0:
        raise InvalidInputError(f"temperature={temperature!r}: use a finite number > 0")
    classes_arr = np.asarray(classes)
    k = len(classes_arr)
    if k < 2 or len(pd.unique(classes_arr)) != k:
        raise InvalidInputError(f"classes={list(classes_arr)!r}: give at least 2 distinct class labels")
    q = np.asarray(soft, dtype=np.float64)
    n = len(X)
    if q.shape != (n, k):
        raise InvalidInputError(f"soft targets of shape {q.shape}: expected ({n}, {k}), one column per class")
    if not np.all(np.isfinite(q)) or np.any(q < 0) or (n and np.max(np.abs(q.sum(axis=1) - 1.0)) > 1e-6):
        raise InvalidInputError("soft targets must be probability rows (>= 0, summing to 1): use soften()")
    y_arr = np.asarray(y)
    if y_arr.shape != (n,):
        raise InvalidInputError(f"y has shape {y_arr.shape}: expected ({n},), one label per row of X")
    codes = pd.Index(classes_arr).get_indexer(y_arr)
    if np.any(codes < 0):
        unknown = sorted({str(v) for v in y_arr[codes < 0]})
        raise InvalidInputError(f"label(s) {unknown} are not teacher classes {list(classes_arr)!r}")
    soft_scale = (1.0 - alpha) * float(temperature) ** 2
    # row-major (row, class) order; the hard row of i is merged into its (i, y_i) row
    weights = soft_scale * q
    weights[np.arange(n), codes] += float(alpha)
    if normalize:
        weights = weights / (alpha + soft_scale)
    rows, labels = np.nonzero(weights > 0)
    return _take(X, rows), classes_arr[labels], weights[rows, labels]


def _fit_weighted(est: BaseEstimator, X: Any, y: Any, sample_weight: np.ndarray) -> BaseEstimator:
    if isinstance(est, Pipeline):
        return est.fit(X, y, **{f"{est.steps[-1][0]}__sample_weight": sample_weight})
    return est.fit(X, y, sample_weight=sample_weight)


def _check_config(config: Any) -> DistillationConfig:
    if not isinstance(config, DistillationConfig):
        raise InvalidInputError(f"config must be a DistillationConfig, got {type(config).__name__}")
    return config


def distill(teacher: Any, X: Any, y: Any, config: DistillationConfig, *, seed: int = 0) -> BaseEstimator:
    """Fit the student of ``config`` on ``teacher``'s softened outputs and the hard labels.

    Args:
        teacher: a fitted classifier with ``classes_`` and ``decision_function`` or
            ``predict_proba`` (any scikit-learn-like model, e.g. a registered one).
        X: the training rows (the transfer set).
        y: their hard labels (classes of the teacher).
        config: temperature, alpha and the student.
        seed: the student's random seed.

    Returns:
        The fitted student (its ``classes_`` are the teacher's).

    Raises:
        InvalidInputError: see :func:`teacher_logits` and :func:`distillation_set`.
    """
    config = _check_config(config)
    classes = getattr(teacher, "classes_", None)
    if classes is None:
        raise InvalidInputError(f"teacher {type(teacher).__name__} has no classes_: pass a fitted classifier")
    soft = soften(teacher_logits(teacher, X, method=config.teacher_output), config.temperature)
    X_rep, y_rep, w = distillation_set(
        X,
        y,
        soft,
        alpha=config.alpha,
        temperature=config.temperature,
        classes=classes,
        normalize=config.normalize_weights,
    )
    return _fit_weighted(make_student(config, seed=seed), X_rep, y_rep, w)


def train_hard(X: Any, y: Any, config: DistillationConfig, *, seed: int = 0) -> BaseEstimator:
    """The same student as :func:`distill` would fit, on the hard labels only (the baseline)."""
    return make_student(_check_config(config), seed=seed).fit(X, y)


# ---------------------------------------------------------------------------- trial metrics


def model_size_bytes(model: Any) -> int:
    """The size of ``model`` as a pickle (highest protocol), in bytes."""
    return len(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL))


def single_row_latency_ms(model: Any, X: Any, repeats: int = 200, *, warmup: int = 5) -> float:
    """Median wall time of ``model.predict`` on one row, in milliseconds.

    Calls cycle through the rows of ``X`` (one row per call); ``warmup`` calls are not
    timed. This is a per-trial figure for comparing candidates on the same machine, not a
    serving benchmark.

    Raises:
        InvalidInputError: empty ``X`` or ``repeats < 1``.
    """
    if not isinstance(repeats, (int, np.integer)) or isinstance(repeats, bool) or repeats < 1:
        raise InvalidInputError(f"repeats={repeats!r}: use a whole number >= 1")
    n = len(X)
    if n == 0:
        raise InvalidInputError("X has no rows: pass at least one row to time")
    frame = isinstance(X, pd.DataFrame)
    arr = X if frame else np.asarray(X)

    def row(i: int) -> Any:
        return arr.iloc[[i % n]] if frame else arr[i % n : i % n + 1]

    for i in range(max(int(warmup), 0)):
        model.predict(row(i))
    times = []
    for i in range(int(repeats)):
        r = row(i)
        t0 = time.perf_counter()
        model.predict(r)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000.0


def _objective_values(rows: Sequence[Mapping[str, Any]], objectives: Mapping[str, str]) -> np.ndarray:
    for name, direction in objectives.items():
        if direction not in ("max", "min"):
            raise InvalidInputError(f"objective {name!r}: direction {direction!r}, use 'max' or 'min'")
    values = np.empty((len(rows), len(objectives)))
    for i, row in enumerate(rows):
        for j, (name, direction) in enumerate(objectives.items()):
            v = row.get(name) if isinstance(row, Mapping) else None
            if not _is_real(v) or math.isnan(v):
                raise InvalidInputError(f"row {i} has no numeric {name!r} (got {v!r}): every row needs every objective")
            values[i, j] = v if direction == "max" else -v
    return values


def pareto_front(rows: Sequence[Mapping[str, Any]], objectives: Mapping[str, str] | None = None) -> list[bool]:
    """Which rows are Pareto-optimal: no other row is as good in every objective and better in one.

    Args:
        rows: one mapping per trial, e.g. ``{"accuracy": .9, "latency_ms": .2, "size_bytes": 9000}``.
        objectives: metric → ``"max"`` or ``"min"``; default :data:`DEFAULT_OBJECTIVES`.

    Returns:
        One bool per row (identical rows are all on the front).

    Raises:
        InvalidInputError: a row without a numeric value for an objective, or a bad direction.

    Example:
        >>> rows = [{"accuracy": 0.9, "latency_ms": 1.0}, {"accuracy": 0.8, "latency_ms": 2.0},
        ...         {"accuracy": 0.85, "latency_ms": 0.5}]
        >>> pareto_front(rows, {"accuracy": "max", "latency_ms": "min"})
        [True, False, True]
    """
    objectives = dict(DEFAULT_OBJECTIVES if objectives is None else objectives)
    if not objectives:
        raise InvalidInputError("no objectives: give at least one metric with 'max' or 'min'")
    v = _objective_values(rows, objectives)
    front = []
    for i in range(len(v)):
        dominated = np.all(v >= v[i], axis=1) & np.any(v > v[i], axis=1)
        front.append(not bool(dominated.any()))
    return front


def pick_best(
    rows: Sequence[Mapping[str, Any]],
    *,
    metric: str = "accuracy",
    latency_budget_ms: float | None = None,
    mode: Literal["max", "min"] = "max",
    latency_key: str = "latency_ms",
) -> Mapping[str, Any] | None:
    """The best row by ``metric`` among the rows within the latency budget.

    Ties on ``metric`` go to the lower latency (when rows have one), then to the earlier row.

    Args:
        rows: one mapping per trial.
        metric: the metric to optimise.
        latency_budget_ms: keep only rows with ``row[latency_key] <= budget``; ``None``
            keeps all.
        mode: ``"max"`` or ``"min"`` for ``metric``.
        latency_key: the latency field of a row.

    Returns:
        The chosen row itself, or ``None`` when no row fits the budget (or there are none).

    Raises:
        InvalidInputError: a bad budget or mode, or a row without the metric (or without
            a latency when there is a budget).

    Example:
        >>> rows = [{"accuracy": 0.95, "latency_ms": 3.0}, {"accuracy": 0.9, "latency_ms": 0.4}]
        >>> pick_best(rows)["accuracy"], pick_best(rows, latency_budget_ms=1.0)["accuracy"]
        (0.95, 0.9)
        >>> pick_best(rows, latency_budget_ms=0.1) is None
        True
    """
    if mode not in ("max", "min"):
        raise InvalidInputError(f"mode={mode!r}: use 'max' or 'min'")
    if latency_budget_ms is not None and (not _is_real(latency_budget_ms) or math.isnan(latency_budget_ms)):
        raise InvalidInputError(f"latency_budget_ms={latency_budget_ms!r}: use a number of milliseconds or None")
    keys = {metric: mode} | ({latency_key: "min"} if latency_budget_ms is not None else {})
    _objective_values(rows, keys)
    best, best_key = None, None
    for row in rows:
        lat = row.get(latency_key)
        if latency_budget_ms is not None and lat > latency_budget_ms:
            continue
        lat_key = -lat if _is_real(lat) and not math.isnan(lat) else -math.inf
        key = (row[metric] if mode == "max" else -row[metric], lat_key)
        if best_key is None or key > best_key:
            best, best_key = row, key
    return best
