"""Drift verdicts: one :class:`ColumnDrift` per column and the :class:`DriftReport` of a dataset.

Both are plain, JSON-serialisable records: the batch CLI prints them, the HTML report
draws them, the live monitor keeps them per window and the rollout gates read them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = ["ColumnDrift", "DriftReport"]


def _json_number(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


@dataclasses.dataclass(frozen=True)
class ColumnDrift:
    """The verdict on one column.

    Attributes:
        column: the column name.
        kind: ``"numeric"`` or ``"categorical"``.
        test: the test's name (a key of :data:`TESTS`), or ``"none"`` when a side had no values.
        statistic: the test's statistic (NaN for ``"none"``).
        threshold: the threshold the verdict used.
        p_value: the p-value for ``ks``, ``chi2`` and ``z``, else None.
        drift: the verdict.
        mode: ``"exact"`` or ``"sketch"``.
        bound: the most ``statistic`` can differ from the exact-mode statistic (0.0 in
            exact mode and for statistics on counts).
        certain: whether the verdict is the same for any statistic within ``bound``.
        reason: why this test was chosen.
        reference_count: non-null (numeric: finite) reference values.
        current_count: non-null (numeric: finite) current values.
    """

    column: str
    kind: str
    test: str
    statistic: float
    threshold: float
    p_value: float | None
    drift: bool
    mode: str = "exact"
    bound: float = 0.0
    certain: bool = True
    reason: str = ""
    reference_count: int = 0
    current_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (NaN becomes None)."""
        return {
            "column": self.column,
            "kind": self.kind,
            "test": self.test,
            "statistic": _json_number(self.statistic),
            "threshold": _json_number(self.threshold),
            "p_value": _json_number(self.p_value),
            "drift": self.drift,
            "mode": self.mode,
            "bound": _json_number(self.bound),
            "certain": self.certain,
            "reason": self.reason,
            "reference_count": self.reference_count,
            "current_count": self.current_count,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ColumnDrift:
        """Rebuild from :meth:`to_dict` output (only the required keys must be present)."""
        try:
            stat = d["statistic"]
            return cls(
                column=str(d["column"]),
                kind=str(d["kind"]),
                test=str(d["test"]),
                statistic=math.nan if stat is None else float(stat),
                threshold=math.nan if d["threshold"] is None else float(d["threshold"]),
                p_value=None if d["p_value"] is None else float(d["p_value"]),
                drift=bool(d["drift"]),
                mode=str(d.get("mode", "exact")),
                bound=float(d.get("bound") or 0.0),
                certain=bool(d.get("certain", True)),
                reason=str(d.get("reason", "")),
                reference_count=int(d.get("reference_count", 0)),
                current_count=int(d.get("current_count", 0)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"invalid column drift dict ({exc!r}); pass ColumnDrift.to_dict() output") from None


@dataclasses.dataclass(frozen=True)
class DriftReport:
    """Verdicts on every judged column and on the dataset.

    Attributes:
        columns: one :class:`ColumnDrift` per judged column, in order.
        drift_share: the dataset drifted when at least this share of columns drifted.
        preset: the preset used.
        skipped: columns present on one side only.
    """

    columns: tuple[ColumnDrift, ...]
    drift_share: float = 0.5
    preset: str = "evidently"
    skipped: tuple[str, ...] = ()

    @property
    def number_of_columns(self) -> int:
        """Columns that could be judged (those with test ``"none"`` are not counted)."""
        return sum(1 for c in self.columns if c.test != "none")

    @property
    def number_of_drifted_columns(self) -> int:
        return sum(1 for c in self.columns if c.drift)

    @property
    def share_of_drifted_columns(self) -> float:
        n = self.number_of_columns
        return self.number_of_drifted_columns / n if n else 0.0

    @property
    def dataset_drift(self) -> bool:
        """Whether at least ``drift_share`` of the judged columns drifted."""
        return bool(self.number_of_columns) and self.share_of_drifted_columns >= self.drift_share

    def __getitem__(self, column: str) -> ColumnDrift:
        for c in self.columns:
            if c.column == column:
                return c
        raise KeyError(column)

    def to_dict(self) -> dict[str, Any]:
        """``{"columns": [...], "drift_share", "dataset_drift", ...}`` (JSON-serialisable)."""
        return {
            "columns": [c.to_dict() for c in self.columns],
            "drift_share": self.drift_share,
            "dataset_drift": self.dataset_drift,
            "share_of_drifted_columns": self.share_of_drifted_columns,
            "number_of_drifted_columns": self.number_of_drifted_columns,
            "number_of_columns": self.number_of_columns,
            "preset": self.preset,
            "skipped": list(self.skipped),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DriftReport:
        """Rebuild from :meth:`to_dict` output."""
        if not isinstance(d, Mapping) or not isinstance(d.get("columns"), list):
            raise InvalidInputError("not a drift report dict; pass DriftReport.to_dict() output")
        return cls(
            columns=tuple(ColumnDrift.from_dict(c) for c in d["columns"]),
            drift_share=float(d.get("drift_share", 0.5)),
            preset=str(d.get("preset", "evidently")),
            skipped=tuple(d.get("skipped", ())),
        )
