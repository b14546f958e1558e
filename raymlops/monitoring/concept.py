"""Concept drift from feedback labels: river's detectors on the model's error stream.

Data drift compares inputs; concept drift is a change in how inputs map to labels, seen
only once labels come back. Each feedback label gives the served prediction an error
(0/1 for a classifier, or a loss), and :class:`ConceptDriftMonitor` feeds that stream to
one of river's detectors:

* ``"adwin"`` (:class:`river.drift.ADWIN`): an adaptive window that drops its older part
  when the two parts' means differ significantly; errors or losses.
* ``"ddm"`` (:class:`river.drift.binary.DDM`): Gama et al.'s error-rate test with a
  warning zone; 0/1 errors only. Our defaults differ from river's: ``warm_start=300,
  warning_threshold=3.0, drift_threshold=4.0`` instead of ``30, 2.0, 3.0``. DDM compares
  the error rate with the lowest rate seen so far, and early rates are noisy: on 100
  seeded streams of 2,000 errors at a steady 5% rate, river's defaults raised a false
  alarm in 60, ours in 3; after a jump to 50% ours detect in a median of 65 updates
  (river's: 42). Pass the parameters to get river's behaviour.
* ``"page_hinkley"`` (:class:`river.drift.PageHinkley`): a cumulative-sum test of a change
  in the mean; errors or losses.

River's conventions hold: ``update(x) -> None``, the verdict is read from
``drift_detected`` / ``warning_detected`` after each update, and the detector resets
itself after a detection (on the next update). The monitor also keeps the 0-based stream
index of every detection and warning onset.

State: :meth:`ConceptDriftMonitor.to_dict` is JSON-serialisable and
:meth:`ConceptDriftMonitor.from_dict` restores a monitor that continues exactly where the
saved one stopped (a restarted monitor actor loses nothing). River's detectors have no
public state format, and ADWIN's window lives in a compiled extension, so the detector
is stored as a base64 pickle together with the river version that wrote it; restoring
under another river version (or from a damaged dict) raises, unless ``strict=False``,
which starts a fresh detector with the same parameters and keeps the counters and
detection history. Replaying the error stream would also work but needs every error
since the last detection (ADWIN's window can hold thousands). Unpickling runs code: load
only state the platform wrote itself.

Example:
    >>> rng = np.random.default_rng(7)
    >>> errors = np.concatenate([rng.random(1000) < 0.05, rng.random(500) < 0.5])
    >>> monitor = ConceptDriftMonitor("adwin")
    >>> for e in errors:
    ...     monitor.update(e)
    >>> monitor.detections
    [1023]
"""

from __future__ import annotations

import base64
import math
import pickle
from collections.abc import Mapping
from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError

__all__ = ["ConceptDriftMonitor", "DETECTORS", "DEFAULT_PARAMS", "STATE_FORMAT"]

STATE_FORMAT = "raymlops.concept_drift/1"
"""The ``format`` of :meth:`ConceptDriftMonitor.to_dict` output."""


def _river() -> Any:
    """river's drift module, imported on first use: it takes about 1.5 s to import, and model
    servers and the CLI import this module without ever creating a detector."""
    import river.drift  # heavy (about 1.5 s): only a monitor with feedback needs it
    import river.drift.binary  # noqa: F401 - DDM lives here

    return river


def _adwin(**params: Any) -> Any:
    return _river().drift.ADWIN(**params)


def _ddm(**params: Any) -> Any:
    return _river().drift.binary.DDM(**params)


def _page_hinkley(**params: Any) -> Any:
    return _river().drift.PageHinkley(**params)


DETECTORS = {"adwin": _adwin, "ddm": _ddm, "page_hinkley": _page_hinkley}
"""Detector name -> factory taking the detector's keyword parameters."""

DEFAULT_PARAMS: dict[str, dict[str, Any]] = {
    "adwin": {},
    "ddm": {"warm_start": 300, "warning_threshold": 3.0, "drift_threshold": 4.0},
    "page_hinkley": {},
}
"""Parameters used unless given (river's defaults for the rest; module docstring)."""

_BINARY = {"ddm"}  # detectors that take 0/1 errors only


class ConceptDriftMonitor:
    """Concept-drift detection on a stream of prediction errors (or losses).

    Args:
        detector: ``"adwin"``, ``"ddm"`` or ``"page_hinkley"``.
        **params: the river detector's parameters (e.g. ``delta=0.002`` for ADWIN,
            ``warm_start``, ``warning_threshold``, ``drift_threshold`` for DDM,
            ``threshold=50.0`` for Page-Hinkley); :data:`DEFAULT_PARAMS`, then river's
            defaults, otherwise.

    Raises:
        InvalidInputError: on an unknown detector or a parameter it does not take.
    """

    def __init__(self, detector: str = "adwin", **params: Any):
        factory = DETECTORS.get(detector)
        if factory is None:
            raise InvalidInputError(f"unknown concept-drift detector {detector!r}; use one of {sorted(DETECTORS)}")
        params = {**DEFAULT_PARAMS.get(detector, {}), **params}
        try:
            self._detector = factory(**params)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(
                f"invalid parameters {params!r} for the {detector} detector ({exc}); see river's documentation "
                f"of {detector} for its parameters"
            ) from None
        self._name = detector
        self._params = dict(params)
        self._n = 0
        self._detections: list[int] = []
        self._warnings: list[int] = []
        self._drift = self._warning = False
        self._sum = 0.0  # errors since the last detection, for error_rate
        self._since = 0

    def update(self, error: float | bool) -> None:
        """Add the error of one prediction.

        Args:
            error: 1/True for a wrong prediction, 0/False for a right one, or a
                non-negative loss (not for ``"ddm"``).

        Raises:
            InvalidInputError: on a non-finite value, or a value other than 0/1 for DDM.
        """
        try:
            x = float(error)
        except (TypeError, ValueError):
            raise InvalidInputError(f"an error must be a number (0/1 or a loss), got {error!r}") from None
        if not math.isfinite(x):
            raise InvalidInputError(f"an error must be finite, got {error!r}; skip predictions without a loss")
        if self._name in _BINARY and x not in (0.0, 1.0):
            raise InvalidInputError(
                f"the {self._name} detector takes 0/1 errors, got {error!r}; use 'adwin' or 'page_hinkley' for losses"
            )
        if self._drift:  # the detector resets itself on this update: so do our running figures
            self._sum, self._since = 0.0, 0
        self._detector.update(x if self._name not in _BINARY else bool(x))
        self._sum += x
        self._since += 1
        was_warning = self._warning
        self._drift = bool(self._detector.drift_detected)
        self._warning = bool(getattr(self._detector, "warning_detected", False))
        if self._drift:
            self._detections.append(self._n)
        if self._warning and not was_warning:
            self._warnings.append(self._n)
        self._n += 1

    def update_many(self, errors: Any) -> list[int]:
        """Add a batch of errors in order (a monitor actor receives feedback in batches).

        Args:
            errors: an iterable or array of errors, as for :meth:`update`.

        Returns:
            The stream indices of the detections within this batch.
        """
        before = len(self._detections)
        for e in np.asarray(errors, dtype=np.float64).ravel().tolist():
            self.update(e)
        return self._detections[before:]

    @property
    def drift_detected(self) -> bool:
        """Whether the last update detected drift (the detector then resets itself)."""
        return self._drift

    @property
    def warning_detected(self) -> bool:
        """Whether the last update is in a warning zone (DDM only; always False otherwise)."""
        return self._warning

    @property
    def detections(self) -> list[int]:
        """0-based stream indices of the updates that detected drift."""
        return list(self._detections)

    @property
    def warnings(self) -> list[int]:
        """0-based stream indices where a warning zone began."""
        return list(self._warnings)

    @property
    def n(self) -> int:
        """Updates seen."""
        return self._n

    @property
    def error_rate(self) -> float:
        """Mean error since the last detection (NaN before the first update)."""
        return self._sum / self._since if self._since else math.nan

    @property
    def detector(self) -> str:
        return self._name

    @property
    def params(self) -> dict[str, Any]:
        """The detector's parameters: those given, then :data:`DEFAULT_PARAMS`."""
        return dict(self._params)

    # -- state
    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable snapshot from which :meth:`from_dict` continues exactly."""
        return {
            "format": STATE_FORMAT,
            "detector": self._name,
            "params": dict(self._params),
            "n": self._n,
            "detections": list(self._detections),
            "warnings": list(self._warnings),
            "drift_detected": self._drift,
            "warning_detected": self._warning,
            "error_sum": self._sum,
            "errors_since_detection": self._since,
            "river_version": str(_river().__version__),
            "state": base64.b64encode(pickle.dumps(self._detector, protocol=4)).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, strict: bool = True) -> ConceptDriftMonitor:
        """Restore a monitor saved with :meth:`to_dict`.

        Args:
            d: the saved dict (trusted: the detector state is a pickle).
            strict: raise when the detector state cannot be restored (another river
                version, damaged state); with False, start a fresh detector with the
                same parameters instead, keeping the index and the detection history.

        Raises:
            InvalidInputError: if the dict is not a saved monitor, or (strict) its
                detector state cannot be restored.
        """
        if not isinstance(d, Mapping) or d.get("format") != STATE_FORMAT:
            raise InvalidInputError(
                f"not a saved concept-drift monitor (expected format {STATE_FORMAT!r}); pass to_dict() output"
            )
        try:
            monitor = cls(d["detector"], **dict(d["params"]))
            monitor._n = int(d["n"])
            monitor._detections = [int(i) for i in d["detections"]]
            monitor._warnings = [int(i) for i in d["warnings"]]
            monitor._drift = bool(d["drift_detected"])
            monitor._warning = bool(d["warning_detected"])
            monitor._sum = float(d["error_sum"])
            monitor._since = int(d["errors_since_detection"])
            state, version = d["state"], d["river_version"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidInputError(f"invalid saved concept-drift monitor ({exc!r}); pass to_dict() output") from None
        problem = None
        if version != str(_river().__version__):
            problem = f"it was saved with river {version}, this is river {str(_river().__version__)}"
        else:
            try:
                detector = pickle.loads(base64.b64decode(state))
            except Exception as exc:  # noqa: BLE001 - any unpickling failure means the same thing here
                problem = f"its detector state cannot be read ({type(exc).__name__}: {exc})"
            else:
                if type(detector) is not type(monitor._detector):
                    problem = f"its detector state is a {type(detector).__name__}, not a {monitor._name} detector"
                else:
                    monitor._detector = detector
        if problem is not None:
            if strict:
                raise InvalidInputError(
                    f"cannot restore the {monitor._name} detector: {problem}; pass strict=False to continue "
                    "with a fresh detector (same parameters, history kept)"
                )
            monitor._drift = monitor._warning = False
            monitor._sum, monitor._since = 0.0, 0
        return monitor

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return (
            f"ConceptDriftMonitor({self._name!r}{', ' + params if params else ''}; n={self._n}, "
            f"detections={self._detections})"
        )

