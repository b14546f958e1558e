"""``raymlops labels apply-lfs`` and ``raymlops labels weak``: labeling functions -> a sparse
label matrix with its LF analysis -> probabilistic labels from the label model.

Example:
    >>> import tempfile, pandas as pd
    >>> from raymlops.core.config import Settings
    >>> d = tempfile.mkdtemp()
    >>> pd.DataFrame({"id": range(6), "x": [5, -3, 2, -1, 0, 7]}).to_csv(f"{d}/data.csv", index=False)
    >>> _ = open(f"{d}/lfs.py", "w").write(
    ...     "from raymlops.labeling import labeling_function\\n"
    ...     "@labeling_function()\\ndef pos(df):\\n    return (df['x'] > 0).astype(int) * 2 - 1\\n"
    ...     "@labeling_function()\\ndef neg(df):\\n    return (df['x'] < 0).astype(int) - 1\\n")
    >>> out = apply_lfs(f"{d}/data.csv", lfs=f"{d}/lfs.py", key="id", out=f"{d}/L.parquet", settings=Settings.resolve(home=d, env={}), distributed=False)
    >>> [(lf["name"], lf["coverage"]) for lf in out["lfs"]], out["rows"]
    ([('pos', 0.5), ('neg', 0.3333333333333333)], 6)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core import runtime
from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.data.sources import read_dataset
from raymlops.labeling.aggregate import proba_column
from raymlops.labeling.annotations import class_key
from raymlops.labeling.io import read_table, write_parquet
from raymlops.labeling.label_model import LabelModel, majority_vote
from raymlops.labeling.lf_analysis import lf_summary
from raymlops.labeling.lf_matrix import LabelMatrix, apply_lfs as apply_in_process
from raymlops.labeling.lfs import LFSet, load_lfs
from raymlops.labeling.ray_ops import apply_lfs_dataset
from raymlops.labeling.record import file_artifact, output_artifact, record_step, source_artifact
from raymlops.metadata import Artifact, MetadataAPI, connect

__all__ = ["apply_lfs", "weak", "label_matrix"]


def label_matrix(data: Any, lfset: LFSet, *, key: str | None, distributed: bool, settings: Settings) -> tuple[LabelMatrix, pd.DataFrame | None]:
    """Apply the LFs: on Ray Data (``map_batches``) or in process. Returns the matrix (and the data when read in process)."""
    if distributed:

        runtime.init(settings)
        ds, _ = read_dataset(data)
        if key is not None and key not in ds.schema().names:
            raise InvalidInputError(f"key column {key!r} is not in the data (columns: {', '.join(ds.schema().names)})")
        return apply_lfs_dataset(ds, lfset, key=key), None
    df = read_table(data)
    return apply_in_process(df, lfset, key=key), df


def _gold_codes(values: pd.Series, classes: list[Any] | None, col: str) -> np.ndarray:
    """Gold values as class indices (-1 where empty)."""
    out = np.full(len(values), -1, dtype=np.int64)
    known = values.notna().to_numpy()
    if classes is None:
        try:
            out[known] = values[known].astype(np.int64).to_numpy()
        except (TypeError, ValueError):
            raise InvalidInputError(f"gold column {col!r} holds {values[known].iloc[0]!r}: give class indices, or name the classes with CLASSES in the LF file") from None
        return out
    index = {class_key(c): i for i, c in enumerate(classes)}
    keys = values[known].map(class_key)
    bad = ~keys.isin(list(index))
    if bad.all() and pd.api.types.is_integer_dtype(values.dropna().infer_objects().dtype):
        idx = values[known].astype(np.int64)
        if idx.between(0, len(classes) - 1).all():  # class indices rather than names
            out[known] = idx.to_numpy()
            return out
    if bad.any():
        i = int(np.flatnonzero(known)[np.flatnonzero(bad.to_numpy())[0]])
        v = values.iloc[i]
        raise InvalidInputError(f"row {i}: gold {v.item() if isinstance(v, np.generic) else v!r} in column {col!r} is not one of the LF file's CLASSES ({', '.join(map(str, classes))})")
    out[known] = keys.map(index).to_numpy()
    return out


def _lf_rows(summary: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for r in summary.to_dict(orient="records"):
        rows.append({k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in r.items()})
    return rows


def apply_lfs(
    data: Any,
    *,
    lfs: str,
    out: str,
    key: str | None = None,
    gold_col: str | None = None,
    distributed: bool = True,
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
) -> dict[str, Any]:
    """Apply the LF file to ``data``; write the sparse label matrix; analyse the LFs.

    Raises:
        LabelingFunctionError: the file or one of its functions failed (names the function and row).
        InvalidInputError: an unknown key or gold column, a gold value that is not a class.
    """
    settings = settings or Settings.resolve()
    return _apply(data, lfs=lfs, out=out, key=key, gold_col=gold_col, distributed=distributed, settings=settings, store=store or connect(settings))[0]


def _apply(
    data: Any, *, lfs: str, out: str, key: str | None, gold_col: str | None, distributed: bool, settings: Settings, store: MetadataAPI
) -> tuple[dict[str, Any], LabelMatrix, dict[str, Artifact]]:
    lfset = load_lfs(lfs)
    L, df = label_matrix(data, lfset, key=key, distributed=distributed, settings=settings)
    y = None
    if gold_col is not None:
        gold = df if df is not None else read_table(data)
        if gold_col not in gold.columns:
            raise InvalidInputError(f"gold column {gold_col!r} is not in the data (columns: {', '.join(map(str, gold.columns))})")
        y = _gold_codes(gold[gold_col], lfset.classes, gold_col)
    summary = lf_summary(L, y)
    path = L.save(os.path.abspath(out), key=key)
    inputs = {"data": source_artifact(store, data, name="data"), "lfs": file_artifact(store, lfs, type="Code", name=os.path.basename(lfs))}
    arts = record_step(
        store, "ApplyLabelingFunctions", name=f"apply {len(lfset.lfs)} LFs", inputs=inputs,
        outputs={"label_matrix": output_artifact(path, name="label_matrix", rows=L.n_rows, lfs=lfset.names, votes=int(L.csr.nnz))},
        properties={"key": key or "", "distributed": distributed},
    )
    return {
        "rows": L.n_rows,
        "lfs": _lf_rows(summary),
        "votes": int(L.csr.nnz),
        "covered": int(L.covered().sum()),
        "classes": lfset.classes,
        "out": path,
        "artifacts": {k: a.id for k, a in arts.items()},
    }, L, {**inputs, **arts}


def weak(
    data: Any,
    *,
    lfs: str,
    out: str,
    key: str | None = None,
    distributed: bool = True,
    params: dict[str, Any] | None = None,
    settings: Settings | None = None,
    store: MetadataAPI | None = None,
) -> dict[str, Any]:
    """LFs -> label model -> probabilistic labels (rows where every LF abstains are left out, and counted)."""
    settings = settings or Settings.resolve()
    store = store or connect(settings)
    matrix_path = os.path.splitext(os.path.abspath(out))[0] + "-matrix.parquet"
    applied, L, arts_in = _apply(data, lfs=lfs, out=matrix_path, key=key, gold_col=None, distributed=distributed, settings=settings, store=store)
    lm = LabelModel(cardinality=len(L.classes) if L.classes else None, **(params or {})).fit(L)
    proba = lm.predict_proba(L)
    covered = ~np.isnan(proba).any(axis=1)
    classes = L.classes if L.classes is not None else list(range(lm.n_classes_))
    pred = proba[covered].argmax(axis=1)
    frame: dict[str, Any] = {}
    if key is not None and L.keys is not None:
        frame[key] = L.keys[covered]
    else:
        frame["row"] = np.flatnonzero(covered)
    frame["label"] = pd.array(np.asarray(classes, dtype=object)[pred].tolist())
    frame["confidence"] = proba[covered].max(axis=1)
    frame["n_votes"] = np.diff(L.csr.indptr)[covered]
    for i, c in enumerate(classes):
        frame[proba_column(c)] = proba[covered, i]
    labels = pd.DataFrame(frame)
    path = write_parquet(labels, out)
    mv = majority_vote(L, lm.n_classes_)
    agree_mv = float((mv[covered] == pred).mean()) if covered.any() else None
    arts = record_step(
        store, "WeakLabels", name="label model", inputs=arts_in,
        outputs={"labels": output_artifact(path, name="weak_labels", df=labels, uncovered=lm.n_uncovered_, classes=[str(c) for c in classes])},
        properties={"model": "dawid-skene", "lf_weights": lm.weights_.tolist(), "lf_accuracy": lm.accuracy_.tolist(), "iterations": int(lm.n_iter_)},
    )
    lf_rows = applied["lfs"]
    for row, w, a in zip(lf_rows, lm.weights_.tolist(), lm.accuracy_.tolist()):
        row["weight"], row["learned_acc"] = w, a
    return {
        "rows": L.n_rows,
        "labeled": int(covered.sum()),
        "uncovered": lm.n_uncovered_,
        "classes": classes,
        "lfs": lf_rows,
        "agreement_with_majority_vote": agree_mv,
        "correlated_lfs": [n for n, w in zip(L.names, lm.weights_.tolist()) if w < 1],
        "out": path,
        "matrix": applied["out"],
        "artifacts": {**applied["artifacts"], **{k: a.id for k, a in arts.items()}},
    }
