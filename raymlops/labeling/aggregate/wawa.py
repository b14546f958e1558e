"""Wawa (worker agreement with aggregate): a majority vote weighted by each worker's
agreement with the plain majority vote (as crowd-kit's ``Wawa``).

A worker's ``accuracy`` is that agreement (the weight). Gold tasks take their gold label
and count in the agreement, so gold pulls the weights of the workers who labelled them.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({
    ...     "task": [1, 1, 1, 2, 2, 2, 3, 3],
    ...     "worker": ["a", "b", "c", "a", "b", "c", "a", "c"],
    ...     "label": [0, 0, 1, 1, 1, 0, 0, 1],
    ... })
    >>> res = Wawa().fit(df).result()
    >>> res.workers[["worker", "accuracy"]].round(3).to_dict("records")
    [{'worker': 'a', 'accuracy': 1.0}, {'worker': 'b', 'accuracy': 1.0}, {'worker': 'c', 'accuracy': 0.0}]
    >>> res.tasks["label"].tolist()
    [0, 1, 0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raymlops.labeling.aggregate.base import Aggregator
from raymlops.labeling.aggregate.em import Shard, Stats

__all__ = ["Wawa"]


class Wawa(Aggregator):
    """Wawa (see the module docstring)."""

    method = "wawa"

    def _fit_shards(self, shards: Sequence[Shard]) -> None:
        ann = self.annotations_
        agree = np.zeros(ann.n_workers)
        for s in shards:
            mv = s.majority_posteriors()
            agree += s.agreement(mv.argmax(axis=1))[1]
        n = np.bincount(ann.worker, minlength=ann.n_workers)
        skill = np.divide(agree, n, out=np.zeros(ann.n_workers), where=n > 0)
        posts, counts, crowd = [], Stats.zeros(ann.n_workers, ann.n_classes), {}
        for s in shards:
            crowd.update(s.gold_predictions(s.majority_posteriors(skill, clamp=False)))
            post = s.majority_posteriors(skill)
            posts.append(post)
            counts = counts + s.m_stats(post)
        self.skills_ = skill
        summary = self.summarise(shards, posts)
        confusion = self.hard_confusion(shards, summary, ann.n_workers, ann.n_classes)
        self._finish(summary, accuracy=skill, confusion=confusion, counts=counts.counts, crowd_pred=crowd)
