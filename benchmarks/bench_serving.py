"""Serving overhead on Ray Serve under concurrent HTTP load (issue 5).

The same model (scikit-learn's breast-cancer data, a StandardScaler + LogisticRegression
pipeline: cheap to predict, so serving overhead is not hidden behind model time) behind:

  (a) ``plain``: a Serve app written the way a Ray user would: a FastAPI ingress calling
      one model deployment through a handle (with ``@serve.batch``, like ours), no
      routing, validation or monitoring;
  (b) ``canary``: the raymlops app with a 2-version canary (20%, sticky by user id);
  (c) ``shadow``: the raymlops app with a shadow version (100% and 10% of requests
      mirrored);
  (d) ``single``: one deployment with the model inside the ingress (reference).

Every app is deployed at once on one Serve instance (one ingress replica and one replica
per model deployment, 0.1 CPU each); the configurations are measured in interleaved
rounds so drift in the machine's state hits them alike. Load: a separate process keeps
16 requests in flight (aiohttp, closed loop), one instance of 30 features per request.

Targets (issue 5): (b) throughput ≥ 0.9× (a) and p50 ≤ 1.15× (a); (c) adds ≤ 5% to the
primary's p99 over (b).
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
    from raymlops.registry import ModelRegistry

    settings = Settings.resolve(home=home, env={})
    settings.ensure_home()
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X.columns = [c.replace(" ", "_") for c in X.columns]
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    reg = ModelRegistry.connect(settings)
    for name in names:
        for _ in range(versions):
            reg.register(model, name, input_example=X.head(), reference=X)
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
    out = tempfile.mktemp(suffix=".json")
    cmd = [sys.executable, str(HERE / "_http_load.py"), url, str(CONCURRENCY), str(warmup), str(seconds), body_file, out]
    if users:
        cmd.append(users)
    subprocess.run(cmd, check=True, timeout=seconds + warmup + 120)
    with open(out) as f:
        data = json.load(f)
    os.unlink(out)
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=15.0, help="measured seconds per configuration and round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--monitoring", choices=("on", "off"), default="on", help="raymlops drift monitoring (on by default, as shipped)")
    args = ap.parse_args()

    import joblib
    import ray
    import requests
    from ray import serve

    from raymlops.serving.app import deploy
    from raymlops.serving import get_controller
    from raymlops.serving.rollout import RolloutPlan

    home = tempfile.mkdtemp(prefix="bench-serving-")
    settings, model, body_file = breast_cancer_setup(home, ("bc", "bcs", "bcs10"), versions=2)
    model_path = str(Path(home) / "model.joblib")
    joblib.dump(model, model_path)

    base = deploy(settings, port=args.port, gate_interval_s=5.0)
    ctl = get_controller(settings)
    serve.run(plain_app(model_path), name="plain", route_prefix="/plain")
    serve.run(single_app(model_path), name="single", route_prefix="/single")
    for name in ("bc", "bcs", "bcs10"):
        ray.get(ctl.serve_model.remote(name, 1, None, 1, None if args.monitoring == "on" else False))
    ray.get(ctl.start_rollout.remote(RolloutPlan(model="bc", strategy="canary", from_version=1, to_version=2, steps=(20,), bake_s=3600).to_dict()))
    for name, mirror in (("bcs", 100.0), ("bcs10", 10.0)):
        plan = RolloutPlan(model=name, strategy="shadow", from_version=1, to_version=2, bake_s=3600, mirror_percent=mirror)
        ray.get(ctl.start_rollout.remote(plan.to_dict()))
    time.sleep(3)  # the ingress polls the new tables

    configs = {
        "a_plain": (f"{base}/plain/predict", None),
        "b_canary": (f"{base}/v1/models/bc:predict", "user"),
        "c_shadow_100": (f"{base}/v1/models/bcs:predict", None),
        "c_shadow_10": (f"{base}/v1/models/bcs10:predict", None),
        "d_single": (f"{base}/single/predict", None),
    }
    for name, (url, _) in configs.items():  # every path answers before measuring
        r = requests.post(url, data=Path(body_file).read_bytes(), headers={"content-type": "application/json"}, timeout=30)
        assert r.status_code == 200, (name, r.status_code, r.text)

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
            print(f"round {rnd + 1} {name}: {len(data['results']) / data['seconds']:.0f} req/s", flush=True)

    figures: dict[str, dict] = {}
    for name, c in collected.items():
        n = len(c["lat"])
        figures[name] = {
            "requests": n,
            "throughput_rps": round(n / c["seconds"], 1),
            **percentiles(c["lat"]),
            "non_200": sum(s != 200 for s in c["status"]),
        }
    canary_share = np.mean([v == "2" for v in collected["b_canary"]["versions"]])
    figures["b_canary"]["share_on_v2"] = round(float(canary_share), 3)
    for k in ("c_shadow_100", "c_shadow_10"):
        figures[k]["primary_answers"] = round(float(np.mean([v == "1" for v in collected[k]["versions"]])), 4)
    shadow_status = {k: ray.get(ctl.status.remote(m))["shadow"] for k, m in (("c_shadow_100", "bcs"), ("c_shadow_10", "bcs10"))}
    for k, st in shadow_status.items():
        figures[k]["shadow_pairs"] = st.get("pairs")
        figures[k]["agreement"] = st.get("agreement")

    a, b, d = figures["a_plain"], figures["b_canary"], figures["d_single"]
    ratios = {
        "b_vs_a_throughput": round(b["throughput_rps"] / a["throughput_rps"], 3),
        "b_vs_a_p50": round(b["p50"] / a["p50"], 3),
        "c100_vs_b_p99": round(figures["c_shadow_100"]["p99"] / b["p99"], 3),
        "c10_vs_b_p99": round(figures["c_shadow_10"]["p99"] / b["p99"], 3),
        "d_vs_a_throughput": round(d["throughput_rps"] / a["throughput_rps"], 3),
    }
    targets = {
        "b_throughput_ge_0.9a": ratios["b_vs_a_throughput"] >= 0.9,
        "b_p50_le_1.15a": ratios["b_vs_a_p50"] <= 1.15,
        "c100_p99_le_1.05b": ratios["c100_vs_b_p99"] <= 1.05,
        "c10_p99_le_1.05b": ratios["c10_vs_b_p99"] <= 1.05,
    }
    report(
        "bench_serving",
        {"concurrency": CONCURRENCY, "monitoring": args.monitoring, "seconds_per_round": args.seconds, "rounds": args.rounds, "configs": figures, "ratios": ratios, "targets_met": targets},
    )
    serve.shutdown()
    ray.kill(ctl)


if __name__ == "__main__":
    main()
