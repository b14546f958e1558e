"""``evaluate``: the candidate against the current champion (TFX's latest blessed model), overall
and per slice, on the test split or a trusted evaluation set (``eval_data``).

Never cached (``deterministic=False``): the champion is outside the step's inputs and
moves between runs, and a verdict against yesterday's champion would be stale. This is
the version's latest verdict, the one the registry's ``champion`` guard reads.
"""

from __future__ import annotations

import json

from raymlops.artifacts import sha256_file
from raymlops.data.sources import read_dataset
from raymlops.pipelines.step import ArtifactRef, StepContext, step
from raymlops.pipelines.steps.train import MANIFEST, prepared_from
from raymlops.training.evaluate import ChangeThreshold, Threshold
from raymlops.training.train import Trainer

REPORT = "evaluation.json"


@step(
    inputs=["model", "test", "transform", "schema"],
    outputs={"evaluation": "Evaluation"},
    files=["eval_data"],
    deterministic=False,
    resources={"num_cpus": 0.5},
    packages=["scikit-learn", "numpy", "pandas"],
)
def evaluate(
    ctx: StepContext, model: ArtifactRef, test: ArtifactRef, transform: ArtifactRef, schema: ArtifactRef, *, target: str,
    eval_data: list[str] = (), slices: list[str] = (), max_drop: float = 0.0, slice_max_drop: float | None = None,
    min_slice: float | None = None,
) -> dict:  # fmt: skip
    m = model.read_json(MANIFEST)
    prep = prepared_from(ctx, target=target, schema=schema, transform=transform, splits={"test": test}, keep=m.get("keep", ()))
    if eval_data:
        ds, _ = read_dataset(eval_data[0])
        prep.test = ds.to_pandas()
        found = ctx.store().get_artifacts(type="File", sha256=sha256_file(eval_data[0]))
        if found:
            prep.artifacts["split_test"] = found[-1]
    thresholds = []
    if slices:
        drop = max_drop if slice_max_drop is None else slice_max_drop
        thresholds.append(ChangeThreshold(metric=m["metric"], min_improvement=-abs(drop), slices="all"))
    if min_slice is not None:  # as `raymlops train --min-slice`: every slice reaches this value
        thresholds.append(Threshold(metric=m["metric"], lower=min_slice, slices="all"))
    trainer = Trainer(ctx.settings, store=ctx.store())
    evaluation, blessing, worst = trainer.evaluate_and_bless(
        m["name"], m["version"], prep, metric=m["metric"], slices=list(slices), thresholds=thresholds, max_drop=max_drop,
    )  # fmt: skip
    report = {"model": f"{m['name']}@{m['version']}", "verdict": blessing["verdict"], "baseline": blessing["baseline"],
              "failed": [c.get("message") for c in blessing.get("failed", [])], "evaluation": evaluation, "worst_slices": worst,
              "evaluated_on": eval_data[0] if eval_data else "test split"}  # fmt: skip
    (ctx.output("evaluation") / REPORT).write_text(json.dumps(report, indent=2, default=str))
    overall = evaluation["overall"].get(m["metric"])
    return {"verdict": blessing["verdict"], "baseline": blessing["baseline"], m["metric"]: overall, "slices": len(evaluation["by_slice"]) - 1}
