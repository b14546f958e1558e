from __future__ import annotations

import numpy as np
import pytest

from raymlops.labeling import LabelMatrix, lf_summary

from .conftest import load_fixture


def direct(L: np.ndarray, y: np.ndarray) -> dict:
    """Snorkel's definitions, computed densely and naively."""
    n, m = L.shape
    voted = L >= 0
    out = {k: [] for k in ("polarity", "coverage", "overlaps", "conflicts", "correct", "incorrect", "emp_acc")}
    for j in range(m):
        out["polarity"].append(sorted(set(L[voted[:, j], j].tolist())))
        out["coverage"].append(voted[:, j].mean())
        others = voted.sum(axis=1) - voted[:, j]
        out["overlaps"].append((voted[:, j] & (others > 0)).mean())
        conflict = [voted[i, j] and len(set(L[i][voted[i]].tolist())) > 1 for i in range(n)]
        out["conflicts"].append(np.mean(conflict))
        c = int((voted[:, j] & (L[:, j] == y)).sum())
        w = int((voted[:, j] & (L[:, j] != y)).sum())
        out["correct"].append(c)
        out["incorrect"].append(w)
        out["emp_acc"].append(c / (c + w) if c + w else 0.0)
    return out


def test_equals_a_direct_computation_of_snorkels_definitions():
    rng = np.random.default_rng(3)
    L = np.where(rng.random((300, 7)) < 0.4, rng.integers(0, 4, (300, 7)), -1)
    L[:, 6] = -1  # an LF that never votes
    y = rng.integers(0, 4, 300)
    got = lf_summary(LabelMatrix.from_dense(L), y)
    want = direct(L, y)
    for col, values in want.items():
        if col == "polarity":
            assert got[col].tolist() == values
        else:
            np.testing.assert_allclose(got[col].to_numpy(dtype=float), np.array(values, dtype=float), err_msg=col)


def test_equals_snorkels_own_lf_summary():
    fx = load_fixture("snorkel_lf_summary.json")  # written by Snorkel 0.10 in its own virtualenv
    got = lf_summary(LabelMatrix.from_dense(np.array(fx["L"])), np.array(fx["Y"]))
    assert got["polarity"].tolist() == fx["polarity"]
    for col in ("coverage", "overlaps", "conflicts", "correct", "incorrect", "emp_acc"):
        np.testing.assert_allclose(got[col].to_numpy(dtype=float), np.array(fx[col], dtype=float), err_msg=col)


def test_rows_with_unknown_gold_are_left_out_of_accuracy():
    L = LabelMatrix.from_dense(np.array([[0], [0], [1]]))
    s = lf_summary(L, np.array([0, -1, 0]))
    assert s["correct"].tolist() == [1.0] and s["incorrect"].tolist() == [1.0]


def test_without_gold_only_the_unsupervised_columns():
    s = lf_summary(LabelMatrix.from_dense(np.array([[0, 1], [-1, 1]])))
    assert list(s.columns) == ["name", "polarity", "coverage", "overlaps", "conflicts"]
    assert s["conflicts"].tolist() == pytest.approx([0.5, 0.5])
