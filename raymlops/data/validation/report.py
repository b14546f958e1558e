"""What validation found: anomalies per (column, kind), per batch and added up over batches.

:class:`ValidationReport` is the CLI's ``--json`` shape; :class:`BatchResult` one
validated batch with its valid and quarantined rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from raymlops.core.errors import ChecksFailedError, RaymlopsError

__all__ = [
    "ANOMALY_KINDS",
    "REASONS_COLUMN",
    "Anomaly",
    "BatchResult",
    "SchemaMismatchError",
    "ValidationReport",
    "column_list",
]

REASONS_COLUMN = "__reasons"
ANOMALY_KINDS = (
    "missing_column",
    "unexpected_column",
    "wrong_type",
    "out_of_range",
    "unseen_category",
    "null_not_allowed",
    "nan_or_inf",
    "duplicate_key",
)
_ROW_UNIT_KINDS = ("duplicate_key", "unexpected_column")


class SchemaMismatchError(RaymlopsError):
    """Columns the schema requires are missing from the data, so no row can be checked."""

    code = "schema_mismatch"
    exit_code = 1
    http_status = 422
    template = (
        "the data has no column {columns} that the schema requires (data columns: {found}); "
        "add the column(s) to the data, or remove them from the schema file if they are no longer expected"
    )


def column_list(names: list[str]) -> str:
    """Column names for a message: ``'a', 'b'``, or ``none``."""
    return ", ".join(repr(n) for n in names) if names else "none"


@dataclass
class Anomaly:
    """How many values (or rows) of one column failed one kind of check.

    ``hint`` is the message without its leading count, so counts can be added up.

    Example:
        >>> Anomaly("age", "out_of_range", 12, "of 'age' out of range [0, 120]").message
        "12 values of 'age' out of range [0, 120]"
    """

    column: str
    kind: str
    count: int
    hint: str

    @property
    def message(self) -> str:
        """What was wrong and what to do, e.g. ``12 values of 'age' out of range [0, 120]; ...``."""
        unit = "row" if self.kind in _ROW_UNIT_KINDS else "value"
        return f"{self.count} {unit}{'' if self.count == 1 else 's'} {self.hint}"

    def to_dict(self) -> dict[str, Any]:
        """``{"column", "kind", "count", "message"}``."""
        return {"column": self.column, "kind": self.kind, "count": self.count, "message": self.message}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Anomaly:
        """The inverse of :meth:`to_dict`."""
        count = int(data["count"])
        _, _, rest = str(data["message"]).partition(" ")
        _, _, hint = rest.partition(" ")
        return cls(str(data["column"]), str(data["kind"]), count, hint)


@dataclass(frozen=True)
class BatchResult:
    """One validated batch: the rows that passed, the rows quarantined, and what was wrong.

    Attributes:
        valid: the rows that passed every check (declared types where a column was cast).
        quarantined: the failing rows, with the columns as they came in plus ``__reasons``.
        rows_in: rows in the batch.
        anomalies: per (column, kind), how many failed, with a message.
    """

    valid: pa.Table
    quarantined: pa.Table
    rows_in: int
    anomalies: tuple[Anomaly, ...] = ()

    @property
    def rows_valid(self) -> int:
        return self.valid.num_rows

    @property
    def rows_quarantined(self) -> int:
        return self.quarantined.num_rows

    @property
    def report(self) -> ValidationReport:
        """This batch alone as a :class:`ValidationReport`."""
        report = ValidationReport()
        report.add(self)
        return report


class ValidationReport:
    """Counts added up over batches; ``add`` in place or ``merge`` into a new report.

    Example:
        >>> a = ValidationReport(rows_in=10, rows_valid=8, rows_quarantined=2,
        ...                      anomalies=[Anomaly("x", "null_not_allowed", 2, "of 'x' null")])
        >>> b = ValidationReport(rows_in=5, rows_valid=4, rows_quarantined=1,
        ...                      anomalies=[Anomaly("x", "null_not_allowed", 1, "of 'x' null")])
        >>> merged = a.merge(b).to_dict()
        >>> merged["rows_in"], merged["rows_valid"], merged["rows_quarantined"]
        (15, 12, 3)
        >>> merged["anomalies"]
        [{'column': 'x', 'kind': 'null_not_allowed', 'count': 3, 'message': "3 values of 'x' null"}]
    """

    def __init__(
        self,
        *,
        rows_in: int = 0,
        rows_valid: int = 0,
        rows_quarantined: int = 0,
        anomalies: list[Anomaly] | tuple[Anomaly, ...] = (),
    ) -> None:
        self.rows_in = rows_in
        self.rows_valid = rows_valid
        self.rows_quarantined = rows_quarantined
        self._anomalies: dict[tuple[str, str], Anomaly] = {}
        self._add_anomalies(anomalies)

    def _add_anomalies(self, anomalies: Any) -> None:
        for a in anomalies:
            known = self._anomalies.get((a.column, a.kind))
            if known is None:
                self._anomalies[(a.column, a.kind)] = Anomaly(a.column, a.kind, a.count, a.hint)
            else:
                known.count += a.count

    @property
    def anomalies(self) -> list[Anomaly]:
        """One entry per (column, kind), in the order first seen."""
        return list(self._anomalies.values())

    @property
    def ok(self) -> bool:
        """True when nothing was wrong (no anomaly of any kind)."""
        return not self._anomalies

    def count(self, column: str, kind: str) -> int:
        """How many values (rows for row-level kinds) of ``column`` failed ``kind``."""
        found = self._anomalies.get((column, kind))
        return 0 if found is None else found.count

    def add(self, other: BatchResult | ValidationReport) -> None:
        """Add a batch result or another report to this one."""
        self.rows_in += other.rows_in
        self.rows_valid += other.rows_valid
        self.rows_quarantined += other.rows_quarantined
        self._add_anomalies(other.anomalies)

    def merge(self, other: BatchResult | ValidationReport) -> ValidationReport:
        """A new report with the counts of both."""
        out = ValidationReport()
        out.add(self)
        out.add(other)
        return out

    def to_dict(self) -> dict[str, Any]:
        """The CLI's ``--json`` shape."""
        return {
            "rows_in": self.rows_in,
            "rows_valid": self.rows_valid,
            "rows_quarantined": self.rows_quarantined,
            "anomalies": [a.to_dict() for a in self._anomalies.values()],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """The inverse of :meth:`to_dict` (e.g. to merge reports sent as JSON)."""
        return cls(
            rows_in=int(data["rows_in"]),
            rows_valid=int(data["rows_valid"]),
            rows_quarantined=int(data["rows_quarantined"]),
            anomalies=[Anomaly.from_dict(a) for a in data.get("anomalies", [])],
        )

    def raise_for_anomalies(self) -> None:
        """Raise :class:`~raymlops.core.errors.ChecksFailedError` (exit code 1) if anything was wrong."""
        if self.ok:
            return
        messages = [a.message for a in self._anomalies.values()]
        raise ChecksFailedError(
            f"validation found problems: {self.rows_quarantined} of {self.rows_in} rows quarantined; "
            + "; ".join(messages),
            details=[a.to_dict() for a in self._anomalies.values()],
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ValidationReport) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return (
            f"ValidationReport(rows_in={self.rows_in}, rows_valid={self.rows_valid}, "
            f"rows_quarantined={self.rows_quarantined}, anomalies={len(self._anomalies)})"
        )
