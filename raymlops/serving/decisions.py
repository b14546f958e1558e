"""Rollout decisions into the metadata store, one ``RolloutDecision`` execution each.

Each decision carries its action, reason, percent and numbers; its inputs are the
artifacts of the model versions involved, and it belongs to the model's ``Rollout``
context, so lineage answers "which decisions moved traffic to this version, and why".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from raymlops.core.config import Settings
from raymlops.metadata import Context, Execution, connect
from raymlops.registry import ModelRegistry
from raymlops.serving.rollout import RolloutPlan

__all__ = ["record_decision"]


def record_decision(settings: Settings, model: str, plan: RolloutPlan | None, rec: Mapping[str, Any]) -> None:
    """Record one decision (a :meth:`RolloutRecord.to_dict`) of the rollout ``plan`` of ``model``.

    A version whose artifact cannot be found any more is left out of the inputs; the
    decision is recorded anyway.
    """
    store = connect(settings)
    reg = ModelRegistry.connect(settings)
    inputs = {}
    if plan is not None:
        for role, v in (("from", plan.from_version), ("to", plan.to_version)):
            try:
                inputs[role] = store.get_artifact(reg.get(f"{model}@{v}")["artifact_id"])
            except Exception:  # noqa: BLE001 - a decision is recorded even if a version vanished
                pass
    store.put_execution(
        Execution(
            type="RolloutDecision",
            name=f"{model}: {rec.get('action')}",
            state="COMPLETE",
            properties={
                "model": model,
                "strategy": plan.strategy if plan else "",
                "from_version": plan.from_version if plan else 0,
                "to_version": plan.to_version if plan else 0,
                "action": str(rec.get("action")),
                "reason": str(rec.get("reason")),
                "percent": float(rec.get("percent") or 0.0),
                "numbers": rec.get("numbers") or {},
            },
        ),
        inputs=list(inputs.values()),
        contexts=[Context(type="Rollout", name=f"{model}")],
    )
