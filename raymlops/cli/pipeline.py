"""`raymlops pipeline run|status|list|trigger ...` and `raymlops loop enable|status`."""

from __future__ import annotations

import os
import shlex
import time
from typing import Any

import click
from ray.job_submission import JobSubmissionClient

from raymlops.cli._common import CliContext, call_actor, command_options, emit, pass_cli, table
from raymlops.core import runtime
from raymlops.core.errors import InvalidInputError, NotFoundError, RaymlopsError
from raymlops.pipelines import parse_params, run_pipeline
from raymlops.pipelines.leases import Leases
from raymlops.pipelines.loop import loop_spec, loop_status, loop_trigger_id, runs_of, steps_of
from raymlops.pipelines.run_state import RunState, run_lease
from raymlops.pipelines.scheduler import new_run_id
from raymlops.pipelines.steps.push import parse_steps
from raymlops.pipelines.trigger_actor import get_trigger_actor
from raymlops.pipelines.triggers import parse_every
from raymlops.serving import STRATEGIES, get_controller

LOOP_STRATEGIES = [n for n, s in STRATEGIES.items() if not s.mirrors and not s.ab_test]
"""The strategies whose gates end a rollout by promoting or rolling back (not shadow or A/B)."""
_PARAM_HELP = "A run parameter KEY=VALUE (repeatable; VALUE is parsed as JSON when it can be)."


def _cluster(cctx: CliContext) -> None:
    """Join the running cluster (``--address``, else the one `ray start` started on this machine)."""
    runtime.init(cctx.settings, address=cctx.settings.ray_address or "auto")


def _trigger_actor(cctx: CliContext, *, create: bool = True):
    _cluster(cctx)
    try:
        return get_trigger_actor(cctx.settings, create=create)
    except ValueError:
        return None


def _run_text(r: dict[str, Any]) -> str:
    rows = [
        {
            "step": s["name"], "status": s["status"], "seconds": round(s.get("seconds") or 0.0, 2),
            "key": (s.get("cache_key") or "-")[:12], "note": (s.get("error") or s.get("reason") or "").splitlines()[0][:80] if (s.get("error") or s.get("reason")) else "",
        }  # fmt: skip
        for s in r["steps"]
    ]
    counts = {k: sum(s["status"] == k for s in r["steps"]) for k in ("executed", "cached", "failed", "skipped")}
    head = f"run {r['run']} of {r['pipeline']}: {r['state']}  ({', '.join(f'{v} {k}' for k, v in counts.items() if v)})"
    cause = r.get("cause") or {}
    if cause.get("kind") not in (None, "manual"):
        head += f"\ncause: {cause}"
    return head + "\n" + table(rows, ["step", "status", "seconds", "key", "note"])


def _submit_job(cctx: CliContext, pipeline: str, params: tuple[str, ...], no_cache: bool) -> dict[str, Any]:
    """Submit the driver as a Ray job (its entrypoint: this same command, waiting, on the cluster)."""
    _cluster(cctx)
    try:
        client = JobSubmissionClient()
    except Exception as exc:  # noqa: BLE001 - no dashboard on this cluster
        raise InvalidInputError(f"cannot submit a Ray job to this cluster ({exc}); its head needs the dashboard (`ray start --head` starts it), or run with --wait") from None
    run_id = new_run_id(os.path.basename(pipeline.split(".py")[0]))
    runtime_env: dict[str, Any] = {"env_vars": cctx.settings.env_vars()}
    target = pipeline
    if ".py" in pipeline:
        path, _, attr = pipeline.partition(".py")
        runtime_env["working_dir"] = os.path.dirname(os.path.abspath(path + ".py"))
        target = os.path.basename(path) + ".py" + attr
    args = ["python", "-m", "raymlops", "pipeline", "run", target, "--run-id", run_id, "--json"]
    for p in params:
        args += ["--param", p]
    if no_cache:
        args.append("--no-cache")
    sid = client.submit_job(entrypoint=" ".join(shlex.quote(a) for a in args), runtime_env=runtime_env, submission_id=f"raymlops-{run_id}")
    return {"run": run_id, "pipeline": pipeline, "state": "SUBMITTED", "submission_id": sid, "cause": {"kind": "manual"}, "steps": []}


def register(cli: click.Group) -> None:
    @cli.group()
    def pipeline():
        """Pipelines on Ray: cached steps, runs, triggers."""

    @pipeline.command("run")
    @click.argument("spec", metavar="PIPELINE")
    @click.option("--param", "params", multiple=True, help=_PARAM_HELP)
    @click.option("--no-cache", is_flag=True, help="Execute every step (results are still recorded for later runs).")
    @click.option("--address", help="Run on this Ray cluster (default: an embedded local Ray).")
    @click.option("--wait/--no-wait", default=True, show_default=True, help="--no-wait submits the run as a Ray job and returns.")
    @click.option("--resume", help="Continue this unfinished run: its finished steps are kept.")
    @click.option("--run-id", help="The new run's id (default: pipeline name and time).")
    @command_options
    @pass_cli
    def run(cctx: CliContext, spec: str, params, no_cache: bool, address: str | None, wait: bool, resume: str | None, run_id: str | None):
        """Run PIPELINE: a built-in name (retrain) or FILE.py[:ATTR]."""
        if address:
            cctx.address = address  # the settings are resolved on first use, after this
        parsed = parse_params(params)
        if not wait:
            if not cctx.settings.ray_address:
                raise click.UsageError("--no-wait submits a Ray job to a cluster: pass --address (or set RAY_ADDRESS)")
            out = _submit_job(cctx, spec, params, no_cache)
            emit(cctx, out, lambda r: f"submitted run {r['run']} as Ray job {r['submission_id']}; follow it with `raymlops pipeline status {r['run']}`")
            return 0
        cctx.settings.ensure_home()
        if cctx.settings.ray_address:
            cctx.init_ray()
        say = None if cctx.json else (lambda m: click.echo(m, err=True))
        result = run_pipeline(spec, parsed, settings=cctx.settings, use_cache=not no_cache, resume=resume, run_id=run_id, say=say).to_dict()
        emit(cctx, result, _run_text)
        return 1 if result["state"] != "COMPLETE" else 0

    @pipeline.command("status")
    @click.argument("run_id", metavar="RUN")
    @command_options
    @pass_cli
    def status(cctx: CliContext, run_id: str):
        """The state of RUN and of each of its steps."""
        store = cctx.store()
        ex = RunState.find(store, run_id)
        if ex is None:
            raise NotFoundError(what="pipeline run", name=run_id, hint="list runs with `raymlops pipeline list`")
        state = ex.state
        if state == "RUNNING" and not Leases(store).is_live(run_lease(run_id)):
            state = "FAILED"  # the driver is gone; the next run's sweep records it
        steps = [
            {"name": s["name"], "status": s["status"], "execution_id": s["execution_id"], "seconds": s["seconds"], "cache_key": s["cache_key"],
             "outputs": [], "error": s["error"], "result": s["result"]}
            for s in steps_of(store, run_id)
        ]
        out = {"run": run_id, "pipeline": ex.properties.get("pipeline"), "state": state, "cause": ex.properties.get("cause"), "error": ex.error, "steps": steps}
        emit(cctx, out, _run_text)
        return 0

    @pipeline.command("list")
    @click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
    @command_options
    @pass_cli
    def list_(cctx: CliContext, limit: int):
        """Recent pipeline runs, newest first."""
        rows = [
            {
                "run": r.properties.get("run"), "pipeline": r.properties.get("pipeline"), "state": r.state,
                "cause": (r.properties.get("cause") or {}).get("kind"), "started": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.properties.get("started") or 0)),
                "steps": r.properties.get("summary") or {},
            }  # fmt: skip
            for r in runs_of(cctx.store())[:limit]
        ]
        emit(cctx, rows, lambda rs: table(rs, ["run", "pipeline", "state", "cause", "started"], empty="no pipeline runs yet"))
        return 0

    @pipeline.group()
    def trigger():
        """Start pipelines on a schedule, on new data or on drift alerts (runs on the cluster)."""

    @trigger.command("add")
    @click.argument("spec", metavar="PIPELINE")
    @click.option("--every", help="An interval: 90s, 15m, 1h, 2d.")
    @click.option("--cron", help='A cron expression in UTC, e.g. "0 * * * *".')
    @click.option("--on-drift", "on_drift", metavar="MODEL", help="A drift alert of this served model.")
    @click.option("--on-new-data", "on_new_data", metavar="PATH", help="A new or changed file in this folder or glob.")
    @click.option("--param", "params", multiple=True, help=_PARAM_HELP)
    @click.option("--cooldown-s", type=click.FloatRange(min=0), default=300.0, show_default=True, help="Least time between two runs it starts.")
    @click.option("--max-concurrent", type=click.IntRange(min=1), default=1, show_default=True, help="Most of its runs at once.")
    @click.option("--id", "trigger_id", help="The trigger's id (default: generated).")
    @command_options
    @pass_cli
    def trigger_add(cctx: CliContext, spec, every, cron, on_drift, on_new_data, params, cooldown_s, max_concurrent, trigger_id):
        """Add a trigger that runs PIPELINE."""
        kinds = [k for k, v in (("every", every), ("cron", cron), ("drift", on_drift), ("new_data", on_new_data)) if v]
        if len(kinds) != 1:
            raise click.UsageError("give exactly one of --every, --cron, --on-drift, --on-new-data")
        body: dict[str, Any] = {"id": trigger_id, "pipeline": os.path.abspath(spec) if ".py" in spec else spec, "kind": kinds[0],
                                "params": parse_params(params), "cooldown_s": cooldown_s, "max_concurrent": max_concurrent}  # fmt: skip
        if every:
            body["every_s"] = parse_every(every)
        body.update(cron=cron, model=on_drift, path=os.path.abspath(on_new_data) if on_new_data else None)
        row = call_actor(_trigger_actor(cctx).add, {k: v for k, v in body.items() if v is not None})
        emit(cctx, row, lambda r: f"trigger {r['id']}: {r['kind']} -> {r['pipeline']} (cooldown {r['cooldown_s']:g} s, at most {r['max_concurrent']} at once)")
        return 0

    @trigger.command("list")
    @command_options
    @pass_cli
    def trigger_list(cctx: CliContext):
        """Every trigger, with how often it fired and its last run."""
        actor = _trigger_actor(cctx, create=False)
        rows = call_actor(actor.list) if actor is not None else []
        for r in rows:
            r["when"] = r.get("cron") or (f"every {r['every_s']:g}s" if r.get("every_s") else None) or r.get("model") or r.get("path")
            r["last"] = (r.get("last_run") or {}).get("state")
        emit(cctx, rows, lambda rs: table(rs, ["id", "kind", "when", "pipeline", "fired", "pending", "last"], empty="no triggers"))
        return 0

    @trigger.command("remove")
    @click.argument("trigger_id", metavar="ID")
    @command_options
    @pass_cli
    def trigger_remove(cctx: CliContext, trigger_id: str):
        """Remove trigger ID (runs it started go on)."""
        actor = _trigger_actor(cctx, create=False)
        if actor is None:
            raise InvalidInputError(f"there are no triggers on this cluster (no trigger {trigger_id!r})")
        row = call_actor(actor.remove, trigger_id)
        emit(cctx, row, f"removed trigger {trigger_id}")
        return 0

    @cli.group()
    def loop():
        """The closed loop: drift alert -> retrain -> evaluate -> canary -> promote or roll back."""

    @loop.command("enable")
    @click.argument("name")
    @click.option("--pipeline", "spec", default="retrain", show_default=True, help="The pipeline to run (a built-in or FILE.py[:ATTR]).")
    @click.option("--param", "params", multiple=True, help=_PARAM_HELP + " retrain needs data and target.")
    @click.option("--strategy", type=click.Choice(LOOP_STRATEGIES), default="canary", show_default=True, help="How the candidate takes over.")
    @click.option("--steps", help="Canary percents, e.g. 10,50,100.")
    @click.option("--bake-s", type=click.FloatRange(min=0), default=60.0, show_default=True, help="Seconds per step with passing gates.")
    @click.option("--cooldown-s", type=click.FloatRange(min=0), default=600.0, show_default=True, help="Least time between two retrains.")
    @command_options
    @pass_cli
    def loop_enable(cctx: CliContext, name, spec, params, strategy, steps, bake_s, cooldown_s):
        """Bind served model NAME to a retraining pipeline and a rollout policy."""
        body = loop_spec(
            cctx.settings, cctx.store(), name, pipeline=os.path.abspath(spec) if ".py" in spec else spec, params=parse_params(params),
            strategy=strategy, steps=parse_steps(steps), bake_s=bake_s, cooldown_s=cooldown_s,
        )  # fmt: skip
        row = call_actor(_trigger_actor(cctx).add, body)
        emit(cctx, row, lambda r: f"loop {name} enabled: a drift alert of {name} runs {r['pipeline']}, then a {strategy} rollout with gates (cooldown {cooldown_s:g} s)")
        return 0

    @loop.command("status")
    @click.argument("name")
    @command_options
    @pass_cli
    def loop_status_cmd(cctx: CliContext, name: str):
        """Last alert, last run and its steps, candidate version, rollout state."""
        trigger_row, rollout = None, None
        if cctx.settings.ray_address or os.environ.get("RAY_ADDRESS"):
            actor = _trigger_actor(cctx, create=False)
            if actor is not None:
                rows = [r for r in call_actor(actor.list) if r["id"] == loop_trigger_id(name)]
                trigger_row = rows[0] if rows else None
            try:
                rollout = call_actor(get_controller(cctx.settings, create=False).status, name)
                rollout = {k: rollout[k] for k in ("state", "strategy", "routes")}
            except (ValueError, RaymlopsError):
                rollout = None
        st = loop_status(cctx.store(), name, trigger=trigger_row, rollout=rollout)

        def human(s: dict) -> str:
            a = s["last_alert"]
            lines = [f"loop {name}: {'enabled' if s['enabled'] else 'not enabled (or no cluster reachable)'}; champion: {s['champion']}"]
            lines.append(f"last alert: {a['name'] if a and 'name' in a else (a and a.get('subject'))} {a and a.get('state')} (execution {a and a['execution_id']})" if a else "last alert: none")
            if s["last_run"]:
                r = s["last_run"]
                lines.append(f"last run: {r['run']} {r['state']}; candidate {s['candidate']} {s['verdict'] or ''}")
                lines.append(table(r["steps"], ["name", "status", "execution_id", "seconds"]))
                t = s.get("timeline") or {}
                if t.get("alert_to_canary_s") is not None:
                    lines.append(f"alert {t['alert']} -> run started {t['pickup_s']:.1f} s later -> canary {t['alert_to_canary_s']:.1f} s after the alert")
            if s.get("push"):
                lines.append(f"push: {s['push'].get('state')}: {s['push'].get('reason')}")
            if s["rollout"]:
                lines.append(f"rollout now: {s['rollout']['strategy']} {s['rollout']['state']} {s['rollout']['routes']}")
            return "\n".join(lines)

        emit(cctx, st, human)
        return 0
