"""Duplicate keys: 64-bit key hashes and the mergeable :class:`KeyTracker` of first positions.

The rule (see :mod:`raymlops.data.validation`): the first occurrence of a key in input
order, (batch index, row in batch), stays valid; every later one is a ``duplicate_key``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from raymlops.core.errors import InvalidInputError
from raymlops.data.schema.arrow import as_table, to_micros
from raymlops.data.schema.model import Schema
from raymlops.data.validation._checks import Failure
from raymlops.data.validation._convert import convert, np_mask, single
from raymlops.data.validation.report import SchemaMismatchError, column_list

__all__ = ["KeyTracker", "duplicate_failure", "key_hashes"]

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_ROW_BITS = 32
_NOWHERE = np.iinfo(np.int64).max


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def _hash_strings(values: pa.Array) -> np.ndarray:
    """64-bit hashes of strings, vectorised over 8-byte words (no Python per row)."""
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        values = pc.cast(values, pa.large_string())
    n = len(values)
    off_type = np.int64 if pa.types.is_large_string(values.type) else np.int32
    _, off_buf, data_buf = values.buffers()
    start = values.offset * np.dtype(off_type).itemsize
    offsets = np.frombuffer(off_buf, dtype=off_type, count=n + 1, offset=start).astype(np.int64)
    lengths = np.diff(offsets)
    first, last = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    offsets -= first  # a slice uses only part of the data buffer
    size = last - first
    padded = np.zeros(size + 8, dtype=np.uint8)
    if size:
        padded[:size] = np.frombuffer(data_buf, dtype=np.uint8, count=size, offset=first)
    words = np.ndarray((size + 1,), dtype="<u8", buffer=padded, strides=(1,))  # the 8 bytes from each byte
    h = _mix(lengths.astype(np.uint64) ^ _GOLDEN)
    active = np.flatnonzero(lengths > 0)
    step = 0
    while active.size:
        left = lengths[active] - 8 * step
        w = words[offsets[active] + 8 * step]
        short = left < 8
        if short.any():
            w[short] &= (np.uint64(1) << (left[short] * 8).astype(np.uint64)) - np.uint64(1)
        h[active] = _mix(h[active] ^ w)
        active = active[left > 8]
        step += 1
    return h


def _hash_values(values: pa.Array, kind: str) -> np.ndarray:
    if kind == "string":
        return _hash_strings(values)
    if kind == "datetime":
        values = to_micros(values)
    if kind == "float":
        x = pc.cast(values, pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False) + 0.0  # -0.0 == 0.0
        x[np.isnan(x)] = np.nan
        bits = x.view(np.uint64)
    else:
        ints = pc.cast(values, pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
        bits = ints.view(np.uint64)
    return _mix(bits ^ _GOLDEN)


def _key_hashes(
    typed: dict[str, pa.Array], kinds: dict[str, str], key: tuple[str, ...], n: int
) -> tuple[np.ndarray, np.ndarray]:
    h = np.zeros(n, dtype=np.uint64)
    present = np.ones(n, dtype=bool)
    for i, name in enumerate(key):
        values = typed[name]
        if len(key) == 1 and kinds[name] in ("int", "bool", "datetime"):
            # one integer-like key column: the value itself, order kept (sorted ids sort fast)
            ints = to_micros(values) if kinds[name] == "datetime" else pc.cast(values, pa.int64())
            hc = ints.fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64) ^ np.uint64(1 << 63)
        else:
            hc = _hash_values(values, kinds[name])
        h = hc if i == 0 else _mix((h * _GOLDEN) ^ hc)
        if values.null_count:
            present &= np_mask(values.is_valid())
    return h, present


def key_hashes(batch: Any, schema: Schema) -> tuple[np.ndarray, np.ndarray]:
    """The 64-bit hash of each row's key, and which rows have a complete (non-null) key.

    Values are read as their declared types first, so ``"7"`` from a CSV and ``7`` from
    Parquet hash alike.

    Raises:
        InvalidInputError: the schema has no key.
        SchemaMismatchError: a key column is missing from the batch.
    """
    if not schema.key:
        raise InvalidInputError("the schema has no key columns; add \"key\": [...] to it to check duplicates")
    table = as_table(batch)
    missing = [k for k in schema.key if k not in table.column_names]
    if missing:
        raise SchemaMismatchError(columns=column_list(missing), found=column_list(table.column_names))
    typed = {k: convert(single(table.column(k)), schema.column(k).type).values for k in schema.key}
    kinds = {k: schema.column(k).type for k in schema.key}
    return _key_hashes(typed, kinds, schema.key, table.num_rows)


class KeyTracker:
    """The first position (batch index, row) of every key hash seen; mergeable.

    Stores sorted runs of (hash, position), about 16 bytes per distinct key. See the
    module docstring for the duplicate rule and the two ways to use it. Not thread-safe:
    one ``observe`` (or ``validate_batch``) at a time per tracker; it pickles, so a Ray
    actor or task can hold one.

    Example:
        >>> import numpy as np
        >>> tracker = KeyTracker()
        >>> tracker.observe(np.array([7, 8, 7], dtype=np.uint64)).tolist()
        [False, False, True]
        >>> tracker.observe(np.array([9, 8], dtype=np.uint64)).tolist()
        [False, True]
        >>> len(tracker), tracker.next_batch_index
        (3, 2)
    """

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._next = 0

    def __len__(self) -> int:
        return sum(len(h) for h, _ in self._runs)

    @property
    def next_batch_index(self) -> int:
        """One more than the largest batch index seen (what ``observe`` uses by default)."""
        return self._next

    @property
    def nbytes(self) -> int:
        """Memory held by the hashes and positions."""
        return sum(h.nbytes + p.nbytes for h, p in self._runs)

    def observe(
        self, hashes: np.ndarray, *, batch_index: int | None = None, present: np.ndarray | None = None
    ) -> np.ndarray:
        """Record a batch's key hashes and return which rows are duplicates.

        A row is a duplicate when its key's first occurrence in input order (over every
        batch recorded so far, this one included) is at an earlier position.

        Args:
            hashes: one uint64 hash per row (see :func:`key_hashes`).
            batch_index: the batch's place in the input; defaults to ``next_batch_index``.
            present: rows that have a key (rows with a null key are never duplicates).

        Returns:
            A boolean mask over the rows.
        """
        if batch_index is None:
            batch_index = self._next
        if not 0 <= batch_index < 2**31:
            raise InvalidInputError(f"batch_index must be in [0, 2**31), got {batch_index}")
        hashes = np.asarray(hashes, dtype=np.uint64)
        n = len(hashes)
        if n >= 2**_ROW_BITS:
            raise InvalidInputError(
                f"a batch of {n} rows is too large for key tracking; split it into batches below 2**32 rows"
            )
        self._next = max(self._next, batch_index + 1)
        duplicate = np.zeros(n, dtype=bool)
        rows = np.arange(n, dtype=np.int64) if present is None else np.flatnonzero(present).astype(np.int64)
        if rows.size == 0:
            return duplicate
        h = hashes if present is None else hashes[rows]
        own = rows + (np.int64(batch_index) << np.int64(_ROW_BITS))
        order = np.argsort(h)
        sorted_h, sorted_pos = h[order], own[order]
        starts_mask = np.empty(len(sorted_h), dtype=bool)
        starts_mask[0] = True
        np.not_equal(sorted_h[1:], sorted_h[:-1], out=starts_mask[1:])
        if starts_mask.all():  # no key repeats within the batch
            unique, local_first = sorted_h, sorted_pos
            known_first, hits = self._find(unique)
            later = known_first < local_first
        else:
            starts = np.flatnonzero(starts_mask)
            unique = sorted_h[starts]
            local_first = np.minimum.reduceat(sorted_pos, starts)
            known_first, hits = self._find(unique)
            first = np.minimum(local_first, known_first)
            later = sorted_pos != first[np.cumsum(starts_mask) - 1]
        duplicate[rows[order[later]]] = True
        # record: move known keys to an earlier first position, add new keys as a run
        earlier = local_first < known_first
        for run, hit, idx in hits:
            move = earlier[hit]
            if move.any():
                self._runs[run][1][idx[move]] = local_first[hit][move]
        new = known_first == _NOWHERE
        if new.any():
            self._push(unique[new], local_first[new])
        return duplicate

    def add(
        self, hashes: np.ndarray, *, batch_index: int | None = None, present: np.ndarray | None = None
    ) -> None:
        """Record a batch's key hashes (:meth:`observe` without the answer)."""
        self.observe(hashes, batch_index=batch_index, present=present)

    def add_batch(self, batch: Any, schema: Schema, *, batch_index: int | None = None) -> None:
        """Record the keys of a batch (way (b): collect from every batch, then validate)."""
        hashes, present = key_hashes(batch, schema)
        self.observe(hashes, batch_index=batch_index, present=present)

    def merge(self, other: KeyTracker) -> KeyTracker:
        """A new tracker holding both; a key's first position is the earlier of the two."""
        out = KeyTracker()
        out._next = max(self._next, other._next)
        runs = self._runs + other._runs
        if runs:
            h = np.concatenate([r[0] for r in runs])
            p = np.concatenate([r[1] for r in runs])
            order = np.lexsort((p, h))
            h, p = h[order], p[order]
            keep = np.empty(len(h), dtype=bool)
            if len(h):
                keep[0] = True
                np.not_equal(h[1:], h[:-1], out=keep[1:])
            out._runs = [(h[keep], p[keep].copy())] if keep.any() else []
        return out

    def _find(self, unique: np.ndarray) -> tuple[np.ndarray, list[tuple[int, np.ndarray, np.ndarray]]]:
        """First positions of sorted unique hashes (``_NOWHERE`` if unseen), and where they live."""
        first = np.full(len(unique), _NOWHERE, dtype=np.int64)
        hits = []
        for r, (h, p) in enumerate(self._runs):
            idx = np.searchsorted(h, unique)
            np.minimum(idx, len(h) - 1, out=idx)
            hit = h[idx] == unique
            if hit.any():
                first[hit] = p[idx[hit]]
                hits.append((r, hit, idx[hit]))
        return first, hits

    def _push(self, h: np.ndarray, p: np.ndarray) -> None:
        """Add a sorted run of new hashes; merge runs of similar size (log-structured)."""
        self._runs.append((h, p))
        while len(self._runs) > 1 and 2 * len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            (bh, bp), (ah, ap) = self._runs.pop(), self._runs.pop()
            at = np.searchsorted(ah, bh) + np.arange(len(bh))
            total = len(ah) + len(bh)
            from_a = np.ones(total, dtype=bool)
            from_a[at] = False
            mh, mp = np.empty(total, dtype=np.uint64), np.empty(total, dtype=np.int64)
            mh[at], mp[at] = bh, bp
            mh[from_a], mp[from_a] = ah, ap
            self._runs.append((mh, mp))


def duplicate_failure(
    schema: Schema, typed: dict[str, pa.Array], keys: KeyTracker | None, batch_index: int | None, n: int
) -> Failure | None:
    """The ``duplicate_key`` check of a batch's key columns (read as their types), if any row fails."""
    kinds = {k: schema.column(k).type for k in schema.key}
    hashes, present = _key_hashes(typed, kinds, schema.key, n)
    tracker = keys if keys is not None else KeyTracker()
    mask = tracker.observe(hashes, batch_index=batch_index, present=present)
    if not mask.any():
        return None
    key = schema.key
    label = ",".join(key)
    shown = typed[key[0]] if len(key) == 1 else None
    detail = " repeats an earlier row" if shown is not None else "key repeats an earlier row"
    example = " (e.g. {example})" if shown is not None else ""
    return Failure(
        label,
        "duplicate_key",
        mask,
        f"with a key ({', '.join(key)}) seen in an earlier row{example}; the first occurrence was kept: "
        "deduplicate the source, or fix the key in the schema",
        detail,
        values=shown,
    )
