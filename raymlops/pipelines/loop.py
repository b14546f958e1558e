"""The closed loop: a served model, bound to ``retrain`` and a rollout policy.

``enable`` adds a drift trigger for the model to the trigger actor: when the model's
monitor records a FIRING dataset, prediction or concept drift alert, ``retrain`` runs on
the newest data the user points to, evaluates the candidate against the champion
(overall and per slice), canaries a blessed candidate with gates, and ``champion`` moves
only if the gates promote it; a worse candidate is never promoted (it is not blessed, or
its canary is rolled back). The lineage runs alert → cause → the run's steps → the new
version → its rollout decisions (``raymlops lineage execution:ALERT --direction down``).

``status`` answers "what did the loop do last": the last alert, the last run and its
steps, the candidate and its verdict, the rollout's state, and the run's timeline (alert →
run start → canary start: the loop's alert-to-canary figure).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from raymlops.core.config import Settings
from raymlops.core.errors import NotFoundError
from raymlops.core.names import validate_name
from raymlops.metadata import MetadataAPI
from raymlops.pipelines.cache import STEP_EXECUTION
from raymlops.pipelines.loading import load_pipeline
from raymlops.pipelines.run_state import RUN_CONTEXT, RUN_EXECUTION
from raymlops.registry import ModelRegistry

__all__ = ["canary_started_at", "loop_spec", "loop_status", "loop_trigger_id", "runs_of", "steps_of"]


def loop_trigger_id(name: str) -> str:
    return f"loop-{name}"


def loop_spec(
    settings: Settings, store: MetadataAPI, name: str, *, pipeline: str = "retrain", params: Mapping[str, Any] | None = None,
    strategy: str = "canary", steps: Sequence[float] | None = None, bake_s: float = 60.0, cooldown_s: float = 600.0,
    subjects: Sequence[str] = ("dataset", "prediction", "concept"),
) -> dict[str, Any]:  # fmt: skip
    """The trigger that makes the loop of ``name`` (checked: the model exists, the pipeline builds).

    Raises:
        ModelNotFoundError: no such registered model.
        InvalidInputError: the pipeline or its parameters are wrong.
    """
    validate_name(name)
    ModelRegistry(store, None).get(f"{name}@latest")
    full = {**dict(params or {}), "name": name, "strategy": strategy, "bake_s": bake_s}
    if steps:
        full["steps"] = list(steps)
    load_pipeline(pipeline, full)  # fail now, not at the first alert
    return {
        "id": loop_trigger_id(name), "pipeline": pipeline, "kind": "drift", "model": name, "params": full,
        "cooldown_s": cooldown_s, "max_concurrent": 1, "loop": name, "subjects": list(subjects),
    }  # fmt: skip


def steps_of(store: MetadataAPI, run: str) -> list[dict[str, Any]]:
    ctx = store.get_context(RUN_CONTEXT, run)
    if ctx is None:
        return []
    rows = []
    for e in store.get_executions(type=STEP_EXECUTION, context_id=ctx.id):
        rows.append({
            "name": e.name, "status": e.properties.get("status"), "execution_id": e.id, "seconds": e.properties.get("seconds"),
            "cache_key": e.properties.get("cache_key") or None, "result": e.properties.get("result"), "error": e.error,
        })  # fmt: skip
    return rows


def runs_of(store: MetadataAPI, *, loop: str | None = None) -> list[Any]:
    """Pipeline run executions, newest first (only the loop's when ``loop`` is given)."""
    runs = store.get_executions(type=RUN_EXECUTION)
    if loop is not None:
        runs = [r for r in runs if (r.properties.get("cause") or {}).get("loop") == loop]
    return sorted(runs, key=lambda r: r.id or 0, reverse=True)


def loop_status(store: MetadataAPI, name: str, *, trigger: Mapping[str, Any] | None = None, rollout: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """What the loop of ``name`` did last (see the module docstring)."""
    ctx = store.get_context("Monitoring", name)
    alerts = store.get_executions(type="DriftAlert", context_id=ctx.id) if ctx else []
    last_alert = alerts[-1] if alerts else None
    runs = runs_of(store, loop=name)
    out: dict[str, Any] = {
        "name": name,
        "enabled": trigger is not None,
        "trigger": dict(trigger) if trigger else None,
        "last_alert": None if last_alert is None else {"execution_id": last_alert.id, "time": last_alert.create_time, **last_alert.properties},
        "last_run": None,
        "candidate": None,
        "verdict": None,
        "rollout": dict(rollout) if rollout else None,
        "champion": ModelRegistry(store, None).versions.get_aliases(name).get("champion"),
    }
    if not runs and trigger is None and last_alert is None:
        raise NotFoundError(what="loop", name=name, hint=f"enable it with `raymlops loop enable {name} --param data=PATH --param target=COL`")
    if runs:
        r = runs[0]
        steps = steps_of(store, str(r.properties.get("run")))
        out["last_run"] = {"run": r.properties.get("run"), "state": r.state, "cause": r.properties.get("cause"), "error": r.error, "steps": steps}
        by = {s["name"]: s for s in steps}
        out["candidate"] = ((by.get("train") or {}).get("result") or {}).get("model")
        out["verdict"] = ((by.get("evaluate") or {}).get("result") or {}).get("verdict")
        push = (by.get("push") or {}).get("result")
        if push:
            out["push"] = push
        out["timeline"] = _timeline(store, name, r, out["candidate"], steps)
    return out


def canary_started_at(store: MetadataAPI, name: str, version: int) -> float | None:
    """When the first rollout of ``name`` to ``version`` started (its ``start`` decision), None if none did."""
    starts = [
        e.create_time for e in store.get_executions(type="RolloutDecision")
        if e.properties.get("model") == name and e.properties.get("to_version") == version and e.properties.get("action") == "start"
    ]  # fmt: skip
    return min(starts) if starts else None


def _timeline(store: MetadataAPI, name: str, run: Any, candidate: str | None, steps: list[dict[str, Any]]) -> dict[str, Any]:
    """When the last run's alert fired, the run started, and the candidate's canary started.

    ``alert_to_canary_s`` is the loop's headline figure (the drift alert that caused the
    run to the first rollout decision of its candidate); ``pickup_s`` is the trigger's share
    (alert to run start), ``step_s`` the seconds each executed step took.
    """
    alerts = ((run.properties.get("cause") or {}).get("alerts")) or []
    alert = store.get_execution(min(alerts)) if alerts else None
    version = str(candidate).rpartition("@")[2] if candidate else ""
    canary = canary_started_at(store, name, int(version)) if version.isdigit() else None
    at = alert.create_time if alert is not None else None
    return {
        "alert": alert.id if alert is not None else None, "alert_at": at, "run_started_at": run.create_time, "canary_started_at": canary,
        "pickup_s": None if at is None else run.create_time - at,
        "alert_to_canary_s": None if at is None or canary is None else canary - at,
        "step_s": {s["name"]: s["seconds"] for s in steps if s["status"] == "executed"},
    }  # fmt: skip
