"""The Ray shell of labeling: Dawid-Skene sharded over Ray Data, LFs applied with
``map_batches``, and pool scoring for active learning and self-training.

Nothing here holds logic of its own: the E-step, the statistics and the M-step are
those of :mod:`~raymlops.labeling.aggregate.em` and
:class:`~raymlops.labeling.aggregate.DawidSkene`; only where the shards live changes.

Dawid-Skene on a cluster (:func:`fit_dawid_skene_dataset`):

1. the vocabularies (tasks, workers, classes) come from ``Dataset.unique``;
2. ``map_batches`` codes every label and gives it a shard (task code modulo
   ``n_shards``), ``groupby("shard").map_groups`` packs each shard's labels, sorted
   by task, into one row; the packed dataset is materialised in the object store;
3. every EM iteration is one ``map_batches`` over the shard rows: each returns its
   shard's M-step statistics under the broadcast parameters, and the driver sums them
   (the reduce) and runs the M-step. A last pass returns the posteriors.

The sums are the same numbers as in one process, in another order, so the results
equal the single-process fit to floating-point rounding (the cluster test checks 1e-6).
A (task, worker) pair labelled twice keeps the last label of its shard.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import ray
import scipy.sparse as sp

from raymlops.core import runtime
from raymlops.core.errors import RaymlopsError
from raymlops.labeling.aggregate.base import Summary
from raymlops.labeling.aggregate.dawid_skene import DawidSkene
from raymlops.labeling.aggregate.em import Params, Shard, Stats
from raymlops.labeling.annotations import Annotations, Gold, class_key, sorted_classes
from raymlops.labeling.errors import AnnotationsError
from raymlops.labeling.lf_matrix import LabelMatrix, label_block
from raymlops.labeling.lfs import LFSet, lfs_from_source

__all__ = ["fit_dawid_skene_dataset", "apply_lfs_dataset", "embedding", "score_pool", "unwrap_ray_error"]

_cache: dict[Any, Any] = {}


def _get(ref: Any) -> Any:
    """``ray.get`` once per worker process for a broadcast object."""
    if not isinstance(ref, ray.ObjectRef):
        return ref
    key = ref.hex()
    if key not in _cache:
        if len(_cache) > 16:
            _cache.clear()
        _cache[key] = ray.get(ref)
    return _cache[key]


_RAISED = re.compile(r"^(raymlops(?:\.\w+)+)\.(\w+): (.+)$", re.MULTILINE)


def unwrap_ray_error(exc: BaseException) -> BaseException:
    """The raymlops error inside a Ray task failure (Ray wraps user errors), or ``exc``.

    Ray Data re-raises a UDF's error as ``RayTaskError(UserCodeException)`` whose cause
    chain does not always survive serialisation; the original error's class and message
    are then read back from the remote traceback text.
    """
    seen = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        seen.add(id(cur))
        if isinstance(cur, RaymlopsError):
            return cur
        cur = getattr(cur, "cause", None) or cur.__cause__ or cur.__context__
    found = _RAISED.findall(str(exc))
    if found:
        module, name, message = found[-1]
        cls = getattr(importlib.import_module(module), name, None)
        if isinstance(cls, type) and issubclass(cls, RaymlopsError):
            return cls(message.strip())
    return exc


# ---------------------------------------------------------------------- Dawid-Skene
def _uniques(batch: pd.DataFrame, *, cols: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {c: np.array([json.dumps(pd.unique(batch[c].dropna()).tolist(), default=str)], dtype=object) for c in cols}


def _vocabularies(ds: Any, cols: tuple[str, str, str]) -> tuple[pd.Index, pd.Index, list[Any]]:
    """Distinct tasks, workers and labels in one pass (one ``map_batches``, a union on the driver)."""
    found: dict[str, list[Any]] = {c: [] for c in cols}
    for row in ds.map_batches(_uniques, batch_format="pandas", fn_kwargs={"cols": cols}).iter_rows():
        for c in cols:
            found[c].extend(json.loads(row[c]))
    return pd.Index(pd.unique(pd.Series(found[cols[0]], dtype=object))), pd.Index(pd.unique(pd.Series(found[cols[1]], dtype=object))), list(
        pd.unique(pd.Series(found[cols[2]], dtype=object))
    )


def _encode(batch: pd.DataFrame, *, vocab: Any, cols: tuple[str, str, str], n_shards: int) -> pd.DataFrame:
    tasks, workers, class_index = _get(vocab)
    tc, wc, lc = cols
    for c in cols:
        if batch[c].isna().any():
            row = batch[batch[c].isna()].iloc[0]
            raise AnnotationsError(f"annotation column {c!r} is empty for task {row[tc]!r}; fill it in or drop the row")
    t = tasks.get_indexer(batch[tc])
    w = workers.get_indexer(batch[wc])
    lab = batch[lc].map(class_key).map(class_index).to_numpy(dtype=np.int64)
    return pd.DataFrame({"t": t.astype(np.int64), "w": w.astype(np.int32), "l": lab.astype(np.int32), "shard": t % n_shards})


def _pack(group: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    t, w, lab = group["t"], group["w"], group["l"]
    pair = t * (int(w.max()) + 1 if len(w) else 1) + w
    _, last_rev = np.unique(pair[::-1], return_index=True)
    keep = np.sort(len(pair) - 1 - last_rev)
    order = keep[np.argsort(t[keep], kind="stable")]
    return {
        "shard": group["shard"][:1],
        "t": np.array([t[order].astype(np.int64).tobytes()], dtype=object),
        "w": np.array([w[order].astype(np.int32).tobytes()], dtype=object),
        "l": np.array([lab[order].astype(np.int32).tobytes()], dtype=object),
    }


def _shard(row: dict[str, Any], shape: tuple[int, int], gold: Any) -> Shard:
    g_task, g_label = _get(gold)
    t = np.frombuffer(row["t"], dtype=np.int64)
    w = np.frombuffer(row["w"], dtype=np.int32)
    lab = np.frombuffer(row["l"], dtype=np.int32)
    return Shard.build(t, w, lab, n_workers=shape[0], n_classes=shape[1], gold_task=g_task, gold_label=g_label)


def _stats_row(st: Stats) -> dict[str, Any]:
    return {"counts": st.counts.tobytes(), "cc": st.class_counts.tobytes(), "loglik": st.loglik}


def _em_pass(batch: dict[str, np.ndarray], *, params: Any, shape: tuple[int, int], gold: Any, mode: str) -> dict[str, np.ndarray]:
    """One pass over packed shards: ``init`` (majority-vote statistics), ``step`` or ``final``."""
    p: Params | None = _get(params)
    rows: list[dict[str, Any]] = []
    for i in range(len(batch["t"])):
        s = _shard({k: batch[k][i] for k in ("t", "w", "l")}, shape, gold)
        if mode == "init":
            rows.append(_stats_row(s.init_stats(None if p is None else p.weight)))
        elif mode == "step":
            rows.append(_stats_row(s.step(p)))
        else:
            post, st, preds = s.final(p)
            agreement, sizes, wl, wa = s.summary(post)
            rows.append(
                {
                    **_stats_row(st),
                    "task_ids": s.task_ids.tobytes(), "post": post.tobytes(), "agreement": agreement.tobytes(),
                    "sizes": sizes.tobytes(), "wl": wl.tobytes(), "wa": wa.tobytes(),
                    "gold_t": np.array(list(preds), dtype=np.int64).tobytes(), "gold_p": np.array(list(preds.values()), dtype=np.int64).tobytes(),
                }
            )
    return {k: np.array([r[k] for r in rows], dtype=object if k != "loglik" else float) for k in rows[0]} if rows else {}


def _reduce(rows: Iterable[dict[str, Any]], shape: tuple[int, int], extra: Stats) -> Stats:
    w, k = shape
    total = extra
    for r in rows:
        total = total + Stats(np.frombuffer(r["counts"]).reshape(w, k, k), np.frombuffer(r["cc"]), float(r["loglik"]))
    return total


def fit_dawid_skene_dataset(
    ds: Any,
    model: DawidSkene,
    *,
    gold: pd.DataFrame | None = None,
    sme: Sequence[Any] = (),
    task_col: str = "task",
    worker_col: str = "worker",
    label_col: str = "label",
    n_shards: int = 8,
) -> DawidSkene:
    """Fit ``model`` on the annotations in the Ray Dataset ``ds`` (see the module docstring).

    Raises:
        AnnotationsError, GoldError: as the single-process fit.
    """
    names = ds.schema().names
    missing = [c for c in (task_col, worker_col, label_col) if c not in names]
    if missing:
        raise AnnotationsError(f"the annotation table has no column {missing[0]!r} (columns: {', '.join(names)}); pass the column's name")
    tasks, workers, seen = _vocabularies(ds, (task_col, worker_col, label_col))
    by_key = {class_key(c): c for c in sorted_classes(seen)}
    classes = list(by_key.values())
    ann = Annotations(
        task=np.zeros(0, np.int32), worker=np.zeros(0, np.int32), label=np.zeros(0, np.int32),
        tasks=np.asarray(tasks, dtype=object), workers=np.asarray(workers, dtype=object), classes=classes,
        columns={"task": task_col, "worker": worker_col, "label": label_col},
    )
    g = Gold.empty()
    if gold is not None:
        g, ann = Gold.from_frame(gold, ann, task_col=task_col, label_col=label_col)
    w, k = ann.n_workers, ann.n_classes
    vocab = ray.put((tasks, workers, {class_key(c): i for i, c in enumerate(classes)}))
    coded = ds.map_batches(_encode, batch_format="pandas", fn_kwargs={"vocab": vocab, "cols": (task_col, worker_col, label_col), "n_shards": n_shards})
    shards = coded.groupby("shard").map_groups(_pack, batch_format="numpy").materialize()
    gold_ref = ray.put((g.task.astype(np.int64), g.label.astype(np.int32)))
    gold_only = g.task >= len(tasks)
    extra = Stats(np.zeros((w, k, k)), np.bincount(g.label[gold_only], minlength=k).astype(float), 0.0)
    model.annotations_, model.gold_ = ann, g
    model.sme_ = model.sme_mask(ann, sme)
    pseudo = model.pseudo_counts(w, k, model.sme_)
    def run(mode: str, params: Params | None) -> list[dict[str, Any]]:
        out = shards.map_batches(
            _em_pass, batch_format="numpy", batch_size=1,
            fn_kwargs={"params": ray.put(params), "shape": (w, k), "gold": gold_ref, "mode": mode},
        )
        return list(out.iter_rows())

    weight = None if model.worker_weight is None else np.asarray(model.worker_weight, dtype=float)
    init = _reduce(run("init", Params(np.zeros(k), np.zeros((w, k, k)), weight)), (w, k), extra)
    n_labels = int(round(init.counts.sum()))  # every label spreads one unit over the classes
    params, _, iterations, converged = model.fit_from_stats(
        init, lambda p: _reduce(run("step", p), (w, k), extra), n_labels=n_labels, pseudo=pseudo
    )
    summary = Summary.empty(ann.n_tasks, w, k)
    crowd: dict[int, int] = {}
    stats = extra
    for r in run("final", params):
        f = np.frombuffer
        tid = f(r["task_ids"], dtype=np.int64)
        summary.add_parts(tid, f(r["post"]).reshape(len(tid), k), f(r["agreement"]), f(r["sizes"], dtype=np.int64), f(r["wl"], dtype=np.int64), f(r["wa"]))
        crowd.update(zip(f(r["gold_t"], dtype=np.int64).tolist(), f(r["gold_p"], dtype=np.int64).tolist()))
        stats = stats + Stats(f(r["counts"]).reshape(w, k, k), f(r["cc"]), float(r["loglik"]))
    model.finish_from(summary, stats, params, crowd, iterations, converged)
    return model


# ---------------------------------------------------------------------- labeling functions
def _lf_batch(batch: pd.DataFrame, *, lfs: Any, key: str | None) -> dict[str, np.ndarray]:
    source, path = _get(lfs)
    cache_key = ("lfs", hash(source))
    lfset = _cache.get(cache_key)
    if lfset is None:
        lfset = _cache[cache_key] = lfs_from_source(source, path)
    block = label_block(batch, lfset, key=key)
    coo = block.csr.tocoo()
    keys = block.keys if block.keys is not None else np.zeros(0)
    return {
        "n": np.array([block.n_rows]),
        "row": np.array([coo.row.astype(np.int64).tobytes()], dtype=object),
        "lf": np.array([coo.col.astype(np.int32).tobytes()], dtype=object),
        "label": np.array([coo.data.astype(np.int16).tobytes()], dtype=object),
        "keys": np.array([json.dumps(pd.Series(keys, dtype=object).tolist(), default=str)], dtype=object),
    }


def apply_lfs_dataset(ds: Any, lfset: LFSet, *, key: str | None = None, batch_size: int = 50_000) -> LabelMatrix:
    """Apply the LFs to every batch of the Ray Dataset ``ds``; rows keep the dataset's order.

    Raises:
        LabelingFunctionError: an LF failed (the error names the function and the row).
    """
    try:
        with runtime.preserving_order(ds):
            out = ds.map_batches(_lf_batch, batch_format="pandas", batch_size=batch_size, fn_kwargs={"lfs": ray.put((lfset.source, lfset.path)), "key": key})
            parts = []
            for r in out.iter_rows():
                n = int(r["n"])
                rows = np.frombuffer(r["row"], dtype=np.int64)
                csr = sp.csr_matrix(
                    (np.frombuffer(r["label"], dtype=np.int16), (rows, np.frombuffer(r["lf"], dtype=np.int32))), shape=(n, len(lfset.lfs))
                )
                keys = np.asarray(json.loads(r["keys"]), dtype=object) if key is not None else None
                parts.append(LabelMatrix(csr, lfset.names, lfset.classes, keys))
    except Exception as exc:  # noqa: BLE001 - Ray wraps the LF's error: surface ours
        raise unwrap_ray_error(exc) from None
    if not parts:
        return LabelMatrix(sp.csr_matrix((0, len(lfset.lfs)), dtype=np.int16), lfset.names, lfset.classes)
    return LabelMatrix.vstack(parts)


# ---------------------------------------------------------------------- scoring a pool
def _predict_batch(batch: pd.DataFrame, *, model: Any, key: str | None, drop: Sequence[str], columns: Sequence[str] | None, embed: bool) -> pd.DataFrame:
    m = _get(model)
    X = batch[list(columns)] if columns else batch.drop(columns=[c for c in drop if c in batch.columns])
    proba = np.asarray(m.predict_proba(X), dtype=np.float64)
    out = pd.DataFrame(proba, columns=[f"p{i}" for i in range(proba.shape[1])])
    if embed:
        emb = embedding(m, X)
        out = pd.concat([out, pd.DataFrame(emb, columns=[f"e{i}" for i in range(emb.shape[1])])], axis=1)
    if key is not None:
        out.insert(0, "__key", batch[key].to_numpy())
    return out


def embedding(model: Any, X: pd.DataFrame) -> np.ndarray:
    """The model's own feature space for ``X`` (a pipeline's steps before the estimator), else its numeric columns."""
    steps = getattr(model, "steps", None)
    if steps and len(steps) > 1:
        Z = model[:-1].transform(X)
        Z = Z.toarray() if sp.issparse(Z) else np.asarray(Z)
        return Z.astype(np.float32)
    num = X.select_dtypes("number").to_numpy(dtype=np.float32)
    sd = num.std(axis=0)
    return np.nan_to_num((num - num.mean(axis=0)) / np.where(sd > 0, sd, 1.0))


def score_pool(
    ds: Any,
    model: Any,
    *,
    key: str | None = None,
    drop: Sequence[str] = (),
    columns: Sequence[str] | None = None,
    embed: bool = False,
    batch_size: int = 20_000,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray | None]:
    """Class probabilities of every row of the Ray Dataset ``ds`` (in order), its keys, and its embedding.

    Args:
        ds: the pool (a Ray Dataset, or a DataFrame to spread over Ray).
        model: a fitted classifier with ``predict_proba`` (broadcast once).
        key: the key column, returned alongside and not given to the model.
        drop: other columns the model must not see (the target).
        columns: give the model exactly these columns (its signature), when known.
        embed: also return :func:`embedding` of every row (for the diverse strategy).

    Returns:
        ``(keys or None, probabilities, embedding or None)``.
    """
    if isinstance(ds, pd.DataFrame):
        ds = ray.data.from_pandas(ds)
    try:
        with runtime.preserving_order(ds):
            out = ds.map_batches(
                _predict_batch, batch_format="pandas", batch_size=batch_size,
                fn_kwargs={"model": ray.put(model), "key": key, "drop": [*drop, *([key] if key else [])], "columns": list(columns) if columns else None, "embed": embed},
            ).to_pandas()
    except Exception as exc:  # noqa: BLE001 - Ray wraps the model's error
        raise unwrap_ray_error(exc) from None
    keys = out.pop("__key").to_numpy() if key is not None else None
    emb_cols = [c for c in out.columns if c.startswith("e")]
    emb = out[emb_cols].to_numpy(dtype=np.float32) if embed else None
    return keys, out[[c for c in out.columns if c.startswith("p")]].to_numpy(dtype=np.float64), emb
