"""Live drift monitoring, the pure part: replica-side sketching and the windowed monitor.

Two plain classes, wrapped by Ray shells elsewhere (:mod:`raymlops.serving.server_deployment` and
:mod:`raymlops.monitoring.actor`):

* :class:`ReplicaSketcher` runs in every model-server replica. ``observe`` only appends
  the batch's validated frame and predictions to a buffer (no work on the request
  path); ``take`` hands the buffer over, and :meth:`ReplicaSketcher.sketch` turns it into
  one :class:`~raymlops.sketches.Profile` per tumbling window (vectorised: one
  ``Profile.update`` over all the window's rows), off the event loop. Profiles merge
  exactly, so the monitor's view of a window is the profile of every row every replica
  served in it.
* :class:`DriftMonitor` keeps, per model version, the open windows, a horizon of the last
  closed ones, the reference profile (the training data's, with the model's predictions
  on it as column ``prediction``) and one concept-drift detector. A window closes
  ``grace_s`` after its end (late flushes still land in it); closing judges the window's
  input features with :func:`~raymlops.monitoring.judge.judge` (dataset drift = share of
  drifted features) and the prediction column on its own, then the merged horizon.
  Every change of an alert (a feature, the prediction, the dataset, concept drift; per
  version) becomes an :class:`Alert` the shell records.

Windows are indexed ``floor(t / window_s)`` by the replica's clock when the batch was
served. A window with fewer than ``min_rows`` rows is reported but not judged alone (its
verdicts would be noise): it is carried into the next window, and the carried windows are
judged together once they add up to ``min_rows`` (at most ``horizon_windows`` windows
back), so a model with thin traffic is still judged, only over a longer span.

Example:
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = Profile(); ref.update(pd.DataFrame({"x": rng.normal(size=5000), "prediction": rng.integers(0, 2, 5000)}))
    >>> mon = DriftMonitor("m", window_s=60, grace_s=5, min_rows=50)
    >>> mon.set_reference(1, ref)
    >>> sk = ReplicaSketcher(window_s=60)
    >>> sk.observe(pd.DataFrame({"x": rng.normal(3, 1, 500)}), rng.integers(0, 2, 500), now=30.0)
    >>> for window, profile in sk.sketch(sk.take()):
    ...     mon.ingest(1, window, profile)
    >>> closed = mon.close_due(now=70.0)
    >>> [(c["version"], c["window"], c["dataset_drift"]) for c in closed]
    [(1, 0, True)]
    >>> [(a.subject, a.state) for a in mon.pop_alerts()]
    [('feature:x', 'FIRING'), ('dataset', 'FIRING')]
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from raymlops.core.errors import InvalidInputError
from raymlops.monitoring.concept import ConceptDriftMonitor
from raymlops.monitoring.judge import judge, judge_column
from raymlops.monitoring.presets import PRESETS
from raymlops.monitoring.reference import (  # re-exported: the reference is half of what the monitor judges
    PREDICTION,
    REFERENCE_ATTACHMENT,
    load_reference,
    predictions,
    reference_attachment,
    reference_profile,
)
from raymlops.monitoring.results import ColumnDrift
from raymlops.sketches import Profile

__all__ = [
    "PREDICTION",
    "REFERENCE_ATTACHMENT",
    "STATE_FORMAT",
    "Alert",
    "DriftMonitor",
    "ReplicaSketcher",
    "load_reference",
    "reference_attachment",
    "reference_profile",
]

STATE_FORMAT = "raymlops.drift_monitor/1"


class ReplicaSketcher:
    """Buffers a replica's batches and sketches them per window (see the module docstring).

    Args:
        window_s: the tumbling window length in seconds.
        kinds: ``{column: "numeric"|"categorical"}`` so replica and reference agree.
        relative_accuracy: of the numeric sketches (the reference's).
        max_buffer_rows: beyond this many buffered rows, ``observe`` drops batches (and
            counts them in ``dropped_rows``) rather than grow without bound when flushes stall.
    """

    def __init__(
        self,
        *,
        window_s: float = 60.0,
        kinds: Mapping[str, str] | None = None,
        relative_accuracy: float = 0.01,
        max_buffer_rows: int = 200_000,
    ):
        if not (isinstance(window_s, (int, float)) and window_s > 0):
            raise InvalidInputError(f"window_s must be a positive number of seconds, got {window_s!r}")
        self.window_s = float(window_s)
        self.kinds = dict(kinds or {})
        self.relative_accuracy = relative_accuracy
        self.max_buffer_rows = int(max_buffer_rows)
        self._buffer: list[tuple[int, Any, Any]] = []
        self._rows = 0
        self.dropped_rows = 0

    def observe(self, frame: Any, predictions: Sequence[Any], now: float | None = None) -> None:
        """Remember one batch (its validated input frame and the predictions, row for row)."""
        n = len(frame)
        if self._rows + n > self.max_buffer_rows:
            self.dropped_rows += n
            return
        t = time.time() if now is None else now
        self._buffer.append((int(t // self.window_s), frame, predictions))
        self._rows += n

    def take(self) -> list[tuple[int, Any, Any]]:
        """Hand over the buffered batches (cheap: swaps the buffer)."""
        out, self._buffer, self._rows = self._buffer, [], 0
        return out

    def sketch(self, batches: list[tuple[int, Any, Any]]) -> list[tuple[int, Profile]]:
        """One profile per window of the taken batches (run it off the event loop)."""
        by_window: dict[int, list[Any]] = {}
        for window, frame, preds in batches:
            by_window.setdefault(window, []).append(frame.assign(**{PREDICTION: predictions(preds)}))
        out = []
        for window in sorted(by_window):
            prof = Profile(relative_accuracy=self.relative_accuracy, kinds=self.kinds)
            frames = by_window[window]
            prof.update(frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True))
            out.append((window, prof))
        return out


@dataclasses.dataclass(frozen=True)
class Alert:
    """A change of one alert: ``subject`` is ``feature:NAME``, ``prediction``, ``dataset`` or ``concept``."""

    model: str
    version: int
    subject: str
    state: str  # FIRING or RESOLVED
    window: int | None
    test: str | None
    statistic: float | None
    threshold: float | None
    at: float

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for k in ("statistic", "threshold"):
            if d[k] is not None and not math.isfinite(d[k]):
                d[k] = None
        return d


def _column_row(c: ColumnDrift) -> dict[str, Any]:
    d = c.to_dict()
    return {
        "feature": d["column"],
        "kind": d["kind"],
        "test": d["test"],
        "statistic": d["statistic"],
        "threshold": d["threshold"],
        "p_value": d["p_value"],
        "drift": d["drift"],
        "mode": d["mode"],
        "bound": d["bound"],
        "certain": d["certain"],
        "current_count": d["current_count"],
    }


def _merged(profiles: Iterable[Profile]) -> Profile:
    """One profile of several windows', merged in the order given."""
    it = iter(profiles)
    out = next(it)
    for p in it:
        out = out.merge(p)
    return out


class _Version:
    def __init__(self, horizon: int, detector: str):
        self.open: dict[int, Profile] = {}
        self.horizon: deque[tuple[int, Profile]] = deque(maxlen=horizon)
        self.last: dict[str, Any] | None = None
        self.last_closed: dict[str, Any] | None = None
        self.last_horizon: dict[str, Any] | None = None
        self.carry: list[tuple[int, Profile]] = []  # thin windows since the last judged one
        self.alerts: dict[str, bool] = {}
        self.concept = ConceptDriftMonitor(detector)
        self.rows = 0
        self.late_rows = 0
        self.windows_closed = 0
        self.windows_judged = 0


class DriftMonitor:
    """Windowed drift and concept-drift verdicts for one served model, per version.

    Args:
        model: the model's name.
        window_s: the tumbling window length (seconds).
        horizon_windows: closed windows merged into the longer horizon.
        grace_s: a window closes this long after its end (default: a tenth of the window,
            at least 1 s), so flushes from every replica land in it.
        preset: ``"evidently"`` or ``"tfdv"``.
        thresholds: one threshold or ``{feature: threshold}`` (tests' defaults otherwise).
        drift_share: dataset drift when at least this share of features drifted.
        min_rows: a window with fewer rows is not judged alone: it is carried into the
            next windows and judged with them once they add up to ``min_rows`` (windows
            older than ``horizon_windows`` drop out of the carry). The distance rules need it: with a 5,000-row normal reference, an
            unshifted window's Wasserstein/std reaches the 0.1 threshold in 21% of
            250-row windows, 2.4% of 600-row ones and 0.03% of 1,400-row ones. The
            p-value tests (references up to 1,000 rows) account for the sample size and
            can take smaller windows.
        detector: the concept-drift detector (``adwin``, ``ddm``, ``page_hinkley``).
        tests: ``{feature: test}`` overriding the preset's choice (e.g. ``"psi"``,
            ``"ks"``; ``"prediction"`` for the prediction column).
    """

    def __init__(
        self,
        model: str,
        *,
        window_s: float = 60.0,
        horizon_windows: int = 10,
        grace_s: float | None = None,
        preset: str = "evidently",
        thresholds: float | Mapping[str, float] | None = None,
        drift_share: float = 0.5,
        min_rows: int = 1000,
        detector: str = "adwin",
        tests: Mapping[str, str] | None = None,
    ):
        if preset not in PRESETS:
            raise InvalidInputError(f"unknown preset {preset!r}; use one of {list(PRESETS)}")
        if not window_s > 0 or horizon_windows < 1:
            raise InvalidInputError("window_s must be positive and horizon_windows at least 1")
        self.model = model
        self.window_s = float(window_s)
        self.horizon_windows = int(horizon_windows)
        self.grace_s = float(grace_s) if grace_s is not None else max(1.0, self.window_s / 10)
        self.preset = preset
        self.thresholds = thresholds
        self.drift_share = float(drift_share)
        self.min_rows = int(min_rows)
        self.detector = detector
        self.tests = dict(tests or {})
        self.references: dict[int, Profile] = {}
        self.versions: dict[int, _Version] = {}
        self._alerts: list[Alert] = []

    # ------------------------------------------------------------------ input
    def _v(self, version: int) -> _Version:
        v = self.versions.get(int(version))
        if v is None:
            v = self.versions[int(version)] = _Version(self.horizon_windows, self.detector)
        return v

    def set_reference(self, version: int, profile: Profile | None) -> None:
        """The reference of ``version`` (None: the version is counted but not judged)."""
        if profile is not None:
            self.references[int(version)] = profile
        self._v(version)

    def has_reference(self, version: int) -> bool:
        return int(version) in self.references

    def ingest(self, version: int, window: int, profile: Profile) -> None:
        """Merge a replica's profile of ``window`` into the open window (late ones are counted only)."""
        v = self._v(version)
        v.rows += profile.rows
        closed_before = v.horizon[-1][0] if v.horizon else None
        if closed_before is not None and window <= closed_before:
            v.late_rows += profile.rows
            return
        cur = v.open.get(window)
        v.open[window] = profile if cur is None else cur.merge(profile)

    def feedback(self, version: int, errors: Sequence[float], now: float | None = None) -> None:
        """Feed prediction errors (0/1, or a loss) of ``version`` to its concept-drift detector."""
        v = self._v(version)
        before = v.concept.drift_detected or bool(v.alerts.get("concept"))
        v.concept.update_many(np.asarray(errors, dtype=float))
        firing = bool(v.concept.detections)
        if firing and not before:
            v.alerts["concept"] = True
            self._alerts.append(
                Alert(self.model, int(version), "concept", "FIRING", None, v.concept.detector, v.concept.error_rate, None, now or time.time())
            )

    # ------------------------------------------------------------------ judging
    def _judge(self, version: int, profile: Profile) -> dict[str, Any]:
        ref = self.references[version]
        features = [c for c in ref.columns if c != PREDICTION and c in profile.columns]
        report = judge(
            ref, profile, preset=self.preset, thresholds=self.thresholds, drift_share=self.drift_share, columns=features,
            tests={k: v for k, v in self.tests.items() if k in features},
        )  # fmt: skip
        pred = None
        if PREDICTION in ref.columns and PREDICTION in profile.columns:
            thr = self.thresholds.get(PREDICTION) if isinstance(self.thresholds, Mapping) else self.thresholds
            pred = judge_column(
                PREDICTION, ref[PREDICTION], profile[PREDICTION], preset=self.preset, threshold=thr, test=self.tests.get(PREDICTION)
            )
        return {
            "rows": profile.rows,
            "features": [_column_row(c) for c in report.columns],
            "prediction": _column_row(pred) if pred is not None else None,
            "drift_share": report.share_of_drifted_columns,
            "dataset_drift": report.dataset_drift,
            "judged": True,
        }

    def close_due(self, now: float | None = None) -> list[dict[str, Any]]:
        """Close every window that ended ``grace_s`` ago; returns their verdicts (oldest first)."""
        now = time.time() if now is None else now
        out = []
        for version in sorted(self.versions):
            v = self.versions[version]
            for window in sorted(w for w in v.open if (w + 1) * self.window_s + self.grace_s <= now):
                profile = v.open.pop(window)
                v.horizon.append((window, profile))
                v.windows_closed += 1
                res: dict[str, Any] = {"version": version, "window": window, "start": window * self.window_s, "end": (window + 1) * self.window_s}
                if version not in self.references:
                    res.update(rows=profile.rows, judged=False, why="no reference profile for this version")
                else:
                    span = [(w, p) for w, p in v.carry if w > window - self.horizon_windows] + [(window, profile)]
                    judged = _merged(p for _, p in span)
                    if judged.rows < self.min_rows:
                        v.carry = span
                        res.update(
                            rows=profile.rows, judged=False,
                            why=f"{judged.rows} rows < min_rows {self.min_rows} over {len(span)} window(s); carried into the next",
                        )  # fmt: skip
                    else:
                        v.carry = []
                        res.update(self._judge(version, judged), windows=len(span), span_start=span[0][0] * self.window_s)
                        self._transitions(version, v, res, now)
                    merged = _merged([profile, *(p for _, p in list(v.horizon)[:-1])])
                    if merged.rows >= self.min_rows:  # thin windows still add up to a judged horizon
                        v.last_horizon = {"windows": len(v.horizon), **self._judge(version, merged)}
                if res["judged"]:
                    v.last = res  # a thin window does not replace the last verdict
                    v.windows_judged += 1
                v.last_closed = res
                out.append(res)
        return out

    def _transitions(self, version: int, v: _Version, res: dict[str, Any], now: float) -> None:
        rows = [(f"feature:{f['feature']}", f) for f in res["features"]]
        if res["prediction"] is not None:
            rows.append(("prediction", res["prediction"]))
        for subject, f in rows:
            self._flip(version, v, subject, bool(f["drift"]), res["window"], f["test"], f["statistic"], f["threshold"], now)
        self._flip(version, v, "dataset", bool(res["dataset_drift"]), res["window"], "drift_share", res["drift_share"], self.drift_share, now)

    def _flip(self, version, v, subject, firing, window, test, statistic, threshold, now) -> None:
        if bool(v.alerts.get(subject)) == firing:
            return
        v.alerts[subject] = firing
        self._alerts.append(
            Alert(self.model, version, subject, "FIRING" if firing else "RESOLVED", window, test,
                  None if statistic is None else float(statistic), None if threshold is None else float(threshold), now)
        )  # fmt: skip

    def pop_alerts(self) -> list[Alert]:
        """Alert changes since the last call (the shell records them)."""
        out, self._alerts = self._alerts, []
        return out

    # ------------------------------------------------------------------ reading
    def drift_flag(self, version: int) -> bool | None:
        """Whether the last judged window of ``version`` drifted (inputs or prediction); None before one."""
        v = self.versions.get(int(version))
        if v is None or v.last is None:
            return None
        pred = v.last.get("prediction") or {}
        return bool(v.last["dataset_drift"] or pred.get("drift"))

    def status(self) -> dict[str, Any]:
        """Every version's last window, horizon, alerts and concept drift (JSON-serialisable)."""
        versions = {}
        for version, v in sorted(self.versions.items()):
            c = v.concept
            versions[str(version)] = {
                "reference": version in self.references,
                "rows": v.rows,
                "late_rows": v.late_rows,
                "windows_closed": v.windows_closed,
                "windows_judged": v.windows_judged,
                "open_windows": sorted(v.open),
                "last_window": v.last,
                "last_closed": v.last_closed,
                "horizon": v.last_horizon,
                "alerts": sorted(k for k, on in v.alerts.items() if on),
                "concept_drift": {
                    "detector": c.detector,
                    "drift": bool(v.alerts.get("concept")),
                    "detections": c.detections,
                    "labels": c.n,
                    "error_rate": None if math.isnan(c.error_rate) else c.error_rate,
                },
            }
        return {
            "name": self.model,
            "window": {"seconds": self.window_s, "grace_s": self.grace_s, "horizon_windows": self.horizon_windows},
            "preset": self.preset,
            "versions": versions,
        }

    # ------------------------------------------------------------------ checkpoint
    def to_dict(self) -> dict[str, Any]:
        """Everything needed to continue after a restart (JSON-serialisable)."""
        return {
            "format": STATE_FORMAT,
            "model": self.model,
            "config": {
                "window_s": self.window_s, "horizon_windows": self.horizon_windows, "grace_s": self.grace_s,
                "preset": self.preset, "thresholds": self.thresholds, "drift_share": self.drift_share,
                "min_rows": self.min_rows, "detector": self.detector, "tests": self.tests,
            },  # fmt: skip
            "references": {str(k): p.to_dict() for k, p in self.references.items()},
            "versions": {
                str(k): {
                    "open": {str(w): p.to_dict() for w, p in v.open.items()},
                    "horizon": [[w, p.to_dict()] for w, p in v.horizon],
                    "last": v.last,
                    "last_closed": v.last_closed,
                    "last_horizon": v.last_horizon,
                    "carry": [[w, p.to_dict()] for w, p in v.carry],
                    "alerts": v.alerts,
                    "concept": v.concept.to_dict(),
                    "rows": v.rows,
                    "late_rows": v.late_rows,
                    "windows_closed": v.windows_closed,
                    "windows_judged": v.windows_judged,
                }
                for k, v in self.versions.items()
            },
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DriftMonitor:
        if not isinstance(d, Mapping) or d.get("format") != STATE_FORMAT:
            raise InvalidInputError(f"not a drift monitor checkpoint (expected format {STATE_FORMAT!r})")
        m = cls(d["model"], **d["config"])
        m.references = {int(k): Profile.from_dict(p) for k, p in d["references"].items()}
        for k, s in d["versions"].items():
            v = m._v(int(k))
            v.open = {int(w): Profile.from_dict(p) for w, p in s["open"].items()}
            v.horizon.extend((int(w), Profile.from_dict(p)) for w, p in s["horizon"])
            v.carry = [(int(w), Profile.from_dict(p)) for w, p in s.get("carry", [])]
            v.last, v.last_closed, v.last_horizon, v.alerts = s["last"], s.get("last_closed"), s["last_horizon"], dict(s["alerts"])
            v.concept = ConceptDriftMonitor.from_dict(s["concept"], strict=False)
            v.rows, v.late_rows, v.windows_closed = int(s["rows"]), int(s["late_rows"]), int(s["windows_closed"])
            v.windows_judged = int(s.get("windows_judged", 0))
        return m
