"""Metadata store on SQLite: executions written per second and a 20-hop lineage query.

Workload (same for the baseline): each execution has one new input and one new output
artifact (2 artifacts) and belongs to one context, written one execution per
transaction by one process. Baseline in the same run: ML Metadata 1.17 (in its own
virtualenv, it pins protobuf) writing the same executions to SQLite.

Lineage: a 100k-node graph (about 50k executions, each reading 2 of the 200 most recent
artifacts and writing 1), then `lineage(..., hops=20)` up, down and both from 11 start
artifacts (10 random, seeded, and the newest), 5 runs each; median and p90 times, and
how many nodes a query returns.

Targets (issue 2): >= 2,000 executions/s; <= 10 ms for the 20-hop lineage query.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import tempfile
import time

from _common import HERE, report, side_venv

from raymlops.metadata import Artifact, Context, Execution, MetadataStore

N_WRITES = 5000
N_NODES = 100_000
WINDOW = 200


def bench_writes(store: MetadataStore, n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        store.put_execution(
            Execution(type="Step", state="COMPLETE", properties={"i": i}),
            inputs=[Artifact(type="Dataset", uri=f"in/{i}", properties={"rows": i})],
            outputs=[Artifact(type="Dataset", uri=f"out/{i}", properties={"rows": i})],
            contexts=[Context(type="PipelineRun", name="bench")],
        )
    return n / (time.perf_counter() - t0)


def build_graph(store: MetadataStore, n_nodes: int, seed: int = 0) -> list[Artifact]:
    rng = random.Random(seed)
    arts = [store.put_artifact(Artifact(type="Raw", uri=f"raw/{i}")) for i in range(100)]
    while len(arts) * 2 - 100 < n_nodes:
        ins = rng.sample(arts[-WINDOW:], 2)
        out = Artifact(type="Derived", uri=f"d/{len(arts)}")
        store.put_execution(Execution(type="Transform", state="COMPLETE"), inputs=ins, outputs=[out])
        arts.append(out)
    return arts


def time_query(store: MetadataStore, starts: list, direction: str, runs: int = 5) -> dict:
    """Median time over ``runs`` repetitions from each start; node counts reached."""
    times, sizes = [], []
    for start in starts:
        for _ in range(runs):
            t0 = time.perf_counter()
            g = store.lineage(start, direction=direction, hops=20)
            times.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(g.nodes))
    return {
        "median_ms": round(statistics.median(times), 2),
        "p90_ms": round(sorted(times)[int(0.9 * len(times))], 2),
        "nodes_reached_median": int(statistics.median(sizes)),
        "nodes_reached_max": max(sizes),
    }


def main() -> None:
    tmp = tempfile.mkdtemp()
    store = MetadataStore(f"sqlite:///{tmp}/writes.db")
    ours = bench_writes(store, N_WRITES)

    mlmd = None
    py = side_venv("mlmd", "ml-metadata==1.17.0")
    if py is not None:
        res = subprocess.run([str(py), str(HERE / "_mlmd_writes.py"), "2000"], capture_output=True, text=True)
        if res.returncode == 0:
            mlmd = json.loads(res.stdout.strip().splitlines()[-1])["per_s"]
        else:
            print("ML Metadata baseline failed:", res.stderr[-500:], file=sys.stderr)

    gstore = MetadataStore(f"sqlite:///{tmp}/graph.db")
    t0 = time.perf_counter()
    arts = build_graph(gstore, N_NODES)
    build_s = time.perf_counter() - t0
    n_nodes = len(gstore.get_artifacts()) + gstore.count_executions()
    rng = random.Random(1)
    starts = [("artifact", a.id) for a in rng.sample(arts[1000:], 10)] + [("artifact", arts[-1].id)]
    lineage = {d: time_query(gstore, starts, d) for d in ("up", "down", "both")}

    report(
        "bench_metadata",
        {
            "executions_per_s": round(ours, 1),
            "mlmd_1_17_executions_per_s": None if mlmd is None else round(mlmd, 1),
            "ratio_vs_mlmd": None if mlmd is None else round(ours / mlmd, 1),
            "target_executions_per_s": 2000,
            "graph_nodes": n_nodes,
            "graph_build_s": round(build_s, 1),
            "lineage_20_hops": lineage,
            "target_lineage_ms": 10,
        },
    )


if __name__ == "__main__":
    main()
