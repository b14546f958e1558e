"""Majority vote: each task gets its most frequent label; confidence is the vote share.

Ties go to the first class in the classes' order (as crowd-kit's ``MajorityVote``).
Gold tasks take their gold label. A worker's ``accuracy`` is the share of their labels
that agree with the aggregate.

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"task": [1, 1, 1, 2, 2], "worker": ["a", "b", "c", "a", "b"], "label": [0, 0, 1, 1, 1]})
    >>> res = MajorityVote().fit(df).result()
    >>> res.tasks[["task", "label", "confidence", "n_labels"]].to_dict("records")
    [{'task': 1, 'label': 0, 'confidence': 0.6666666666666666, 'n_labels': 3}, {'task': 2, 'label': 1, 'confidence': 1.0, 'n_labels': 2}]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raymlops.labeling.aggregate.base import Aggregator
from raymlops.labeling.aggregate.em import Shard, Stats

__all__ = ["MajorityVote"]


class MajorityVote(Aggregator):
    """Majority vote (see the module docstring)."""

    method = "mv"

    def _fit_shards(self, shards: Sequence[Shard]) -> None:
        ann = self.annotations_
        posts, counts, crowd = [], Stats.zeros(ann.n_workers, ann.n_classes), {}
        for s in shards:
            raw = s.majority_posteriors(clamp=False)
            crowd.update(s.gold_predictions(raw))
            post = s.majority_posteriors()
            posts.append(post)
            counts = counts + s.m_stats(post)
        summary = self.summarise(shards, posts)
        confusion = self.hard_confusion(shards, summary, ann.n_workers, ann.n_classes)
        self._finish(summary, accuracy=None, confusion=confusion, counts=counts.counts, crowd_pred=crowd)
