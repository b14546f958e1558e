"""The data pipeline with lineage: every step is an execution with its input and output
artifacts (uri, content sha256, row count, schema) in one ``PipelineRun`` context, so a
model trained on the output reaches the raw files through the lineage graph.

Steps, in order (each one a method of :class:`DataPipeline`, usable on its own):

1. ``ingest``: the raw data as a ``Dataset`` artifact (a file/folder hash; bundled
   scikit-learn datasets and DataFrames are written to a file first).
2. ``schema``: infer a ``Schema`` (or load the user's edited one).
3. ``validate``: quarantine bad rows with reasons, keep valid ones, profile them.
4. ``split``: deterministic, optionally stratified train/validation/test.
5. ``label_quality``: out-of-fold probabilities (folds as parallel Ray tasks), cleanlab
   label issues; optional pruning or a relabel queue.
6. ``augment``: SMOTE-style rebalancing of the training split, augmented rows marked.
7. ``features``: a scikit-learn feature transform fitted on the training split only,
   stored as a ``Transform`` artifact that training registers with the model and
   serving reuses.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from raymlops.artifacts import BlobStore, dumps_model, files_of, sha256_file
from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.data.artifacts import dataset_artifact, source_sha256
from raymlops.data.augment import AUGMENTED_COLUMN, smote
from raymlops.data.errors import DataUnusableError, reading
from raymlops.data.features import build_feature_transform
from raymlops.data.ingest import ingest_sklearn
from raymlops.data.label_quality import find_label_issues, out_of_fold_probabilities, prune, relabel_queue
from raymlops.data.ray_ops import infer_schema_dataset, ray_map, split_dataset, validate_dataset
from raymlops.data.schema import Schema
from raymlops.data.sources import peek_columns, read_dataset, resolve_source
from raymlops.metadata import Artifact, Context, MetadataAPI, connect
from raymlops.sketches import Profile

__all__ = ["SPLITS", "DataPipeline", "PipelineResult", "reading"]

SPLITS = ("train", "validation", "test")


def _columns_of(schema: Schema) -> list[dict[str, Any]]:
    return [{"name": c.name, "type": c.type} for c in schema.columns]


def _caller_exclusions(exclude: Mapping[str, str], schema: Schema, *, target: str, keep: Sequence[str]) -> dict[str, str]:
    """The columns a caller leaves out (``{column: why}``), checked against the data."""
    for col in exclude:
        if col not in schema.names:
            raise InvalidInputError(f"cannot leave out {col!r} ({exclude[col]}): not a column of the data ({', '.join(schema.names)})")
        if col == target:
            raise InvalidInputError(f"{col!r} is the target; it cannot also be {exclude[col]}")
        if col in keep:
            raise InvalidInputError(f"cannot keep {col!r} as a feature: it is {exclude[col]}")
    return dict(exclude)


@dataclass
class PipelineResult:
    """Artifacts of a pipeline run, by role, plus the figures worth printing."""

    artifacts: dict[str, Artifact] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    splits: dict[str, int] = field(default_factory=dict)
    label_issues: int = 0
    augmented: dict[str, int] = field(default_factory=dict)
    features: dict[str, Any] = field(default_factory=dict)
    excluded: list[dict[str, str]] = field(default_factory=list)
    out_dir: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "out_dir": self.out_dir,
            "validation": self.report,
            "splits": self.splits,
            "label_issues": self.label_issues,
            "augmented": self.augmented,
            "features": self.features,
            "excluded_columns": self.excluded,
            "artifacts": {k: {"id": a.id, "type": a.type, "uri": a.uri, "sha256": a.sha256} for k, a in self.artifacts.items()},
        }


class DataPipeline:
    """Runs data steps on Ray Data and records each one as an execution.

    Args:
        settings: raymlops settings (store, home).
        store: the metadata store (resolved from ``settings`` by default).
        run_name: the ``PipelineRun`` context name (a timestamp by default).
        out_dir: where outputs go (``$RAYMLOPS_HOME/pipelines/<run_name>`` by default).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: MetadataAPI | None = None,
        run_name: str | None = None,
        out_dir: str | None = None,
    ):
        self.settings = settings or Settings.resolve()
        self.store = store or connect(self.settings)
        self.run_name = run_name or "data-" + dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        self.context = Context(type="PipelineRun", name=self.run_name)
        self.out_dir = os.path.abspath(out_dir or str(self.settings.home / "pipelines" / self.run_name))

    def path(self, *parts: str) -> str:
        p = os.path.join(self.out_dir, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    # ------------------------------------------------------------------ 1. ingest
    def ingest(self, data: Any, *, format: str | None = None) -> Artifact:
        """Record the raw data as a ``Dataset`` artifact (hash of its files)."""
        src = resolve_source(data, format=format)
        if src.kind == "sklearn":
            return ingest_sklearn(src.uri[len("sklearn://") :], settings=self.settings, store=self.store)
        if src.kind == "pandas":
            assert isinstance(data, pd.DataFrame)
            path = self.path("raw.parquet")
            data.to_parquet(path, index=False)
            paths, uri = [path], path
        elif src.filesystem is None:
            paths, uri = list(src.paths), src.paths[0] if len(src.paths) == 1 else os.path.commonpath(src.paths)
        else:  # a remote fsspec URI: recorded by URI, hashed by the files' listing
            art = Artifact(type="Dataset", uri=src.uri, name=os.path.basename(src.uri.rstrip("/")), properties={"format": src.format or ""})
            with self.store.run_execution("Ingest", name=art.name, contexts=[self.context]) as step:
                step.add_output(art, role="raw")
            return art
        art = Artifact(
            type="Dataset",
            uri=f"file://{uri}",
            sha256=source_sha256(paths, uri),  # as dataset_artifact hashes it: a step's output file is the same artifact
            name=os.path.basename(uri.rstrip("/")),
            properties={"format": src.format or "parquet", "files": len(paths)},
        )
        same = [a for a in self.store.get_artifacts(type="Dataset", uri=art.uri) if a.sha256 == art.sha256]
        with self.store.run_execution("Ingest", name=art.name, contexts=[self.context]) as step:
            if same:
                art = same[-1]
                step.mark_cached()
            step.add_output(art, role="raw")
        return art

    def _ray(self) -> None:
        runtime.init(self.settings)

    def read(self, raw: Artifact, *, strings: bool = False):
        """Read a recorded dataset artifact as a Ray Dataset."""
        self._ray()
        uri = raw.uri[len("file://") :] if raw.uri.startswith("file://") else raw.uri
        fmt = raw.properties.get("format")
        with reading(uri):
            ds, _ = read_dataset(uri, format=fmt if fmt in ("csv", "parquet") else None, strings=strings)
        return ds

    # ------------------------------------------------------------------ 2. schema
    def schema(
        self,
        raw: Artifact,
        *,
        schema_path: str | None = None,
        save_to: str | None = None,
        label: str | None = None,
        key: str | list[str] | None = None,
        max_domain: int = 100,
    ) -> tuple[Schema, Artifact]:
        """Load the schema at ``schema_path`` or infer one (saved to ``save_to``)."""
        if schema_path is not None:
            schema = Schema.load(schema_path)
            path = os.path.abspath(schema_path)
            found = [a for a in self.store.get_artifacts(type="Schema", uri=f"file://{path}") if a.sha256 == sha256_file(path)]
            art = found[-1] if found else self.store.put_artifact(
                Artifact(type="Schema", uri=f"file://{path}", sha256=sha256_file(path), properties={"columns": _columns_of(schema), "source": "user"}),
                contexts=[self.context],
            )
            return schema, art
        with self.store.run_execution("InferSchema", inputs={"data": raw}, contexts=[self.context]) as step:
            with reading(raw.uri):
                schema = infer_schema_dataset(self.read(raw), label=label, key=key, max_domain=max_domain)
            path = os.path.abspath(save_to or self.path("schema.json"))
            schema.save(path)
            art = step.add_output(
                Artifact(
                    type="Schema",
                    uri=f"file://{path}",
                    sha256=sha256_file(path),
                    properties={"columns": _columns_of(schema), "source": "inferred"},
                ),
                role="schema",
            )
        return schema, art

    # ------------------------------------------------------------------ 3. validate
    def validate(
        self,
        raw: Artifact,
        schema: Schema,
        schema_art: Artifact,
        *,
        quarantine_path: str | None = None,
        write_valid: bool = True,
    ) -> tuple[Any, dict[str, Artifact]]:
        """Quarantine bad rows, keep valid ones, profile them; returns the outcome and artifacts."""
        q_path = os.path.abspath(quarantine_path or self.path("quarantine.parquet"))
        valid_dir = self.path("valid") if write_valid else None
        with self.store.run_execution("Validate", inputs={"data": raw, "schema": schema_art}, contexts=[self.context]) as step:
            with reading(raw.uri):
                outcome = validate_dataset(self.read(raw, strings=True), schema, valid_dir=valid_dir, quarantine_path=q_path)
            rep = outcome.report.to_dict()
            if rep["rows_in"] == 0:
                raise DataUnusableError(f"{raw.uri} has no rows: nothing to validate")
            step.set_property("report", rep)
            cols = _columns_of(schema)
            out: dict[str, Artifact] = {}
            if valid_dir:
                out["valid"] = step.add_output(
                    dataset_artifact(valid_dir, name="valid", rows=rep["rows_valid"], columns=cols), role="valid"
                )
            out["quarantine"] = step.add_output(
                dataset_artifact(
                    q_path,
                    type="Quarantine",
                    name="quarantine",
                    rows=rep["rows_quarantined"],
                    properties={"anomalies": rep["anomalies"]},
                ),
                role="quarantine",
            )
            prof_path = outcome.profile.save(self.path("profile.json"))
            out["profile"] = step.add_output(
                dataset_artifact(prof_path, type="Statistics", name="profile", rows=rep["rows_valid"]), role="statistics"
            )
        raw.properties["rows"] = rep["rows_in"]
        raw.properties["columns"] = cols
        self.store.put_artifact(raw)
        return outcome, out

    # ------------------------------------------------------------------ 4. split
    def split(
        self,
        valid: Artifact,
        *,
        key: str | list[str] | None = None,
        fractions: dict[str, float] | None = None,
        stratify: str | None = None,
        salt: str = "",
    ) -> tuple[dict[str, int], dict[str, Artifact]]:
        """Deterministic train/validation/test split of the valid rows."""
        dirs = {name: self.path("splits", name) for name in SPLITS}
        with self.store.run_execution(
            "Split",
            inputs={"data": valid},
            contexts=[self.context],
            properties={"key": key or [], "stratify": stratify or "", "salt": salt},
        ) as step:
            counts = split_dataset(self.read(valid), dirs, key=key, fractions=fractions, stratify=stratify, salt=salt)
            step.set_property("counts", counts)
            arts = {
                name: step.add_output(
                    dataset_artifact(d, name=name, rows=counts[name], columns=valid.properties.get("columns"), properties={"split": name}),
                    role=name,
                )
                for name, d in dirs.items()
            }
        return counts, arts

    def load(self, art: Artifact):
        """A recorded Parquet dataset (file or folder) as a pandas DataFrame."""
        path = art.uri[len("file://") :]
        files = files_of(path)
        if not files:
            return pd.DataFrame(columns=[c["name"] for c in art.properties.get("columns", [])])
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)

    # ------------------------------------------------------------------ 5. label quality
    def label_quality(
        self,
        train: Artifact,
        *,
        target: str,
        exclude: tuple[str, ...] = (),
        n_folds: int = 5,
        seed: int = 0,
        action: str = "report",
    ) -> tuple[Any, dict[str, Artifact]]:
        """Find label issues in the training split; ``action`` is report, prune or queue."""
        if action not in ("report", "prune", "queue"):
            raise InvalidInputError(f"label issue action {action!r}: use report, prune or queue")
        df = self.load(train)
        if target not in df.columns:
            raise InvalidInputError(f"target column {target!r} is not in the data; columns: {', '.join(map(str, df.columns))}")
        with self.store.run_execution(
            "LabelQuality", inputs={"train": train}, contexts=[self.context], properties={"folds": n_folds, "action": action}
        ) as step:
            transform, _ = build_feature_transform(df, target=target, exclude=exclude, seed=seed)
            X = transform.transform(df)
            self._ray()
            probs = out_of_fold_probabilities(X, df[target].to_numpy(), n_folds=n_folds, seed=seed, map_fn=ray_map)
            issues = find_label_issues(df[target].to_numpy(), probs)
            path = self.path("label_issues.parquet")
            issues.to_parquet(path, index=False)
            step.set_property("issues", len(issues))
            out = {
                "label_issues": step.add_output(
                    dataset_artifact(path, type="LabelIssues", name="label_issues", rows=len(issues)), role="label_issues"
                )
            }
            if action == "prune" and len(issues):
                kept = prune(df, issues)
                d = self.path("train_pruned", "part-0.parquet")
                kept.to_parquet(d, index=False)
                out["train"] = step.add_output(
                    dataset_artifact(os.path.dirname(d), name="train_pruned", rows=len(kept), columns=train.properties.get("columns")),
                    role="train",
                )
            elif action == "queue":
                q = relabel_queue(df, issues, self.path("relabel_queue.csv"))
                out["relabel_queue"] = step.add_output(
                    dataset_artifact(str(q), type="RelabelQueue", name="relabel_queue", rows=len(issues)), role="queue"
                )
        return issues, out

    # ------------------------------------------------------------------ 6. augment
    def augment(
        self, train: Artifact, *, target: str, ratio: float = 1.0, seed: int = 0, exclude: tuple[str, ...] = ()
    ) -> tuple[dict[str, int], Artifact]:
        """SMOTE-style rebalancing of the training split; augmented rows are marked."""
        df = self.load(train)
        numeric = [c for c in df.columns if c != target and c not in exclude and df[c].dtype.kind in "fiu"]
        with self.store.run_execution(
            "Augment", inputs={"train": train}, contexts=[self.context], properties={"method": "smote", "ratio": ratio}
        ) as step:
            res = smote(df, target=target, ratio=ratio, numeric=numeric, seed=seed)
            added = {str(k): int(v) for k, v in res.added.items()}
            step.set_property("added", added)
            path = self.path("train_augmented", "part-0.parquet")
            res.frame.to_parquet(path, index=False)
            art = step.add_output(
                dataset_artifact(
                    os.path.dirname(path),
                    name="train_augmented",
                    rows=len(res.frame),
                    columns=train.properties.get("columns"),
                    properties={"augmented_rows": sum(added.values()), "augmented_by_class": added, "marker": AUGMENTED_COLUMN},
                ),
                role="train",
            )
        return added, art

    # ------------------------------------------------------------------ 7. features
    def features(
        self,
        train: Artifact,
        *,
        target: str,
        select: str | None = None,
        k: int | None = None,
        task: str = "classification",
        exclude: tuple[str, ...] = (),
        seed: int = 0,
    ) -> tuple[Any, dict[str, Any], Artifact]:
        """Fit the feature transform on the training split and store it as an artifact."""
        df = self.load(train)
        with self.store.run_execution(
            "FeatureTransform",
            inputs={"train": train},
            contexts=[self.context],
            properties={"select": select or "", "k": k or 0, "task": task},
        ) as step:
            transform, info = build_feature_transform(df, target=target, select=select, k=k, task=task, exclude=exclude, seed=seed)
            sha, path = BlobStore(self.settings.artifacts_dir).put(dumps_model(transform))
            art = step.add_output(
                Artifact(type="Transform", uri=f"file://{path}", sha256=sha, name="feature_transform", properties={"info": info}),
                role="transform",
            )
        return transform, info, art

    def profile_of(self, art: Artifact, *, schema: Schema | None = None, name: str = "train_profile") -> tuple[Profile, Artifact]:
        """Profile a recorded dataset (the drift reference of models trained on it)."""
        df = self.load(art)
        prof = Profile.for_schema(schema) if schema is not None else Profile()
        prof.update(df.drop(columns=[c for c in df.columns if str(c).startswith("__")]))
        with self.store.run_execution("Profile", inputs={"data": art}, contexts=[self.context]) as step:
            path = prof.save(self.path(f"{name}.json"))
            out = step.add_output(dataset_artifact(path, type="Statistics", name=name, rows=prof.rows), role="statistics")
        return prof, out

    # ------------------------------------------------------------------ everything
    def run(
        self,
        data: Any,
        *,
        target: str,
        key: str | list[str] | None = None,
        schema_path: str | None = None,
        save_schema: str | None = None,
        fractions: dict[str, float] | None = None,
        stratify: bool = True,
        label_quality: bool = True,
        label_action: str = "report",
        augment: bool = False,
        augment_ratio: float = 1.0,
        select: str | None = None,
        k: int | None = None,
        task: str | None = None,
        seed: int = 0,
        format: str | None = None,
        keep: tuple[str, ...] | list[str] = (),
        exclude: Mapping[str, str] | None = None,
    ) -> PipelineResult:
        """Run every step; returns the artifacts by role.

        The schema's key and ``excluded`` columns (row ids, constants, raw timestamps:
        :mod:`raymlops.data.schema.infer`) are data but not features: the label-quality
        model, augmentation and the feature transform leave them out, and the result lists
        them with why (``excluded_columns``). ``keep`` makes excluded columns features;
        ``exclude`` (``{column: why}``, e.g. a sample-weight column) leaves more out, with
        the caller's reason, and no ``keep`` can bring those back.
        """
        res = PipelineResult(out_dir=self.out_dir)
        columns = peek_columns(data, format=format)
        if target not in columns:
            raise InvalidInputError(f"target column {target!r} is not in the data; columns: {', '.join(columns)}")
        raw = self.ingest(data, format=format)
        res.artifacts["raw"] = raw
        schema, schema_art = self.schema(raw, schema_path=schema_path, save_to=save_schema, label=target, key=key)
        res.artifacts["schema"] = schema_art
        if target not in schema.names:
            raise InvalidInputError(f"target column {target!r} is not in the data; columns: {', '.join(schema.names)}")
        outcome, arts = self.validate(raw, schema, schema_art)
        res.artifacts.update(arts)
        res.report = outcome.report.to_dict()
        if task is None:
            has_classes = schema.label is not None and schema.label.classes is not None
            task = "classification" if has_classes or schema.column(target).type != "float" else "regression"
        keys = tuple(schema.key or ())
        unknown = [c for c in keep if c not in schema.names]
        if unknown:
            raise InvalidInputError(f"cannot keep {unknown}: not columns of the data ({', '.join(schema.names)})")
        not_features = {c: why for c, why in schema.not_features().items() if c not in keep and c != target}
        not_features.update(_caller_exclusions(exclude or {}, schema, target=target, keep=keep))
        res.excluded = [{"column": c, "reason": why} for c, why in not_features.items()]
        if not [c for c in schema.names if c != target and c not in not_features]:
            left_out = "; ".join(f"{c}: {why}" for c, why in not_features.items())
            raise InvalidInputError(
                f"no feature columns left: every column besides {target!r} is left out ({left_out}); "
                "keep one as a feature with --keep-column COL"
            )
        excluded = tuple(not_features)
        res.splits, splits = self.split(
            arts["valid"], key=list(keys) or None, fractions=fractions, stratify=target if (stratify and task == "classification") else None
        )
        res.artifacts.update({f"split_{k_}": v for k_, v in splits.items()})
        train = splits["train"]
        if label_quality and task == "classification":
            issues, lq_arts = self.label_quality(train, target=target, exclude=excluded, seed=seed, action=label_action)
            res.label_issues = len(issues)
            res.artifacts.update(lq_arts)
            train = lq_arts.get("train", train)
        if augment and task == "classification":
            res.augmented, train = self.augment(train, target=target, ratio=augment_ratio, seed=seed, exclude=excluded)
            res.artifacts["train_augmented"] = train
        res.artifacts["train"] = train
        _, res.features, res.artifacts["transform"] = self.features(
            train, target=target, select=select, k=k, task=task, exclude=excluded, seed=seed
        )
        _, res.artifacts["train_profile"] = self.profile_of(train, schema=schema)
        return res
