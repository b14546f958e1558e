"""Soft targets: the teacher's logits and its class distribution softened at a temperature."""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from scipy.special import log_softmax

from raymlops.core.errors import InvalidInputError
from raymlops.training.distill._checks import is_real

__all__ = ["EPS", "TEACHER_OUTPUTS", "soften", "teacher_logits"]

#: Smallest probability kept: softened targets are clipped to it (and renormalised), and
#: probabilities are clipped to it before their logarithm is taken.
EPS = 1e-12

#: How a teacher can be read (see :func:`teacher_logits`).
TEACHER_OUTPUTS = ("auto", "decision_function", "predict_proba")


def soften(teacher_output: Any, temperature: float, *, output: Literal["logits", "proba"] = "logits") -> np.ndarray:
    """The teacher's class distribution softened at ``temperature``.

    From logits ``z``: ``softmax(z / t)``. From probabilities ``p``:
    ``p^(1/t) / Σ p^(1/t)``, the same thing, since ``log p = z − logsumexp(z)``. Both
    are computed in log space (no overflow for any logits), probabilities are clipped
    to 1e-12 before their log, and the result is clipped to 1e-12 and renormalised, so
    it never holds an exact 0 (a large ``t`` or a confident teacher otherwise underflows).

    Args:
        teacher_output: ``(n, k)`` logits or probabilities; 1-D logits are read as a
            binary decision function ``z`` (logits ``[0, z]``).
        temperature: ``t`` > 0.
        output: ``"logits"`` or ``"proba"``.

    Returns:
        ``(n, k)`` float array whose rows sum to 1.

    Raises:
        InvalidInputError: a bad temperature, non-finite values, probabilities outside
            [0, 1] or not summing to 1.

    Example:
        >>> p = np.array([[0.7, 0.2, 0.1]])
        >>> soften(p, 2.0, output="proba").round(4)
        array([[0.5229, 0.2795, 0.1976]])
        >>> soften(np.log(p), 2.0).round(4)
        array([[0.5229, 0.2795, 0.1976]])
    """
    if not is_real(temperature) or not math.isfinite(temperature) or temperature <= 0:
        raise InvalidInputError(f"temperature={temperature!r}: use a finite number > 0")
    if output not in ("logits", "proba"):
        raise InvalidInputError(f"output={output!r}: use 'logits' or 'proba'")
    z = np.asarray(teacher_output, dtype=np.float64)
    if z.ndim == 1 and output == "logits":
        z = np.column_stack([np.zeros_like(z), z])
    if z.ndim != 2 or z.shape[1] < 2:
        raise InvalidInputError(f"teacher output of shape {z.shape}: use (rows, classes) with at least 2 classes")
    if output == "proba":
        if not np.all(np.isfinite(z)) or np.any(z < 0) or np.any(z > 1):
            raise InvalidInputError("probabilities must be finite and in [0, 1]")
        if len(z) and np.max(np.abs(z.sum(axis=1) - 1.0)) > 1e-6:
            raise InvalidInputError("probability rows must sum to 1: pass output='logits' for unnormalised scores")
        z = np.log(np.clip(z, EPS, 1.0))
    elif not np.all(np.isfinite(z)):
        raise InvalidInputError("logits must be finite: pass probabilities with output='proba'")
    q = np.exp(log_softmax(z / float(temperature), axis=1))
    q = np.clip(q, EPS, None)
    return q / q.sum(axis=1, keepdims=True)


def teacher_logits(
    teacher: Any, X: Any, *, method: Literal["auto", "decision_function", "predict_proba"] = "auto"
) -> np.ndarray:
    """The teacher's logits on ``X``, one column per ``teacher.classes_``.

    ``"auto"`` uses ``decision_function`` when the teacher has it, else
    ``log(predict_proba)`` (probabilities clipped to 1e-12). A binary decision function
    ``z`` becomes ``[0, z]``, whose softmax is ``[1 − σ(z), σ(z)]``. Prefer
    ``"predict_proba"`` for teachers whose decision function is not a logit, e.g. an
    ``SVC`` (one-vs-rest scores derived from one-vs-one votes) or a calibrated wrapper.

    Raises:
        InvalidInputError: the teacher has neither method (or not the one asked for),
            or its output does not have one column per class.
    """
    if method not in TEACHER_OUTPUTS:
        raise InvalidInputError(f"method={method!r}: use one of {list(TEACHER_OUTPUTS)}")
    use_df = method == "decision_function" or (method == "auto" and hasattr(teacher, "decision_function"))
    if use_df:
        if not hasattr(teacher, "decision_function"):
            raise InvalidInputError(f"teacher {type(teacher).__name__} has no decision_function: use 'predict_proba'")
        z = np.asarray(teacher.decision_function(X), dtype=np.float64)
        if z.ndim == 1:
            z = np.column_stack([np.zeros_like(z), z])
    else:
        if not hasattr(teacher, "predict_proba"):
            raise InvalidInputError(
                f"teacher {type(teacher).__name__} has neither predict_proba nor decision_function: "
                "distillation needs a classifier with soft outputs"
            )
        z = np.log(np.clip(np.asarray(teacher.predict_proba(X), dtype=np.float64), EPS, 1.0))
    classes = getattr(teacher, "classes_", None)
    if classes is not None and (z.ndim != 2 or z.shape[1] != len(classes)):
        raise InvalidInputError(f"teacher output of shape {z.shape} does not have one column per class {list(classes)}")
    return z
