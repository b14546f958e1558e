"""SliceLine: planted slices are found, pruning is exact (brute force), support and determinism."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raymlops.core.errors import InvalidInputError
from raymlops.training.evaluate import SliceSpec
from raymlops.training.slices import FoundSlice, default_min_support, find_worst_slices, slice_score

N = 10_000


@pytest.fixture(scope="module")
def planted():
    """color=red AND age in the top quartile: 60% error; elsewhere 5%."""
    rng = np.random.default_rng(11)
    X = pd.DataFrame(
        {
            "color": rng.choice(["red", "blue", "green", "yellow"], N),
            "age": rng.uniform(18, 90, N).round(1),
            "city": rng.choice(["oslo", "lima", "pune"], N),
            "income": rng.lognormal(10, 1, N),
            "member": rng.random(N) < 0.3,
        }
    )
    top_age = X["age"] >= np.quantile(X["age"], 0.75)
    bad = (X["color"] == "red") & top_age
    errors = (rng.random(N) < np.where(bad, 0.6, 0.05)).astype(float)
    return X, errors, bad.to_numpy()


def test_planted_two_feature_slice_is_the_top_slice(planted):
    X, errors, bad = planted
    found = find_worst_slices(X, errors, k=5)
    top = found[0]
    top_bucket = SliceSpec(column="age", buckets=4).assign(X)[X["age"].idxmax()]  # "age=[q3, max]"
    assert top.predicates == {"color": "red", "age": top_bucket.split("=", 1)[1]}
    # the same name and rows as evaluate.py's cross of the same columns
    cross = SliceSpec(column="color", cross=SliceSpec(column="age", buckets=4)).assign(X)
    assert top.name == cross[bad].unique().item()
    assert top.size == int(bad.sum()) == int((cross == top.name).sum())
    assert top.error_rate == pytest.approx(errors[bad].mean(), abs=1e-12)
    assert top.score == pytest.approx(
        slice_score(bad.sum(), errors[bad].sum(), mean_error=errors.mean(), n_rows=N), abs=1e-9
    )
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
    assert all(isinstance(f, FoundSlice) and f.score > 0 for f in found)
    assert top.to_dict() == {
        "predicates": top.predicates,
        "name": top.name,
        "size": top.size,
        "error_rate": top.error_rate,
        "score": top.score,
    }


def test_planted_single_feature_slice(planted):
    X, _, _ = planted
    rng = np.random.default_rng(12)
    bad = X["city"] == "lima"
    errors = (rng.random(N) < np.where(bad, 0.3, 0.05)).astype(float)
    found = find_worst_slices(X, errors, k=3)
    assert found[0].predicates == {"city": "lima"} and found[0].name == "city=lima"
    assert found[0].size == int(bad.sum()) and found[0].level == 1


def test_per_row_losses_find_the_planted_slice(planted):
    X, _, bad = planted
    rng = np.random.default_rng(13)
    losses = rng.exponential(0.2, N) * np.where(bad, 5.0, 1.0)
    found = find_worst_slices(X, losses, k=2)
    assert set(found[0].predicates) == {"color", "age"} and found[0].predicates["color"] == "red"
    assert found[0].size == int(bad.sum())


def test_min_support_is_respected(planted):
    X, errors, bad = planted
    default = find_worst_slices(X, errors, k=10)
    assert default_min_support(N) == 100 and all(f.size >= 100 for f in default)
    for min_support in (40, 800):
        found = find_worst_slices(X, errors, k=10, min_support=min_support)
        assert found and all(f.size >= min_support for f in found)
    # the planted slice has fewer rows than 800, so it is not reported then
    assert int(bad.sum()) < 800
    assert all(f.size != int(bad.sum()) for f in find_worst_slices(X, errors, k=10, min_support=800))


def test_results_are_deterministic_and_independent_of_row_order(planted):
    X, errors, _ = planted
    first = find_worst_slices(X, errors, k=8)
    assert find_worst_slices(X, errors, k=8) == first
    order = np.random.default_rng(0).permutation(N)
    shuffled = find_worst_slices(X.iloc[order], errors[order], k=8)
    assert [(f.name, f.size) for f in shuffled] == [(f.name, f.size) for f in first]
    assert [f.score for f in shuffled] == pytest.approx([f.score for f in first], abs=1e-9)


def test_max_level_limits_predicates(planted):
    X, errors, _ = planted
    found = find_worst_slices(X, errors, k=5, max_level=1)
    assert found and all(f.level == 1 for f in found)
    assert {f.level for f in find_worst_slices(X, errors, k=20, max_level=2)} <= {1, 2}


def test_missing_values_are_a_predicate():
    rng = np.random.default_rng(14)
    n = 3000
    X = pd.DataFrame({"zip": rng.choice(["0150", "0151", "0152"], n).astype(object), "x": rng.normal(size=n)})
    missing = rng.random(n) < 0.1
    X.loc[missing, "zip"] = None
    errors = (rng.random(n) < np.where(missing, 0.5, 0.05)).astype(float)
    top = find_worst_slices(X, errors, k=1)[0]
    assert top.predicates == {"zip": None} and top.name == "zip is null" and top.size == int(missing.sum())


def test_rare_values_beyond_max_categories_get_no_predicate():
    rng = np.random.default_rng(15)
    n = 4000
    shop = rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1])
    errors = (rng.random(n) < np.where(shop == "d", 0.5, 0.05)).astype(float)
    X = pd.DataFrame({"shop": shop})
    assert find_worst_slices(X, errors, k=1)[0].name == "shop=d"
    capped = find_worst_slices(X, errors, k=5, max_categories=3)
    assert all(f.predicates["shop"] != "d" for f in capped)


def test_nothing_to_find():
    X = pd.DataFrame({"a": ["x", "y"] * 100})
    assert find_worst_slices(X, np.zeros(200)) == []
    assert find_worst_slices(X, np.ones(200)) == []  # uniform errors: no slice is worse than average
    assert find_worst_slices(X.iloc[:0], np.zeros(0)) == []


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"errors": np.ones(3)}, "one error per row"),
        ({"errors": -np.ones(200)}, ">= 0"),
        ({"errors": np.full(200, np.nan)}, "finite"),
        ({"k": 0}, "k=0"),
        ({"max_level": 0}, "max_level=0"),
        ({"min_support": 0}, "min_support=0"),
        ({"alpha": 0.0}, "alpha"),
        ({"alpha": 1.5}, "alpha"),
        ({"bins": 0}, "bins=0"),
    ],
)
def test_invalid_arguments(kwargs, match):
    X = pd.DataFrame({"a": ["x", "y"] * 100})
    args = {"errors": np.ones(200), **kwargs}
    with pytest.raises(InvalidInputError, match=match):
        find_worst_slices(X, **args)
    with pytest.raises(InvalidInputError, match="DataFrame"):
        find_worst_slices(X.to_numpy(), np.ones(200))
    with pytest.raises(InvalidInputError, match="repeats column"):
        find_worst_slices(pd.concat([X, X], axis=1), np.ones(200))


# ---------------------------------------------------------------------------- exactness


def _brute_force(
    X: pd.DataFrame, e: np.ndarray, *, max_level: int, min_support: int, alpha: float
) -> list[tuple[float, str]]:
    """Score every conjunction of column=value predicates (categorical data only)."""
    n, e_avg = len(X), e.mean()
    out = []
    frame = X.assign(_e=e)
    for level in range(1, max_level + 1):
        for cols in itertools.combinations(X.columns, level):
            stats = frame.groupby(list(cols))["_e"].agg(["size", "sum"])
            for key, row in stats.iterrows():
                key = key if isinstance(key, tuple) else (key,)
                sc = slice_score(row["size"], row["sum"], mean_error=e_avg, n_rows=n, alpha=alpha)
                if row["size"] >= min_support and sc > 0:
                    out.append((sc, " & ".join(f"{c}={v}" for c, v in zip(cols, key))))
    return sorted(out, key=lambda t: -t[0])


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(30, 400),
    n_features=st.integers(1, 4),
    k=st.integers(1, 8),
    max_level=st.integers(1, 4),
    min_support=st.integers(1, 40),
    alpha=st.sampled_from([0.5, 0.8, 0.95, 1.0]),
)
def test_pruning_is_exact_against_brute_force(seed, n, n_features, k, max_level, min_support, alpha):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({f"f{j}": rng.choice(list("abcd")[: rng.integers(2, 5)], n) for j in range(n_features)})
    bad = np.ones(n, dtype=bool)
    for j in range(rng.integers(1, n_features + 1)):
        bad &= X[f"f{j}"].to_numpy() == "a"
    e = rng.exponential(1.0, n) * np.where(bad, 4.0, 1.0)  # continuous: no ties between distinct row sets
    found = find_worst_slices(X, e, k=k, max_level=max_level, min_support=min_support, alpha=alpha)
    expected = _brute_force(X, e, max_level=max_level, min_support=min_support, alpha=alpha)[:k]
    assert [f.score for f in found] == pytest.approx([s for s, _ in expected], rel=1e-9, abs=1e-12)
    for f in found:  # each reported slice is what it says
        mask = np.ones(n, dtype=bool)
        for column, value in f.predicates.items():
            mask &= X[column].to_numpy() == value
        assert f.size == mask.sum() >= min_support
        assert f.error_rate == pytest.approx(e[mask].mean(), rel=1e-9)
        expected_score = slice_score(f.size, e[mask].sum(), mean_error=e.mean(), n_rows=n, alpha=alpha)
        assert f.score == pytest.approx(expected_score, rel=1e-9)
