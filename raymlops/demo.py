"""The main job, end to end on an embedded local Ray (``raymlops demo``).

Each lifecycle part adds a chapter; every chapter records into the same metadata
store, so the final lineage shows how the champion came to be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from raymlops.core.config import Settings
from raymlops.monitoring.live import reference_attachment

__all__ = ["run_demo"]

DATASET = "breast_cancer"
TARGET = "target"
MODEL = "breast-cancer"


def _dirty_feed(settings: Settings) -> tuple[str, int]:
    """Today's feed: the bundled data with a few broken rows, as real feeds have."""
    from raymlops.data.ingest import load_sklearn_frame

    df = load_sklearn_frame(DATASET).astype(object)
    df.loc[3, "mean_radius"] = "n/a"  # wrong type
    df.loc[11, "mean_area"] = -50.0  # out of range
    df.loc[25, "worst_texture"] = float("inf")  # NaN/inf
    df.loc[40, "target"] = 7  # an unseen class
    df.loc[41, "mean_smoothness"] = None  # null where required
    path = settings.home / "datasets" / "breast_cancer_feed.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(path, index=False)
    return str(path), 5


def _serving_chapter(
    settings: Settings, trainer: Any, prep: Any, say: Callable[[str], None], *, port: int = 8000, keep_serving: bool = False
) -> dict[str, Any]:
    """Serve the champion, shadow then canary a challenger under traffic, print the decisions."""
    import threading
    import time

    import ray
    import requests

    from raymlops.cli._common import table
    from raymlops.serving.app import deploy
    from raymlops.serving import get_controller
    from raymlops.serving.gates import ErrorRateGate, LatencyGate, ShadowAgreementGate
    from raymlops.serving.rollout import RolloutPlan
    from raymlops.training.models import fit_on_features, make_estimator

    reg = trainer.registry
    champion = reg.get(f"{MODEL}@champion")["version"]
    X, y = prep.xy("train")
    challenger_model = fit_on_features(prep.transform, make_estimator("linear", "classification", {"C": 0.3}), X, y)
    challenger = reg.register(challenger_model, MODEL, input_example=X.head(), attachments=reference_attachment(challenger_model, X), description="challenger: a more regularised linear model")["version"]
    _, blessing, _ = trainer.evaluate_and_bless(MODEL, challenger, prep, metric="accuracy", max_drop=0.02)
    reg.set_alias(MODEL, challenger, "challenger", reason="demo challenger")
    say(f"challenger {MODEL}@{challenger}: {blessing['verdict']} against the champion ({blessing['baseline']})")
    url = deploy(settings, port=port, gate_interval_s=2.0)
    ctl = get_controller(settings)
    monitoring = {"window_s": 5.0, "flush_s": 1.0, "min_rows": 50, "grace_s": 1.0}  # short windows for the demo
    ray.get(ctl.serve_model.remote(MODEL, champion, None, 1, monitoring))
    deadline = time.time() + 30
    while MODEL not in requests.get(f"{url}/v1/healthz", timeout=10).json().get("models", []) and time.time() < deadline:
        time.sleep(0.2)  # the ingress picks the new routing table up within a poll
    say(f"serving {MODEL}@{champion} (champion) at {url}/v1/models/{MODEL}:predict; drift monitored in {monitoring['window_s']:g} s windows")
    rows = prep.test.drop(columns=[TARGET]).to_dict(orient="records")
    stop = threading.Event()
    sent: list[int] = []
    scale: dict[str, float] = {}  # feature -> factor: the drift we inject later
    failures: list[str] = []

    def traffic(worker: int) -> None:
        s = requests.Session()
        i = worker
        while not stop.is_set():
            row = rows[i % len(rows)]
            if scale:
                row = {k: v * scale.get(k, 1.0) for k, v in row.items()}
            r = s.post(f"{url}/v1/models/{MODEL}:predict", json={"instances": [row]}, headers={"x-user-id": f"u{i % 200}"}, timeout=10)
            sent.append(r.status_code)
            if r.status_code != 200 and len(failures) < 3:
                failures.append(f"{r.status_code} {r.text[:200]}")
            if r.status_code == 200 and i % 3 == 0:  # some users report the true label
                s.post(f"{url}/v1/models/{MODEL}:feedback", json={"request_id": r.json()["request_id"], "labels": [int(prep.test[TARGET].iloc[i % len(rows)])]}, timeout=10)
            i += 2

    threads = [threading.Thread(target=traffic, args=(w,), daemon=True) for w in range(2)]
    for t in threads:
        t.start()
    try:
        gates = [ErrorRateGate(max_rate=0.05, min_samples=20), LatencyGate(max_ms=1000, min_samples=20)]
        shadow = RolloutPlan(
            model=MODEL, strategy="shadow", from_version=champion, to_version=challenger, bake_s=4,
            mirror_percent=50, gates=[*gates, ShadowAgreementGate(min_agreement=0.8, min_samples=20)],
        )
        ray.get(ctl.start_rollout.remote(shadow.to_dict()))
        time.sleep(8)
        st = ray.get(ctl.status.remote(MODEL))
        sh = st["shadow"]
        say(
            f"shadow: v{challenger} sees {sh['mirror_percent']:.0f}% of requests; {sh['pairs']} pairs, agreement "
            f"{sh['agreement']:.3f}, class-distribution distance {sh.get('distance') or 0:.3f}; clients only ever got v{champion}"
        )
        ray.get(ctl.rollback.remote(MODEL, "shadow looked fine; now a canary"))
        canary = RolloutPlan(model=MODEL, strategy="canary", from_version=champion, to_version=challenger, steps=[20, 50, 100], bake_s=3, gates=gates)
        ray.get(ctl.start_rollout.remote(canary.to_dict()))
        deadline = time.time() + 60
        while time.time() < deadline and ray.get(ctl.status.remote(MODEL))["state"] == "RUNNING":
            time.sleep(1)
        st = ray.get(ctl.status.remote(MODEL))
        decisions = [d for d in st["decisions"] if d["action"] != "hold"]
        say(table(decisions[-6:], ["action", "percent", "reason"]))
        say(f"canary outcome: {st['state']}; {len(sent)} requests, {sum(c != 200 for c in sent)} failed")
        for f in failures:
            say(f"  failed: {f}")
        drift = _drift_chapter(settings, st["routes"][0]["version"], list(rows[0]), scale, monitoring["window_s"], say)
    finally:
        stop.set()
        for t in threads:
            t.join()
    if st["state"] == "PROMOTED" and blessing["verdict"] == "BLESSED":
        reg.set_alias(MODEL, challenger, "champion", reason="blessed, and its canary was promoted by the rollout controller")
        say(f"{MODEL}@champion -> version {challenger}")
    if not keep_serving:
        from ray import serve

        for app in list(serve.status().applications):
            if app.startswith("raymlops"):
                serve.delete(app)
        ray.kill(ctl)
        from raymlops.monitoring.actor import get_monitor

        ray.kill(get_monitor(settings, MODEL, create=False))
    else:
        say(f"still serving at {url} (Ctrl-C to stop)")
    return {"state": st["state"], "decisions": decisions, "requests": len(sent), "failed": sum(c != 200 for c in sent), "drift": drift}


def _drift_chapter(
    settings: Settings, version: int, features: list[str], scale: dict[str, float], window_s: float, say: Callable[[str], None]
) -> dict[str, Any]:
    """A new imaging device scales every size measurement by 1.3: the monitor flags it."""
    import time

    import ray

    from raymlops.cli._common import table
    from raymlops.monitoring.actor import get_monitor

    monitor = get_monitor(settings, MODEL, create=False)

    def poll(done: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any]:
        """The monitor's status of ``version``, polled every second until ``done`` or the timeout."""
        deadline = time.time() + timeout_s
        while True:
            st = ray.get(monitor.status.remote())["versions"].get(str(version), {})
            if done(st) or time.time() >= deadline:
                return st
            time.sleep(1.0)

    # the promoted version's first judged window (thin windows are not judged), even on a slow machine
    calm = poll(lambda st: bool(st.get("last_window")), 12 * window_s)
    last = calm.get("last_window") or {}
    say(
        f"monitor: {calm.get('windows_closed', 0)} windows closed on v{version}; in the last judged one "
        f"{sum(f['drift'] for f in last.get('features', []))} of {len(last.get('features', []))} features flagged (share "
        f"{last.get('drift_share') or 0:.2f}; with a reference under 1,000 rows the preset runs KS at p < 0.05, "
        "which flags about 1 feature in 20 by chance); dataset drift: " + str(bool(last.get("dataset_drift")))
    )
    scale.update({f: 1.3 for f in features if f.startswith(("mean_", "worst_"))})
    say(f"now a new imaging device reports every mean and worst measurement 30% higher ({len(scale)} features) ...")
    t0 = time.time()
    st = poll(lambda st: (st.get("last_window") or {}).get("start", 0) >= t0, 15 * window_s)  # a judged window after the change
    last = st.get("last_window") or {}
    flagged = sorted((f for f in last.get("features", []) if f["drift"]), key=lambda f: f["p_value"] if f["p_value"] is not None else -f["statistic"])
    say(table(flagged[:6], ["feature", "test", "statistic", "p_value", "threshold"]))
    say(
        f"window of {last.get('rows')} rows: {len(flagged)} of {len(last.get('features', []))} features drifted "
        f"(share {last.get('drift_share') or 0:.2f}); dataset drift: {last.get('dataset_drift')}; "
        f"prediction drift: {(last.get('prediction') or {}).get('drift')}; alerts: {len(st.get('alerts') or [])} firing (recorded as DriftAlert executions)"
    )
    return {"dataset_drift": bool(last.get("dataset_drift")), "drifted": [f["feature"] for f in flagged], "scaled": sorted(scale)}


def run_demo(
    settings: Settings, say: Callable[[str], None] = print, *, keep_serving: bool = False, port: int = 8000
) -> dict[str, Any]:
    """Run every chapter of the demo; returns a summary (printed as JSON by ``--json``)."""
    from raymlops.core import runtime
    from raymlops.cli._common import table
    from raymlops.cli.lineage import render
    from raymlops.data.pipeline import DataPipeline
    from raymlops.metadata import connect
    from raymlops.registry import ModelRegistry
    from raymlops.training.distill_sweep import distill_sweep
    from raymlops.training.train import Trainer

    settings.ensure_home()
    say(f"raymlops demo  (home: {settings.home})")
    runtime.init(settings)
    store = connect(settings)
    registry = ModelRegistry.connect(settings)
    summary: dict[str, Any] = {}

    say("\n== 1. Data: schema, validation with quarantine, profile, splits, label quality, features")
    pipe = DataPipeline(settings, store=store, run_name="demo-data")
    reference = pipe.ingest(f"sklearn://{DATASET}")
    schema, schema_art = pipe.schema(reference, label=TARGET, save_to=pipe.path("schema.json"))
    say(f"inferred a schema from the reference data ({len(schema.columns)} columns, label {TARGET!r}): {schema_art.uri}")
    feed_path, planted = _dirty_feed(settings)
    feed = pipe.ingest(feed_path)
    outcome, arts = pipe.validate(feed, schema, schema_art)
    rep = outcome.report.to_dict()
    say(f"validated today's feed: {rep['rows_in']} rows in, {rep['rows_valid']} valid, {rep['rows_quarantined']} quarantined ({planted} planted)")
    say(table(rep["anomalies"], ["column", "kind", "count", "message"]))
    say(f"quarantined rows with their reasons: {outcome.quarantine_path}")
    prof = [r for r in outcome.profile.summary() if r["column"] in ("mean_radius", "mean_area", "worst_texture", "target")]
    say("profile of the valid rows (one streaming pass, mergeable sketches):")
    say(table(prof, ["column", "count", "nulls", "min", "max", "mean", "p50", "p99"]))
    counts, splits = pipe.split(arts["valid"], stratify=TARGET)
    say(f"deterministic stratified split: {counts}")
    issues, _ = pipe.label_quality(splits["train"], target=TARGET)
    say(f"label quality (5 folds as Ray tasks + cleanlab): {len(issues)} suspicious labels in the training split")
    _, info, transform = pipe.features(splits["train"], target=TARGET)
    say(f"feature transform fitted on the training split only: {len(info['features_out'])} features -> {transform.uri[:60]}...")
    summary["data"] = {"validation": rep, "splits": counts, "label_issues": len(issues)}

    say("\n== 2. Experiments: baselines, a Ray Tune sweep, evaluation per slice, blessing, distillation")
    trainer = Trainer(settings, store=store)
    prep = trainer.prepare(feed_path, target=TARGET, schema_path=schema_art.uri[len("file://") :], run_name="demo-train")
    result = trainer.fit(feed_path, target=TARGET, name=MODEL, tune_trials=4, slices=["mean_radius"], prepared=prep, experiment="demo")
    for r in result.runs:
        value = r["metrics"].get("val_accuracy", r["metrics"].get("accuracy"))
        say(f"  run {r['id']:>3}  {r['name']:<22} validation accuracy {value:.4f}")
    say(
        f"registered {MODEL}@{result.version} ({result.metric} on the test split: {result.metrics['test'][result.metric]:.4f}); "
        f"blessing: {result.blessing['verdict']} ({result.blessing['baseline']})"
    )
    by_slice = [{"slice": k, **v, "rows": result.evaluation["counts"][k]} for k, v in result.evaluation["by_slice"].items()]
    say(table(by_slice, ["slice", "rows", "accuracy", "f1"]))
    if result.worst_slices:
        w = result.worst_slices[0]
        say(f"worst slice found automatically (SliceLine): {w['name']} ({w['size']} rows, error rate {w['error_rate']:.2f})")
    if result.blessed:
        move = registry.set_alias(MODEL, result.version, "champion", reason="demo: blessed")
        say(f"{MODEL}@champion -> version {move['to_version']} (was {move['from_version'] or 'unset'})")
    record = registry.get(f"{MODEL}@champion")
    summary["train"] = result.to_dict()

    say("\nknowledge distillation on digits: a gradient-boosting teacher -> small MLP students (4 Tune trials)")
    digits = trainer.prepare("sklearn://digits", target=TARGET, run_name="demo-digits")
    teacher = trainer.fit(None, target=TARGET, name="digits", prepared=digits, experiment="demo-digits")
    say(f"teacher digits@{teacher.version}: test accuracy {teacher.metrics['test']['accuracy']:.4f}")
    distilled = distill_sweep(trainer, None, target=TARGET, teacher=f"digits@{teacher.version}", name="digits-student", trials=4, prepared=digits)
    say(table(distilled["trials"], ["temperature", "alpha", "capacity", "accuracy", "latency_ms", "size_bytes", "pareto"]))
    if distilled["version"] is not None:
        say(
            f"registered {distilled['name']}@{distilled['version']} ({distilled['blessing']}): validation accuracy "
            f"{distilled['best']['accuracy']:.4f} vs teacher {distilled['teacher_accuracy']:.4f}, "
            f"{distilled['size_ratio']:.1f}x smaller, {distilled['latency_ratio']:.1f}x faster per row"
        )
    summary["distill"] = distilled

    say("\n== 3. Deployment on Ray Serve: champion live, a challenger shadowed then canaried, gates decide")
    summary["serving"] = _serving_chapter(settings, trainer, prep, say, port=port, keep_serving=keep_serving)

    graph = store.lineage(("artifact", record["artifact_id"]), direction="up", hops=20).to_dict()
    root = f"artifact:{record['artifact_id']}"
    say(f"lineage of {MODEL}@champion:")
    say(render(graph, root))
    summary.update({"model": record, "champion_lineage": graph})
    return summary
