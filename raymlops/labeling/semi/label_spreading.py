"""Label spreading on a sparse kNN graph (Zhou et al., 2004), for pools of millions of rows.

scikit-learn's ``LabelSpreading`` with the rbf kernel builds a dense n x n matrix
(8 GB at 32k rows, out of memory at 697k, scikit-learn #6555); its knn kernel is sparse
but searches neighbours exactly on one core. Here the graph comes from
:class:`~raymlops.labeling.semi.knn.KNNIndex` (exact for small pools, partitioned for
large ones), is made symmetric, normalised ``S = D^-1/2 W D^-1/2``, and the labels spread
by ``F <- alpha * S @ F + (1 - alpha) * Y`` until the change is under ``tol``: memory is
O(n * (k + classes)).

``y`` uses scikit-learn's convention: -1 marks an unlabeled row.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 0.3, (100, 2)), rng.normal(3, 0.3, (100, 2))])
    >>> y = np.full(200, -1); y[0], y[100] = 0, 1
    >>> ls = KNNLabelSpreading(n_neighbors=5).fit(X, y)   # scikit-learn's knn LabelSpreading: (100, 41)
    >>> int((ls.transduction_[:100] == 0).sum()), int((ls.transduction_[100:] == 1).sum())
    (100, 100)
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from raymlops.core.errors import InvalidInputError
from raymlops.labeling.semi.knn import KNNIndex

__all__ = ["KNNLabelSpreading"]


class KNNLabelSpreading(ClassifierMixin, BaseEstimator):
    """Label spreading over a kNN graph (see the module docstring).

    Args:
        n_neighbors: neighbours per row (scikit-learn's default for its knn kernel: 7).
        alpha: how much a row takes from its neighbours (scikit-learn's default: 0.2).
        max_iter, tol: iterations, and the stopping change (sum of absolute changes per row,
            averaged); it stops only once an iteration also reaches no new row. Rows no
            label reached (another component of the graph) are counted in ``unreached_``.
        exact_below, n_probe, seed: of the :class:`KNNIndex`.
    """

    def __init__(self, *, n_neighbors: int = 7, alpha: float = 0.2, max_iter: int = 100, tol: float = 1e-3, exact_below: int = 50_000, n_probe: int = 4, seed: int = 0):
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.exact_below = exact_below
        self.n_probe = n_probe
        self.seed = seed

    def fit(self, X: np.ndarray, y: np.ndarray) -> KNNLabelSpreading:
        """Spread the labels of ``y`` (-1 = unlabeled) over the graph of ``X``."""
        X = np.asarray(X)
        y = np.asarray(y)
        if len(X) != len(y):
            raise InvalidInputError(f"X has {len(X)} rows but y has {len(y)}")
        labelled = y != -1
        if not labelled.any():
            raise InvalidInputError("no labelled row (every y is -1): there is nothing to spread")
        self.classes_ = np.unique(y[labelled])
        n, k = len(X), len(self.classes_)
        self.index_ = KNNIndex(exact_below=self.exact_below, n_probe=self.n_probe, seed=self.seed).fit(X)
        idx, _ = self.index_.query(X, self.n_neighbors + 1)  # the first neighbour is the row itself
        rows = np.repeat(np.arange(n), idx.shape[1] - 1)
        W = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, idx[:, 1:].ravel())), shape=(n, n))
        W = W.maximum(W.T).tocsr()
        W.setdiag(0)
        W.eliminate_zeros()
        d = np.asarray(W.sum(axis=1)).ravel()
        inv = np.divide(1.0, np.sqrt(d), out=np.zeros_like(d), where=d > 0)
        S = sp.diags(inv) @ W @ sp.diags(inv)
        Y = np.zeros((n, k))
        Y[np.flatnonzero(labelled), np.searchsorted(self.classes_, y[labelled])] = 1.0
        F = Y.copy()
        reached = int(labelled.sum())
        self.n_iter_ = 0
        for it in range(1, self.max_iter + 1):
            nxt = self.alpha * (S @ F) + (1 - self.alpha) * Y
            change = np.abs(nxt - F).sum() / n
            F = nxt
            self.n_iter_ = it
            now = int((F.sum(axis=1) > 0).sum())
            # converged, and the labels reach no new row (with a small alpha the
            # change is tiny long before labels have travelled through the graph)
            if change < self.tol and now == reached:
                break
            reached = now
        self.unreached_ = n - reached
        total = F.sum(axis=1, keepdims=True)
        self.label_distributions_ = np.divide(F, total, out=np.full_like(F, 1.0 / k), where=total > 0)
        self.transduction_ = self.classes_[self.label_distributions_.argmax(axis=1)]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Mean label distribution of each row's nearest fitted rows."""
        check_is_fitted(self, "label_distributions_")
        idx, _ = self.index_.query(np.asarray(X), self.n_neighbors)
        return self.label_distributions_[idx].mean(axis=1)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]
