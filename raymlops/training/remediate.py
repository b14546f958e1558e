"""Remediation when a slice underperforms: thresholds per slice, MinDiff, slice augmentation.

Three remedies, one per stage of the model, each judged by :func:`compare` on the gap
between the best and the worst slice and on the overall metric, before and after:

- **Post-processing** — :class:`SliceThresholds` gives a binary classifier's scores a
  decision threshold per slice, fitted on validation data: each slice's own best
  threshold for the objective, or (with a ``constraint``) thresholds that equalise a
  rate across slices, through fairlearn's ``ThresholdOptimizer``. No retraining.
- **In-processing** — :class:`MinDiffLogisticRegression` retrains with the MinDiff
  penalty (Prost, Qian, Chen, Chi, Beutel, *Toward a better trade-off between
  performance and fairness with kernel-based distribution matching*, 2019; TensorFlow
  Model Remediation's ``MinDiffModel``): the squared maximum mean discrepancy
  :func:`mmd2_biased` between the score distributions of the two slices is added to the
  loss, so the model learns scores that do not tell the slices apart.
- **Data** — :func:`augment_slice` adds SMOTE rows (:func:`raymlops.data.augment.smote`)
  made only from the slice's own rows.

Example:
    >>> before = {"overall": 0.90, "slices": {"a": 0.93, "b": 0.80}}
    >>> after = {"overall": 0.89, "slices": {"a": 0.91, "b": 0.86}}
    >>> result = compare(before, after)
    >>> {k: {w: round(v, 2) for w, v in result[k].items()} for k in ("slice_gap", "overall")}
    {'slice_gap': {'before': 0.13, 'after': 0.05}, 'overall': {'before': 0.9, 'after': 0.89}}
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score
from sklearn.utils.validation import check_is_fitted

from raymlops.data.augment import AUGMENTED_COLUMN, Augmented, smote
from raymlops.core.errors import InvalidInputError

__all__ = [
    "MinDiffLogisticRegression",
    "SliceThresholds",
    "augment_slice",
    "compare",
    "mmd2_biased",
    "slice_metrics",
]


def _py(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _vector(values: Any, what: str, n: int | None = None) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise InvalidInputError(f"{what} has shape {arr.shape}: pass one value per row (a 1-D array)")
    if n is not None and len(arr) != n:
        raise InvalidInputError(f"{what} has {len(arr)} values for {n} rows: pass one per row")
    return arr


def _scores(values: Any, what: str = "scores", n: int | None = None) -> np.ndarray:
    arr = _vector(values, what, n)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} must be numbers") from None
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{what} have NaN or infinite values: drop or fill those rows")
    return arr


def _binary(y: Any, n: int) -> np.ndarray:
    arr = _vector(y, "y", n)
    if len(arr) and not np.isin(pd.unique(arr), [0, 1]).all():
        raise InvalidInputError(f"y must be binary 0/1 (or bool), got values {sorted(map(str, pd.unique(arr)))[:5]}")
    return arr.astype(np.int64)


# ---------------------------------------------------------------------------- thresholds

_OBJECTIVES: Mapping[str, str] = {"accuracy": "accuracy_score", "balanced_accuracy": "balanced_accuracy_score"}
_CONSTRAINTS = (
    "demographic_parity",
    "equalized_odds",
    "true_positive_rate_parity",
    "false_positive_rate_parity",
    "true_negative_rate_parity",
    "false_negative_rate_parity",
)


class _GivenScores(BaseEstimator):
    """A pass-through 'estimator' for fairlearn: its input is the score column itself."""

    def fit(self, X: Any, y: Any = None) -> _GivenScores:
        return self

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(X, dtype=np.float64)[:, 0]

    def __sklearn_is_fitted__(self) -> bool:
        return True


def _best_threshold(scores: np.ndarray, y: np.ndarray, objective: str) -> float:
    """The threshold (``score >= t`` → 1) maximising ``objective`` on one slice, exactly.

    Candidates are the midpoints between consecutive distinct scores plus one below the
    minimum and one above the maximum; every distinct prediction is reachable. Ties go
    to the lowest threshold.
    """
    u = np.unique(scores)
    cands = np.concatenate([[u[0] - 1.0], (u[:-1] + u[1:]) / 2.0, [u[-1] + 1.0]])
    order = np.sort(scores)
    pos_sorted = np.sort(scores[y == 1])
    P, N = int(y.sum()), int(len(y) - y.sum())
    tp = P - np.searchsorted(pos_sorted, cands, side="left")
    predicted = len(order) - np.searchsorted(order, cands, side="left")
    fp = predicted - tp
    tn = N - fp
    if objective == "accuracy":
        value = (tp + tn) / len(y)
    else:
        tpr = tp / P if P else np.full(len(cands), np.nan)
        tnr = tn / N if N else np.full(len(cands), np.nan)
        value = np.nanmean(np.vstack([tpr, tnr]), axis=0)
    return float(cands[int(np.argmax(value))])


class SliceThresholds(BaseEstimator):
    """Per-slice decision thresholds for a binary classifier's scores (post-processing).

    Without a ``constraint``, each slice gets the threshold that maximises ``objective``
    on its own validation rows, found exactly by our own search over the slice's
    distinct scores: fairlearn's ``ThresholdOptimizer`` has no unconstrained mode (it
    always equalises a rate), and this case needs none of its machinery. With a
    ``constraint`` (``"demographic_parity"``, ``"equalized_odds"``,
    ``"true_positive_rate_parity"``, ``"false_positive_rate_parity"``, ...), the
    thresholds come from :class:`fairlearn.postprocessing.ThresholdOptimizer` (the
    project's library for this), which maximises ``objective`` subject to that rate
    being equal across slices (within ``tol`` when given). Its solution may randomise
    between two thresholds in a slice; ``random_state`` makes :meth:`predict`
    reproducible.

    Args:
        objective: ``"accuracy"`` or ``"balanced_accuracy"``.
        constraint: ``None`` or a fairlearn constraint name.
        tol: allowed spread of the constrained rate across slices (``None``: equal).
        grid_size: fairlearn's grid over the rate (constraint only).
        random_state: seed of fairlearn's randomised predictions (constraint only).

    Attributes:
        slices_: the slice labels seen in :meth:`fit`.
        thresholds_: slice → threshold (unconstrained only; predict ``score >= t``).
        optimizer_: the fitted ``ThresholdOptimizer`` (constraint only).

    Example:
        >>> scores = np.array([0.2, 0.4, 0.6, 0.8, 0.1, 0.2, 0.3, 0.4])
        >>> y = np.array([0, 0, 1, 1, 0, 1, 1, 1])
        >>> slices = np.array(["a"] * 4 + ["b"] * 4)
        >>> st = SliceThresholds().fit(scores, y, slices)
        >>> {k: round(v, 2) for k, v in st.thresholds_.items()}
        {'a': 0.5, 'b': 0.15}
        >>> st.predict(scores, slices).tolist()
        [0, 0, 1, 1, 0, 1, 1, 1]
    """

    def __init__(
        self,
        *,
        objective: Literal["accuracy", "balanced_accuracy"] = "accuracy",
        constraint: str | None = None,
        tol: float | None = None,
        grid_size: int = 1000,
        random_state: int = 0,
    ):
        self.objective = objective
        self.constraint = constraint
        self.tol = tol
        self.grid_size = grid_size
        self.random_state = random_state

    def fit(self, scores: Any, y: Any, slice_labels: Any) -> SliceThresholds:
        """Choose the thresholds on validation ``scores``, labels ``y`` (0/1) and slices.

        Raises:
            InvalidInputError: mismatched lengths, non-binary ``y``, non-finite scores,
                an unknown objective or constraint, or no rows.
        """
        if self.objective not in _OBJECTIVES:
            raise InvalidInputError(f"objective={self.objective!r}: use one of {sorted(_OBJECTIVES)}")
        if self.constraint is not None and self.constraint not in _CONSTRAINTS:
            raise InvalidInputError(f"constraint={self.constraint!r}: use None or one of {list(_CONSTRAINTS)}")
        s = _scores(scores)
        if len(s) == 0:
            raise InvalidInputError("no rows to fit thresholds on")
        yy = _binary(y, len(s))
        labels = _vector(slice_labels, "slice_labels", len(s))
        if pd.isna(labels).any():
            raise InvalidInputError("slice_labels have missing values: give every row a slice")
        self.slices_ = pd.unique(labels)
        if self.constraint is None:
            self.thresholds_ = {
                _py(v): _best_threshold(s[labels == v], yy[labels == v], self.objective) for v in self.slices_
            }
            return self
        try:
            from fairlearn.postprocessing import ThresholdOptimizer
        except ImportError:  # pragma: no cover - fairlearn is a project dependency (pyproject)
            raise InvalidInputError(
                "constrained thresholds need fairlearn: `pip install fairlearn`, or use constraint=None"
            ) from None
        self.optimizer_ = ThresholdOptimizer(
            estimator=_GivenScores(),
            constraints=self.constraint,
            objective=_OBJECTIVES[self.objective],
            grid_size=self.grid_size,
            prefit=True,
            predict_method="predict",
            tol=self.tol,
        ).fit(s.reshape(-1, 1), yy, sensitive_features=labels)
        return self

    def predict(self, scores: Any, slice_labels: Any) -> np.ndarray:
        """0/1 decisions for ``scores`` with each row's slice threshold.

        Raises:
            InvalidInputError: a slice not seen in :meth:`fit`, or bad inputs.
        """
        check_is_fitted(self, "slices_")
        s = _scores(scores)
        labels = _vector(slice_labels, "slice_labels", len(s))
        unknown = pd.unique(labels[~pd.Series(labels).isin(self.slices_).to_numpy()])
        if len(unknown):
            raise InvalidInputError(
                f"slice(s) {sorted(map(str, unknown))} were not in the validation data the thresholds were fitted "
                f"on ({sorted(map(str, self.slices_))}): refit with rows of every slice"
            )
        if self.constraint is None:
            thr = np.array([self.thresholds_[_py(v)] for v in labels], dtype=np.float64)
            return (s >= thr).astype(np.int64)
        pred = self.optimizer_.predict(s.reshape(-1, 1), sensitive_features=labels, random_state=self.random_state)
        return np.asarray(pred, dtype=np.int64)


# ---------------------------------------------------------------------------- MinDiff

_Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def _as_points(x: Any, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or len(arr) == 0:
        raise InvalidInputError(f"{what} has shape {np.shape(x)}: pass a non-empty (n,) or (n, d) array")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(f"{what} has NaN or infinite values")
    return arr


def _check_length(l: Any) -> float:
    real = isinstance(l, (int, float, np.integer, np.floating)) and not isinstance(l, bool)
    if not real or not math.isfinite(l) or l <= 0:
        raise InvalidInputError(f"kernel length l={l!r}: use a finite number > 0 (MinDiff's default is 0.1)")
    return float(l)


def _kernel_mean(a: np.ndarray, b: np.ndarray, l: float) -> float:
    d2 = np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=2)
    return float(np.mean(np.exp(-d2 / l**2)))


def mmd2_biased(a: Any, b: Any, l: float = 0.1) -> float:
    """The biased squared MMD between samples ``a`` and ``b`` with a Gaussian kernel.

    ``k(x, y) = exp(−‖x − y‖² / l²)`` and

    .. code-block:: text

        MMD² = mean k(a, a') + mean k(b, b') − 2 mean k(a, b)

    with every mean over all pairs, ``i = j`` included (MinDiff's formula; the biased
    V-statistic, >= 0 up to rounding). Memory is ``O(len(a) · len(b))``: subsample large inputs.

    Args:
        a: ``(n,)`` or ``(n, d)`` values (e.g. one slice's scores).
        b: ``(m,)`` or ``(m, d)`` values.
        l: the kernel length.

    Returns:
        The squared MMD.

    Raises:
        InvalidInputError: empty or non-finite inputs, different dimensions, ``l <= 0``.

    Example:
        >>> round(mmd2_biased([0.1, 0.2], [0.1, 0.2]), 12), round(mmd2_biased([0.1, 0.2], [0.5, 0.6]), 4)
        (0.0, 1.3678)
    """
    length = _check_length(l)
    pa, pb = _as_points(a, "a"), _as_points(b, "b")
    if pa.shape[1] != pb.shape[1]:
        raise InvalidInputError(f"a has {pa.shape[1]} dimensions and b {pb.shape[1]}: compare like with like")
    return _kernel_mean(pa, pa, length) + _kernel_mean(pb, pb, length) - 2.0 * _kernel_mean(pa, pb, length)


def _mmd2_and_grad(a: np.ndarray, b: np.ndarray, l: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Biased MMD² of 1-D samples and its gradient with respect to every ``a_i`` and ``b_j``.

    With ``k(x, y) = exp(−(x − y)² / l²)``, ``∂k(x, y)/∂x = −2 (x − y) k(x, y) / l²``; the
    ``a``-``a`` term counts every pair twice (``a_i`` is in row ``i`` and column ``i``):

    .. code-block:: text

        ∂MMD²/∂a_i = −4/(l² n²) Σ_j (a_i − a_j) k(a_i, a_j) + 4/(l² n m) Σ_j (a_i − b_j) k(a_i, b_j)
        ∂MMD²/∂b_j = −4/(l² m²) Σ_i (b_j − b_i) k(b_j, b_i) + 4/(l² n m) Σ_i (b_j − a_i) k(b_j, a_i)
    """
    n, m = len(a), len(b)
    daa = a[:, None] - a[None, :]
    dbb = b[:, None] - b[None, :]
    dab = a[:, None] - b[None, :]
    kaa, kbb, kab = np.exp(-(daa**2) / l**2), np.exp(-(dbb**2) / l**2), np.exp(-(dab**2) / l**2)
    value = kaa.mean() + kbb.mean() - 2.0 * kab.mean()
    c = 4.0 / l**2
    grad_a = -c / n**2 * (daa * kaa).sum(axis=1) + c / (n * m) * (dab * kab).sum(axis=1)
    grad_b = -c / m**2 * (dbb * kbb).sum(axis=1) - c / (n * m) * (dab * kab).sum(axis=0)
    return float(value), grad_a, grad_b


class MinDiffLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression with the MinDiff penalty between two slices.

    Minimises, over weights ``w`` and intercept ``b`` (``s = σ(Xw + b)``, the scores):

    .. code-block:: text

        mean log-loss(y, s) + ‖w‖² / (2 C n) + lam · MMD²(s[slice A], s[slice B])

    The first two terms are scikit-learn's ``LogisticRegression(C=C)`` objective divided
    by ``n`` (with ``lam=0`` the two give the same model). The MMD² is
    :func:`mmd2_biased` on the sigmoid scores with kernel length ``l``; its gradient
    with respect to each score is analytic (see ``_mmd2_and_grad``) and is chained
    through the sigmoid, ``∂s/∂(w, b) = s (1 − s) (x, 1)``; scipy's L-BFGS-B minimises
    the sum.

    As in the MinDiff paper, the penalty can be restricted to the examples of one label
    (``mindiff_label``): on the negatives (``0``) it matches the two slices' score
    distributions among true negatives, which targets a false-positive-rate gap and
    leaves the label rates free to differ; ``None`` matches the whole score
    distributions (a demographic-parity-like target).

    To bound the cost (the MMD is quadratic in its sample), at most ``max_mmd_rows``
    rows of each slice enter the penalty. The subsample is drawn once per :meth:`fit`
    from ``random_state``, not at every evaluation: L-BFGS's line search needs a
    deterministic objective (TensorFlow's MinDiff resamples per mini-batch, which suits
    SGD but not L-BFGS). The log-loss uses every row. A fixed subsample has a cost: its
    biased MMD² sits about ``(1/n_A + 1/n_B)(1 − mean k)`` above the population's even
    for identical distributions, and a large ``lam`` can fit the subsample's noise (a
    training ``mmd2_`` far below the MMD² on held-out rows); raise ``max_mmd_rows`` then.
    Standardise ``X`` first (the L2 penalty, like scikit-learn's, is not scale-free).

    Args:
        lam: weight of the MMD² penalty (>= 0; 0 is plain logistic regression).
        l: kernel length of the MMD (MinDiff's default 0.1, on scores in [0, 1]).
        C: inverse L2 strength, as in scikit-learn.
        max_iter: L-BFGS iterations.
        mindiff_label: ``None`` or the label whose examples enter the penalty.
        max_mmd_rows: rows per slice in the penalty's subsample.
        tol: L-BFGS's projected-gradient tolerance.
        random_state: seed of the subsample.

    Attributes:
        classes_: the two labels (``classes_[1]`` is the positive one).
        groups_: the two slice values (``groups_[0]`` is slice A).
        coef_: ``(1, d)`` weights; intercept_: ``(1,)``.
        mmd2_: the MMD² term on the training subsample at the solution.
        n_iter_: L-BFGS iterations used.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> g = rng.integers(0, 2, 400)
        >>> X = np.column_stack([rng.normal(size=400), g + rng.normal(scale=0.5, size=400)])
        >>> y = (X[:, 0] + 0.8 * g + rng.normal(size=400) > 0.4).astype(int)
        >>> plain = MinDiffLogisticRegression(lam=0.0).fit(X, y, g)
        >>> fair = MinDiffLogisticRegression(lam=2.0).fit(X, y, g)
        >>> round(plain.mmd2_, 3), round(fair.mmd2_, 3)
        (0.044, 0.009)
    """

    def __init__(
        self,
        lam: float = 1.0,
        l: float = 0.1,  # noqa: E741 - MinDiff's name for the kernel length
        C: float = 1.0,
        max_iter: int = 1000,
        mindiff_label: Any = None,
        max_mmd_rows: int = 256,
        tol: float = 1e-6,
        random_state: int = 0,
    ):
        self.lam = lam
        self.l = l
        self.C = C
        self.max_iter = max_iter
        self.mindiff_label = mindiff_label
        self.max_mmd_rows = max_mmd_rows
        self.tol = tol
        self.random_state = random_state

    def _check_params(self) -> None:
        def number(x: Any) -> bool:
            return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) and math.isfinite(x)

        if not number(self.lam) or self.lam < 0:
            raise InvalidInputError(f"lam={self.lam!r}: use a number >= 0 (0 is plain logistic regression)")
        _check_length(self.l)
        if not number(self.C) or self.C <= 0:
            raise InvalidInputError(f"C={self.C!r}: use a number > 0 (inverse L2 strength)")
        for name in ("max_iter", "max_mmd_rows"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise InvalidInputError(f"{name}={v!r}: use a whole number >= 1")
        if not number(self.tol) or self.tol <= 0:
            raise InvalidInputError(f"tol={self.tol!r}: use a number > 0")

    def _design(self, X: Any) -> np.ndarray:
        arr = np.asarray(X.to_numpy(dtype=np.float64) if isinstance(X, pd.DataFrame) else X, dtype=np.float64)
        if arr.ndim != 2:
            raise InvalidInputError(f"X has shape {arr.shape}: pass a 2-D (rows, features) array")
        if not np.all(np.isfinite(arr)):
            raise InvalidInputError("X has NaN or infinite values: impute them first")
        return arr

    def _problem(self, X: Any, y: Any, groups: Any) -> tuple[np.ndarray, _Objective, np.ndarray, np.ndarray]:
        """Validate the inputs; set ``classes_``/``groups_``; return ``(X, objective, idx_a, idx_b)``.

        ``objective(theta)`` returns the loss and its gradient at ``theta = (w, b)``.
        """
        self._check_params()
        Xa = self._design(X)
        n, d = Xa.shape
        if n == 0:
            raise InvalidInputError("X has no rows")
        yv = _vector(y, "y", n)
        gv = _vector(groups, "groups", n)
        if pd.isna(yv).any() or pd.isna(gv).any():
            raise InvalidInputError("y and groups must not have missing values")
        self.classes_ = np.unique(yv)
        if len(self.classes_) != 2:
            raise InvalidInputError(f"y has classes {self.classes_.tolist()}: MinDiff here needs exactly two")
        self.groups_ = np.unique(gv)
        if len(self.groups_) != 2:
            raise InvalidInputError(f"groups has values {self.groups_.tolist()[:5]}: mark exactly two slices")
        target = (yv == self.classes_[1]).astype(np.float64)
        eligible = np.ones(n, dtype=bool)
        if self.mindiff_label is not None:
            if self.mindiff_label not in self.classes_.tolist():
                raise InvalidInputError(
                    f"mindiff_label={self.mindiff_label!r} is not a class of y {self.classes_.tolist()}"
                )
            eligible = yv == self.mindiff_label
        rng = np.random.default_rng(self.random_state)
        picks = []
        for g in self.groups_:
            rows = np.flatnonzero(eligible & (gv == g))
            if len(rows) == 0:
                raise InvalidInputError(
                    f"slice {_py(g)!r} has no rows for the MinDiff penalty (mindiff_label={self.mindiff_label!r})"
                )
            if len(rows) > self.max_mmd_rows:
                rows = np.sort(rng.choice(rows, size=int(self.max_mmd_rows), replace=False))
            picks.append(rows)
        idx_a, idx_b = picks
        lam, length, reg = float(self.lam), float(self.l), 1.0 / (float(self.C) * n)

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:d], theta[d]
            z = Xa @ w + b
            s = expit(z)
            loss = float(np.mean(np.logaddexp(0.0, z) - target * z)) + 0.5 * reg * float(w @ w)
            r = (s - target) / n
            grad = np.append(Xa.T @ r + reg * w, r.sum())
            if lam > 0:
                sa, sb = s[idx_a], s[idx_b]
                mmd, ga, gb = _mmd2_and_grad(sa, sb, length)
                loss += lam * mmd
                da, db = lam * ga * sa * (1.0 - sa), lam * gb * sb * (1.0 - sb)
                grad[:d] += Xa[idx_a].T @ da + Xa[idx_b].T @ db
                grad[d] += da.sum() + db.sum()
            return loss, grad

        return Xa, objective, idx_a, idx_b

    def fit(self, X: Any, y: Any, groups: Any) -> MinDiffLogisticRegression:
        """Fit on ``X``, binary labels ``y`` and ``groups``, the slice of every row.

        Args:
            X: ``(n, d)`` numeric features (standardised).
            y: ``n`` labels of exactly two classes.
            groups: ``n`` slice values with exactly two distinct values (e.g. booleans).

        Raises:
            InvalidInputError: bad shapes or values, not exactly two classes or two
                slices, or a slice with no row for the penalty.
        """
        Xa, objective, idx_a, idx_b = self._problem(X, y, groups)
        d = Xa.shape[1]
        res = minimize(
            objective,
            np.zeros(d + 1),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.max_iter), "gtol": float(self.tol)},
        )
        if not res.success:
            warnings.warn(
                f"MinDiffLogisticRegression: L-BFGS stopped without converging ({res.message}) after "
                f"{res.nit} iterations; raise max_iter or tol, or standardise X",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.coef_ = res.x[:d].reshape(1, d)
        self.intercept_ = res.x[d:].copy()
        self.n_iter_ = int(res.nit)
        s = expit(Xa @ res.x[:d] + res.x[d])
        self.mmd2_ = _mmd2_and_grad(s[idx_a], s[idx_b], float(self.l))[0]
        self.n_features_in_ = d
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        """The logit of the positive class for every row."""
        check_is_fitted(self, "coef_")
        Xa = self._design(X)
        if Xa.shape[1] != self.n_features_in_:
            raise InvalidInputError(f"X has {Xa.shape[1]} features; the model was fitted on {self.n_features_in_}")
        return Xa @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X: Any) -> np.ndarray:
        """``(n, 2)`` probabilities of ``classes_``."""
        p = expit(self.decision_function(X))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: Any) -> np.ndarray:
        """The more likely class of every row (positive when its score is >= 0.5)."""
        return self.classes_[(self.decision_function(X) >= 0).astype(np.int64)]


# ---------------------------------------------------------------------------- augmentation


def augment_slice(
    df: pd.DataFrame,
    *,
    target: Hashable,
    slice_mask: Any,
    ratio: float = 1.0,
    k_neighbors: int = 5,
    numeric: Sequence[Hashable] | None = None,
    seed: int = 0,
) -> Augmented:
    """Rebalance the classes of one slice with SMOTE rows made from that slice only.

    :func:`raymlops.data.augment.smote` runs on the rows where ``slice_mask`` is True:
    every class of the slice ends with at least ``ceil(ratio × n_max)`` rows, ``n_max``
    being the slice's largest class, and each synthetic row interpolates between two
    rows of the slice (same class). Non-numeric columns are copied from the base row, so
    a slice defined by a category stays in it; a slice defined by an interval of a
    numeric column does too (the interpolation stays between two of its rows).

    Args:
        df: all rows.
        target: the class column.
        slice_mask: one boolean per row of ``df`` (array or Series in ``df``'s order).
        ratio: as in :func:`~raymlops.data.augment.smote`, within the slice.
        k_neighbors: as in :func:`~raymlops.data.augment.smote`.
        numeric: the columns to interpolate (default: every numeric feature column).
        seed: the random seed.

    Returns:
        ``(frame, added)``: every row of ``df`` unchanged, then the new rows;
        ``__augmented`` marks the new ones, ``added`` counts them per class of the slice.

    Raises:
        InvalidInputError: a mask of the wrong length or type, an empty slice, or
            anything :func:`~raymlops.data.augment.smote` rejects.

    Example:
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 5.0, 6.0, 7.0, 8.0, 9.0], "g": list("aaabbbbb"),
        ...                    "y": [0, 0, 1, 0, 0, 0, 1, 1]})
        >>> out, added = augment_slice(df, target="y", slice_mask=df["g"] == "b", seed=0)
        >>> added, out[out["__augmented"]]["g"].tolist()
        ({0: 0, 1: 1}, ['b'])
    """
    if not isinstance(df, pd.DataFrame):
        raise InvalidInputError(f"expected a pandas DataFrame, got {type(df).__name__}")
    mask = slice_mask.to_numpy() if isinstance(slice_mask, pd.Series) else np.asarray(slice_mask)
    if mask.shape != (len(df),):
        raise InvalidInputError(f"slice_mask has shape {mask.shape}: pass one boolean per row ({len(df)} rows)")
    if mask.dtype != bool:
        raise InvalidInputError(f"slice_mask has dtype {mask.dtype}: pass booleans (e.g. df['city'] == 'x')")
    if not mask.any():
        raise InvalidInputError("slice_mask selects no rows: the slice to augment is empty")
    frame, added = smote(df[mask], target=target, ratio=ratio, k_neighbors=k_neighbors, numeric=numeric, seed=seed)
    new = frame.iloc[int(mask.sum()) :]  # smote returns the slice's rows, then the new ones
    originals = df.copy()
    if AUGMENTED_COLUMN not in originals.columns:
        originals[AUGMENTED_COLUMN] = False
    out = pd.concat([originals, new], ignore_index=True)
    out[AUGMENTED_COLUMN] = out[AUGMENTED_COLUMN].astype(bool)
    return Augmented(out, added)


# ---------------------------------------------------------------------------- comparison


def slice_metrics(
    y_true: Any,
    y_pred: Any,
    slice_labels: Any,
    *,
    metric: Callable[[Any, Any], float] = accuracy_score,
) -> dict[str, Any]:
    """A metric overall and per slice: ``{"overall": x, "slices": {slice: x, ...}}``.

    Example:
        >>> slice_metrics([1, 0, 1, 1], [1, 0, 0, 1], ["a", "a", "b", "b"])
        {'overall': 0.75, 'slices': {'a': 1.0, 'b': 0.5}}
    """
    yt = _vector(y_true, "y_true")
    yp = _vector(y_pred, "y_pred", len(yt))
    labels = _vector(slice_labels, "slice_labels", len(yt))
    if len(yt) == 0:
        raise InvalidInputError("no rows to score")
    slices = {_py(v): float(metric(yt[labels == v], yp[labels == v])) for v in pd.unique(labels)}
    return {"overall": float(metric(yt, yp)), "slices": slices}


def _check_metrics(m: Any, what: str) -> tuple[float, dict[Any, float]]:
    if not isinstance(m, Mapping) or "overall" not in m or not isinstance(m.get("slices"), Mapping) or not m["slices"]:
        raise InvalidInputError(f"{what} must look like {{'overall': 0.9, 'slices': {{'a': 0.93, 'b': 0.85}}}}")
    try:
        return float(m["overall"]), {k: float(v) for k, v in m["slices"].items()}
    except (TypeError, ValueError):
        raise InvalidInputError(f"{what} has non-numeric metric values") from None


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, dict[Any, Any]]:
    """Slice gap and overall metric before and after a remediation.

    Args:
        before: ``{"overall": x, "slices": {slice: x}}`` (see :func:`slice_metrics`).
        after: the same, after the remediation, with the same slices.

    Returns:
        ``{"slice_gap": {"before", "after"}, "overall": {"before", "after"},
        "slices": {slice: {"before", "after"}}}``; the gap is the best slice's metric
        minus the worst's.

    Raises:
        InvalidInputError: malformed inputs or different slices.
    """
    ob, sb = _check_metrics(before, "before")
    oa, sa = _check_metrics(after, "after")
    if set(sb) != set(sa):
        raise InvalidInputError(
            f"before has slices {sorted(map(str, sb))} and after {sorted(map(str, sa))}: compare on the same slices"
        )
    return {
        "slice_gap": {"before": max(sb.values()) - min(sb.values()), "after": max(sa.values()) - min(sa.values())},
        "overall": {"before": ob, "after": oa},
        "slices": {k: {"before": sb[k], "after": sa[k]} for k in sb},
    }
