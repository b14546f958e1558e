"""A 16-trial knowledge-distillation sweep on Ray Tune (digits): trials per minute and CPU
utilisation of every core over the sweep's wall time.

The teacher is the default model trained on digits; each trial distils it into a small
MLP student (temperature, alpha and hidden units sampled from the default space). Baseline
in the same run: the same 16 trial configurations trained one after the other in one
process (no Ray, one BLAS thread like each trial), so the ratio is what Tune's
parallelism buys on this machine.

CPU utilisation is read from /proc/stat (busy = not idle and not iowait) per core between
the start and the end of the sweep.

Target (issue 4): both cores at least 80% busy during the sweep.
"""

from __future__ import annotations

import tempfile
import threading
import time

from _common import report


def _cpu_times() -> dict[str, tuple[int, int]]:
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *vals = line.split()
                v = list(map(int, vals))
                idle = v[3] + v[4]
                out[name] = (sum(v), idle)
    return out


def busy_between(a: dict, b: dict) -> dict[str, float]:
    return {k: round(1 - (b[k][1] - a[k][1]) / max(1, b[k][0] - a[k][0]), 3) for k in a}


def main() -> None:
    from raymlops.core import runtime
    from raymlops.core.config import Settings
    from raymlops.training.distill_tune import distill_sweep, fit_student, sweep_payload
    from raymlops.training.train import Trainer

    home = tempfile.mkdtemp(prefix="bench-tune-")
    settings = Settings.resolve(home=home, env={})
    settings.ensure_home()
    runtime.init(settings)
    trainer = Trainer(settings)
    prep = trainer.prepare("sklearn://digits", target="target")
    teacher = trainer.fit(None, target="target", name="digits-teacher", prepared=prep)

    samples: list[float] = []
    stop = threading.Event()

    def sample() -> None:
        last = _cpu_times()
        while not stop.wait(1.0):
            now = _cpu_times()
            samples.append(min(busy_between(last, now).values()))
            last = now

    t = threading.Thread(target=sample, daemon=True)
    before = _cpu_times()
    t0 = time.perf_counter()
    t.start()
    out = distill_sweep(trainer, None, target="target", teacher=f"digits-teacher@{teacher.version}", name="digits-student", trials=16, prepared=prep)
    wall = time.perf_counter() - t0
    stop.set()
    t.join()
    busy = busy_between(before, _cpu_times())

    # baseline: the same 16 configurations, one after the other, in this process
    model = trainer.registry.load(f"digits-teacher@{teacher.version}")
    payload = sweep_payload(model, list(prep.xy("train")[0].columns), prep)
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    with threadpool_limits(1):  # one BLAS thread, as each Tune trial gets (1 CPU each)
        for row in out["trials"]:
            fit_student({k: row[k] for k in ("temperature", "alpha", "capacity", "student")}, payload)
    sequential = time.perf_counter() - t0

    report(
        "bench_tune",
        {
            "trials": len(out["trials"]),
            "sweep_wall_s": round(wall, 1),
            "trials_per_minute": round(60 * len(out["trials"]) / wall, 1),
            "sequential_wall_s": round(sequential, 1),
            "sequential_trials_per_minute": round(60 * len(out["trials"]) / sequential, 1),
            "speedup_vs_sequential": round(sequential / wall, 2),
            "cpu_busy_per_core_over_sweep": busy,
            "median_min_core_busy_per_second": sorted(samples)[len(samples) // 2] if samples else None,
            "target_each_core_busy": 0.8,
            "registered": f"{out['name']}@{out['version']}",
            "best_student": out.get("best"),
            "size_ratio": round(out.get("size_ratio", 0), 1),
            "latency_ratio": round(out.get("latency_ratio") or 0, 2),
        },
    )


if __name__ == "__main__":
    main()
