"""Materialization windows: which rows a run reads, and the state it leaves.

A full run reads rows with ``start <= event <= end``. An incremental run reads the rows
with ``event <= end`` that are new since the last run: an event time after the last
run's end, **or** a created time after the newest created time the last run saw minus a
lookback. So a late row (an old event time written after the last run) lands on the
next run. Feast's ``materialize-incremental`` moves an event-time watermark instead and
skips such rows (feast-dev/feast#4133). A source without a created-time column falls
back to event time minus the lookback. Re-reading overlapping rows is harmless: the
online store keeps the newest version per key.

Example:
    >>> w, _ = plan_window(None, end_us=100, incremental=True, lookback_s=0, has_created=True)
    >>> w
    Window(start=None, end=100, since_event=None, since_created=None)
    >>> state = next_state(None, w, end_us=100, newest_event_us=90, newest_created_us=95, rows=3, written=3, now_us=101)
    >>> plan_window(state, end_us=200, incremental=True, lookback_s=0, has_created=True)[0]
    Window(start=None, end=200, since_event=100, since_created=95)
"""

from __future__ import annotations

from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.features.plan import Window
from raymlops.features.times import US, format_us

__all__ = ["next_state", "plan_window"]


def plan_window(
    state: dict[str, Any] | None,
    *,
    end_us: int,
    start_us: int | None = None,
    incremental: bool = False,
    lookback_s: int = 3600,
    has_created: bool = False,
) -> tuple[Window, str]:
    """The rows this run reads, and a sentence saying why.

    Raises:
        InvalidInputError: ``start`` after ``end``.
    """
    if start_us is not None and start_us > end_us:
        raise InvalidInputError(f"--start {format_us(start_us)} is after --end {format_us(end_us)}")
    if not incremental or state is None or state.get("end_us") is None:
        why = "all rows up to the end" if start_us is None else "rows between start and end"
        return Window(start=start_us, end=end_us), why
    lookback = lookback_s * US
    if has_created and state.get("created_watermark_us") is not None:
        return (
            Window(end=end_us, since_event=state["end_us"], since_created=state["created_watermark_us"] - lookback),
            "rows with an event after the last end, or created after the last run's newest created time minus the lookback",
        )
    return Window(end=end_us, since_event=state["end_us"] - lookback), "rows with an event after the last end minus the lookback"


def next_state(
    state: dict[str, Any] | None,
    window: Window,
    *,
    end_us: int,
    newest_event_us: int | None,
    newest_created_us: int | None,
    rows: int,
    written: int,
    now_us: int,
    key_types: dict[str, str] | None = None,
    definition_version: int | None = None,
) -> dict[str, Any]:
    """The view's state after a run (watermarks only move forward)."""
    prev = state or {}

    def later(a: int | None, b: int | None) -> int | None:
        return b if a is None else a if b is None else max(a, b)

    return {
        "end_us": later(prev.get("end_us"), end_us),
        "created_watermark_us": later(prev.get("created_watermark_us"), newest_created_us),
        "newest_event_us": later(prev.get("newest_event_us"), newest_event_us),
        "key_types": key_types or prev.get("key_types") or {},
        "definition_version": definition_version if definition_version is not None else prev.get("definition_version"),
        "last_run": {"at_us": now_us, "end_us": end_us, "rows_read": rows, "rows_written": written,
                     "window": {k: v for k, v in vars(window).items() if v is not None}},
    }
