"""Deterministic train/validation/test splits from a hash of each row.

A row's split depends only on the row itself (its key columns, or its whole content when
no key is given), never on its position, its block or the other rows of its batch. So
splitting the same data again, in 1 block or in 700, shuffled or not, on any machine or
Python version, gives every row the same split, and :func:`assign_split` can run inside
Ray Data ``map_batches`` with no coordination.

The hash:

1. Every key value is written as a canonical string: strings as they are; integers and
   integral floats in decimal without a fraction (``1``, ``1.0``, ``"1"`` and a nullable
   ``Int64`` 1 are the same key, so a column read as float in one block because it has a
   null, or as text in another, still hashes alike); other floats as Python's shortest
   round-trip ``repr``; datetimes as ISO 8601 UTC with nanoseconds; booleans as
   ``True``/``False``; nulls (None, NaN, NA, NaT) as ``"\\x00"``. Several key columns are
   joined with ``"\\x1f"`` (with no key, all columns in order of their names).
2. The UTF-8 bytes are hashed with BLAKE2b (RFC 7693; :func:`hashlib.blake2b`) to 8 bytes,
   keyed with ``salt``, read as a big-endian unsigned 64-bit integer. BLAKE2b is part of
   Python's standard library and specified independently of it, so the hash is the same in
   every process and version (unlike Python's ``hash``, which is randomised per process,
   and ``pandas.util.hash_pandas_object``, whose output is not a documented format).
3. Its top 53 bits become a number in [0, 1), and the cumulative ``fractions`` cut it.

A different ``salt`` gives an independent split of the same data.

Stratified splits need one global step, because exact per-class proportions depend on
how many rows each class has: collect ``(label, hash)`` pairs with :func:`class_hashes`
on every batch (merging is concatenation), compute per-class hash thresholds with
:func:`stratified_cutoffs`, then assign each batch with :func:`assign_stratified_split`.
The thresholds are hash values, so the assignment is still per row and block-count
independent, and every class's split sizes are within one row of exact (when keys are
unique within a class: rows sharing a key always share a split).

Example:
    >>> import pandas as pd
    >>> df = pd.DataFrame({"user": [f"u{i}" for i in range(8)], "x": range(8)})
    >>> assign_split(df, key="user").tolist()
    ['train', 'train', 'train', 'train', 'train', 'test', 'train', 'validation']
    >>> assign_split(df.iloc[::-1], key="user").tolist()[::-1]  # order does not matter
    ['train', 'train', 'train', 'train', 'train', 'test', 'train', 'validation']
    >>> import hashlib
    >>> int(row_hash(df, key="user")[2]) == int.from_bytes(hashlib.blake2b(b"u2", digest_size=8).digest(), "big")
    True
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.core.values import py

__all__ = [
    "DEFAULT_FRACTIONS",
    "NULL_TOKEN",
    "StratifiedCutoffs",
    "assign_split",
    "assign_stratified_split",
    "class_hashes",
    "hash_fraction",
    "normalize_fractions",
    "row_hash",
    "stratified_cutoffs",
]

DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.8, "validation": 0.1, "test": 0.1}
NULL_TOKEN = "\x00"
_SEP = "\x1f"
_FRACTION_TOL = 1e-6
_TWO_64 = 1 << 64
_MAX_SALT_BYTES = 64  # BLAKE2b key size limit


def normalize_fractions(fractions: Mapping[str, float] | Sequence[float] | None = None) -> dict[str, float]:
    """Validate split fractions and name them.

    Args:
        fractions: ``{name: fraction}`` in split order, or a sequence of 2 (train, test)
            or 3 (train, validation, test) fractions. ``None`` means 0.8/0.1/0.1.

    Returns:
        ``{name: fraction}`` with non-negative fractions summing to 1.

    Raises:
        InvalidInputError: a fraction is negative or not a number, names repeat, or the
            fractions do not sum to 1.

    Example:
        >>> normalize_fractions([0.7, 0.3])
        {'train': 0.7, 'test': 0.3}
    """
    if fractions is None:
        return dict(DEFAULT_FRACTIONS)
    if isinstance(fractions, Mapping):
        names = [str(n) for n in fractions]
        values = list(fractions.values())
    elif isinstance(fractions, (str, bytes)) or not isinstance(fractions, Sequence):
        raise InvalidInputError(
            f"invalid split fractions {fractions!r}: pass a mapping like "
            "{'train': 0.8, 'validation': 0.1, 'test': 0.1} or a sequence of 2 or 3 numbers"
        )
    else:
        values = list(fractions)
        if len(values) == 2:
            names = ["train", "test"]
        elif len(values) == 3:
            names = ["train", "validation", "test"]
        else:
            raise InvalidInputError(
                f"invalid split fractions {list(fractions)!r}: a sequence needs 2 (train, test) or "
                "3 (train, validation, test) numbers; pass a mapping {name: fraction} for other splits"
            )
    if not names:
        raise InvalidInputError("no split fractions given: pass at least one {name: fraction}")
    if len(set(names)) != len(names) or any(not n for n in names):
        raise InvalidInputError(f"invalid split names {names!r}: names must be non-empty and unique")
    out: dict[str, float] = {}
    for name, value in zip(names, values):
        try:
            f = float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"split fraction for {name!r} is {value!r}: use a number in [0, 1]") from None
        if not (0.0 <= f <= 1.0):
            raise InvalidInputError(f"split fraction for {name!r} is {value!r}: use a number in [0, 1]")
        out[name] = f
    total = math.fsum(out.values())
    if abs(total - 1.0) > _FRACTION_TOL:
        raise InvalidInputError(
            f"split fractions {out} sum to {total:g}, not 1: adjust them so they add up to 1 "
            "(e.g. 0.8/0.1/0.1)"
        )
    return out


# ---------------------------------------------------------------------------- hashing


def _canon_float(x: float) -> str:
    if x != x:
        return NULL_TOKEN
    if x.is_integer():
        return str(int(x))
    return repr(x)


def _canon_datetime64(values: np.ndarray) -> np.ndarray:
    text = np.datetime_as_string(values, unit="ns").astype(object)
    text[np.isnat(values)] = NULL_TOKEN
    return text


def _canon_scalar(v: Any) -> str:
    """Canonical text of one value of an object column (mixed types)."""
    if v is None or v is pd.NA or v is pd.NaT:
        return NULL_TOKEN
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return "True" if v else "False"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return _canon_float(float(v))
    if isinstance(v, pd.Timestamp):
        if v.tz is not None:
            v = v.tz_convert("UTC").tz_localize(None)
        return str(np.datetime_as_string(v.to_datetime64(), unit="ns"))
    if isinstance(v, _dt.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(_dt.timezone.utc).replace(tzinfo=None)
        return str(np.datetime_as_string(np.datetime64(v, "ns"), unit="ns"))
    if isinstance(v, np.datetime64):
        return NULL_TOKEN if np.isnat(v) else str(np.datetime_as_string(v, unit="ns"))
    if isinstance(v, bytes):
        return v.decode("utf-8", "backslashreplace")
    return str(v)


def _canon_column(col: pd.Series) -> np.ndarray:
    """The canonical text of every value of a column, as an object array of ``str``."""
    dtype = col.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        cats = _canon_column(pd.Series(dtype.categories))
        codes = col.cat.codes.to_numpy()
        out = np.empty(len(cats) + 1, dtype=object)  # not np.append: numpy str drops "\x00"
        out[:-1] = cats
        out[-1] = NULL_TOKEN
        return out[np.where(codes < 0, len(cats), codes)]
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _canon_datetime64(col.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy())
    if isinstance(dtype, np.dtype):
        values = col.to_numpy()
        if dtype.kind in "iu":
            return values.astype(str).astype(object)
        if dtype.kind == "b":
            return np.where(values, "True", "False").astype(object)
        if dtype.kind == "f":
            values = values.astype(np.float64, copy=False)
            out = np.empty(len(values), dtype=object)
            integral = np.isfinite(values) & (np.trunc(values) == values) & (np.abs(values) < 2.0**63)
            out[integral] = values[integral].astype(np.int64).astype(str)
            rest = ~integral
            out[rest] = [_canon_float(x) for x in values[rest].tolist()]
            return out
        if dtype.kind == "M":
            return _canon_datetime64(values)
    if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
        values = col.to_numpy(dtype=object, na_value=None)
        values[pd.isna(values)] = NULL_TOKEN
        return values
    return np.array([_canon_scalar(v) for v in col.to_numpy(dtype=object)], dtype=object)


def _key_columns(batch: pd.DataFrame, key: str | Sequence[str] | None) -> list[Hashable]:
    if not isinstance(batch, pd.DataFrame):
        raise InvalidInputError(f"expected a pandas DataFrame batch, got {type(batch).__name__}")
    if key is None:
        if len(batch.columns) == 0:
            raise InvalidInputError("the batch has no columns to hash: pass key=... or add columns")
        return sorted(batch.columns, key=str)
    cols = [key] if isinstance(key, str) or not isinstance(key, Sequence) else list(key)
    if not cols:
        raise InvalidInputError("key=[] names no columns: pass a column name, a list of names, or None")
    missing = [c for c in cols if c not in batch.columns]
    if missing:
        raise InvalidInputError(
            f"key column(s) {missing!r} not in the data; available columns: {list(batch.columns)!r}"
        )
    return cols


def row_hash(batch: pd.DataFrame, *, key: str | Sequence[str] | None = None, salt: str = "") -> np.ndarray:
    """The stable 64-bit hash of each row (see the module docstring for the exact format).

    Args:
        batch: the rows.
        key: a column or columns identifying a row (e.g. a user id, so all of a user's
            rows share a split); ``None`` hashes all columns, in order of their names.
        salt: makes an independent split of the same data (at most 64 bytes as UTF-8).

    Returns:
        ``uint64`` array, one hash per row.

    Raises:
        InvalidInputError: unknown key columns, or a salt longer than 64 bytes.
    """
    cols = _key_columns(batch, key)
    salt_bytes = salt.encode("utf-8")
    if len(salt_bytes) > _MAX_SALT_BYTES:
        raise InvalidInputError(f"salt is {len(salt_bytes)} bytes long: use at most {_MAX_SALT_BYTES} bytes")
    if len(batch) == 0:
        return np.zeros(0, dtype=np.uint64)
    texts = [_canon_column(batch[c]) for c in cols]
    rows = texts[0] if len(texts) == 1 else [_SEP.join(parts) for parts in zip(*texts)]
    b2 = hashlib.blake2b
    digest = b"".join([b2(t.encode("utf-8"), digest_size=8, key=salt_bytes).digest() for t in rows])
    return np.frombuffer(digest, dtype=">u8").astype(np.uint64)


def hash_fraction(hashes: np.ndarray) -> np.ndarray:
    """Map 64-bit hashes to floats in [0, 1) using their top 53 bits.

    Example:
        >>> hash_fraction(np.array([0, 2**63, 2**64 - 1], dtype=np.uint64)).tolist()
        [0.0, 0.5, 0.9999999999999999]
    """
    hashes = np.asarray(hashes, dtype=np.uint64)
    return (hashes >> np.uint64(11)).astype(np.float64) * 2.0**-53


def assign_split(
    batch: pd.DataFrame,
    *,
    key: str | Sequence[str] | None = None,
    fractions: Mapping[str, float] | Sequence[float] | None = None,
    salt: str = "",
) -> np.ndarray:
    """The split of every row, from its hash alone (usable inside ``map_batches``).

    Args:
        batch: the rows.
        key: a column or columns to hash; ``None`` hashes the whole row.
        fractions: ``{name: fraction}`` or 2/3 numbers (see :func:`normalize_fractions`);
            default 0.8/0.1/0.1 train/validation/test.
        salt: a different salt gives an independent split.

    Returns:
        Object array of split names, one per row.

    Raises:
        InvalidInputError: unknown key columns or invalid fractions.
    """
    fr = normalize_fractions(fractions)
    names = np.array(list(fr), dtype=object)
    edges = np.cumsum(list(fr.values()))[:-1]
    u = hash_fraction(row_hash(batch, key=key, salt=salt))
    # u < 1 and the last split has no upper edge, so it takes any rounding remainder
    return names[np.searchsorted(edges, u, side="right")]


# ---------------------------------------------------------------------------- stratified


def _label_values(batch: pd.DataFrame, label: Hashable) -> pd.Series:
    if label not in batch.columns:
        raise InvalidInputError(f"label column {label!r} not in the data; available columns: {list(batch.columns)!r}")
    labels = batch[label]
    nulls = int(labels.isna().sum())
    if nulls:
        raise InvalidInputError(
            f"label column {label!r} has {nulls} missing value(s): drop or fill them before a stratified split"
        )
    return labels


def class_hashes(
    batch: pd.DataFrame, *, label: Hashable, key: str | Sequence[str] | None = None, salt: str = ""
) -> pd.DataFrame:
    """The ``(label, hash)`` pair of every row: the input of :func:`stratified_cutoffs`.

    Run it on every batch and concatenate the results (merging is concatenation).

    Args:
        batch: the rows.
        label: the class column.
        key: as in :func:`row_hash`; ``None`` hashes the whole row, label included.
        salt: as in :func:`row_hash`.

    Returns:
        DataFrame with columns ``label`` and ``hash`` (``uint64``).

    Raises:
        InvalidInputError: unknown columns, or missing labels.
    """
    labels = _label_values(batch, label)
    return pd.DataFrame({"label": labels.to_numpy(), "hash": row_hash(batch, key=key, salt=salt)})


@dataclass(frozen=True)
class StratifiedCutoffs:
    """Per-class hash thresholds of a stratified split.

    A row of class ``c`` with hash ``h`` goes to split ``names[i]`` where ``i`` is the
    number of thresholds of ``c`` that are ``<= h``. A threshold of ``2**64`` is never
    reached (its split gets no rows of the class).

    Attributes:
        names: split names, in order.
        thresholds: class → ``len(names) - 1`` non-decreasing thresholds (Python ints).
        counts: class → rows per split, as computed from the full dataset.
    """

    names: tuple[str, ...]
    thresholds: dict[Any, tuple[int, ...]] = field(default_factory=dict)
    counts: dict[Any, tuple[int, ...]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form (for lineage records)."""
        return {
            "names": list(self.names),
            "classes": [
                {"label": py(c), "thresholds": list(t), "counts": list(self.counts.get(c, ()))}
                for c, t in self.thresholds.items()
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StratifiedCutoffs:
        """Inverse of :meth:`to_dict`."""
        classes = data["classes"]
        return cls(
            names=tuple(data["names"]),
            thresholds={c["label"]: tuple(int(t) for t in c["thresholds"]) for c in classes},
            counts={c["label"]: tuple(int(n) for n in c.get("counts", ())) for c in classes},
        )


def stratified_cutoffs(
    hashes_by_class: Mapping[Hashable, Any] | pd.DataFrame,
    *,
    fractions: Mapping[str, float] | Sequence[float] | None = None,
) -> StratifiedCutoffs:
    """Per-class hash thresholds giving every class the requested split proportions.

    For a class of ``n`` rows, split ``j`` ends after ``round(n * (f_0 + ... + f_j))``
    rows in hash order, so every split's count is within one row of ``f_j * n``.

    Args:
        hashes_by_class: ``{label: hashes}`` over the WHOLE dataset, or the concatenated
            output of :func:`class_hashes` (columns ``label`` and ``hash``).
        fractions: as in :func:`assign_split`.

    Returns:
        The thresholds, to pass to :func:`assign_stratified_split` on every batch.

    Raises:
        InvalidInputError: invalid fractions or an input without classes.

    Example:
        >>> cut = stratified_cutoffs({"a": np.arange(10, dtype=np.uint64)}, fractions=[0.8, 0.2])
        >>> cut.thresholds, cut.counts
        ({'a': (8,)}, {'a': (8, 2)})
    """
    fr = normalize_fractions(fractions)
    if isinstance(hashes_by_class, pd.DataFrame):
        missing = {"label", "hash"} - set(hashes_by_class.columns)
        if missing:
            raise InvalidInputError(
                f"hashes_by_class lacks column(s) {sorted(missing)}: pass the concatenated output of class_hashes"
            )
        groups = {c: g.to_numpy() for c, g in hashes_by_class.groupby("label", sort=False)["hash"]}
    else:
        groups = dict(hashes_by_class)
    if not groups:
        raise InvalidInputError("no classes to stratify: pass the (label, hash) pairs of the whole dataset")
    cum = np.cumsum(list(fr.values()))
    thresholds: dict[Any, tuple[int, ...]] = {}
    counts: dict[Any, tuple[int, ...]] = {}
    for label, hashes in groups.items():
        h = np.sort(np.asarray(hashes, dtype=np.uint64))
        n = len(h)
        ends = np.minimum(np.floor(cum * n + 0.5).astype(np.int64), n)
        ends[-1] = n
        cuts = tuple(int(h[e]) if e < n else _TWO_64 for e in ends[:-1])
        # rows with a hash equal to a threshold share its split, so count from the hashes
        bounds = [0] + [int(np.searchsorted(h, np.uint64(t), side="left")) if t < _TWO_64 else n for t in cuts] + [n]
        thresholds[py(label)] = cuts
        counts[py(label)] = tuple(int(b - a) for a, b in zip(bounds[:-1], bounds[1:]))
    return StratifiedCutoffs(names=tuple(fr), thresholds=thresholds, counts=counts)


def assign_stratified_split(
    batch: pd.DataFrame,
    cutoffs: StratifiedCutoffs,
    *,
    label: Hashable,
    key: str | Sequence[str] | None = None,
    salt: str = "",
) -> np.ndarray:
    """The stratified split of every row, from its class and hash alone.

    ``key`` and ``salt`` must be the ones given to :func:`class_hashes` when ``cutoffs``
    were computed.

    Args:
        batch: the rows.
        cutoffs: from :func:`stratified_cutoffs` over the whole dataset.
        label: the class column.
        key: as in :func:`row_hash`.
        salt: as in :func:`row_hash`.

    Returns:
        Object array of split names, one per row.

    Raises:
        InvalidInputError: a class that was not in the data the cutoffs came from, or
            missing labels.
    """
    labels = _label_values(batch, label)
    hashes = row_hash(batch, key=key, salt=salt)
    codes, uniques = pd.factorize(labels, sort=False)
    idx = np.zeros(len(batch), dtype=np.int64)
    for code, cls in enumerate(uniques):
        cls = py(cls)
        if cls not in cutoffs.thresholds:
            raise InvalidInputError(
                f"class {cls!r} of column {label!r} is not in the stratified cutoffs: compute them with "
                "stratified_cutoffs over the whole dataset (all batches) before assigning"
            )
        rows = codes == code
        h = hashes[rows]
        count = np.zeros(len(h), dtype=np.int64)
        for t in cutoffs.thresholds[cls]:
            if t < _TWO_64:
                count += h >= np.uint64(t)
        idx[rows] = count
    return np.array(cutoffs.names, dtype=object)[idx]
