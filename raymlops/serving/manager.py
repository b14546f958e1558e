"""What the rollout controller knows and decides, without Ray.

:class:`RolloutManager` keeps, per served model, the routing table, the current (or last)
:class:`~raymlops.serving.rollout.Rollout`, the live statistics flushed by every ingress
replica (per version, in gate windows, merged exactly), the shadow comparison and the
mirrored requests sent and shed (:class:`~raymlops.serving.shedding.ShedCounts`), feedback
outcomes for A/B tests, and the decision history. The controller actor
(:mod:`raymlops.serving.controller_actor`) calls :meth:`RolloutManager.tick` on a clock,
deploys and retires model servers to match :meth:`RolloutManager.deployed`, and records
every decision in the metadata store.

Example:
    >>> m = RolloutManager(gate_interval_s=5)
    >>> m.serve("iris", 1, now=0.0).live_versions
    (1,)
    >>> from raymlops.serving.rollout import RolloutPlan
    >>> from raymlops.serving.gates import ErrorRateGate
    >>> plan = RolloutPlan(model="iris", strategy="canary", from_version=1, to_version=2,
    ...                    steps=[20, 100], bake_s=10, gates=[ErrorRateGate(max_rate=0.1, min_samples=10)])
    >>> m.start(plan, now=0.0).action
    'start'
    >>> stats = VersionStats(); stats.record_requests([5.0] * 20, errors=10)
    >>> m.report({"models": {"iris": {"stats": {"2": stats.to_dict()}}}})
    >>> [r.action for _, r in m.tick(now=6.0)]
    ['rollback']
    >>> m.tables()["iris"].live_versions
    (1,)
"""

from __future__ import annotations

import collections
import time
from collections.abc import Mapping
from typing import Any

from raymlops.core.errors import ConflictError, InvalidInputError
from raymlops.serving.abtest import RunningSummary, two_proportion_ztest
from raymlops.serving.gates import GateStatus, VersionStats, evaluate_gates
from raymlops.serving.protocol import ModelNotServedError
from raymlops.serving.rollout import Rollout, RolloutPlan, RolloutRecord
from raymlops.serving.routing import Route, RoutingTable
from raymlops.serving.shadow import ShadowComparator
from raymlops.serving.shedding import ShedCounts
from raymlops.serving.strategies import RecreateStrategy

__all__ = ["ModelState", "RolloutManager"]

_MAX_REQUESTS = 200_000  # request ids remembered for feedback


class ModelState:
    """Everything the controller tracks for one model name."""

    def __init__(self, model: str, table: RoutingTable, task: str = "classification"):
        self.model = model
        self.task = task
        self.table = table
        self.rollout: Rollout | None = None
        self.window: dict[int, VersionStats] = collections.defaultdict(VersionStats)
        self.total: dict[int, VersionStats] = collections.defaultdict(VersionStats)
        self.shadow = ShadowComparator(task=task)
        self.mirroring = ShedCounts()
        self.outcomes: dict[int, RunningSummary] = collections.defaultdict(RunningSummary)
        self.last_gate: float = 0.0
        self.last_verdict: dict[str, Any] | None = None
        self.history: list[dict[str, Any]] = []  # decisions of every rollout of this model
        self.downtime_s: float | None = None

    def reset_windows(self) -> None:
        self.window = collections.defaultdict(VersionStats)


class RolloutManager:
    """The controller's state and decisions.

    Args:
        gate_interval_s: how often gates are evaluated (on the stats of that window).
    """

    def __init__(self, *, gate_interval_s: float = 5.0):
        if gate_interval_s <= 0:
            raise InvalidInputError(f"gate_interval_s must be positive, got {gate_interval_s}")
        self.gate_interval_s = float(gate_interval_s)
        self.models: dict[str, ModelState] = {}
        self.revision = 0
        self._requests: collections.OrderedDict[str, tuple[str, int, list[Any]]] = collections.OrderedDict()

    # ------------------------------------------------------------------ tables
    def _bump(self) -> None:
        self.revision += 1

    def tables(self) -> dict[str, RoutingTable]:
        return {name: st.table for name, st in self.models.items()}

    def tables_since(self, revision: int) -> dict[str, Any] | None:
        """Every table as dicts, or None when nothing changed since ``revision``."""
        if revision == self.revision:
            return None
        return {"revision": self.revision, "tables": {n: t.to_dict() for n, t in self.tables().items()}}

    def deployed(self) -> set[tuple[str, int]]:
        """The (model, version) pairs that must have a running model server."""
        return {(name, v) for name, st in self.models.items() for v in st.table.deployed_versions}

    def state(self, model: str) -> ModelState:
        st = self.models.get(model)
        if st is None:
            raise ModelNotServedError(
                f"model {model!r} is not served; deploy it with `raymlops serve up --model {model}@champion`",
                details=[{"model": model}],
            )
        return st

    def serve(self, model: str, version: int, *, now: float | None = None) -> RoutingTable:
        """Serve ``model@version`` alone (the first deployment, or a redeploy outside rollouts)."""
        st = self.models.get(model)
        if st is not None and st.rollout is not None and not st.rollout.is_final:
            raise ConflictError(
                f"a {st.rollout.plan.strategy} rollout of {model} is in progress; promote or roll it back first"
            )
        table = RoutingTable(model=model, strategy=RecreateStrategy.name, routes=(Route(int(version), 100.0),))
        if st is None:
            self.models[model] = ModelState(model, table)
        else:
            st.table = table
        self._bump()
        return table

    # ------------------------------------------------------------------ rollouts
    def start(self, plan: RolloutPlan, *, now: float) -> RolloutRecord:
        """Start a rollout of ``plan.model`` from its live version to ``plan.to_version``.

        A running shadow must be ended first (:meth:`end_shadow_for`); any other running
        rollout is a conflict.
        """
        st = self._check_start(plan)
        if st.rollout is not None and not st.rollout.is_final:
            raise ConflictError(f"a {st.rollout.plan.strategy} rollout of {plan.model} is in progress; promote or roll it back first")
        st.rollout = Rollout(plan)
        st.shadow = ShadowComparator(task=st.task)
        st.mirroring = ShedCounts()
        st.outcomes.clear()
        st.reset_windows()
        st.total.clear()
        st.last_gate = now
        st.downtime_s = None
        rec = st.rollout.start(now)
        return self._after(st, rec)

    def _after(self, st: ModelState, rec: RolloutRecord | None) -> RolloutRecord | None:
        if rec is None:
            return None
        table = st.rollout.routing_table()  # type: ignore[union-attr]
        if table != st.table:
            st.table = table
            self._bump()
        hist = st.rollout.history  # type: ignore[union-attr]
        if hist and hist[-1] is rec:  # a repeated hold is not recorded again
            st.history.append({"model": st.model, "strategy": st.rollout.plan.strategy, **rec.to_dict()})  # type: ignore[union-attr]
        return rec

    def mark_ready(self, model: str, *, now: float) -> RolloutRecord | None:
        st = self.state(model)
        if st.rollout is None:
            return None
        return self._after(st, st.rollout.mark_ready(now))

    def promote(self, model: str, *, now: float, reason: str = "promoted by operator") -> RolloutRecord:
        st = self.state(model)
        if st.rollout is None:
            raise ConflictError(f"no rollout of {model} to promote; start one with `raymlops rollout start`")
        return self._after(st, st.rollout.promote(now, reason))  # type: ignore[return-value]

    def rollback(self, model: str, *, now: float, reason: str = "rolled back by operator") -> RolloutRecord:
        st = self.state(model)
        if st.rollout is None:
            raise ConflictError(f"no rollout of {model} to roll back")
        return self._after(st, st.rollout.rollback(now, reason))  # type: ignore[return-value]

    def _check_start(self, plan: RolloutPlan) -> ModelState:
        st = self.state(plan.model)
        live = st.table.live_versions
        if plan.from_version not in live:
            raise ConflictError(
                f"{plan.model} serves version(s) {list(live)}, not {plan.from_version}; roll out from the live version"
            )
        r = st.rollout
        if r is not None and not r.is_final and not r.plan.rollout_strategy.mirrors:
            raise ConflictError(f"a {r.plan.strategy} rollout of {plan.model} is in progress; promote or roll it back first")
        if plan.to_version == plan.from_version:
            raise InvalidInputError(f"{plan.model}@{plan.to_version} is already live")
        return st

    def end_shadow_for(self, plan: RolloutPlan, *, now: float) -> RolloutRecord | None:
        """End ``plan.model``'s running shadow, if any, because ``plan`` starts (checked first)."""
        st = self._check_start(plan)
        r = st.rollout
        if r is None or r.is_final:
            return None
        why = f"shadow phase ended: a {plan.strategy} rollout of version {plan.to_version} starts"
        return self._after(st, r.end_shadow(now, why))

    def end_shadow(self, model: str, *, now: float, reason: str = "shadow phase ended by operator") -> RolloutRecord:
        st = self.state(model)
        if st.rollout is None:
            raise ConflictError(f"no shadow of {model} to end")
        return self._after(st, st.rollout.end_shadow(now, reason))  # type: ignore[return-value]

    def set_percent(self, model: str, percent: float, *, now: float) -> RolloutRecord:
        st = self.state(model)
        if st.rollout is None:
            raise ConflictError(f"no rollout of {model}; start one with --percent")
        return self._after(st, st.rollout.set_percent(percent, now=now, reason="percent set by operator"))  # type: ignore[return-value]

    def drift_targets(self) -> dict[str, int]:
        """``{model: new version}`` of running rollouts that gate on drift (the monitor is asked)."""
        out = {}
        for name, st in self.models.items():
            r = st.rollout
            if r is not None and not r.is_final and any(g.kind == "drift" for g in r.plan.gates):
                out[name] = r.plan.to_version
        return out

    def tick(self, now: float, drift: Mapping[str, bool | float | None] | None = None) -> list[tuple[str, RolloutRecord]]:
        """Evaluate the gates of every running rollout whose gate interval has passed.

        Args:
            now: the clock.
            drift: ``{model: flag or score}`` of the new version from the drift monitor.
        """
        out = []
        drift = drift or {}
        for name, st in self.models.items():
            r = st.rollout
            if r is None or r.is_final or now - st.last_gate < self.gate_interval_s:
                continue
            plan = r.plan
            canary = st.window[plan.to_version]
            if plan.rollout_strategy.mirrors:  # the new version's answers are compared, not served
                agree, total = st.shadow.agreement_counts()
                canary = canary.copy()
                canary.record_shadow(agree=agree, total=total)
            baseline = st.window[plan.from_version]
            if not any(rt.version == plan.from_version and rt.percent > 0 for rt in r.routing_table().routes):
                baseline = st.total[plan.from_version]  # it serves nothing at this step (100%): its stats since the start
            verdict = evaluate_gates(plan.gates, canary, baseline, drift=drift.get(name)) if plan.gates else None
            st.last_verdict = verdict.to_dict() if verdict is not None else None
            st.last_gate = now
            if verdict is None or verdict.status is not GateStatus.INSUFFICIENT_DATA:
                st.reset_windows()  # a window closes on a verdict; thin traffic keeps accumulating
            rec = self._after(st, r.tick(now, verdict))
            if rec is not None:
                out.append((name, rec))
        return out

    # ------------------------------------------------------------------ live statistics
    def report(self, payload: Mapping[str, Any]) -> None:
        """Merge one ingress replica's flush: per-version stats, shadow pairs, mirrors sent and shed, served requests."""
        for name, part in (payload.get("models") or {}).items():
            st = self.models.get(name)
            if st is None:
                continue
            for v, d in (part.get("stats") or {}).items():
                s = VersionStats.from_dict(d)
                st.window[int(v)].merge_inplace(s)
                st.total[int(v)].merge_inplace(s)
            if part.get("shadow"):
                st.shadow.merge_inplace(ShadowComparator.from_dict(part["shadow"]))
            if part.get("mirroring"):
                st.mirroring.merge_inplace(ShedCounts.from_dict(part["mirroring"]))
            for rid, v, preds in part.get("requests") or ():
                self._requests[rid] = (name, int(v), list(preds))
                if len(self._requests) > _MAX_REQUESTS:
                    self._requests.popitem(last=False)

    def feedback(self, model: str, request_id: str, labels: list[Any]) -> int:
        """Score a served request against its true labels; returns how many were counted.

        Raises:
            ModelNotServedError: unknown model.
            InvalidInputError: unknown or already-scored request id, or a label count mismatch.
        """
        return len(self.score_feedback(model, request_id, labels)[1])

    def score_feedback(self, model: str, request_id: str, labels: list[Any]) -> tuple[int, list[float]]:
        """Like :meth:`feedback`; returns the version that answered and one error (0/1) per label."""
        st = self.state(model)
        hit = self._requests.pop(request_id, None)
        if hit is None or hit[0] != model:
            raise InvalidInputError(
                f"request_id {request_id!r} is unknown for {model} (feedback is accepted once, within a while of the prediction)",
                details=[{"field": "request_id", "problem": "unknown"}],
            )
        _, version, preds = hit
        if len(labels) != len(preds):
            raise InvalidInputError(
                f"{len(labels)} labels for {len(preds)} predictions of request {request_id}",
                details=[{"field": "labels", "problem": f"expected {len(preds)} labels"}],
            )
        correct = sum(1 for p, y in zip(preds, labels) if _same(p, y))
        for stats in (st.window[version], st.total[version]):
            stats.record_feedback(correct=correct, total=len(labels))
        errors = []
        for p, y in zip(preds, labels):
            st.outcomes[version].add(1.0 if _same(p, y) else 0.0)
            errors.append(0.0 if _same(p, y) else 1.0)
        return version, errors

    # ------------------------------------------------------------------ reading
    def status(self, model: str) -> dict[str, Any]:
        """The model's routes, rollout state, decisions, live stats, shadow and A/B figures."""
        st = self.state(model)
        r = st.rollout
        routes = [{"version": rt.version, "percent": rt.percent} for rt in st.table.routes]
        out: dict[str, Any] = {
            "name": model,
            "strategy": r.plan.strategy if r is not None else "single",
            "state": r.state.value if r is not None else "SERVING",
            "routes": routes,
            "shadow": None,
            "decisions": list(st.history),
            "revision": self.revision,
            "plan": r.plan.to_dict() if r is not None else None,
            "last_verdict": st.last_verdict,
            "stats": {
                str(v): {
                    "requests": s.requests,
                    "error_rate": s.error_rate,
                    "p50_ms": s.latency_quantile(0.5),
                    "p99_ms": s.latency_quantile(0.99),
                    "accuracy": s.accuracy,
                }
                for v, s in sorted(st.total.items())
            },
            "downtime_s": st.downtime_s,
        }
        if st.table.shadow is not None or (r is not None and r.plan.rollout_strategy.mirrors):
            out["shadow"] = {
                "version": st.table.shadow,
                "mirror_percent": st.table.mirror_percent,
                **st.shadow.summary(),
                **st.mirroring.summary(),
            }
        if r is not None and r.plan.rollout_strategy.ab_test:
            out["ab"] = self.ab_result(model)
        return out

    def ab_result(self, model: str) -> dict[str, Any] | None:
        """The A/B significance test on feedback outcomes (correct predictions per variant)."""
        st = self.state(model)
        r = st.rollout
        if r is None:
            return None
        a, b = st.outcomes.get(r.plan.from_version), st.outcomes.get(r.plan.to_version)
        if a is None or b is None or a.n < 2 or b.n < 2:
            return {"test": "two_proportion_z", "message": "not enough feedback yet", "n_a": a.n if a else 0, "n_b": b.n if b else 0}
        z = two_proportion_ztest(successes_a=round(a.mean * a.n), n_a=a.n, successes_b=round(b.mean * b.n), n_b=b.n)
        return {"test": "two_proportion_z", "metric": "accuracy from feedback", "variants": [r.plan.from_version, r.plan.to_version], **z.to_dict()}

    def record_downtime(self, model: str, seconds: float) -> None:
        self.state(model).downtime_s = seconds

    # ------------------------------------------------------------------ checkpoint
    def to_dict(self) -> dict[str, Any]:
        return {
            "revision": self.revision,
            "gate_interval_s": self.gate_interval_s,
            "models": {
                n: {
                    "table": st.table.to_dict(),
                    "rollout": st.rollout.to_dict() if st.rollout is not None else None,
                    "history": st.history,
                    "downtime_s": st.downtime_s,
                }
                for n, st in self.models.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RolloutManager:
        m = cls(gate_interval_s=data.get("gate_interval_s", 5.0))
        m.revision = int(data.get("revision", 0)) + 1  # replicas re-fetch after a restart
        for n, d in (data.get("models") or {}).items():
            st = ModelState(n, RoutingTable.from_dict(d["table"]))
            if d.get("rollout"):
                st.rollout = Rollout.from_dict(d["rollout"])
            st.history = list(d.get("history") or [])
            st.downtime_s = d.get("downtime_s")
            st.last_gate = time.time()
            m.models[n] = st
        return m


def _same(pred: Any, label: Any) -> bool:
    if isinstance(pred, (int, float)) and isinstance(label, (int, float)) and not isinstance(pred, bool):
        return float(pred) == float(label)
    return str(pred) == str(label)
