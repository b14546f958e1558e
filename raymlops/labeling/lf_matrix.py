"""The label matrix of labeling functions, sparse (scipy.sparse CSR), and applying LFs.

Row i, column j holds LF j's vote on row i. Abstains are the implicit zeros: the CSR
stores ``label + 1`` (int16) only where an LF voted, so memory follows the votes, not
rows x LFs (Snorkel builds a dense n x m array, and its label model an
n x (m * classes) one; 1,200 LFs x 56 classes runs out of memory there, #1656).

On disk it is one Parquet file in long form (``row, lf, label`` and the key column
when there is one; a row without any vote keeps its key on one line with ``lf = -1``),
with the LF names, the classes and the row count in the file's metadata, so any
Parquet reader can use it and the data pipeline can hash it.

Example:
    >>> import numpy as np
    >>> L = LabelMatrix.from_dense(np.array([[0, -1], [-1, -1], [1, 1]]), names=["a", "b"])
    >>> L.n_rows, L.n_lfs, L.csr.nnz
    (3, 2, 3)
    >>> L.to_dense().tolist()
    [[0, -1], [-1, -1], [1, 1]]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import scipy.sparse as sp

from raymlops.labeling.annotations import Annotations
from raymlops.labeling.errors import LabelingFunctionError
from raymlops.labeling.lfs import LFSet

__all__ = ["LabelMatrix", "apply_lfs", "label_block"]

_META = b"raymlops.label_matrix"


@dataclass
class LabelMatrix:
    """Sparse LF votes (see the module docstring).

    Attributes:
        csr: (n_rows, n_lfs) int16, ``label + 1`` where an LF voted.
        names: LF names (columns).
        classes: class values (or None: labels are indices).
        keys: the key of every row (or None).
    """

    csr: sp.csr_matrix
    names: list[str]
    classes: list[Any] | None = None
    keys: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        return self.csr.shape[0]

    @property
    def n_lfs(self) -> int:
        return self.csr.shape[1]

    @property
    def cardinality(self) -> int:
        """Number of classes (from ``classes``, else the largest vote + 1)."""
        if self.classes is not None:
            return len(self.classes)
        return int(self.csr.data.max()) if self.csr.nnz else 1

    @classmethod
    def from_dense(cls, L: np.ndarray, *, names: Sequence[str] | None = None, classes: Sequence[Any] | None = None, keys: Any = None) -> LabelMatrix:
        """From an (n, m) array with -1 for abstain."""
        L = np.asarray(L)
        csr = sp.csr_matrix((L + 1).astype(np.int16))
        csr.eliminate_zeros()
        return cls(csr, list(names or [f"lf{j}" for j in range(L.shape[1])]), list(classes) if classes is not None else None, None if keys is None else np.asarray(keys))

    @classmethod
    def from_columns(cls, columns: Sequence[np.ndarray], *, names: Sequence[str], classes: Sequence[Any] | None = None, keys: Any = None) -> LabelMatrix:
        """From one int array per LF (-1 abstains), never building the dense matrix."""
        n = len(columns[0]) if columns else 0
        rows, cols, vals = [], [], []
        for j, c in enumerate(columns):
            c = np.asarray(c)
            nz = np.flatnonzero(c >= 0)
            rows.append(nz)
            cols.append(np.full(len(nz), j, dtype=np.int32))
            vals.append((c[nz] + 1).astype(np.int16))
        r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
        csr = sp.csr_matrix(
            (np.concatenate(vals) if vals else np.zeros(0, np.int16), (r, np.concatenate(cols) if cols else r)),
            shape=(n, len(columns)),
            dtype=np.int16,
        )
        return cls(csr, list(names), list(classes) if classes is not None else None, None if keys is None else np.asarray(keys))

    @classmethod
    def vstack(cls, parts: Sequence[LabelMatrix]) -> LabelMatrix:
        """Rows of several matrices of the same LFs, in order."""
        first = parts[0]
        keys = None if first.keys is None else np.concatenate([p.keys for p in parts])
        return cls(sp.vstack([p.csr for p in parts], format="csr"), first.names, first.classes, keys)

    def to_dense(self) -> np.ndarray:
        """(n, m) int array with -1 for abstain (only for small matrices)."""
        return self.csr.toarray().astype(np.int32) - 1

    def to_annotations(self) -> Annotations:
        """Votes as a long annotation table: rows are tasks, LFs are workers."""
        coo = self.csr.tocoo()
        return Annotations.from_codes(
            coo.row, coo.col, coo.data.astype(np.int32) - 1, n_tasks=self.n_rows, n_workers=self.n_lfs, n_classes=self.cardinality
        )

    def covered(self) -> np.ndarray:
        """Rows where at least one LF voted."""
        return np.diff(self.csr.indptr) > 0

    # ------------------------------------------------------------------ storage
    def to_frame(self, key: str | None = None) -> pd.DataFrame:
        """Long form: one line per vote; with keys, rows without any vote get one line with ``lf = -1``."""
        coo = self.csr.tocoo()
        rows, lfs, labels = coo.row.astype(np.int64), coo.col.astype(np.int32), coo.data.astype(np.int32) - 1
        if key is not None and self.keys is not None:
            empty = np.flatnonzero(~self.covered())
            rows = np.concatenate([rows, empty])
            lfs = np.concatenate([lfs, np.full(len(empty), -1, dtype=np.int32)])
            labels = np.concatenate([labels, np.full(len(empty), -1, dtype=np.int32)])
        order = np.lexsort((lfs, rows))
        df = pd.DataFrame({"row": rows[order], "lf": lfs[order], "label": labels[order]})
        if key is not None and self.keys is not None:
            df.insert(0, key, self.keys[df["row"].to_numpy()])
        return df

    def save(self, path: str, *, key: str | None = None) -> str:
        """Write the long Parquet form (see the module docstring); returns ``path``."""
        meta = {"names": self.names, "classes": self.classes, "n_rows": self.n_rows, "key": key}
        table = pa.Table.from_pandas(self.to_frame(key), preserve_index=False)
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META: json.dumps(meta, default=str).encode()})
        pq.write_table(table, path)
        return path

    @classmethod
    def load(cls, path: str) -> LabelMatrix:
        """Read a matrix written by :meth:`save`."""
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(_META, b"{}"))
        if not meta:
            raise LabelingFunctionError(f"{path} is not a label matrix written by `raymlops labels apply-lfs`")
        df = table.to_pandas()
        n = int(meta["n_rows"])
        votes = df[df["lf"] >= 0]
        csr = sp.csr_matrix(
            ((votes["label"].to_numpy() + 1).astype(np.int16), (votes["row"].to_numpy(), votes["lf"].to_numpy())),
            shape=(n, len(meta["names"])),
        )
        keys = None
        if meta.get("key") and meta["key"] in df.columns:
            keys = np.empty(n, dtype=object)
            keys[df["row"].to_numpy()] = df[meta["key"]].to_numpy()
        return cls(csr, meta["names"], meta.get("classes"), keys)


def label_block(batch: pd.DataFrame, lfset: LFSet, *, key: str | None = None) -> LabelMatrix:
    """Apply every LF of ``lfset`` to one batch (rows in batch order)."""
    cols = [lf.apply(batch, classes=lfset.classes, key=key) for lf in lfset.lfs]
    keys = batch[key].to_numpy() if key is not None and key in batch.columns else None
    return LabelMatrix.from_columns(cols, names=lfset.names, classes=lfset.classes, keys=keys)


def apply_lfs(df: pd.DataFrame, lfset: LFSet, *, key: str | None = None, batch_rows: int = 100_000) -> LabelMatrix:
    """Apply the LFs to ``df`` in process, ``batch_rows`` rows at a time (Ray: ``ray_ops.apply_lfs_dataset``)."""
    if key is not None and key not in df.columns:
        raise LabelingFunctionError(f"key column {key!r} is not in the data (columns: {', '.join(map(str, df.columns))})")
    parts = [label_block(df.iloc[i : i + batch_rows], lfset, key=key) for i in range(0, max(len(df), 1), batch_rows)]
    return LabelMatrix.vstack(parts)
