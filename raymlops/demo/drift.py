"""The demo's drift chapter: a new imaging device scales the size measurements; the monitor flags it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import ray

from raymlops.cli.render import table
from raymlops.core.config import Settings
from raymlops.demo.common import MODEL
from raymlops.monitoring import get_monitor

__all__ = ["drift_chapter"]


def drift_chapter(
    settings: Settings, version: int, features: list[str], scale: dict[str, float], window_s: float, say: Callable[[str], None]
) -> dict[str, Any]:
    """A new imaging device scales every size measurement by 1.3: the monitor flags it."""
    monitor = get_monitor(settings, MODEL, create=False)

    def poll(done: Callable[[dict[str, Any]], bool], timeout_s: float) -> dict[str, Any]:
        """The monitor's status of ``version``, polled every second until ``done`` or the timeout."""
        deadline = time.time() + timeout_s
        while True:
            st = ray.get(monitor.status.remote())["versions"].get(str(version), {})
            if done(st) or time.time() >= deadline:
                return st
            time.sleep(1.0)

    # the promoted version's first judged window (thin windows are not judged), even on a slow machine
    calm = poll(lambda st: bool(st.get("last_window")), 12 * window_s)
    last = calm.get("last_window") or {}
    say(
        f"monitor: {calm.get('windows_closed', 0)} windows closed on v{version}; in the last judged one "
        f"{sum(f['drift'] for f in last.get('features', []))} of {len(last.get('features', []))} features flagged (share "
        f"{last.get('drift_share') or 0:.2f}; with a reference under 1,000 rows the preset runs KS at p < 0.05, "
        "which flags about 1 feature in 20 by chance); dataset drift: " + str(bool(last.get("dataset_drift")))
    )
    scale.update({f: 1.3 for f in features if f.startswith(("mean_", "worst_"))})
    say(f"now a new imaging device reports every mean and worst measurement 30% higher ({len(scale)} features) ...")
    t0 = time.time()
    st = poll(lambda st: (st.get("last_window") or {}).get("start", 0) >= t0, 15 * window_s)  # a judged window after the change
    last = st.get("last_window") or {}
    flagged = sorted((f for f in last.get("features", []) if f["drift"]), key=lambda f: f["p_value"] if f["p_value"] is not None else -f["statistic"])
    say(table(flagged[:6], ["feature", "test", "statistic", "p_value", "threshold"]))
    say(
        f"window of {last.get('rows')} rows: {len(flagged)} of {len(last.get('features', []))} features drifted "
        f"(share {last.get('drift_share') or 0:.2f}); dataset drift: {last.get('dataset_drift')}; "
        f"prediction drift: {(last.get('prediction') or {}).get('drift')}; alerts: {len(st.get('alerts') or [])} firing (recorded as DriftAlert executions)"
    )
    return {"dataset_drift": bool(last.get("dataset_drift")), "drifted": [f["feature"] for f in flagged], "scaled": sorted(scale)}
