"""``retrain``: the built-in pipeline, from the newest data to a model in production.

::

    ingest[FILE] (one per data file) → merge → [labels] → validate → split → features → train → evaluate → push

With ``annotations`` (crowd labels: ``task, worker, label``), ``labels`` aggregates them
by annotator reliability (Dawid-Skene; ``gold`` from SMEs, ``sme`` workers) and joins
one label per row onto the merged data by ``label_key`` as the target.

Each data file is ingested by its own step, so when a new file lands only that file is
read and converted; the others are cache hits. ``evaluate`` compares the candidate with
the current champion, overall and per slice; ``push`` canaries a blessed candidate with
gates and moves ``champion`` only when the gates promote it.

Example:
    >>> import os, tempfile
    >>> d = tempfile.mkdtemp()
    >>> for day in ("day1.csv", "day2.csv"):
    ...     _ = open(os.path.join(d, day), "w").write("x,y\\n1,0\\n2,1\\n")
    >>> p = build_retrain({"data": d, "target": "y", "name": "m"})
    >>> p.order[:3], p.order[-3:]
    (['ingest[day1.csv]', 'ingest[day2.csv]', 'merge'], ['train', 'evaluate', 'push'])
    >>> build_retrain({"data": d, "target": "y", "name": "m", "recent": 1}).order[0]
    'ingest[day2.csv]'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from raymlops.core.errors import InvalidInputError
from raymlops.core.names import validate_name
from raymlops.data.sources import resolve_source
from raymlops.pipelines.dag import Pipeline
from raymlops.pipelines.steps import STEPS

__all__ = ["RetrainParams", "build_retrain"]


def _list(v: Any) -> Any:
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    return v


class RetrainParams(BaseModel):
    """The parameters of ``retrain`` (a typo is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")

    data: str = Field(description="a CSV/Parquet file, a folder of them or a glob: the newest data")
    target: str = Field(description="the column to predict")
    name: str = Field(description="the registered model name")
    recent: int = Field(0, ge=0, description="only the newest N files (by name); 0: all")
    eval_data: str | None = Field(None, description="a trusted evaluation set; default: the test split")
    schema_path: str | None = Field(None, alias="schema", description="the reference schema; default: inferred from the data")
    key: list[str] = Field(default_factory=list)
    keep: list[str] = Field(default_factory=list, description="columns to use as features although they look like a row id, a constant or a timestamp")
    metric: str | None = None
    tune: int = Field(0, ge=0, description="Ray Tune trials")
    space: str | None = Field(None, description="search space YAML")
    slices: list[str] = Field(default_factory=list, description="evaluate per value of these columns")
    max_drop: float = Field(0.0, ge=0, description="allowed drop of the metric against the champion, overall")
    slice_max_drop: float | None = Field(None, ge=0, description="allowed drop per slice (default: max_drop)")
    min_slice: float | None = Field(None, description="every slice must reach at least this metric value")
    seed: int = 0
    experiment: str | None = None
    strategy: str = "canary"
    steps: list[float] | None = None
    bake_s: float = Field(60.0, ge=0)
    max_error_rate: float = Field(0.05, ge=0, le=1)
    max_p99_ms: float | None = Field(None, gt=0, description="the canary's p99 latency at most this (ms)")
    max_p99_ratio: float | None = Field(2.0, gt=0, description="the canary's p99 at most this times the champion's over the same window")
    min_samples: int = Field(20, ge=1)
    rollout_timeout_s: float = Field(900.0, gt=0)
    annotations: str | None = Field(None, description="crowd labels (task, worker, label): aggregated into the target by the labels step")
    gold: str | None = Field(None, description="SME gold labels (task, label) for the labels step")
    sme: list[str] = Field(default_factory=list, description="workers who are SMEs (a strong reliability prior)")
    label_key: str | None = Field(None, description="the data's column matching the annotations' task (default: the first key)")
    label_method: str = Field("ds", description="ds, wawa or mv")
    min_confidence: float = Field(0.0, ge=0, le=1, description="leave out rows whose aggregated label's posterior is below this")

    @field_validator("key", "keep", "slices", "steps", "sme", mode="before")
    @classmethod
    def _commas(cls, v: Any) -> Any:
        return _list(v)


def build_retrain(params: Mapping[str, Any]) -> Pipeline:
    """The ``retrain`` pipeline for these parameters (see :class:`RetrainParams`).

    Raises:
        InvalidInputError: unknown or invalid parameters, or no data at ``data``.
    """
    try:
        p = RetrainParams(**dict(params))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'params'}: {e['msg']}" for e in exc.errors())
        raise InvalidInputError(f"retrain parameters: {problems} (retrain takes {', '.join(sorted(RetrainParams.model_fields))})") from None
    validate_name(p.name)
    src = resolve_source(p.data)
    if src.kind != "file" or src.filesystem is not None:
        raise InvalidInputError(f"retrain reads local files; {p.data!r} is not a local file, folder or glob")
    files = sorted(src.paths)
    if p.recent:
        files = files[-p.recent :]
    base = os.path.commonpath(files) if len(files) > 1 else os.path.dirname(files[0])
    S = STEPS
    steps = []
    parts = []
    for f in files:
        label = os.path.relpath(f, base)
        parts.append(f"raw[{label}]")
        steps.append(S["ingest"].options(name=f"ingest[{label}]", params={"path": f}, outputs={"raw": f"raw[{label}]"}))
    common = {"target": p.target}
    steps.append(S["merge"].options(inputs={"parts": parts}))
    validate_inputs = {}
    if p.annotations:
        label_key = p.label_key or (p.key[0] if p.key else None)
        if label_key is None:
            raise InvalidInputError("retrain with annotations needs label_key (the data's column holding the annotations' task ids) or key")
        steps.append(S["labels"].options(params={
            **common, "annotations": p.annotations, "gold": [p.gold] if p.gold else [], "key": label_key,
            "method": p.label_method, "sme": p.sme, "min_confidence": p.min_confidence,
        }))  # fmt: skip
        validate_inputs = {"dataset": "labelled"}
    steps += [
        S["validate"].options(params={**common, "schema_path": [p.schema_path] if p.schema_path else [], "key": p.key}, inputs=validate_inputs),
        S["split"].options(params={**common, "seed": p.seed}),
        S["features"].options(params={**common, "seed": p.seed, "keep": p.keep}),
        S["train"].options(params={
            **common, "name": p.name, "metric": p.metric, "tune": p.tune, "space": [p.space] if p.space else [],
            "slices": p.slices, "seed": p.seed, "experiment": p.experiment, "keep": p.keep,
        }),  # fmt: skip
        S["evaluate"].options(params={
            **common, "eval_data": [p.eval_data] if p.eval_data else [], "slices": p.slices, "max_drop": p.max_drop,
            "slice_max_drop": p.slice_max_drop, "min_slice": p.min_slice,
        }),  # fmt: skip
        S["push"].options(params={
            "strategy": p.strategy, "steps": p.steps, "bake_s": p.bake_s, "max_error_rate": p.max_error_rate,
            "max_p99_ms": p.max_p99_ms, "max_p99_ratio": p.max_p99_ratio, "min_samples": p.min_samples, "rollout_timeout_s": p.rollout_timeout_s,
        }),  # fmt: skip
    ]
    return Pipeline("retrain", steps, description=f"retrain {p.name} on {p.data}")
