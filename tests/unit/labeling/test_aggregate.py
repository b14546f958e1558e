from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from raymlops.labeling import Annotations, DawidSkene, MajorityVote, Wawa, make_aggregator
from raymlops.labeling.aggregate.em import make_shards
from raymlops.labeling.simulate import simulate_crowd
from raymlops.core.errors import InvalidInputError

from .conftest import load_fixture


def accuracy(res, truth: pd.Series, exclude=()) -> float:
    t = res.tasks.set_index("task")["label"]
    idx = [i for i in truth.index if i not in set(exclude)]
    return float((t.reindex(idx).to_numpy() == truth.loc[idx].to_numpy()).mean())


def test_dawid_skene_beats_majority_vote_and_wawa(crowd):
    mv = accuracy(MajorityVote().fit(crowd.annotations).result(), crowd.truth)
    wawa = accuracy(Wawa().fit(crowd.annotations).result(), crowd.truth)
    ds = accuracy(DawidSkene().fit(crowd.annotations).result(), crowd.truth)
    assert ds > wawa > mv


def test_result_columns_and_probabilities(crowd):
    res = DawidSkene().fit(crowd.annotations).result()
    t = res.tasks
    proba = t[[f"proba_{c}" for c in res.classes]].to_numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(t["confidence"], proba.max(axis=1))
    counts = crowd.annotations.groupby("task").size()
    assert (t.set_index("task")["n_labels"].reindex(counts.index) == counts).all()
    w = res.workers
    assert {"worker", "accuracy", "n_labels", "spammer", "confusion", "sme"} <= set(w.columns)
    conf = np.array(w["confusion"].tolist())
    np.testing.assert_allclose(conf.sum(axis=2), 1.0)


def test_agreement_is_share_of_labels_equal_to_the_aggregate():
    df = pd.DataFrame({"task": [1, 1, 1, 1], "worker": list("abcd"), "label": [0, 0, 0, 1]})
    res = MajorityVote().fit(df).result()
    assert res.tasks["agreement"].tolist() == [0.75]


def test_gold_fixes_posteriors_and_informs_confusions():
    # worker "g" alone labels tasks 40-59, which are class 1 while most tasks are class 0;
    # without gold the class prior talks DS out of believing g; gold shows g is right
    rows = [(t, w, 0) for t in range(40) for w in ("a", "b")] + [(t, "g", 1) for t in range(40, 60)]
    df = pd.DataFrame(rows, columns=["task", "worker", "label"])
    gold = pd.DataFrame({"task": range(40, 50), "label": [1] * 10})
    res = DawidSkene().fit(df, gold).result()
    t = res.tasks.set_index("task")
    assert (t.loc[40:49, "proba_1"] == 1.0).all() and t.loc[40:49, "gold"].all() and not t.loc[50:59, "gold"].any()
    assert (t.loc[50:59, "label"] == 1).all()  # the non-gold tasks of g follow from g's learned confusion
    g = res.workers.set_index("worker").loc["g"]
    conf_g = np.array(g["confusion"])
    assert conf_g[1][1] > 0.8
    without = DawidSkene().fit(df).result()
    assert (without.tasks.set_index("task").loc[50:59, "label"] == 0).all()


def test_sme_prior_lets_one_expert_outvote_a_crowd_on_a_hard_task():
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 2, 300)
    rows = [(t, w, int(truth[t] if rng.random() < 0.7 else 1 - truth[t])) for t in range(300) for w in ("c1", "c2", "c3")]
    rows += [(999, "c1", 1), (999, "c2", 1), (999, "c3", 1), (999, "expert", 0)]  # the expert is right
    rows += [(t, "expert", int(truth[t])) for t in range(3)]
    df = pd.DataFrame(rows, columns=["task", "worker", "label"])
    plain = DawidSkene().fit(df).result().tasks.set_index("task").loc[999, "label"]
    sme = DawidSkene().fit(df, sme=["expert"]).result()
    assert plain == 1 and sme.tasks.set_index("task").loc[999, "label"] == 0
    assert bool(sme.workers.set_index("worker").loc["expert", "sme"])


def test_unknown_sme_is_an_error(crowd):
    from raymlops.labeling import AnnotationsError

    with pytest.raises(AnnotationsError, match="SME worker 'nobody' gave no label"):
        DawidSkene().fit(crowd.annotations, sme=["nobody"])


def test_gold_and_sme_help_in_the_sparse_regime(crowd):
    nongold = crowd.gold["task"].tolist()
    base = accuracy(DawidSkene().fit(crowd.annotations).result(), crowd.truth, nongold)
    full = accuracy(DawidSkene().fit(crowd.annotations, crowd.gold, sme=crowd.smes).result(), crowd.truth, nongold)
    assert full >= base


def test_priors_beat_maximum_likelihood_with_few_labels_per_worker():
    c = simulate_crowd(n_tasks=3000, n_workers=1500, n_classes=4, seed=3)
    ml = accuracy(DawidSkene(prior_strength=0, class_prior=0).fit(c.annotations).result(), c.truth)
    mapped = accuracy(DawidSkene().fit(c.annotations).result(), c.truth)
    assert mapped > ml + 0.01


def test_spammers_are_flagged_without_false_alarms(crowd):
    res = DawidSkene().fit(crowd.annotations).result()
    w = res.workers.set_index("worker").reindex(crowd.workers)
    flagged = w["spammer"].to_numpy()
    assert (flagged & crowd.spammers).sum() >= 5
    assert (flagged & ~crowd.spammers).sum() <= 1


def test_needs_labels_lists_least_confident_first_and_skips_gold(crowd):
    res = DawidSkene().fit(crowd.annotations, crowd.gold).result()
    q = res.needs_labels(50)
    conf = res.tasks.set_index("task")["confidence"]
    assert list(conf.loc[q]) == sorted(conf.loc[q])
    assert not set(q) & set(crowd.gold["task"])
    assert conf.loc[q].max() <= conf.drop(index=crowd.gold["task"]).quantile(0.05)


def test_shards_give_the_same_fit_as_one_table(crowd):
    one = DawidSkene().fit(crowd.annotations, crowd.gold, sme=crowd.smes)
    many = DawidSkene(max_labels_per_shard=1000).fit(crowd.annotations, crowd.gold, sme=crowd.smes)
    ann = Annotations.from_frame(crowd.annotations)
    assert len(make_shards(ann.task, ann.worker, ann.label, n_workers=ann.n_workers, n_classes=4, max_labels=1000)) > 5
    np.testing.assert_allclose(one.posteriors_, many.posteriors_, atol=1e-9)


def test_partial_fit_matches_a_refit(crowd):
    df = crowd.annotations
    first, rest = df.iloc[: int(len(df) * 0.9)], df.iloc[int(len(df) * 0.9) :]
    model = DawidSkene().fit(first, crowd.gold, sme=crowd.smes)
    model.partial_fit(rest)
    refit = DawidSkene().fit(df, crowd.gold, sme=crowd.smes)
    a = model.result().tasks.set_index("task")["label"]
    b = refit.result().tasks.set_index("task")["label"]
    assert len(a) == len(b)
    assert (a.reindex(b.index) == b).mean() > 0.99
    nongold = crowd.gold["task"].tolist()
    assert abs(accuracy(model.result(), crowd.truth, nongold) - accuracy(refit.result(), crowd.truth, nongold)) < 0.005


def test_partial_fit_rejects_a_new_class(crowd):
    from raymlops.labeling import AnnotationsError

    model = DawidSkene().fit(crowd.annotations)
    with pytest.raises(AnnotationsError, match="is not one of the classes"):
        model.partial_fit(pd.DataFrame({"task": [1], "worker": ["w1"], "label": [17]}))


def test_unknown_method():
    with pytest.raises(InvalidInputError, match="unknown aggregation method 'glad'"):
        make_aggregator("glad")


# ---------------------------------------------------------------------- crowd-kit parity
def _ck():
    fx = load_fixture("crowdkit_ds.json")
    return fx, pd.DataFrame(fx["annotations"]), pd.DataFrame(fx["gold"])


@pytest.mark.parametrize("gold", [False, True])
def test_maximum_likelihood_ds_equals_crowd_kit_iteration_for_iteration(gold):
    fx, df, g = _ck()
    n = 10
    model = DawidSkene(prior_strength=0, class_prior=0, max_iter=n, tol=-1.0).fit(df, g if gold else None)
    name = "gold" if gold else "nogold"
    post = model.result().tasks.set_index("task")[[f"proba_{c}" for c in range(3)]]
    ck = fx[f"ds_{name}_{n + 1}"]["probas"]  # our n M-steps and a last E-step = crowd-kit's n + 1 E-steps
    mine = post.loc[[int(t) for t in ck]].to_numpy()
    np.testing.assert_allclose(mine, np.array(list(ck.values())), atol=1e-6)
    errors = fx[f"ds_{name}_{n}"]["errors"]  # crowd-kit: [observed][true]
    conf = model.result().workers.set_index("worker")["confusion"]
    for w, e in errors.items():
        np.testing.assert_allclose(np.array(conf.loc[w]), np.array(e).T, atol=1e-6)


def test_majority_vote_and_wawa_equal_crowd_kit():
    fx, df, _ = _ck()
    mv = MajorityVote().fit(df).result().tasks.set_index("task")
    ck = pd.DataFrame(fx["mv"]).T
    ck.index = ck.index.astype(int)
    np.testing.assert_allclose(mv.loc[ck.index, [f"proba_{c}" for c in range(3)]].to_numpy(), ck[[str(c) for c in range(3)]].fillna(0).to_numpy(), atol=1e-12)
    wawa = Wawa().fit(df).result().tasks.set_index("task")["label"]
    ckw = pd.Series(fx["wawa"])
    ckw.index = ckw.index.astype(int)
    assert (wawa.loc[ckw.index].to_numpy() == ckw.to_numpy()).mean() > 0.99


def test_memory_grows_with_the_labels_not_with_tasks_times_workers():
    # the EM works on the long table: a dense tasks x workers matrix of this crowd would be
    # 20,000 x 1,000 x 8 bytes = 160 MB; the fit's peak allocation stays a few times the labels
    c = simulate_crowd(n_tasks=20_000, n_workers=1_000, n_classes=3, seed=1)
    tracemalloc.start()
    try:
        DawidSkene().fit(c.annotations)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    labels_bytes = len(c.annotations) * 3 * 8
    assert peak < 40 * 2**20 and peak < 60 * labels_bytes, (peak, len(c.annotations))
