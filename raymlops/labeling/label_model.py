"""A torch-free label model: Dawid-Skene over labeling functions, abstains modelled.

Each labeling function is a "worker" with its own confusion matrix; each row a "task".
The same MAP-EM as crowd aggregation (:class:`~raymlops.labeling.aggregate.DawidSkene`)
learns how each LF answers per true class, and abstaining is one of its answers
(``P(abstain | class)``): an LF that only ever votes one class ("unipolar", the common
kind) is informative through when it abstains, as in Snorkel's model. The E-step and
the statistics stay O(votes): a row's score starts from "every LF abstained" (one
vector for all rows) and each vote swaps that LF's abstain term for its vote's; the
abstain counts are the class mass minus the mass of the rows an LF voted on.

Rows where every LF abstains get no label (NaN probabilities, ``predict`` = -1; they
still count in the class balance and the abstain rates) and are counted in
``n_uncovered_``.

Correlated LFs: Dawid-Skene assumes the LFs err independently given the true class, so
two LFs that copy each other are counted twice, and such a pair can take the model
over (it agrees with itself, so EM believes it). With ``correlation="auto"`` the model
first looks for such pairs without fitting anything: for conditionally independent LFs
the centred agreement ``M_ij = (K * agree_ij - 1) / (K - 1)`` of two LFs is ``b_i * b_j``,
with ``b = (K * accuracy - 1) / (K - 1)``; each ``b_i`` is estimated robustly as the
median over pairs of other LFs of ``M_ij * M_il / M_jl``, and a pair whose ``M_ij``
exceeds ``b_i * b_j`` by more than ``correlation_threshold`` (on rows both vote, at least
``min_overlap`` of them) is linked. Every LF of a linked group gets the weight
1 / (group size) on its likelihood, so a group counts as one LF.

A scikit-learn estimator: ``fit(L)``, ``predict_proba(L)``, ``predict(L)``, ``score(L, y)``;
``L`` is a :class:`~raymlops.labeling.lf_matrix.LabelMatrix`, a scipy sparse matrix of
``label + 1``, or a dense array with -1 for abstain.

Example:
    >>> from raymlops.labeling.simulate import simulate_lfs
    >>> L, y = simulate_lfs(n_rows=4000, seed=0)
    >>> lm = LabelModel(cardinality=2).fit(L)
    >>> round(lm.score(L, y), 3), round(float((majority_vote(L)[lm.predict(L) >= 0] == y[lm.predict(L) >= 0]).mean()), 3)
    (0.769, 0.684)
    >>> lm.n_uncovered_, lm.weights_.tolist()   # LFs 6 and 7 are the correlated pair
    (36, [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from raymlops.core.errors import InvalidInputError
from raymlops.labeling.aggregate.dawid_skene import DawidSkene
from raymlops.labeling.aggregate.em import FLOOR, Params, Shard, Stats, make_shards
from raymlops.labeling.lf_matrix import LabelMatrix

__all__ = ["LabelModel", "as_label_matrix", "majority_vote"]


def as_label_matrix(L: Any) -> LabelMatrix:
    """A :class:`LabelMatrix` from a LabelMatrix, a sparse ``label + 1`` matrix or a dense array with -1."""
    if isinstance(L, LabelMatrix):
        return L
    if sp.issparse(L):
        return LabelMatrix(sp.csr_matrix(L, dtype=np.int16), [f"lf{j}" for j in range(L.shape[1])])
    arr = np.asarray(L)
    if arr.ndim != 2:
        raise InvalidInputError(f"a label matrix has two dimensions (rows x LFs), got shape {arr.shape}")
    return LabelMatrix.from_dense(arr)


def majority_vote(L: Any, cardinality: int | None = None) -> np.ndarray:
    """Majority vote over the LFs' votes (ties to the lowest class; -1 where all abstain)."""
    m = as_label_matrix(L)
    k = cardinality or m.cardinality
    coo = m.csr.tocoo()
    votes = np.bincount(coo.row.astype(np.int64) * k + coo.data - 1, minlength=m.n_rows * k).reshape(m.n_rows, k)
    out = votes.argmax(axis=1)
    out[votes.sum(axis=1) == 0] = -1
    return out


class _AbstainDawidSkene(DawidSkene):
    """Dawid-Skene whose workers (LFs) may abstain: abstaining is a (K+1)-th answer.

    Abstain counts are not scattered from the votes: for LF j and class k they are the
    class's total posterior mass minus the mass of the rows j voted on, so the E-step
    and the statistics stay O(votes).
    """

    def m_step(self, stats: Stats, pseudo: np.ndarray) -> Params:
        w, k, _ = stats.counts.shape
        abstain = np.maximum(stats.class_counts[None, :] - stats.counts.sum(axis=2), 0.0)
        full = np.concatenate([stats.counts, abstain[:, :, None]], axis=2) + pseudo
        full = np.maximum(full, FLOOR)
        full /= full.sum(axis=2, keepdims=True)
        prior = np.maximum(stats.class_counts + self.class_prior, FLOOR)
        prior /= prior.sum()
        weight = None if self.worker_weight is None else np.asarray(self.worker_weight, dtype=float)
        return Params(log_prior=np.log(prior), log_conf=np.log(full), weight=weight)

    def pseudo_counts(self, n_workers: int, n_classes: int, sme: np.ndarray | None = None) -> np.ndarray:
        votes = super().pseudo_counts(n_workers, n_classes, sme)
        return np.concatenate([votes, np.full((n_workers, n_classes, 1), self.prior_strength)], axis=2)


class LabelModel(ClassifierMixin, BaseEstimator):
    """Dawid-Skene label model over LFs (see the module docstring).

    Args:
        cardinality: number of classes (default: the largest vote + 1).
        max_iter, tol, prior_strength, prior_accuracy, class_prior: as
            :class:`~raymlops.labeling.aggregate.DawidSkene` (LFs are assumed better than
            chance by default: ``prior_accuracy=0.7``).
        correlation: ``"auto"`` to find and down-weight correlated LFs, ``None`` to trust independence.
        correlation_threshold: excess centred agreement that links two LFs.
        min_overlap: rows two LFs must both vote on to be compared.
    """

    def __init__(
        self,
        *,
        cardinality: int | None = None,
        max_iter: int = 200,
        tol: float = 1e-7,
        prior_strength: float = 2.0,
        prior_accuracy: float = 0.7,
        class_prior: float = 1.0,
        correlation: str | None = "auto",
        correlation_threshold: float = 0.2,
        min_overlap: int = 50,
    ):
        self.cardinality = cardinality
        self.max_iter = max_iter
        self.tol = tol
        self.prior_strength = prior_strength
        self.prior_accuracy = prior_accuracy
        self.class_prior = class_prior
        self.correlation = correlation
        self.correlation_threshold = correlation_threshold
        self.min_overlap = min_overlap

    def _ds(self, weight: np.ndarray | None) -> DawidSkene:
        return _AbstainDawidSkene(
            max_iter=self.max_iter, tol=self.tol, prior_strength=self.prior_strength, prior_accuracy=self.prior_accuracy,
            class_prior=self.class_prior, worker_weight=weight,
        )

    def _fit_ds(self, m: LabelMatrix, k: int, weight: np.ndarray | None) -> tuple[DawidSkene, Params, list[Shard], int]:
        """EM over the votes, in shards of whole rows."""
        ds = self._ds(weight)
        coo = m.csr.tocoo()
        shards = make_shards(coo.row, coo.col, coo.data.astype(np.int32) - 1, n_workers=m.n_lfs, n_classes=k)
        sme = np.zeros(m.n_lfs, dtype=bool)
        pseudo = ds.pseudo_counts(m.n_lfs, k, sme)  # (W, K, K + 1): abstaining is an answer
        n_uncovered = m.n_rows - sum(s.n_tasks for s in shards)
        uniform = Stats(np.zeros((m.n_lfs, k, k)), np.full(k, n_uncovered / k), 0.0)
        init = sum((s.init_stats(weight) for s in shards), uniform)

        def step(p: Params) -> Stats:
            # rows where every LF abstained: all alike, one posterior for all of them
            base = p.log_prior + (p.log_conf[:, :, k].sum(axis=0) if p.weight is None else p.weight @ p.log_conf[:, :, k])
            top = base.max()
            post = np.exp(base - top)
            z = post.sum()
            extra = Stats(np.zeros((m.n_lfs, k, k)), n_uncovered * post / z, float(n_uncovered * (top + np.log(z))))
            return sum((s.step(p) for s in shards), extra)

        params, _, it, _ = ds.fit_from_stats(init, step, n_labels=int(coo.nnz), pseudo=pseudo)
        return ds, params, shards, it

    def fit(self, L: Any, y: Any = None) -> LabelModel:
        """Learn each LF's confusion matrix and the class balance from the votes ``L`` (``y`` is ignored)."""
        m = as_label_matrix(L)
        k = self.cardinality or m.cardinality
        if m.csr.nnz and int(m.csr.data.max()) > k:
            raise InvalidInputError(f"a labeling function voted class {int(m.csr.data.max()) - 1}, but cardinality is {k}")
        if m.csr.nnz == 0:
            raise InvalidInputError("every labeling function abstained on every row: there is nothing to learn")
        self.n_classes_ = k
        if self.correlation not in ("auto", None):
            raise InvalidInputError(f"correlation={self.correlation!r}: use 'auto' or None")
        weight = None
        if self.correlation == "auto" and m.n_lfs > 2 and k > 1:
            weight = self._correlation_weights(m, k)
        _, params, _, it = self._fit_ds(m, k, weight)
        self.params_ = params
        self.weights_ = weight if weight is not None else np.ones(m.n_lfs)
        full = np.exp(params.log_conf)
        self.abstain_ = full[:, :, k]
        votes = full[:, :, :k]
        self.confusion_ = votes / votes.sum(axis=2, keepdims=True)  # given that the LF votes
        self.class_prior_ = np.exp(params.log_prior)
        voting = (self.class_prior_[None, :] * (1.0 - self.abstain_)).sum(axis=1)  # P(the LF votes)
        self.accuracy_ = (self.class_prior_[None, :] * np.diagonal(full, axis1=1, axis2=2)[:, :k]).sum(axis=1) / voting
        self.n_iter_ = it
        self.names_ = list(m.names)
        self.n_uncovered_ = int((~m.covered()).sum())
        return self

    def _correlation_weights(self, m: LabelMatrix, k: int) -> np.ndarray:
        """1 / (size of the group of linked LFs) per LF (see the module docstring)."""
        lfs = m.n_lfs
        voted = (m.csr != 0).astype(np.float64).tocsr()
        overlap = (voted.T @ voted).toarray()
        agree = np.zeros((lfs, lfs))
        for c in range(k):
            v = (m.csr == c + 1).astype(np.float64)
            agree += (v.T @ v).toarray()
        ok = overlap >= self.min_overlap
        rate = np.divide(agree, overlap, out=np.zeros_like(overlap), where=ok)
        # centred agreement: b_i * b_j for conditionally independent LFs, b = (K acc - 1) / (K - 1)
        M = np.where(ok, (k * rate - 1.0) / (k - 1.0), np.nan)
        rng = np.random.default_rng(0)
        b = np.full(lfs, np.nan)
        for i in range(lfs):
            others = np.flatnonzero(ok[i] & (np.arange(lfs) != i))
            if len(others) < 2:
                continue
            j, l = np.triu_indices(len(others), 1)
            if len(j) > 2000:
                pick = rng.choice(len(j), 2000, replace=False)
                j, l = j[pick], l[pick]
            j, l = others[j], others[l]
            denom = M[j, l]
            use = np.isfinite(denom) & (np.abs(denom) > 0.05)
            if use.any():
                b[i] = np.sqrt(max(float(np.median(M[i, j[use]] * M[i, l[use]] / denom[use])), 0.0))
        excess = M - np.outer(b, b)
        excess = np.where(np.isfinite(excess), excess, 0.0)
        np.fill_diagonal(excess, 0.0)
        self.excess_agreement_ = excess
        linked = sp.csr_matrix(excess > self.correlation_threshold)
        n_groups, group = sp.csgraph.connected_components(linked, directed=False)
        sizes = np.bincount(group, minlength=n_groups)
        return 1.0 / sizes[group]

    def predict_proba(self, L: Any) -> np.ndarray:
        """(n, K) class probabilities; NaN rows where every LF abstains."""
        check_is_fitted(self, "params_")
        m = as_label_matrix(L)
        coo = m.csr.tocoo()
        out = np.full((m.n_rows, self.n_classes_), np.nan)
        if coo.nnz:
            s = Shard.build(coo.row, coo.col, coo.data.astype(np.int32) - 1, n_workers=m.n_lfs, n_classes=self.n_classes_)
            out[s.task_ids] = s.e_step(self.params_)[0]
        return out

    def predict(self, L: Any) -> np.ndarray:
        """Most probable class per row; -1 where every LF abstains."""
        p = self.predict_proba(L)
        covered = ~np.isnan(p).any(axis=1)
        out = np.full(len(p), -1)
        out[covered] = p[covered].argmax(axis=1)
        return out

    def score(self, L: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy on the covered rows."""
        pred = self.predict(L)
        y = np.asarray(y)
        covered = pred >= 0
        return float((pred[covered] == y[covered]).mean()) if covered.any() else float("nan")
