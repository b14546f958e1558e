"""`raymlops serve up` and `raymlops rollout start|status|promote|rollback`."""

from __future__ import annotations

import time

import click

from raymlops.cli._common import CliContext, call_actor, command_options, emit, pass_cli, table
from raymlops.core import runtime
from raymlops.core.errors import InvalidInputError
from raymlops.registry import ModelRegistry
from raymlops.serving.controller_actor import get_controller
from raymlops.serving.gates import DriftGate, ErrorRateGate, LatencyGate, ShadowAgreementGate
from raymlops.serving.rollout import RolloutPlan
from raymlops.serving.strategies import STRATEGIES, strategy_for


def _controller(cctx: CliContext):
    """The rollout controller of a running cluster (``--address``, else the local one)."""
    address = cctx.settings.ray_address or "auto"
    runtime.init(cctx.settings, address=address)
    try:
        return get_controller(cctx.settings, create=False)
    except ValueError:
        raise InvalidInputError(
            "no raymlops serving on this cluster: start it with `raymlops serve up --model NAME@champion`"
        ) from None


def _shed_text(sh: dict) -> str:
    """The mirrored requests sent and shed (best-effort mirroring), one line."""
    dropped = sh.get("dropped") or {}
    share = sh.get("dropped_share")
    reasons = ", ".join(f"{reason.replace('_', ' ')} {n}" for reason, n in dropped.items() if n)
    return (
        f"mirrored {sh.get('mirrored', 0)}, dropped {sum(dropped.values())}"
        f" ({'n/a' if share is None else f'{share:.1%}'} of those chosen for mirroring"
        f"{': ' + reasons if reasons else ''})"
    )


def _status_text(s: dict) -> str:
    lines = [f"{s['name']}: {s['strategy']} {s['state']}", table(s["routes"], ["version", "percent"])]
    if s.get("shadow"):
        sh = s["shadow"]
        agreement = sh.get("agreement")
        lines.append(
            f"shadow v{sh.get('version')}: mirror {sh.get('mirror_percent')}%, pairs {sh.get('pairs', 0)}, "
            f"agreement {agreement if agreement is None else round(agreement, 4)}, shadow errors {sh.get('shadow_errors', 0)}"
        )
        lines.append(_shed_text(sh))
    if s.get("stats"):
        rows = [{"version": v, **x} for v, x in s["stats"].items()]
        lines.append(table(rows, ["version", "requests", "error_rate", "p50_ms", "p99_ms", "accuracy"]))
    if s.get("downtime_s") is not None:
        lines.append(f"recreate downtime: {s['downtime_s']:.2f} s")
    if s.get("decisions"):
        lines.append("decisions:")
        lines += [f"  {d['action']:<15} {d.get('percent', 0):>5}%  {d['reason']}" for d in s["decisions"][-10:]]
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    @cli.group()
    def serve():
        """Serve registered models on Ray Serve."""

    @serve.command("up")
    @click.option("--model", "models", multiple=True, help="Model to serve, NAME@ALIAS or NAME@VERSION (repeatable).")
    @click.option("--blocking", is_flag=True, help="Run an embedded Ray + Serve in the foreground until Ctrl-C.")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", type=int, default=8000, show_default=True)
    @click.option("--gate-interval-s", type=click.FloatRange(min=0.1), default=5.0, show_default=True)
    @command_options
    @pass_cli
    def up(cctx: CliContext, models, blocking, host, port, gate_interval_s):
        """Deploy the HTTP ingress and the given models."""
        from raymlops.serving import app  # heavy (Ray Serve and FastAPI, about 1 s): only `serve up` deploys

        for ref in models:
            ModelRegistry.connect(cctx.settings).get(ref)  # fail on a bad ref before starting anything
        if not blocking and not cctx.settings.ray_address:
            raise click.UsageError(
                "without --address (or RAY_ADDRESS) there is no cluster to keep serving after this command: "
                "pass --blocking to serve in the foreground, or --address of a running cluster"
            )
        cctx.settings.ensure_home()
        url = app.deploy(cctx.settings, models=list(models), host=host, port=port, gate_interval_s=gate_interval_s)
        emit(cctx, {"url": url, "models": list(models)}, f"serving {', '.join(models) or 'no model yet'} at {url}")
        if blocking:
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                app.shutdown()
        return 0

    @cli.group()
    def rollout():
        """Move traffic between versions: recreate, blue-green, canary, A/B, shadow."""

    @rollout.command("start")
    @click.argument("name")
    @click.option("--to", "to_version", type=int, required=True, help="The new version.")
    @click.option("--strategy", type=click.Choice(list(STRATEGIES)), required=True)
    @click.option("--percent", type=click.FloatRange(0, 100), help="Hold the new version at this percent (shadow: mirror share).")
    @click.option("--steps", help="Comma-separated percents, e.g. 10,50,100.")
    @click.option("--bake-s", type=click.FloatRange(min=0), default=60.0, show_default=True, help="Seconds per step with passing gates.")
    @click.option("--sticky-header", default="x-user-id", show_default=True)
    @click.option("--max-error-rate", type=click.FloatRange(0, 1), default=0.05, show_default=True)
    @click.option("--max-p99-ms", type=click.FloatRange(min=0, min_open=True), default=1000.0, show_default=True)
    @click.option("--max-p99-ratio", type=click.FloatRange(min=0, min_open=True), help="Also: the new version's p99 at most this times the stable version's over the same window.")
    @click.option("--min-agreement", type=click.FloatRange(0, 1), default=0.9, show_default=True, help="Shadow agreement gate.")
    @click.option("--min-samples", type=click.IntRange(min=1), default=20, show_default=True)
    @click.option("--gate-drift", is_flag=True, help="Also gate on the new version's input and prediction drift (the monitor's last window).")
    @command_options
    @pass_cli
    def start(cctx: CliContext, name, to_version, strategy, percent, steps, bake_s, sticky_header, max_error_rate, max_p99_ms, max_p99_ratio, min_agreement, min_samples, gate_drift):
        """Start moving NAME to version --to (with --percent alone, change a running split)."""
        mirrors = strategy_for(strategy).mirrors  # --percent is then the mirrored share, and there are no steps
        ctl = _controller(cctx)
        current = call_actor(ctl.status, name)
        if percent is not None and current["state"] in ("RUNNING", "HOLDING") and current["plan"] and current["plan"]["to_version"] == to_version:
            s = call_actor(ctl.set_percent, name, percent)
            emit(cctx, s, _status_text)
            return 0
        live = [r["version"] for r in current["routes"] if r["percent"] > 0]
        if len(live) != 1:
            raise InvalidInputError(f"{name} is split across versions {live}; promote or roll back the running rollout first")
        parsed_steps = None
        if steps:
            try:
                parsed_steps = [float(x) for x in steps.split(",") if x.strip()]
            except ValueError:
                raise click.BadParameter(f"{steps!r}: use comma-separated percents like 10,50,100", param_hint="--steps") from None
        if percent is not None and not mirrors:
            parsed_steps = [percent]
        gates = [ErrorRateGate(max_rate=max_error_rate, min_samples=min_samples), LatencyGate(max_ms=max_p99_ms, max_ratio=max_p99_ratio, min_samples=min_samples)]
        if mirrors:
            gates.append(ShadowAgreementGate(min_agreement=min_agreement, min_samples=min_samples))
        if gate_drift:
            gates.append(DriftGate())
        plan = RolloutPlan(
            model=name,
            strategy=strategy,
            from_version=live[0],
            to_version=to_version,
            steps=None if mirrors else parsed_steps,
            bake_s=bake_s,
            gates=gates,
            sticky_header=sticky_header,
            mirror_percent=percent if (mirrors and percent is not None) else 100.0,
        )
        ModelRegistry.connect(cctx.settings).get(f"{name}@{to_version}")
        s = call_actor(ctl.start_rollout, plan.to_dict())
        emit(cctx, s, _status_text)
        return 0

    for verb in ("status", "promote", "rollback"):

        def make(verb: str):
            @rollout.command(
                verb,
                help={
                    "status": "Routes, state, decisions, shadow and live stats of NAME.",
                    "promote": "Send all of NAME's traffic to the new version now.",
                    "rollback": "Send all of NAME's traffic back to the old version now.",
                }[verb],
            )
            @click.argument("name")
            @click.option("--reason", default=None, help="Why (recorded with the decision).")
            @command_options
            @pass_cli
            def cmd(cctx: CliContext, name, reason):
                ctl = _controller(cctx)
                if verb == "status":
                    s = call_actor(ctl.status, name)
                else:
                    s = call_actor(getattr(ctl, verb), name, reason or f"{verb} by operator")
                emit(cctx, s, _status_text)
                return 0

            return cmd

        make(verb)
