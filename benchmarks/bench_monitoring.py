"""Serving throughput with live drift monitoring on vs off (issue 6).

The raymlops Serve app with two models that are the same scikit-learn pipeline
(breast-cancer, 30 features, StandardScaler + LogisticRegression): ``mon_on`` with drift
monitoring (the default: every batch's inputs and predictions buffered, sketched per
window off the request path, flushed every 2 s to the model's monitor actor) and
``mon_off`` without it. One ingress replica, one replica per model (0.1 CPU each), 16
requests in flight from a separate process; the two are measured in interleaved rounds.

Target (issue 6): throughput with monitoring on >= 0.95x with it off.
"""

import argparse
import tempfile
import time

from _common import report
from bench_serving import CONCURRENCY, breast_cancer_setup, percentiles, run_load


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--port", type=int, default=8124)
    args = ap.parse_args()

    import ray
    from ray import serve

    from raymlops.monitoring.actor import get_monitor
    from raymlops.serving.app import deploy
    from raymlops.serving import get_controller

    home = tempfile.mkdtemp(prefix="bench-monitoring-")
    settings, _, body_file = breast_cancer_setup(home, ("mon_on", "mon_off"))

    base = deploy(settings, port=args.port)
    ctl = get_controller(settings)
    ray.get(ctl.serve_model.remote("mon_on", 1, None, 1, {"window_s": 10.0, "flush_s": 2.0}))
    ray.get(ctl.serve_model.remote("mon_off", 1, None, 1, False))
    time.sleep(3)
    configs = {"monitoring_off": f"{base}/v1/models/mon_off:predict", "monitoring_on": f"{base}/v1/models/mon_on:predict"}
    collected = {k: {"lat": [], "n": 0, "seconds": 0.0, "bad": 0} for k in configs}
    for rnd in range(args.rounds):
        order = list(configs) if rnd % 2 == 0 else list(reversed(configs))
        for name in order:
            data = run_load(configs[name], body_file, args.seconds, 3.0, None)
            c = collected[name]
            c["lat"] += [r[0] for r in data["results"]]
            c["n"] += len(data["results"])
            c["bad"] += sum(r[1] != 200 for r in data["results"])
            c["seconds"] += data["seconds"]
            print(f"round {rnd + 1} {name}: {len(data['results']) / data['seconds']:.0f} req/s", flush=True)
    time.sleep(3)
    mon = ray.get(get_monitor(settings, "mon_on", create=False).status.remote())["versions"]["1"]
    figures = {
        k: {"requests": c["n"], "throughput_rps": round(c["n"] / c["seconds"], 1), **percentiles(c["lat"]), "non_200": c["bad"]}
        for k, c in collected.items()
    }
    ratio = figures["monitoring_on"]["throughput_rps"] / figures["monitoring_off"]["throughput_rps"]
    report(
        "bench_monitoring",
        {
            "concurrency": CONCURRENCY,
            "seconds_per_round": args.seconds,
            "rounds": args.rounds,
            "configs": figures,
            "monitor": {"rows_seen": mon["rows"], "windows_closed": mon["windows_closed"], "alerts": mon["alerts"]},
            "ratio_on_vs_off_throughput": round(ratio, 3),
            "ratio_on_vs_off_p50": round(figures["monitoring_on"]["p50"] / figures["monitoring_off"]["p50"], 3),
            "targets_met": {"throughput_on_ge_0.95_off": ratio >= 0.95},
        },
    )
    serve.shutdown()
    ray.kill(ctl)


if __name__ == "__main__":
    main()
