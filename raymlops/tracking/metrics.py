"""Metric histories of runs: the tracker's table and the SQL behind it.

Every ``run.log_metric(key, value, step)`` appends a point; the history of a key is read
in step order, and a run's latest value of each key is what ``raymlops runs list`` shows.

Example:
    >>> from raymlops.metadata import Execution, MetadataStore
    >>> store = MetadataStore("sqlite://")
    >>> run = store.put_execution(Execution(type="Run"))
    >>> metrics = store.extension(MetricStore)
    >>> metrics.log_metrics(run.id, [("loss", 0.9, 0, 0.0), ("loss", 0.5, 1, 1.0)])
    >>> [m["value"] for m in metrics.get_metric_history(run.id, "loss")], metrics.latest_metrics([run.id])
    ([0.9, 0.5], {1: {'loss': 0.5}})
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Float, ForeignKey, Index, Integer, String, insert, select

from raymlops.core.config import Settings
from raymlops.metadata import MetadataStore, RemoteService, StoreExtension
from raymlops.metadata.tables import table

__all__ = ["MetricStore", "RemoteMetricStore", "metrics"]

_CHUNK = 900  # bound on SQL variables per IN (...) list

metrics = table(
    "metrics",
    Column("id", Integer, primary_key=True),
    Column("execution_id", Integer, ForeignKey("executions.id"), nullable=False),
    Column("key", String(255), nullable=False),
    Column("step", Integer, nullable=False),
    Column("value", Float, nullable=False),
    Column("time", Float, nullable=False),
    Index("ix_metrics_execution_key", "execution_id", "key", "step"),
)


class RemoteMetricStore(RemoteService):
    """:class:`MetricStore`'s methods, served by the store actor (inside Ray workers)."""

    def __init__(self, settings: Settings, target: type):
        super().__init__(settings, target)

    def log_metrics(self, execution_id: int, entries: Sequence[tuple[str, float, int, float]]) -> None:
        self._call("log_metrics", execution_id, list(entries))

    def get_metric_history(self, execution_id: int, key: str | None = None) -> list[dict[str, Any]]:
        return self._call("get_metric_history", execution_id, key)

    def latest_metrics(self, execution_ids: Iterable[int]) -> dict[int, dict[str, float]]:
        return self._call("latest_metrics", list(execution_ids))


class MetricStore(StoreExtension):
    """Metric points of executions (runs), in the metadata store's database."""

    tables = (metrics,)
    remote_class = RemoteMetricStore

    def __init__(self, store: MetadataStore):
        super().__init__(store)

    def log_metrics(self, execution_id: int, entries: Sequence[tuple[str, float, int, float]]) -> None:
        """Append ``(key, value, step, time)`` metric points to an execution's history."""
        if not entries:
            return
        rows = [
            {"execution_id": execution_id, "key": k, "value": float(v), "step": int(s), "time": t}
            for k, v, s, t in entries
        ]
        self.store.transact(lambda conn: conn.execute(insert(metrics), rows))

    def get_metric_history(self, execution_id: int, key: str | None = None) -> list[dict[str, Any]]:
        """The points of one key (or of every key), in key, step order."""
        q = select(metrics).where(metrics.c.execution_id == execution_id)
        if key is not None:
            q = q.where(metrics.c.key == key)
        with self.store.read() as conn:
            rows = conn.execute(q.order_by(metrics.c.key, metrics.c.step, metrics.c.id)).all()
        return [{"key": r.key, "step": r.step, "value": r.value, "time": r.time} for r in rows]

    def latest_metrics(self, execution_ids: Iterable[int]) -> dict[int, dict[str, float]]:
        """The last logged value of every metric of each execution."""
        out: dict[int, dict[str, float]] = {}
        ids = sorted(set(execution_ids))
        with self.store.read() as conn:
            for i in range(0, len(ids), _CHUNK):
                rows = conn.execute(
                    select(metrics.c.execution_id, metrics.c.key, metrics.c.value)
                    .where(metrics.c.execution_id.in_(ids[i : i + _CHUNK]))
                    .order_by(metrics.c.step, metrics.c.id)
                ).all()
                for eid, key, value in rows:
                    out.setdefault(eid, {})[key] = value
        return out
