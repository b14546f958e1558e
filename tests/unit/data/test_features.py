"""Feature transform: encoding, selection, training-only fit, unknown categories, pickling."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from raymlops.data.features import build_feature_transform, infer_column_kinds
from raymlops.data.split import assign_split
from raymlops.core.errors import InvalidInputError

INFORMATIVE = {"num__inf1", "num__inf2", "cat__grp_g1", "cat__grp_g2"}


@pytest.fixture
def frame() -> pd.DataFrame:
    """800 rows: two informative numeric columns, one informative category, and noise."""
    rng = np.random.default_rng(0)
    n = 800
    df = pd.DataFrame({"id": np.arange(n), "inf1": rng.normal(size=n), "inf2": rng.normal(size=n)})
    for i in range(5):
        df[f"noise{i}"] = rng.normal(size=n)
    df["grp"] = rng.choice(["g1", "g2"], n)
    df["junk"] = rng.choice(["j1", "j2", "j3"], n)
    signal = df["inf1"] + df["inf2"] + np.where(df["grp"] == "g1", 1.5, -1.5)
    df["label"] = np.where(signal + 0.3 * rng.normal(size=n) > 0, "yes", "no")
    df["amount"] = 3.0 * df["inf1"] - 2.0 * df["inf2"] + 0.1 * rng.normal(size=n)
    return df


def test_mutual_info_selects_informative_features_over_noise(frame):
    transform, info = build_feature_transform(
        frame, target="label", exclude=["id", "amount"], select="mutual_info", k=4
    )
    assert set(transform.get_feature_names_out()) == INFORMATIVE
    assert set(info["features_out"]) == INFORMATIVE
    noise = [v for name, v in info["scores"].items() if name not in INFORMATIVE]
    assert min(info["scores"][name] for name in INFORMATIVE) > max(noise)
    assert transform.transform(frame).shape == (len(frame), 4)


def test_model_selection_selects_informative_features_over_noise(frame):
    transform, info = build_feature_transform(frame, target="label", exclude=["id", "amount"], select="model", k=4)
    assert set(transform.get_feature_names_out()) == INFORMATIVE
    # without k: every feature above the mean importance, which leaves out the noise
    transform, info = build_feature_transform(frame, target="label", exclude=["id", "amount"], select="model")
    selected = set(info["features_out"])
    assert {"num__inf1", "num__inf2"} <= selected
    assert not any(name.startswith(("num__noise", "cat__junk")) for name in selected)


def test_regression_selection(frame):
    transform, info = build_feature_transform(
        frame, target="amount", exclude=["id", "label"], select="mutual_info", k=2, task="regression"
    )
    assert set(transform.get_feature_names_out()) == {"num__inf1", "num__inf2"}
    assert info["task"] == "regression"


def test_transform_is_fitted_on_the_training_split_only(frame):
    # make the splits differ so the full-data mean is not the training mean
    df = frame.copy()
    df["split"] = assign_split(df, key="id")
    df.loc[df["split"] != "train", "inf1"] += 10.0
    train = df[df["split"] == "train"]
    transform, info = build_feature_transform(train, target="label", exclude=["id", "split", "amount"])
    scaler = transform.named_steps["preprocess"].named_transformers_["num"].named_steps["scale"]
    numeric = info["numeric"]
    np.testing.assert_allclose(scaler.mean_, train[numeric].mean().to_numpy())
    assert not np.allclose(scaler.mean_, df[numeric].mean().to_numpy())
    assert info["n_rows"] == len(train)
    assert "split" in info["dropped"] and "id" in info["dropped"]


def test_unknown_categories_and_missing_values_at_transform_time(frame):
    transform, _ = build_feature_transform(frame, target="label", exclude=["id", "amount"])
    names = transform.get_feature_names_out().tolist()
    serving = frame.drop(columns=["label"]).head(3).copy()  # serving rows carry no target
    serving["grp"] = ["g3", "g1", None]
    serving["junk"] = ["never-seen", "j1", "j2"]
    serving.loc[serving.index[0], "inf1"] = np.nan
    out = transform.transform(serving)
    assert out.shape == (3, len(names))
    row = dict(zip(names, out[0]))
    assert row["cat__grp_g1"] == row["cat__grp_g2"] == 0.0
    assert all(v == 0.0 for name, v in row.items() if name.startswith("cat__junk"))
    median = frame["inf1"].median()
    scale = transform.named_steps["preprocess"].named_transformers_["num"].named_steps["scale"]
    assert row["num__inf1"] == pytest.approx((median - scale.mean_[0]) / scale.scale_[0])
    assert np.isfinite(out).all()


@pytest.mark.parametrize("select, k", [(None, None), ("mutual_info", 5), ("model", 3)])
def test_pickle_round_trip_gives_identical_outputs(frame, select, k):
    transform, _ = build_feature_transform(frame, target="label", exclude=["id", "amount"], select=select, k=k)
    again = pickle.loads(pickle.dumps(transform))
    np.testing.assert_array_equal(again.transform(frame), transform.transform(frame))
    assert again.get_feature_names_out().tolist() == transform.get_feature_names_out().tolist()


def test_info_is_json_and_transform_feeds_a_model(frame):
    transform, info = build_feature_transform(
        frame, target="label", exclude=["id", "amount"], select="mutual_info", k=4
    )
    assert json.loads(json.dumps(info)) == info
    X = transform.transform(frame)
    model = LogisticRegression().fit(X, frame["label"])
    assert model.score(X, frame["label"]) > 0.9


def test_clone_refits_like_any_pipeline(frame):
    transform, _ = build_feature_transform(frame, target="label", exclude=["id", "amount"], select="mutual_info", k=4)
    refit = clone(transform).fit(frame, frame["label"])
    np.testing.assert_array_equal(refit.transform(frame), transform.transform(frame))


def test_column_kinds_are_inferred_and_markers_excluded():
    df = pd.DataFrame(
        {
            "n": [1, 2, 3, 4],
            "f": [0.5, 0.1, 0.2, 0.3],
            "flag": [True, False, True, False],
            "c": pd.Categorical(["a", "b", "a", "b"]),
            "when": pd.to_datetime(["2024-01-01"] * 4),
            "__augmented": [False, False, True, True],
            "y": [0, 1, 0, 1],
        }
    )
    assert infer_column_kinds(df, target="y") == (["n", "f"], ["flag", "c"], ["when", "__augmented"])
    transform, info = build_feature_transform(df, target="y", numeric=["n"])
    assert info["numeric"] == ["n"] and info["categorical"] == ["flag", "c"]
    assert info["dropped"] == ["f", "when", "__augmented"]
    assert transform.get_feature_names_out().tolist() == [
        "num__n", "cat__flag_False", "cat__flag_True", "cat__c_a", "cat__c_b"
    ]


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(target="nope"), "target column 'nope' not in the data"),
        (dict(target="label", numeric=["inf1", "zz"]), r"numeric column\(s\) \['zz'\] not in the data"),
        (dict(target="label", numeric=["inf1"], categorical=["inf1"]), "both numeric and categorical"),
        (dict(target="label", numeric=["grp"]), r"\['grp'\] are not numeric: list them as categorical"),
        (dict(target="label", numeric=["label"]), "cannot be a feature"),
        (dict(target="label", numeric=["id"], exclude=["id"]), "both excluded and features"),
        (dict(target="label", select="mutual_info"), "pass k"),
        (dict(target="label", select="lasso"), "select='lasso'"),
        (dict(target="label", k=3), "k=3 without select"),
        (dict(target="label", select="model", k=0), "k=0: use a positive integer"),
        (dict(target="label", select="model", k=500), "only 13 features after encoding: pass k <= 13"),
        (dict(target="label", task="ranking"), "task='ranking'"),
        (dict(target="label", task="regression"), "not numeric: use task='classification'"),
    ],
)
def test_argument_errors_say_what_to_do(frame, kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        build_feature_transform(frame.drop(columns=["amount"]), **kwargs)


def test_single_class_and_data_errors(frame):
    with pytest.raises(InvalidInputError, match="single class 'yes'"):
        build_feature_transform(frame[frame["label"] == "yes"], target="label")
    with pytest.raises(InvalidInputError, match="no rows"):
        build_feature_transform(frame.iloc[:0], target="label")
    with pytest.raises(InvalidInputError, match="no feature columns"):
        build_feature_transform(frame[["id", "label"]], target="label", exclude=["id"])
    with pytest.raises(InvalidInputError, match="have no values in the training rows"):
        build_feature_transform(frame.assign(inf1=np.nan), target="label")
    with pytest.raises(InvalidInputError, match="1 missing value"):
        build_feature_transform(frame.assign(label=frame["label"].where(frame["id"] != 5)), target="label")
