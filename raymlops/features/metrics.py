"""The feature store's Ray metric: ``raymlops_feature_freshness_seconds{view}``.

Freshness is now minus the newest event time materialized into the online store for a
view. A metric must come from a process that lives, or a scraper never sees it: it is
published by every model-server replica of a model served by entity key (see
:mod:`raymlops.serving.server_deployment`), which re-reads the online store's per-view
state every few seconds and sets the gauge. Ray's metrics agent on the replica's node
exports it to Prometheus as ``ray_raymlops_feature_freshness_seconds`` with the tag
``view`` (and Ray's own ``WorkerId``, ``SessionName`` ... tags). ``raymlops features
status`` shows the same figure on demand.

This module is the Ray shell of the figure; :meth:`OnlineReader.freshness
<raymlops.features.online_read.OnlineReader.freshness>` computes it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ray.util import metrics

__all__ = ["FRESHNESS_METRIC", "publish_freshness"]

FRESHNESS_METRIC = "raymlops_feature_freshness_seconds"

_gauge: list[metrics.Gauge] = []


def publish_freshness(freshness: Mapping[str, float | None]) -> None:
    """Set the freshness gauge of each view in this process (views never materialized are skipped)."""
    if not _gauge:
        _gauge.append(metrics.Gauge(FRESHNESS_METRIC, "now minus the newest event time in the online store, per feature view",
                                    tag_keys=("view",)))
    for view, seconds in freshness.items():
        if seconds is not None:
            _gauge[0].set(float(seconds), tags={"view": view})
