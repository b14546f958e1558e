"""profile(A ∪ B) == merge(profile(A), profile(B)); quantiles within the stated error."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raymlops.cli.render import table, with_quantile_error
from raymlops.sketches import Profile
from raymlops.core.errors import InvalidInputError


floats = st.one_of(
    st.floats(min_value=-1e12, max_value=1e12),
    st.sampled_from([float("nan"), float("inf"), float("-inf"), 0.0]),
    st.none(),
)


@st.composite
def frames(draw):
    n = draw(st.integers(1, 80))
    f = draw(st.lists(floats, min_size=n, max_size=n))
    i = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
    c = draw(st.lists(st.one_of(st.sampled_from(["a", "b", "c", "d"]), st.none()), min_size=n, max_size=n))
    f = np.array([np.nan if v is None else v for v in f], dtype=float)  # NaN marks both NaN and null here
    return pd.DataFrame({"f": f, "i": i, "c": pd.array(c, dtype=object)})


@settings(max_examples=80, deadline=None)
@given(df=frames(), cut=st.floats(0, 1))
def test_merged_profiles_equal_the_profile_of_the_union(df, cut):
    k = int(cut * len(df))
    edges = {"f": list(np.linspace(-100, 100, 11)), "i": list(np.linspace(-1000, 1000, 21))}
    a, b, whole = (Profile(edges=edges) for _ in range(3))
    a.update(df.iloc[:k])
    b.update(df.iloc[k:])
    whole.update(df)
    merged = a.merge(b)
    assert merged == whole
    for col in ("f", "i"):
        m, w = merged[col], whole[col]
        assert (m.count, m.nulls, m.nan, m.posinf, m.neginf) == (w.count, w.nulls, w.nan, w.posinf, w.neginf)
        hm, hw = m.histogram(), w.histogram()
        assert list(hm.counts) == list(hw.counts) and (hm.underflow, hm.overflow) == (hw.underflow, hw.overflow)
        assert [list(x) for x in m.bins()] == [list(x) for x in w.bins()]
    assert merged["c"].counts == whole["c"].counts


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=1, max_size=300),
    q=st.floats(0, 1),
)
def test_quantiles_are_within_the_stated_relative_error(values, q):
    p = Profile(relative_accuracy=0.01)
    p.update(pd.DataFrame({"x": values}))
    sk = p["x"]
    true = float(np.quantile(np.array(values), q, method="lower"))
    assert abs(sk.quantile(q) - true) <= 0.01 * abs(true) + sk.min_indexable + 1e-12 * abs(true)


def test_profile_round_trips_through_json(tmp_path):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["u", "v"], size=500)})
    p = Profile(edges={"x": [-3, -1, 0, 1, 3]})
    p.update(df)
    path = p.save(tmp_path / "p.json")
    assert Profile.load(path) == p
    summary = {r["column"]: r for r in p.summary()}
    assert summary["x"]["count"] == 500 and summary["c"]["distinct"] == 2


def test_merging_profiles_of_different_kinds_is_refused():
    a, b = Profile(), Profile()
    a.update(pd.DataFrame({"x": [1.0, 2.0]}))
    b.update(pd.DataFrame({"x": ["one", "two"]}))
    with pytest.raises(InvalidInputError, match="numeric in one profile"):
        a.merge(b)


def test_the_printed_profile_says_which_quantiles_are_exact_and_bounds_the_others():
    rng = np.random.default_rng(0)
    p = Profile()
    p.update(pd.DataFrame({"flag": rng.integers(0, 2, 500), "x": rng.lognormal(size=500)}))
    rows = {r["column"]: r for r in with_quantile_error(p.summary())}
    assert rows["flag"]["quantiles"] == "exact" and rows["flag"]["p99"] in (0, 1)
    assert rows["x"]["quantiles"] == "±1%"
    text = table(list(rows.values()), ["column", "p50", "p99", "quantiles"])
    assert "n/a" not in text and "exact" in text and "±1%" in text
