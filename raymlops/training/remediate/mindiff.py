"""In-processing: MinDiff, a logistic regression penalised by the squared MMD between two
slices' score distributions (Prost, Qian, Chen, Chi, Beutel, *Toward a better trade-off
between performance and fairness with kernel-based distribution matching*, 2019;
TensorFlow Model Remediation's ``MinDiffModel``).

:func:`mmd2_biased` is the penalty, :func:`mmd2_and_grad` it and its gradient, and
:class:`MinDiffLogisticRegression` the estimator that minimises the penalised loss.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.validation import check_is_fitted

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import py
from raymlops.training.remediate._inputs import as_vector

__all__ = ["MinDiffLogisticRegression", "mmd2_and_grad", "mmd2_biased"]

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


def mmd2_and_grad(a: np.ndarray, b: np.ndarray, l: float) -> tuple[float, np.ndarray, np.ndarray]:
    """Biased MMD² of 1-D samples and its gradient with respect to every ``a_i`` and ``b_j``.

    Returns ``(mmd2, grad_a, grad_b)``; no input checks (the inputs are a fit's own scores).

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
    with respect to each score is analytic (see :func:`mmd2_and_grad`) and is chained
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
        yv = as_vector(y, "y", n)
        gv = as_vector(groups, "groups", n)
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
                    f"slice {py(g)!r} has no rows for the MinDiff penalty (mindiff_label={self.mindiff_label!r})"
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
                mmd, ga, gb = mmd2_and_grad(sa, sb, length)
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
        self.mmd2_ = mmd2_and_grad(s[idx_a], s[idx_b], float(self.l))[0]
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
