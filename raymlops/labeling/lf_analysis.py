"""LF analysis with Snorkel's definitions, on the sparse label matrix.

For labeling function j over n rows (Snorkel's ``LFAnalysis.lf_summary``):

- ``polarity``: the sorted distinct labels it emits;
- ``coverage``: share of rows where it votes;
- ``overlaps``: share of rows where it votes and at least one other LF votes;
- ``conflicts``: share of rows where it votes and the row carries two different votes;
- with gold labels ``y``: ``correct`` and ``incorrect`` (its votes equal or not to ``y``),
  and ``emp_acc`` = correct / (correct + incorrect), 0 when it never votes.

The test suite checks these columns against Snorkel 0.10's own ``lf_summary`` output
(kept as a fixture; it includes an LF that never abstains) and against a naive dense
computation of the definitions.

Example:
    >>> import numpy as np
    >>> from raymlops.labeling.lf_matrix import LabelMatrix
    >>> L = LabelMatrix.from_dense(np.array([[-1, 0, 0], [-1, -1, -1], [1, 0, -1], [-1, 0, -1], [0, 0, 0]]))
    >>> s = lf_summary(L, y=np.array([0, 1, 1, 0, 0]))
    >>> s[["coverage", "overlaps", "conflicts", "correct", "incorrect"]].values.tolist()
    [[0.4, 0.4, 0.2, 2.0, 0.0], [0.8, 0.6, 0.2, 3.0, 1.0], [0.4, 0.4, 0.0, 2.0, 0.0]]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp

from raymlops.labeling.lf_matrix import LabelMatrix

__all__ = ["lf_summary", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = ["name", "polarity", "coverage", "overlaps", "conflicts", "correct", "incorrect", "emp_acc"]


def lf_summary(L: LabelMatrix, y: Sequence[int] | np.ndarray | None = None) -> pd.DataFrame:
    """One row per LF with the columns of ``SUMMARY_COLUMNS`` (the gold ones only with ``y``).

    Args:
        L: the label matrix.
        y: gold class index per row (-1 where unknown: those rows are left out of
            correct/incorrect/emp_acc).
    """
    csr = L.csr
    n, m = csr.shape
    voted = (csr != 0).astype(np.int32).tocsr()
    per_row = np.asarray(voted.sum(axis=1)).ravel()
    overlapped = (per_row > 1).astype(np.float64)
    rmax = np.asarray(csr.max(axis=1).todense()).ravel()
    rmin_nz = _row_min_nonzero(csr)
    conflicted = ((per_row > 1) & (rmax != rmin_nz)).astype(np.float64)
    coverage = np.asarray(voted.sum(axis=0)).ravel() / max(n, 1)
    overlaps = voted.T @ overlapped / max(n, 1)
    conflicts = voted.T @ conflicted / max(n, 1)
    csc = csr.tocsc()
    polarity = [sorted((np.unique(csc.data[csc.indptr[j] : csc.indptr[j + 1]]) - 1).tolist()) for j in range(m)]
    out = pd.DataFrame(
        {"name": L.names, "polarity": polarity, "coverage": coverage, "overlaps": overlaps, "conflicts": conflicts}
    )
    if y is not None:
        y = np.asarray(y)
        coo = csr.tocoo()
        known = y[coo.row] >= 0
        hit = (coo.data.astype(np.int64) - 1 == y[coo.row]) & known
        correct = np.bincount(coo.col[hit], minlength=m).astype(float)
        incorrect = np.bincount(coo.col[~hit & known], minlength=m).astype(float)
        total = correct + incorrect
        out["correct"] = correct
        out["incorrect"] = incorrect
        out["emp_acc"] = np.divide(correct, total, out=np.zeros(m), where=total > 0)
    return out


def _row_min_nonzero(csr: sp.csr_matrix) -> np.ndarray:
    """Smallest stored (non-zero) value of every row (0 for an empty row)."""
    n = csr.shape[0]
    out = np.zeros(n, dtype=np.int64)
    nz = np.diff(csr.indptr) > 0
    if csr.nnz:
        starts = csr.indptr[:-1][nz]
        out[nz] = np.minimum.reduceat(csr.data.astype(np.int64), starts)
    return out
