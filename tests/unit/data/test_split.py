"""Deterministic hash splits: block-count independence, proportions, stratification."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raymlops.data.split import (
    StratifiedCutoffs,
    assign_split,
    assign_stratified_split,
    class_hashes,
    hash_fraction,
    normalize_fractions,
    row_hash,
    stratified_cutoffs,
)
from raymlops.core.errors import InvalidInputError

BATCH_COUNTS = (1, 3, 7)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 5_000
    return pd.DataFrame(
        {
            "id": np.arange(n),
            "user": [f"user-{i}" for i in rng.integers(0, 2_000, n)],
            "x": rng.normal(size=n),
            "city": rng.choice(["oslo", "lima", "pune"], n),
            "y": rng.choice(["a", "b", "c", "d"], n, p=[0.6, 0.3, 0.07, 0.03]),
        }
    )


def _split_in_batches(df: pd.DataFrame, n_batches: int, seed: int, fn) -> pd.Series:
    """Shuffle, cut into n_batches, apply fn per batch, return results indexed by id."""
    shuffled = df.sample(frac=1.0, random_state=seed)
    parts = []
    for batch in np.array_split(np.arange(len(shuffled)), n_batches):
        b = shuffled.iloc[batch].reset_index(drop=True)
        parts.append(pd.Series(fn(b), index=b["id"].to_numpy()))
    return pd.concat(parts).sort_index()


@pytest.mark.parametrize("key", ["id", "user", ["user", "city"], None])
def test_same_rows_get_same_split_for_any_batching_and_order(frame, key):
    fn = lambda b: assign_split(b, key=key)  # noqa: E731
    reference = _split_in_batches(frame, 1, seed=0, fn=fn)
    for n_batches in BATCH_COUNTS:
        for seed in (1, 2):
            got = _split_in_batches(frame, n_batches, seed=seed, fn=fn)
            pd.testing.assert_series_equal(got, reference)


def test_rows_sharing_a_key_share_a_split(frame):
    splits = pd.Series(assign_split(frame, key="user"))
    assert (splits.groupby(frame["user"]).nunique() == 1).all()


def test_fractions_are_respected_within_half_a_percent():
    # 100k rows: the binomial standard deviation of a split share is at most 0.16%, so
    # 0.5 percentage points is more than 3 sigma for every split.
    n = 100_000
    df = pd.DataFrame({"id": np.arange(n)})
    for fractions in (None, [0.7, 0.3], {"a": 0.5, "b": 0.25, "c": 0.2, "d": 0.05}):
        fr = normalize_fractions(fractions)
        counts = pd.Series(assign_split(df, key="id", fractions=fractions)).value_counts()
        for name, f in fr.items():
            assert abs(counts.get(name, 0) / n - f) <= 0.005, (name, counts.get(name, 0), f)


def test_zero_fraction_split_gets_no_rows():
    df = pd.DataFrame({"id": np.arange(2_000)})
    out = assign_split(df, key="id", fractions={"train": 0.9, "validation": 0.0, "test": 0.1})
    assert "validation" not in set(out)
    assert set(out) == {"train", "test"}


def test_default_is_train_validation_test():
    out = assign_split(pd.DataFrame({"id": np.arange(1_000)}), key="id")
    assert set(out) == {"train", "validation", "test"}
    assert out.dtype == object


def test_salt_gives_a_different_split_with_the_same_proportions():
    df = pd.DataFrame({"id": np.arange(20_000)})
    a = assign_split(df, key="id")
    b = assign_split(df, key="id", salt="second")
    assert (a != b).mean() > 0.2
    assert abs((b == "train").mean() - 0.8) < 0.01


def test_hash_is_keyed_blake2b_of_the_canonical_text():
    df = pd.DataFrame({"user": ["u1", None], "n": [3.0, 2.5]})
    got = row_hash(df, key=["user", "n"], salt="s")
    for i, text in enumerate(["u1\x1f3", "\x00\x1f2.5"]):
        digest = hashlib.blake2b(text.encode(), digest_size=8, key=b"s").digest()
        assert int(got[i]) == int.from_bytes(digest, "big")


def test_equal_values_hash_alike_whatever_the_column_dtype():
    ints = pd.DataFrame({"k": [1, 2, 3]})
    floats_with_null = pd.DataFrame({"k": [1.0, 2.0, np.nan]})
    text = pd.DataFrame({"k": ["1", "2", None]})
    nullable = pd.DataFrame({"k": pd.array([1, 2, None], dtype="Int64")})
    category = pd.DataFrame({"k": pd.Categorical(["1", "2", None])})
    mixed = pd.DataFrame({"k": pd.Series([1, "2", None], dtype=object)})
    expected = row_hash(ints)[:2]
    for df in (floats_with_null, text, nullable, category, mixed):
        got = row_hash(df)
        np.testing.assert_array_equal(got[:2], expected)
        assert got[2] == row_hash(floats_with_null)[2]  # every null is the same token


def test_datetimes_hash_alike_whatever_the_unit_or_timezone():
    naive_ns = pd.DataFrame({"t": pd.to_datetime(["2024-03-01 12:00:00"]).as_unit("ns")})
    naive_s = pd.DataFrame({"t": pd.to_datetime(["2024-03-01 12:00:00"]).as_unit("s")})
    aware = pd.DataFrame({"t": pd.to_datetime(["2024-03-01 13:00:00"]).tz_localize("Europe/Paris")})
    objects = pd.DataFrame({"t": pd.Series([pd.Timestamp("2024-03-01 12:00:00")], dtype=object)})
    h = row_hash(naive_ns)
    for df in (naive_s, aware, objects):
        np.testing.assert_array_equal(row_hash(df), h)


def test_whole_row_hash_ignores_column_order(frame):
    np.testing.assert_array_equal(row_hash(frame), row_hash(frame[frame.columns[::-1]]))
    assert not np.array_equal(row_hash(frame), row_hash(frame, key="id"))


def test_empty_batch():
    out = assign_split(pd.DataFrame({"id": pd.Series([], dtype="int64")}), key="id")
    assert out.shape == (0,)


def test_hash_fraction_range():
    h = np.array([0, 1, 2**63, 2**64 - 1], dtype=np.uint64)
    u = hash_fraction(h)
    assert u.min() >= 0.0 and u.max() < 1.0


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-(2**62), 2**62),
            st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
            st.text(max_size=12),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_a_row_hashes_the_same_alone_as_in_any_batch(rows):
    df = pd.DataFrame(rows, columns=["i", "f", "s"])
    whole = row_hash(df)
    for i in range(len(df)):
        alone = pd.DataFrame([rows[i]], columns=["i", "f", "s"])
        assert row_hash(alone)[0] == whole[i]


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "fractions, match",
    [
        ([0.8, 0.1, 0.2], "sum to 1.1"),
        ([0.5, 0.6, -0.1], "use a number in"),
        ([0.5, 0.25, 0.125, 0.125], "2 .* or 3"),
        ({"train": 0.5, "": 0.5}, "non-empty and unique"),
        ("0.8", "pass a mapping"),
        ([0.5, "half"], "use a number"),
    ],
)
def test_bad_fractions_say_what_to_do(fractions, match):
    with pytest.raises(InvalidInputError, match=match):
        assign_split(pd.DataFrame({"id": [1]}), key="id", fractions=fractions)


def test_unknown_key_column_lists_the_columns(frame):
    with pytest.raises(InvalidInputError, match=r"\['nope'\] not in the data; available columns"):
        assign_split(frame, key=["id", "nope"])


def test_salt_longer_than_64_bytes_is_rejected(frame):
    with pytest.raises(InvalidInputError, match="at most 64 bytes"):
        row_hash(frame, salt="x" * 65)


def test_non_dataframe_is_rejected():
    with pytest.raises(InvalidInputError, match="pandas DataFrame"):
        assign_split({"id": [1]}, key="id")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- stratified


def _global_cutoffs(df: pd.DataFrame, *, key, fractions=None) -> StratifiedCutoffs:
    # the global step, done the mergeable way: per-batch pairs, concatenated
    parts = [class_hashes(df.iloc[idx], label="y", key=key) for idx in np.array_split(np.arange(len(df)), 7)]
    return stratified_cutoffs(pd.concat(parts, ignore_index=True), fractions=fractions)


@pytest.mark.parametrize("key", ["id", None])
def test_stratified_split_is_batch_independent_and_exact_per_class(frame, key):
    fractions = {"train": 0.8, "validation": 0.1, "test": 0.1}
    cutoffs = _global_cutoffs(frame, key=key, fractions=fractions)
    fn = lambda b: assign_stratified_split(b, cutoffs, label="y", key=key)  # noqa: E731
    reference = _split_in_batches(frame, 1, seed=0, fn=fn)
    for n_batches in BATCH_COUNTS:
        got = _split_in_batches(frame, n_batches, seed=n_batches, fn=fn)
        pd.testing.assert_series_equal(got, reference)

    table = pd.crosstab(frame.set_index("id")["y"], reference)
    for cls, row in table.iterrows():
        n = row.sum()
        for name, f in fractions.items():
            assert abs(row.get(name, 0) - f * n) < 1.0, (cls, name, row.get(name, 0), f * n)
        assert tuple(row.get(name, 0) for name in fractions) == cutoffs.counts[cls]


def test_stratified_tiny_class_and_mapping_input():
    hashes = {"rare": np.array([5, 1, 9], dtype=np.uint64), "common": np.arange(100, dtype=np.uint64)}
    cut = stratified_cutoffs(hashes, fractions=[0.8, 0.1, 0.1])
    # cumulative rounding: split ends at round(0.8 * 3) = 2 and round(0.9 * 3) = 3 rows
    assert cut.counts == {"rare": (2, 1, 0), "common": (80, 10, 10)}
    assert cut.thresholds["rare"] == (9, 2**64)  # 2**64: no rare row reaches the test split
    rows = pd.DataFrame({"y": ["rare"] * 3, "k": [0, 1, 2]})
    assert assign_stratified_split(rows.iloc[:0], cut, label="y").shape == (0,)


def test_stratified_cutoffs_round_trip_through_json(frame):
    cut = _global_cutoffs(frame, key="id")
    again = StratifiedCutoffs.from_dict(json.loads(json.dumps(cut.to_dict())))
    assert again == cut


def test_stratified_unknown_class_is_an_error(frame):
    cutoffs = _global_cutoffs(frame[frame["y"] != "d"], key="id")
    with pytest.raises(InvalidInputError, match="class 'd' .* not in the stratified cutoffs"):
        assign_stratified_split(frame, cutoffs, label="y", key="id")


def test_stratified_missing_labels_are_an_error(frame):
    bad = frame.assign(y=frame["y"].where(frame["id"] != 3))
    with pytest.raises(InvalidInputError, match="1 missing value"):
        class_hashes(bad, label="y", key="id")


def test_stratified_cutoffs_need_label_and_hash_columns():
    with pytest.raises(InvalidInputError, match="lacks column"):
        stratified_cutoffs(pd.DataFrame({"label": [1]}))
    with pytest.raises(InvalidInputError, match="no classes"):
        stratified_cutoffs({})
