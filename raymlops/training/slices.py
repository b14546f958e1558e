"""Find the slices where a model does worst, automatically (SliceLine).

Implements SliceLine (Sagadeeva & Boehm, "SliceLine: Fast, Linear-Algebra-based Slice
Finding for ML Model Debugging", SIGMOD 2021), following its linear-algebra
formulation (and Apache SystemDS's ``sliceLine`` builtin):

1. **Features.** Every column becomes predicates ``column=value``: a numeric column with
   more than ``bins`` distinct values is cut into ``bins`` quantile buckets (the same
   buckets, with the same labels, as ``SliceSpec(column=..., buckets=bins)`` of
   :mod:`raymlops.training.evaluate`), other columns give one predicate per value,
   keeping the ``max_categories`` most frequent values (rows with a rarer value get no
   predicate of that column); missing values are a predicate of their own
   (``column is null``). The rows are one-hot encoded into a sparse ``n × l`` matrix
   ``X``.
2. **Slices** are conjunctions of predicates on distinct columns, up to ``max_level``
   predicates. A slice ``S`` with ``|S|`` rows and error sum ``se`` has the score

   ``sc = alpha * ((se / |S|) / ē - 1) - (1 - alpha) * (n / |S| - 1)``

   where ``ē`` is the mean error over all ``n`` rows: positive when the slice's error
   rate is well above average and the slice is not too small (``alpha`` trades the
   two). Only slices with at least ``min_support`` rows and ``sc > 0`` are reported.
3. **Level-wise enumeration.** Level 1 scores every predicate (column sums of ``X`` and
   of ``X * e``). Level ``L`` candidates join pairs of surviving level ``L-1`` slices
   that share ``L-2`` predicates (``S Sᵀ == L-2``), dropping joins with two predicates
   of the same column and duplicates. A candidate is evaluated as
   ``I = (X Pᵀ == L)`` (rows that satisfy all ``L`` predicates): sizes ``colSums(I)``,
   error sums ``eᵀ I``, max errors ``colMaxs(I * e)``.
4. **Pruning** (before evaluating): a candidate is dropped unless all ``L`` of its
   parents survived the previous level (each with at least ``min_support`` rows and a
   positive error sum), and unless its score upper bound can still reach the top-k. The
   bound uses the parents' minima as upper bounds of the candidate's size ``ss ≤ min
   |parent|``, error sum ``se ≤ min se(parent)`` and maximum error ``sm ≤ min
   sm(parent)``: the score is maximised over sizes ``s`` in ``[min_support, ss]`` with
   error ``min(se, sm * s)``, which (the score being monotone on either side of ``s =
   se/sm``) means probing ``s ∈ {min_support, clip(se/sm), ss}``. A candidate whose bound
   is not positive, or below the current k-th best score, cannot enter the top-k, nor
   can any of its descendants, whose bounds are no larger.

The pruning is exact: the top-k scores equal those of scoring every slice (the tests
check this against brute force). Errors must be non-negative (0/1 misclassifications or
per-row losses such as log loss or squared error), as the bounds assume.

Example:
    >>> rng = np.random.default_rng(0)
    >>> n = 4000
    >>> X = pd.DataFrame({"color": rng.choice(["red", "blue", "green"], n),
    ...                   "size": rng.choice(["S", "M", "L"], n), "age": rng.uniform(18, 90, n)})
    >>> bad = (X["color"] == "red") & (X["size"] == "L")
    >>> errors = (rng.random(n) < np.where(bad, 0.5, 0.05)).astype(float)
    >>> top = find_worst_slices(X, errors, k=3)
    >>> top[0].name, top[0].size, round(top[0].error_rate, 3)
    ('color=red & size=L', 417, 0.475)
    >>> top[0].predicates
    {'color': 'red', 'size': 'L'}
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import is_numeric_series
from raymlops.training.evaluate.binning import bin_column, slice_name

__all__ = ["FoundSlice", "default_min_support", "find_worst_slices", "slice_score"]

_EVAL_CELLS = 20_000_000  # rows × candidates evaluated per sparse product


@dataclass(frozen=True)
class FoundSlice:
    """A slice found by :func:`find_worst_slices`.

    Attributes:
        predicates: ``{column: value}`` in the data's column order; a value is a
            category, a bucket label such as ``"[30, 45)"``, or ``None`` (missing).
        name: the readable name, as in :mod:`raymlops.training.evaluate`
            (``"color=red & age=[30, 45)"``).
        size: rows in the slice.
        error_rate: mean error of its rows.
        score: the SliceLine score (see the module docstring).
    """

    predicates: dict[Any, Any]
    name: str
    size: int
    error_rate: float
    score: float

    @property
    def level(self) -> int:
        """Number of predicates."""
        return len(self.predicates)

    def to_dict(self) -> dict[str, Any]:
        return {
            "predicates": {str(k): v for k, v in self.predicates.items()},
            "name": self.name,
            "size": self.size,
            "error_rate": self.error_rate,
            "score": self.score,
        }


def default_min_support(n_rows: int) -> int:
    """The default minimum slice size: ``max(32, ceil(1% of the rows))``.

    Example:
        >>> default_min_support(1000), default_min_support(10_000)
        (32, 100)
    """
    return max(32, math.ceil(0.01 * n_rows))


def slice_score(size: Any, error_sum: Any, *, mean_error: float, n_rows: int, alpha: float = 0.95) -> Any:
    """The SliceLine score ``alpha * ((se/|S|)/ē - 1) - (1-alpha) * (n/|S| - 1)``.

    Works on numbers or numpy arrays; an empty slice scores ``-inf``.

    Example:
        >>> round(slice_score(100, 30.0, mean_error=0.1, n_rows=1000), 4)
        1.45
    """
    size = np.asarray(size, dtype=np.float64)
    error_sum = np.asarray(error_sum, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = alpha * ((error_sum / size) / mean_error - 1.0) - (1.0 - alpha) * (n_rows / size - 1.0)
    sc = np.where(size > 0, sc, -np.inf)
    return float(sc) if sc.ndim == 0 else sc


def _score_upper_bound(
    ss: np.ndarray, se: np.ndarray, sm: np.ndarray, *, e_avg: float, sigma: int, alpha: float, n: int
) -> np.ndarray:
    """Upper bound of the score of any slice with size in [sigma, ss], error <= se, max error <= sm."""
    best = np.full(len(ss), -np.inf)
    kink = np.clip(se / sm, sigma, ss)
    for s in (np.full(len(ss), float(sigma)), kink, ss.astype(np.float64)):
        ex = np.minimum(se, sm * s)
        sc = alpha * ((ex / s) / e_avg - 1.0) - (1.0 - alpha) * (n / s - 1.0)
        best = np.maximum(best, sc)
    return best


def _check_int(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(f"{name}={value!r}: use a whole number >= {minimum}")
    return int(value)


def _encode(X: pd.DataFrame, bins: int, max_categories: int) -> tuple[list[tuple[int, Any]], np.ndarray, np.ndarray]:
    """Predicates ``(column position, value)`` and, per row, the predicate index of each column (-1: none)."""
    predicates: list[tuple[int, Any]] = []
    codes_by_column = []
    for j, col in enumerate(X.columns):
        s = X[col]
        if is_numeric_series(s) and s.nunique(dropna=True) > bins:
            codes, labels = bin_column(s, buckets=bins)
        else:
            codes, labels = bin_column(s)
            if len(labels) > max_categories:
                counts = np.bincount(codes, minlength=len(labels))
                keep = np.sort(np.argsort(-counts, kind="stable")[:max_categories])
                remap = np.full(len(labels), -1, dtype=np.int64)
                remap[keep] = np.arange(len(keep))
                codes = remap[codes]
                labels = [labels[i] for i in keep]
        offset = len(predicates)
        predicates.extend((j, v) for v in labels)
        codes_by_column.append(np.where(codes >= 0, codes + offset, -1))
    codes = np.column_stack(codes_by_column) if codes_by_column else np.zeros((len(X), 0), dtype=np.int64)
    feature_of = np.array([j for j, _ in predicates], dtype=np.int64)
    return predicates, codes, feature_of


def _one_hot(idx: np.ndarray, n_cols: int) -> sp.csr_array:
    """Rows of ``idx`` (each a list of column indices, -1 ignored) as a sparse 0/1 matrix."""
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    cols = idx.ravel()
    ok = cols >= 0
    return sp.csr_array(
        (np.ones(int(ok.sum()), dtype=np.float64), (rows[ok], cols[ok])), shape=(idx.shape[0], n_cols)
    )


def _evaluate(X1: sp.csr_array, e: np.ndarray, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sizes, error sums and max errors of candidate slices: ``I = (X Pᵀ == level)``."""
    n, level = X1.shape[0], cand.shape[1]
    c = len(cand)
    ss = np.zeros(c)
    se = np.zeros(c)
    sm = np.zeros(c)
    step = max(1, _EVAL_CELLS // max(n, 1))
    for start in range(0, c, step):
        block = cand[start : start + step]
        M = (X1 @ _one_hot(block, X1.shape[1]).T).tocoo()
        hit = M.data == level
        rows, cols = M.row[hit], M.col[hit]
        b = len(block)
        ss[start : start + b] = np.bincount(cols, minlength=b)
        se[start : start + b] = np.bincount(cols, weights=e[rows], minlength=b)
        mx = np.zeros(b)
        np.maximum.at(mx, cols, e[rows])
        sm[start : start + b] = mx
    return ss, se, sm


def _pairs(parents: np.ndarray, n_cols: int, level: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of parent slices sharing ``level - 2`` predicates."""
    s = len(parents)
    if level == 2:
        return np.triu_indices(s, k=1)
    S = _one_hot(parents, n_cols)
    shared = sp.triu(S @ S.T, k=1).tocoo()
    hit = shared.data == level - 2
    return shared.row[hit].astype(np.int64), shared.col[hit].astype(np.int64)


def _group_min(values: np.ndarray, starts: np.ndarray, order: np.ndarray) -> np.ndarray:
    return np.minimum.reduceat(values[order], starts)


class _TopK:
    """The k best slices so far (score desc, then fewer predicates, then predicate order)."""

    def __init__(self, k: int):
        self.k = k
        self.items: list[tuple[float, int, tuple[int, ...], int, float]] = []

    def add(self, idx: np.ndarray, ss: np.ndarray, se: np.ndarray, sc: np.ndarray, sigma: int) -> None:
        ok = (sc > 0) & (ss >= sigma)
        new = [
            (float(sc[r]), idx.shape[1], tuple(int(x) for x in idx[r]), int(ss[r]), float(se[r]))
            for r in np.flatnonzero(ok)
        ]
        self.items = sorted(self.items + new, key=lambda t: (-t[0], t[1], t[2]))[: self.k]

    @property
    def threshold(self) -> float:
        """The score a candidate's bound must reach to matter (> 0 and >= the k-th best)."""
        return self.items[-1][0] if len(self.items) >= self.k else 0.0


def find_worst_slices(
    X: pd.DataFrame,
    errors: Any,
    *,
    k: int = 5,
    max_level: int = 3,
    min_support: int | None = None,
    alpha: float = 0.95,
    bins: int = 4,
    max_categories: int = 20,
) -> list[FoundSlice]:
    """The ``k`` slices with the highest SliceLine score (see the module docstring).

    Args:
        X: the features of the evaluated rows (any columns; the target may be one).
        errors: one non-negative error per row: 0/1 misclassifications or losses.
        k: how many slices to return.
        max_level: the most predicates in a slice.
        min_support: the fewest rows in a slice; default :func:`default_min_support`
            (``max(32, 1% of the rows)``).
        alpha: weight of the error rate against the slice size, in ``(0, 1]``.
        bins: quantile buckets per numeric column.
        max_categories: the most values per non-numeric column (the most frequent).

    Returns:
        At most ``k`` slices with a positive score, best first (ties: fewer predicates
        first). Empty when no slice has a positive score or the errors are all 0.

    Raises:
        InvalidInputError: ``X`` is not a DataFrame, errors are misaligned, negative or
            not finite, or a parameter is out of range.
    """
    if not isinstance(X, pd.DataFrame):
        raise InvalidInputError(f"X must be a pandas DataFrame (columns name the predicates), got {type(X).__name__}")
    if X.columns.duplicated().any():
        dupes = sorted({str(c) for c in X.columns[X.columns.duplicated()]})
        raise InvalidInputError(f"X repeats column name(s) {dupes}: give every column its own name")
    k = _check_int(k, "k", 1)
    max_level = _check_int(max_level, "max_level", 1)
    bins = _check_int(bins, "bins", 1)
    max_categories = _check_int(max_categories, "max_categories", 1)
    try:
        alpha = float(alpha)
    except (TypeError, ValueError):
        alpha = math.nan
    if not 0.0 < alpha <= 1.0:
        raise InvalidInputError(f"alpha={alpha!r}: use a weight in (0, 1] (0.95 favours error rate over size)")
    try:
        e = np.asarray(errors, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError("errors must be numbers: 0/1 misclassifications or per-row losses") from None
    if e.ndim != 1 or len(e) != len(X):
        raise InvalidInputError(f"errors has shape {e.shape} but X has {len(X)} rows: pass one error per row")
    if not np.isfinite(e).all() or (e < 0).any():
        raise InvalidInputError("errors must be finite and >= 0 (0/1 misclassifications or per-row losses)")
    n = len(X)
    sigma = default_min_support(n) if min_support is None else _check_int(min_support, "min_support", 1)
    if n == 0 or e.sum() <= 0 or X.shape[1] == 0:
        return []
    e_avg = float(e.mean())

    predicates, codes, feature_of = _encode(X.reset_index(drop=True), bins, max_categories)
    X1 = _one_hot(codes, len(predicates))

    # level 1: every predicate; keep those that can be part of a reported slice
    ss = np.asarray(X1.sum(axis=0)).ravel()
    se = X1.T @ e
    sm = np.zeros(len(predicates))
    coo = X1.tocoo()
    np.maximum.at(sm, coo.col, e[coo.row])
    keep = np.flatnonzero((ss >= sigma) & (se > 0))
    X1 = X1[:, keep]
    feature_of = feature_of[keep]
    kept_predicates = [predicates[i] for i in keep]
    n_cols = len(keep)
    idx = np.arange(n_cols, dtype=np.int64)[:, None]
    ss, se, sm = ss[keep], se[keep], sm[keep]
    top = _TopK(k)
    top.add(idx, ss, se, slice_score(ss, se, mean_error=e_avg, n_rows=n, alpha=alpha), sigma)

    for level in range(2, min(max_level, X.shape[1]) + 1):
        ok = (ss >= sigma) & (se > 0)
        idx, ss, se, sm = idx[ok], ss[ok], se[ok], sm[ok]
        if len(idx) < 2:
            break
        i, j = _pairs(idx, n_cols, level)
        if len(i) == 0:
            break
        # join each pair: the union of their predicates (exactly `level` of them)
        merged = np.sort(np.concatenate([idx[i], idx[j]], axis=1), axis=1)
        first = np.ones(merged.shape, dtype=bool)
        first[:, 1:] = merged[:, 1:] != merged[:, :-1]
        merged = merged[first].reshape(-1, level)
        # one predicate per column (predicates of a column are adjacent indices)
        features = feature_of[merged]
        valid = (features[:, 1:] != features[:, :-1]).all(axis=1)
        merged, i, j = merged[valid], i[valid], j[valid]
        if len(merged) == 0:
            break
        cand, inv = np.unique(merged, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
        order = np.argsort(inv, kind="stable")
        starts = np.flatnonzero(np.r_[True, np.diff(inv[order]) != 0])
        ub_ss = _group_min(np.minimum(ss[i], ss[j]), starts, order)
        ub_se = _group_min(np.minimum(se[i], se[j]), starts, order)
        ub_sm = _group_min(np.minimum(sm[i], sm[j]), starts, order)
        # all `level` parents must have survived (each pair contributes two of them)
        parent_links = np.unique(np.stack([np.r_[inv, inv], np.r_[i, j]]), axis=1)
        n_parents = np.bincount(parent_links[0], minlength=len(cand))
        with np.errstate(divide="ignore", invalid="ignore"):
            ub = _score_upper_bound(ub_ss, ub_se, ub_sm, e_avg=e_avg, sigma=sigma, alpha=alpha, n=n)
        threshold = top.threshold
        promising = (n_parents == level) & (ub_ss >= sigma) & (ub > 0) & (ub >= threshold)
        cand = cand[promising]
        if len(cand) == 0:
            break
        ss, se, sm = _evaluate(X1, e, cand)
        idx = cand
        top.add(idx, ss, se, slice_score(ss, se, mean_error=e_avg, n_rows=n, alpha=alpha), sigma)

    columns = list(X.columns)
    out = []
    for score, _, cols, size, err in top.items:
        pred = {columns[kept_predicates[c][0]]: kept_predicates[c][1] for c in cols}
        out.append(FoundSlice(predicates=pred, name=slice_name(pred), size=size, error_rate=err / size, score=score))
    return out
