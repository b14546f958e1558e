"""``push``: a blessed candidate goes live, TFX's Pusher plus the step TFX never shipped: a
rollout on Ray Serve with a strategy and gates, whose outcome decides ``champion``.

* not blessed: nothing is pushed (the verdict and why are the step's result);
* blessed, and the model is not served: it becomes ``champion`` (what serving deploys);
* blessed and served: a rollout (canary by default) from the live version through the
  rollout controller (``get_controller(settings).start_rollout``); the step waits for the
  gates' verdict: PROMOTED moves ``champion`` to the candidate, ROLLED_BACK leaves it.

Never cached: it acts on the world. It talks to the controller actor, so it is Ray shell.
"""

from __future__ import annotations

import json
import time

import ray

from raymlops.core.errors import RaymlopsError
from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps.evaluate import REPORT
from raymlops.pipelines.steps.train import MANIFEST
from raymlops.registry import ModelRegistry
from raymlops.serving import ErrorRateGate, LatencyGate, RolloutPlan, get_controller

FINAL = ("PROMOTED", "ROLLED_BACK")


def parse_steps(steps: str | list[float] | tuple[float, ...] | None) -> list[float] | None:
    if steps is None or steps == "":
        return None
    if isinstance(steps, str):
        return [float(x) for x in steps.split(",") if x.strip()]
    return [float(x) for x in steps]


def _served(settings, name: str):
    """The controller and the model's status, or ``(None, None)`` when the model is not served."""
    try:
        ctl = get_controller(settings, create=False)
        return ctl, ray.get(ctl.status.remote(name))
    except (ValueError, RaymlopsError, ray.exceptions.RayError):
        return None, None


@step(inputs=["model", "evaluation"], outputs={"rollout": "RolloutResult"}, deterministic=False, resources={"num_cpus": 0})
def push(
    ctx: StepContext, model: ArtifactRef, evaluation: ArtifactRef, *, strategy: str = "canary", steps: str | list[float] | None = None,
    bake_s: float = 60.0, max_error_rate: float = 0.05, max_p99_ms: float | None = None, max_p99_ratio: float | None = 2.0,
    min_samples: int = 20,
    rollout_timeout_s: float = 900.0,
) -> dict:  # fmt: skip
    m = model.read_json(MANIFEST)
    ev = evaluation.read_json(REPORT)
    name, version = m["name"], int(m["version"])
    out: dict = {"model": f"{name}@{version}", "verdict": ev["verdict"], "pushed": False, "decisions": []}
    reg = ModelRegistry.connect(ctx.settings)
    ctl, status = _served(ctx.settings, name)
    if ev["verdict"] != "BLESSED":
        out.update(state="NOT_PUSHED", reason=f"{name}@{version} is {ev['verdict']}: " + ("; ".join(ev["failed"][:3]) or "see its evaluation"))
    elif ctl is None:
        reg.set_alias(name, version, "champion", reason=f"blessed ({ev['baseline']}); not served yet (pipeline run {ctx.run_id})")
        out.update(pushed=True, state="CHAMPION", reason=f"{name} is not served: {name}@champion -> {version}")
    else:
        live = [r["version"] for r in status["routes"] if r["percent"] > 0]
        if status["state"] in ("RUNNING", "HOLDING"):
            out.update(state="BUSY", reason=f"a rollout of {name} is {status['state']}; promote or roll it back first")
        elif live == [version]:
            out.update(state="SERVING", reason=f"{name}@{version} already serves all traffic")
        else:
            plan = RolloutPlan(
                model=name, strategy=strategy, from_version=live[0], to_version=version, steps=parse_steps(steps), bake_s=bake_s,
                gates=[ErrorRateGate(max_rate=max_error_rate, min_samples=min_samples)] + (
                    [LatencyGate(max_ms=max_p99_ms, max_ratio=max_p99_ratio, min_samples=min_samples)] if max_p99_ms or max_p99_ratio else []
                ),
            )  # fmt: skip
            started = time.time()
            ray.get(ctl.start_rollout.remote(plan.to_dict()))
            out.update(pushed=True, from_version=live[0], strategy=strategy, started=started)
            deadline = started + rollout_timeout_s
            while status["state"] not in FINAL and time.time() < deadline:
                time.sleep(1.0)
                status = ray.get(ctl.status.remote(name))
            out["state"] = status["state"]
            out["decisions"] = [
                {"action": d["action"], "percent": d.get("percent"), "reason": d.get("reason")}
                for d in status.get("decisions", []) if d.get("action") != "hold" and d.get("time", 0) >= started - 1
            ]  # fmt: skip
            if status["state"] == "PROMOTED":
                reg.set_alias(name, version, "champion", reason=f"blessed, and its {strategy} rollout was promoted by its gates (pipeline run {ctx.run_id})")
                out["reason"] = f"{strategy} of {name}@{version} promoted by its gates; champion -> {version}"
            elif status["state"] == "ROLLED_BACK":
                out["reason"] = f"{strategy} of {name}@{version} rolled back: {(out['decisions'] or [{}])[-1].get('reason')}"
            else:
                out["reason"] = f"the rollout is still {status['state']} after {rollout_timeout_s:.0f} s; champion unchanged"
    (ctx.output("rollout") / "rollout.json").write_text(json.dumps(out, indent=2, default=str))
    return {k: out[k] for k in ("model", "verdict", "pushed", "state", "reason") if k in out}
