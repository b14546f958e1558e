"""Tabular augmentation: SMOTE-style rebalancing and numeric jitter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.neighbors import NearestNeighbors

from raymlops.data.augment import AUGMENTED_COLUMN, jitter, smote
from raymlops.core.errors import InvalidInputError


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    sizes = {"a": 200, "b": 50, "c": 12}
    parts = []
    for shift, (cls, n) in enumerate(sizes.items()):
        parts.append(
            pd.DataFrame(
                {
                    "x1": rng.normal(shift * 3, 1.0, n),
                    "x2": rng.normal(0, 10.0, n),
                    "n": rng.integers(0, 100, n),
                    "color": rng.choice(["red", "green", "blue"], n),
                    "flag": rng.random(n) < 0.5,
                    "y": cls,
                }
            )
        )
    df = pd.concat(parts, ignore_index=True)
    return df.sample(frac=1.0, random_state=0).set_index(pd.Index([f"r{i}" for i in range(len(df))]))


def test_smote_balances_classes_and_reports_counts(frame):
    out, added = smote(frame, target="y", seed=0)
    assert out["y"].value_counts().to_dict() == {"a": 200, "b": 200, "c": 200}
    assert added == {"a": 0, "b": 150, "c": 188}
    assert out[AUGMENTED_COLUMN].sum() == 338
    assert out.loc[out[AUGMENTED_COLUMN], "y"].value_counts().to_dict() == {"b": 150, "c": 188}


def test_smote_ratio_is_relative_to_the_largest_class(frame):
    out, added = smote(frame, target="y", ratio=0.333, seed=0)
    # ceil(0.333 * 200) = 67
    assert out["y"].value_counts().to_dict() == {"a": 200, "b": 67, "c": 67}
    assert added == {"a": 0, "b": 17, "c": 55}


def test_synthetic_rows_lie_on_segments_to_same_class_nearest_neighbours(frame):
    k = 3
    out, _ = smote(frame, target="y", k_neighbors=k, numeric=["x1", "x2"], seed=1)
    synthetic = out[out[AUGMENTED_COLUMN]]
    X = frame[["x1", "x2"]].to_numpy()
    scale = X.std(axis=0)
    copied = ["n", "color", "flag", "y"]
    for cls, rows in frame.groupby("y"):
        P = rows[["x1", "x2"]].to_numpy()
        knn = NearestNeighbors(n_neighbors=k).fit(P / scale).kneighbors(return_distance=False)
        base = np.repeat(np.arange(len(P)), k)  # every (row, neighbour) pair of the class
        Q = P[knn.ravel()]
        Pb = P[base]
        for _, s in synthetic[synthetic["y"] == cls].iterrows():
            point = s[["x1", "x2"]].to_numpy(dtype=float)
            d = Q - Pb
            t = np.einsum("ij,ij->i", point - Pb, d) / np.einsum("ij,ij->i", d, d)
            off = np.linalg.norm(Pb + t[:, None] * d - point, axis=1)
            ok = (t >= -1e-12) & (t <= 1 + 1e-12) & (off < 1e-9)
            # the other columns come from the base row of a matching segment
            same = (rows.iloc[base][copied].reset_index(drop=True) == s[copied].values).all(axis=1).to_numpy()
            assert (ok & same).any(), (cls, point)


def test_integer_columns_are_rounded_and_keep_their_dtype(frame):
    out, _ = smote(frame, target="y", seed=0)
    assert out["n"].dtype == frame["n"].dtype
    assert out["flag"].dtype == bool
    syn = out[out[AUGMENTED_COLUMN]]
    assert syn["n"].between(0, 99).all()


def test_originals_are_untouched_and_come_first(frame):
    before = frame.copy()
    out, _ = smote(frame, target="y", seed=0)
    pd.testing.assert_frame_equal(frame, before)  # the input is not modified
    originals = out.iloc[: len(frame)]
    assert not originals[AUGMENTED_COLUMN].any()
    pd.testing.assert_frame_equal(originals.drop(columns=AUGMENTED_COLUMN), frame.reset_index(drop=True))


def test_smote_is_deterministic(frame):
    a, _ = smote(frame, target="y", seed=7)
    b, _ = smote(frame, target="y", seed=7)
    c, _ = smote(frame, target="y", seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)


def test_balanced_data_gets_no_rows(frame):
    balanced = frame.groupby("y").head(12)
    out, added = smote(balanced, target="y")
    assert added == {"a": 0, "b": 0, "c": 0}
    assert len(out) == len(balanced) and not out[AUGMENTED_COLUMN].any()


def test_small_class_uses_fewer_neighbours():
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0, 4.0, 50.0, 60.0], "y": [0] * 5 + [1] * 2})
    out, added = smote(df, target="y", k_neighbors=5)
    assert added == {0: 0, 1: 3}
    assert out.loc[out[AUGMENTED_COLUMN], "x"].between(50.0, 60.0).all()


# ---------------------------------------------------------------------------- jitter


def test_jitter_noise_has_the_requested_scale():
    rng = np.random.default_rng(1)
    n = 20_000
    df = pd.DataFrame({"a": rng.normal(5, 3, n), "b": rng.exponential(2, n), "k": rng.integers(0, 5, n), "y": "z"})
    out, added = jitter(df, target="y", factor=0.1, seed=0)
    assert added == {"z": n}
    new = out[out[AUGMENTED_COLUMN]].reset_index(drop=True)
    for col in ("a", "b"):
        noise = new[col].to_numpy() - df[col].to_numpy()
        expected = 0.1 * df[col].std(ddof=0)
        assert abs(noise.mean()) < 4 * expected / np.sqrt(n)  # 4 standard errors
        assert abs(noise.std() / expected - 1) < 0.03  # 3% (the std's standard error is 0.5%)
    assert (new["k"] == df["k"]).all()  # integer columns are not jittered by default


def test_jitter_copies_classes_and_markers():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, np.nan], "c": list("pqrs"), "y": ["a", "a", "b", "b"]})
    out, added = jitter(df, target="y", copies=3, classes=["b"], seed=0)
    assert added == {"a": 0, "b": 6}
    new = out[out[AUGMENTED_COLUMN]]
    assert new["c"].tolist() == ["r", "s"] * 3
    assert new["x"].isna().sum() == 3  # missing values stay missing
    pd.testing.assert_frame_equal(out.iloc[:4].drop(columns=AUGMENTED_COLUMN), df)


def test_jitter_factor_zero_duplicates_rows_and_integer_columns_round():
    df = pd.DataFrame({"x": [1.5, 2.5], "n": [10, 20], "y": [0, 1]})
    out, _ = jitter(df, target="y", factor=0.0)
    pd.testing.assert_frame_equal(out.iloc[2:].drop(columns=AUGMENTED_COLUMN).reset_index(drop=True), df)
    out, _ = jitter(df, target="y", factor=0.5, columns=["n"], seed=0)
    assert out["n"].dtype == df["n"].dtype
    assert (out["x"].iloc[2:].to_numpy() == df["x"].to_numpy()).all()


def test_jitter_is_deterministic_and_chains_after_smote(frame):
    rebalanced, _ = smote(frame, target="y", seed=0)
    a, added = jitter(rebalanced, target="y", seed=3)
    b, _ = jitter(rebalanced, target="y", seed=3)
    pd.testing.assert_frame_equal(a, b)
    assert added == {"a": 200, "b": 200, "c": 200}
    # originals stay unmarked; SMOTE rows keep their mark; every jittered copy is marked
    assert a[AUGMENTED_COLUMN].sum() == rebalanced[AUGMENTED_COLUMN].sum() + len(rebalanced)
    assert not a.iloc[: len(frame)][AUGMENTED_COLUMN].any()


# ---------------------------------------------------------------------------- errors


def test_single_row_class_cannot_be_interpolated():
    df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 9.0], "y": ["a", "a", "a", "b"]})
    with pytest.raises(InvalidInputError, match="class 'b' has 1 row"):
        smote(df, target="y")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(target="nope"), "target column 'nope' not in the data"),
        (dict(target="y", numeric=["x1", "zz"]), r"\['zz'\] not in the data"),
        (dict(target="y", numeric=["color"]), "not numeric"),
        (dict(target="y", numeric=["y"]), "cannot be an augmented feature"),
        (dict(target="y", ratio=0.0), r"ratio=0.0: use a number in \(0, 1\]"),
        (dict(target="y", ratio=2), "ratio=2"),
        (dict(target="y", k_neighbors=0), "k_neighbors=0"),
    ],
)
def test_smote_argument_errors(frame, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        smote(frame, **kwargs)


def test_smote_missing_values_and_labels_are_errors(frame):
    with pytest.raises(InvalidInputError, match=r"\['x1'\] have missing values"):
        smote(frame.assign(x1=frame["x1"].where(frame["n"] > 3)), target="y")
    with pytest.raises(InvalidInputError, match="has 1 missing value"):
        smote(frame.assign(y=frame["y"].where(frame.index != "r3")), target="y")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(factor=-1.0), "factor=-1.0"),
        (dict(copies=0), "copies=0"),
        (dict(classes=["zzz"]), r"\['zzz'\] not in column 'y'"),
        (dict(columns=["color"]), "not numeric"),
    ],
)
def test_jitter_argument_errors(frame, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        jitter(frame, target="y", **kwargs)
