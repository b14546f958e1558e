"""The decay loop: time from a drift alert to the retrained candidate's canary.

One run on an embedded local Ray with Serve, the same scenario as the demo's decay
chapter (checked end to end by ``tests/cluster/test_demo.py``): v1 of a small scikit-learn model
serves steady traffic; the traffic shifts and a new day of labelled data lands; the
monitor's drift alert fires; the loop's trigger runs ``retrain`` (the unchanged day's
ingest is a cache hit); the blessed v2 is canaried (50% -> 100%) and promoted. Figures:

* ``alert_to_canary_s``: the alert's record to v2's first rollout decision (target
  <= 120 s, issue 14), with its parts: the trigger's pickup and each executed step;
* the baseline of the same run: what a person (or an orchestrator whose cache keys on
  artifact ids, as TFX's does, so a new upstream file misses everything) does after the
  alert: run the whole ``retrain`` by hand, every step executed, from its start to the
  canary of its candidate (v3, trained with a third day). The peers' schedule (an hourly
  or daily check before anything runs) is not counted, which favours the baseline.

    python benchmarks/bench_loop.py
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import requests  # noqa: E402
from _common import report  # noqa: E402

from raymlops.core import runtime  # noqa: E402
from raymlops.core.config import Settings  # noqa: E402
from raymlops.demo.decay import DECAY_MODEL, _day, decay_chapter  # noqa: E402
from raymlops.metadata import connect  # noqa: E402
from raymlops.pipelines import run_pipeline  # noqa: E402
from raymlops.pipelines.loop import canary_started_at, loop_status  # noqa: E402

TARGET_S = 120.0
SHIFT = 2.5


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    home = tempfile.mkdtemp(prefix="bench-loop-")
    settings = Settings.resolve(home=home, env={})
    settings.ensure_home()
    runtime.init(settings, num_cpus=2)
    port = _free_port()
    lines: list[str] = []
    loop = decay_chapter(settings, say=lines.append, port=port, keep_serving=True, shift=SHIFT)
    store = connect(settings)
    timeline = loop_status(store, DECAY_MODEL)["timeline"]

    # the baseline: a third day lands, the whole retrain runs by hand, nothing cached
    data = settings.home / "decay" / "data"
    _day(1500, SHIFT, 4).to_csv(data / "day3.csv", index=False)
    url = f"http://127.0.0.1:{port}/v1/models/{DECAY_MODEL}:predict"
    stop = threading.Event()

    def traffic(seed: int) -> None:  # the canary's gates need answers to promote
        rng = np.random.default_rng(seed)
        s = requests.Session()
        while not stop.is_set():
            row = {"a": float(rng.normal(SHIFT, 1)), "b": float(rng.normal(SHIFT, 1))}
            try:
                s.post(url, json={"instances": [row]}, headers={"x-user-id": f"u{rng.integers(500)}"}, timeout=10)
            except requests.RequestException:
                pass
            time.sleep(0.02)

    threads = [threading.Thread(target=traffic, args=(i,), daemon=True) for i in range(2)]
    for t in threads:
        t.start()
    params = {
        "data": str(data), "target": "y", "name": DECAY_MODEL, "eval_data": str(settings.home / "decay" / "golden.csv"),
        "min_samples": 20, "steps": [50, 100], "bake_s": 3.0, "max_drop": 0.05,
    }  # fmt: skip
    t0 = time.time()
    try:
        by_hand = run_pipeline("retrain", params, settings=settings, use_cache=False)
    finally:
        stop.set()
        for t in threads:
            t.join()
    candidate = (by_hand.step("train").result or {}).get("model")
    version = int(str(candidate).rpartition("@")[2]) if candidate else None
    start = canary_started_at(store, DECAY_MODEL, version) if version else None
    baseline_s = None if start is None else start - t0
    figure = loop["alert_to_canary_s"]
    report("loop", {
        "alert_to_canary_s": None if figure is None else round(figure, 1),
        "target_s": TARGET_S,
        "met": figure is not None and figure <= TARGET_S,
        "pickup_s": None if timeline.get("pickup_s") is None else round(timeline["pickup_s"], 2),
        "loop_steps_s": {k: round(v or 0.0, 2) for k, v in (timeline.get("step_s") or {}).items()},
        "loop_requests": loop["requests"], "loop_failed_requests": loop["failed"], "loop_champion": loop["champion"],
        "baseline_by_hand_uncached_start_to_canary_s": None if baseline_s is None else round(baseline_s, 1),
        "baseline_steps_s": {s.name: round(s.seconds or 0.0, 2) for s in by_hand.steps},
        "baseline_verdict": (by_hand.step("evaluate").result or {}).get("verdict"),
        "ratio_loop_to_baseline": None if (figure is None or not baseline_s) else round(figure / baseline_s, 2),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    })  # fmt: skip


if __name__ == "__main__":
    main()
