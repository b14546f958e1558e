"""Serving overhead on Ray Serve under HTTP load (issue 5), and what a shadow costs the primary (issue 11.3).

The same model (scikit-learn's breast-cancer data, a StandardScaler + LogisticRegression
pipeline: cheap to predict, so serving overhead is not hidden behind model time) behind:

  (a) ``plain``: a Serve app written the way a Ray user would: a FastAPI ingress calling
      one model deployment through a handle (with ``@serve.batch``, like ours), no
      routing, validation or monitoring;
  (b) ``canary``: the raymlops app with a 2-version canary (20%, sticky by user id);
  (n) ``noshadow``: the raymlops app serving one version;
  (s) ``shadow``: the raymlops app serving the same, with a shadow version mirroring 100%
      of requests;
  (d) ``single``: one deployment with the model inside the ingress (reference).

Every app is deployed at once on one Serve instance (one ingress replica and one replica
per model deployment, 0.1 CPU each), and the configurations are measured in interleaved
rounds so drift in the machine's state hits them alike. One instance of 30 features per
request, sent by a separate process.

Part 1, canary (closed loop: 16 requests always in flight, aiohttp; ``_http_load.py``):
(a), (b), (d). Targets (issue 5): (b) throughput >= 0.9x (a) and p50 <= 1.15x (a).

Part 2, shadow (open loop: requests sent on a clock at a fixed offered rate, latency
from the scheduled send time, so queueing counts; ``_open_loop.py``). First the plain
app's capacity C: what (a) completes per second when offered more than it can take.
Then, in interleaved rounds, (n) and (s) at 70% of C, and (n), (s) and (a) at saturation
(offered 1.5 C). Targets (issue 11.3): at 70% of C, (s)'s p99 <= 1.05x (n)'s; at
saturation, (s)'s throughput >= 0.95x (n)'s. The share of mirrors the ingress shed at
each load (and why) comes from the rollout's status, read before and after each (s) run.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request

from _common import HERE, report

CONCURRENCY = 16


def percentiles(lat: list[float]) -> dict[str, float]:
    a = np.asarray(lat)
    return {f"p{q}": round(float(np.percentile(a, q)), 2) for q in (50, 90, 99)}


def predict_split(model, frames: list) -> list[list]:
    """One predict call over the batched requests' frames, cut back into one list each."""
    import pandas as pd

    preds = model.predict(pd.concat(frames, ignore_index=True)).tolist()
    out, i = [], 0
    for f in frames:
        out.append(preds[i : i + len(f)])
        i += len(f)
    return out


def breast_cancer_setup(home: str, names: tuple[str, ...], versions: int = 1):
    """The benchmark model registered (with its reference) ``versions`` times under each name, and a one-row body file."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from raymlops.core.config import Settings
    from raymlops.monitoring.live import reference_attachment
    from raymlops.registry import ModelRegistry

    settings = Settings.resolve(home=home, env={})
    settings.ensure_home()
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X.columns = [c.replace(" ", "_") for c in X.columns]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    reg = ModelRegistry.connect(settings)
    for name in names:
        for _ in range(versions):
            reg.register(model, name, input_example=X.head(), attachments=reference_attachment(model, X))
    body_file = str(Path(home) / "body.json")
    Path(body_file).write_text(json.dumps({"instances": [X.iloc[7].to_dict()]}))
    return settings, model, body_file


def plain_app(model_path: str):
    """(a): ingress → model deployment through a handle, as in Ray Serve's docs."""
    import joblib
    import pandas as pd
    from ray import serve

    api = FastAPI()

    @serve.deployment(ray_actor_options={"num_cpus": 0.1}, max_ongoing_requests=64)
    class PlainModel:
        def __init__(self, path: str):
            self.model = joblib.load(path)

        @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.002)
        async def predict(self, frames: list):
            return predict_split(self.model, frames)

        async def __call__(self, instances: list[dict]):
            return await self.predict(pd.DataFrame(instances))

    @serve.deployment(ray_actor_options={"num_cpus": 0.1}, max_ongoing_requests=512)
    @serve.ingress(api)
    class PlainIngress:
        def __init__(self, model):
            self.model = model

        @api.post("/predict")
        async def predict(self, request: Request):
            body = await request.json()
            return {"predictions": await self.model.remote(body["instances"])}

    return PlainIngress.bind(PlainModel.bind(model_path))


def single_app(model_path: str):
    """(d): the model inside the ingress deployment."""
    import joblib
    import pandas as pd
    from ray import serve

    api = FastAPI()

    @serve.deployment(ray_actor_options={"num_cpus": 0.1}, max_ongoing_requests=512)
    @serve.ingress(api)
    class Single:
        def __init__(self, path: str):
            self.model = joblib.load(path)

        @serve.batch(max_batch_size=32, batch_wait_timeout_s=0.002)
        async def _batch(self, frames: list):
            return predict_split(self.model, frames)

        @api.post("/predict")
        async def predict(self, request: Request):
            body = await request.json()
            return {"predictions": await self._batch(pd.DataFrame(body["instances"]))}

    return Single.bind(model_path)


def run_load(url: str, body_file: str, seconds: float, warmup: float, users: str | None) -> dict:
    """Closed loop: CONCURRENCY requests always in flight (``_http_load.py``)."""
    out = tempfile.mktemp(suffix=".json")
    cmd = [sys.executable, str(HERE / "_http_load.py"), url, str(CONCURRENCY), str(warmup), str(seconds), body_file, out]
    if users:
        cmd.append(users)
    subprocess.run(cmd, check=True, timeout=seconds + warmup + 120)
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    return data


def run_open_loop(url: str, rate: float, body_file: str, seconds: float, warmup: float) -> dict:
    """Open loop: ``rate`` requests per second on a clock (``_open_loop.py``)."""
    out = tempfile.mktemp(suffix=".json")
    cmd = [sys.executable, str(HERE / "_open_loop.py"), url, f"{rate:.3f}", str(warmup), str(seconds), body_file, out]
    subprocess.run(cmd, check=True, timeout=seconds + warmup + 300)
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    return data


def load_avg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def canary_part(base: str, body_file: str, args) -> dict:
    """Part 1 (closed loop): (a) plain, (b) canary, (d) single, interleaved."""
    configs = {
        "a_plain": (f"{base}/plain/predict", None),
        "b_canary": (f"{base}/v1/models/bc:predict", "user"),
        "d_single": (f"{base}/single/predict", None),
    }
    collected: dict[str, dict] = {k: {"lat": [], "status": [], "versions": [], "seconds": 0.0} for k in configs}
    for rnd in range(args.rounds):
        order = list(configs) if rnd % 2 == 0 else list(reversed(configs))
        for name in order:
            url, users = configs[name]
            data = run_load(url, body_file, args.seconds, 3.0, users)
            c = collected[name]
            c["lat"] += [r[0] for r in data["results"]]
            c["status"] += [r[1] for r in data["results"]]
            c["versions"] += [r[2] for r in data["results"]]
            c["seconds"] += data["seconds"]
            print(f"closed loop, round {rnd + 1} {name}: {len(data['results']) / data['seconds']:.0f} req/s", flush=True)
    figures: dict[str, dict] = {}
    for name, c in collected.items():
        figures[name] = {
            "requests": len(c["lat"]),
            "throughput_rps": round(len(c["lat"]) / c["seconds"], 1),
            **percentiles(c["lat"]),
            "non_200": sum(s != 200 for s in c["status"]),
        }
    figures["b_canary"]["share_on_v2"] = round(float(np.mean([v == "2" for v in collected["b_canary"]["versions"]])), 3)
    a, b, d = figures["a_plain"], figures["b_canary"], figures["d_single"]
    ratios = {
        "b_vs_a_throughput": round(b["throughput_rps"] / a["throughput_rps"], 3),
        "b_vs_a_p50": round(b["p50"] / a["p50"], 3),
        "d_vs_a_throughput": round(d["throughput_rps"] / a["throughput_rps"], 3),
    }
    targets = {"b_throughput_ge_0.9a": ratios["b_vs_a_throughput"] >= 0.9, "b_p50_le_1.15a": ratios["b_vs_a_p50"] <= 1.15}
    return {"concurrency": CONCURRENCY, "seconds_per_round": args.seconds, "rounds": args.rounds, "configs": figures, "ratios": ratios, "targets_met": targets}


def _mirror_counts(ctl, model: str) -> dict:
    """The rollout's mirrored/dropped counters and pairs, after the ingress's next flush."""
    import ray

    time.sleep(1.2)  # the ingress flushes every 0.5 s
    sh = ray.get(ctl.status.remote(model))["shadow"] or {}
    return {"mirrored": sh.get("mirrored", 0), "pairs": sh.get("pairs", 0), **{r: n for r, n in (sh.get("dropped") or {}).items()}}


def shadow_part(base: str, body_file: str, ctl, args, closed_capacity: float | None) -> dict:
    """Part 2 (open loop): the plain app's capacity, then (n) and (s) at 70% of it and at saturation, interleaved."""
    urls = {"plain": f"{base}/plain/predict", "noshadow": f"{base}/v1/models/bcn:predict", "shadow": f"{base}/v1/models/bcs:predict"}
    probe = args.probe_rate or 2.0 * (closed_capacity or 100.0)
    caps = []
    for i in range(args.capacity_rounds):
        data = run_open_loop(urls["plain"], probe, body_file, args.ol_seconds, args.ol_warmup)
        caps.append(data["completed_in_window"] / data["seconds"])
        print(f"capacity probe {i + 1}: plain app completes {caps[-1]:.1f} req/s offered {probe:.0f} req/s", flush=True)
        time.sleep(1.0)
    capacity = float(np.median(caps))
    loads = {"70": 0.7 * capacity, "sat": args.saturation * capacity}
    runs = [("noshadow", "70"), ("shadow", "70"), ("noshadow", "sat"), ("shadow", "sat"), ("plain", "sat")]
    collected = {r: {"lat": [], "status": [], "completed": 0, "seconds": 0.0, "offered": 0, "lag_max": 0.0, "p99s": [], "tputs": [], "versions": []} for r in runs}
    shed = {load: {"mirrored": 0, "pairs": 0, "primary_saturated": 0, "shadow_queue_full": 0} for load in loads}
    for rnd in range(args.ol_rounds):
        # the two sides of each comparison back to back (the machine's state drifts over
        # minutes), each side first in every other round, the two loads in turns
        pairs = [[("noshadow", "70"), ("shadow", "70")], [("noshadow", "sat"), ("shadow", "sat")]]
        if rnd % 2:
            pairs = [list(reversed(p)) for p in pairs]
        if (rnd // 2) % 2:
            pairs.reverse()
        for app, load in [*pairs[0], *pairs[1], ("plain", "sat")]:
            before = _mirror_counts(ctl, "bcs") if app == "shadow" else None
            data = run_open_loop(urls[app], loads[load], body_file, args.ol_seconds, args.ol_warmup)
            if before is not None:
                after = _mirror_counts(ctl, "bcs")
                for key in shed[load]:
                    shed[load][key] += after[key] - before[key]
            else:
                time.sleep(1.0)  # the backlog of a saturated run is gone before the next one starts
            c = collected[(app, load)]
            lat = [r[0] for r in data["results"]]
            c["lat"] += lat
            c["status"] += [r[1] for r in data["results"]]
            c["versions"] += [r[2] for r in data["results"] if r[1] == 200]
            c["completed"] += data["completed_in_window"]
            c["seconds"] += data["seconds"]
            c["offered"] += data["offered"]
            c["lag_max"] = max(c["lag_max"], data["lag_ms"]["max"] or 0.0)
            c["p99s"].append(round(float(np.percentile(lat, 99)), 1))
            c["tputs"].append(round(data["completed_in_window"] / data["seconds"], 1))
            print(
                f"open loop, round {rnd + 1} {app}@{load}: offered {loads[load]:.1f} req/s, completed {c['tputs'][-1]} req/s, "
                f"p50 {np.percentile(lat, 50):.0f} ms, p99 {c['p99s'][-1]:.0f} ms (load average {load_avg()})",
                flush=True,
            )
    figures: dict[str, dict] = {}
    for (app, load), c in collected.items():
        figures[f"{app}@{load}"] = {
            "offered_rps": round(loads[load], 1),
            "throughput_rps": round(c["completed"] / c["seconds"], 1),
            "requests": len(c["lat"]),
            **percentiles(c["lat"]),
            "non_200": sum(s != 200 for s in c["status"]),
            "generator_lag_max_ms": round(c["lag_max"], 1),
            "p99_per_round": c["p99s"],
            "throughput_per_round": c["tputs"],
        }
    for load, d in shed.items():
        chosen = d["mirrored"] + d["primary_saturated"] + d["shadow_queue_full"]
        d["dropped_share"] = round((chosen - d["mirrored"]) / chosen, 4) if chosen else None
        figures[f"shadow@{load}"]["mirroring"] = d
        figures[f"shadow@{load}"]["answered_by_primary"] = round(float(np.mean([v == "1" for v in collected[("shadow", load)]["versions"]])), 4)
    n70, s70, nsat, ssat = (figures[k] for k in ("noshadow@70", "shadow@70", "noshadow@sat", "shadow@sat"))
    ratios = {
        "s_vs_n_p99_at_70": round(s70["p99"] / n70["p99"], 3),
        "s_vs_n_p50_at_70": round(s70["p50"] / n70["p50"], 3),
        "s_vs_n_throughput_at_sat": round(ssat["throughput_rps"] / nsat["throughput_rps"], 3),
        "n_vs_plain_throughput_at_sat": round(nsat["throughput_rps"] / figures["plain@sat"]["throughput_rps"], 3),
        "p99_ratio_per_round_at_70": [round(a / b, 3) for a, b in zip(s70["p99_per_round"], n70["p99_per_round"])],
        "throughput_ratio_per_round_at_sat": [round(a / b, 3) for a, b in zip(ssat["throughput_per_round"], nsat["throughput_per_round"])],
    }
    ratios["median_round_p99_ratio_at_70"] = round(float(np.median(ratios["p99_ratio_per_round_at_70"])), 3)
    ratios["median_round_throughput_ratio_at_sat"] = round(float(np.median(ratios["throughput_ratio_per_round_at_sat"])), 3)
    targets = {
        "p99_at_70_le_1.05": ratios["s_vs_n_p99_at_70"] <= 1.05,
        "throughput_at_sat_ge_0.95": ratios["s_vs_n_throughput_at_sat"] >= 0.95,
    }
    return {
        "plain_capacity_rps": round(capacity, 1),
        "capacity_probes_rps": [round(c, 1) for c in caps],
        "probe_rate_rps": round(probe, 1),
        "loads_rps": {k: round(v, 1) for k, v in loads.items()},
        "seconds_per_round": args.ol_seconds,
        "warmup_s": args.ol_warmup,
        "rounds": args.ol_rounds,
        "configs": figures,
        "ratios": ratios,
        "targets_met": targets,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--part", choices=("all", "canary", "shadow"), default="all")
    ap.add_argument("--seconds", type=float, default=15.0, help="closed loop: measured seconds per configuration and round")
    ap.add_argument("--rounds", type=int, default=3, help="closed loop: rounds")
    ap.add_argument("--ol-seconds", type=float, default=8.0, help="open loop: measured seconds per configuration and round")
    ap.add_argument("--ol-warmup", type=float, default=2.0, help="open loop: warm-up seconds at the same rate before measuring")
    ap.add_argument("--ol-rounds", type=int, default=6, help="open loop: rounds")
    ap.add_argument("--capacity-rounds", type=int, default=2, help="open loop: rounds probing the plain app's capacity")
    ap.add_argument("--probe-rate", type=float, default=None, help="open loop: offered rate of the capacity probe (default 2x the closed-loop capacity)")
    ap.add_argument("--saturation", type=float, default=1.5, help="open loop: the saturation load as a multiple of the plain capacity")
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--monitoring", choices=("on", "off"), default="on", help="raymlops drift monitoring (on by default, as shipped)")
    args = ap.parse_args()

    import joblib
    import ray
    import requests
    from ray import serve

    from raymlops.serving import get_controller
    from raymlops.serving.app import deploy
    from raymlops.serving.rollout import RolloutPlan

    home = tempfile.mkdtemp(prefix="bench-serving-")
    settings, model, body_file = breast_cancer_setup(home, ("bc", "bcn", "bcs"), versions=2)
    model_path = str(Path(home) / "model.joblib")
    joblib.dump(model, model_path)

    print(f"load average before: {load_avg()}", flush=True)
    base = deploy(settings, port=args.port, gate_interval_s=5.0)
    ctl = get_controller(settings)
    serve.run(plain_app(model_path), name="plain", route_prefix="/plain")
    serve.run(single_app(model_path), name="single", route_prefix="/single")
    for name in ("bc", "bcn", "bcs"):
        ray.get(ctl.serve_model.remote(name, 1, None, 1, None if args.monitoring == "on" else False))
    ray.get(ctl.start_rollout.remote(RolloutPlan(model="bc", strategy="canary", from_version=1, to_version=2, steps=(20,), bake_s=3600).to_dict()))
    plan = RolloutPlan(model="bcs", strategy="shadow", from_version=1, to_version=2, bake_s=3600, mirror_percent=100.0)
    ray.get(ctl.start_rollout.remote(plan.to_dict()))
    time.sleep(3)  # the ingress polls the new tables

    paths = {"plain": "/plain/predict", "single": "/single/predict", "bc": "/v1/models/bc:predict", "bcn": "/v1/models/bcn:predict", "bcs": "/v1/models/bcs:predict"}
    for name, path in paths.items():  # every path answers before measuring
        r = requests.post(base + path, data=Path(body_file).read_bytes(), headers={"content-type": "application/json"}, timeout=30)
        assert r.status_code == 200, (name, r.status_code, r.text)

    out: dict = {"monitoring": args.monitoring, "load_average_before": load_avg()}
    if args.part in ("all", "canary"):
        out["canary"] = canary_part(base, body_file, args)
    if args.part in ("all", "shadow"):
        closed = out.get("canary", {}).get("configs", {}).get("a_plain", {}).get("throughput_rps")
        out["shadow"] = shadow_part(base, body_file, ctl, args, closed)
        status = ray.get(ctl.status.remote("bcs"))["shadow"]
        out["shadow"]["shadow_status"] = {k: status.get(k) for k in ("pairs", "agreement", "shadow_errors", "mirrored", "dropped", "dropped_share")}
    out["load_average_after"] = load_avg()
    report("bench_serving", out)
    serve.shutdown()
    ray.kill(ctl)


if __name__ == "__main__":
    main()
