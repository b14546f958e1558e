"""Knowledge distillation: a (registered) teacher → a smaller scikit-learn student.

The student is trained on the teacher's outputs softened at temperature ``t`` plus the
hard labels weighted by ``alpha`` (Hinton, Vinyals and Dean, *Distilling the Knowledge
in a Neural Network*, 2015):

.. code-block:: text

    loss(x, y) = alpha · CE(onehot(y), p(x)) + (1 − alpha) · t² · CE(q(x|t), p(x))
    CE(q, p)   = −Σᵢ qᵢ log pᵢ
    q(x|t)     = softmax(z(x) / t)           z: the teacher's logits

scikit-learn students take no soft targets, but every log-loss estimator takes
``sample_weight``; so :func:`distillation_set` writes the loss above as a weighted
log-loss over replicated rows: each training row once per class ``c``, with label ``c``
and weight ``(1 − alpha) · t² · q_c(x|t)``, plus ``alpha`` for its hard label. The
weighted log-loss of any model over those rows *is* the loss above, exactly (the tests
check it to 1e-9), so a log-loss student fitted with those weights minimises it.

Two differences from Hinton's neural-network recipe, both deliberate:

- The student's own outputs are at temperature 1 while it trains (an estimator's
  logits cannot be divided by ``t`` from outside). It therefore learns the softened
  distribution itself: its ``predict_proba`` is as soft as ``q`` — its argmax, and so
  its accuracy, are what matter here, and neither depends on a rescaling of the logits.
  Hinton's ``t²`` keeps the soft term's gradients comparable across temperatures for a
  student at temperature ``t``; for ours it simply weighs the soft term more as ``t``
  grows (read ``alpha`` with that in mind: the hard term's share of the weight is
  ``alpha / (alpha + (1 − alpha) t²)``).
- :func:`distill` divides the weights by ``alpha + (1 − alpha) t²`` by default
  (``DistillationConfig.normalize_weights``), so every original row carries a total
  weight of 1, as in hard-label training. The minimiser of the data term is unchanged;
  what it buys is a fair comparison: scikit-learn scales the L2 penalty against the
  total sample weight (``LogisticRegression``'s ``C``, ``MLPClassifier``'s ``alpha``),
  so unnormalised weights would silently weaken the student's regularisation by that
  factor and make a distilled student look better than the same student on hard labels
  for the wrong reason.

Students come from a small registry (:data:`STUDENT_KINDS`), each with one *capacity*
knob for sweeps: ``"logreg"`` (capacity = ``C``), ``"mlp"`` (one hidden layer of
``capacity`` units, full-batch L-BFGS so replicated rows do not change the number of
updates) and ``"hgb"`` (histogram gradient boosting with ``capacity`` boosting rounds).
:func:`model_size_bytes`, :func:`single_row_latency_ms`, :func:`pareto_front` and
:func:`pick_best` are what a sweep reports per trial and how it chooses the student to
register.

Distillation is a candidate for the sweep to weigh, not a guaranteed win. On digits
(tests), a 4-unit MLP student distilled from a 256-unit MLP at ``t`` = 2–3 beats the
same student on hard labels by about 1.6 points; with the same teacher, logistic
regression and small boosted-tree students gained nothing; an MLP student distilled
from an ``SVC`` (calibrated, or its decision function) did worse than on hard labels,
its scores carrying little of the "dark knowledge" between classes; and a random
forest's already-soft probabilities helped only at ``t = 1``.

The modules: :mod:`~raymlops.training.distill.students` (kinds and config),
:mod:`~raymlops.training.distill.soft_targets`, :mod:`~raymlops.training.distill.fit`
(the distillation fit) and :mod:`~raymlops.training.distill.selection` (trial figures,
Pareto front, choice). The Ray Tune sweep around them is
:mod:`raymlops.training.distill_tune`.

Example:
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> teacher = LogisticRegression(max_iter=1000).fit(X, y)
    >>> config = DistillationConfig(temperature=2.0, alpha=0.1, student="logreg", capacity=0.5)
    >>> student = distill(teacher, X, y, config, seed=0)
    >>> round(float((student.predict(X) == y).mean()), 3)
    0.96
    >>> soften(np.array([[2.0, 1.0, 0.0]]), temperature=2.0).round(4)
    array([[0.5065, 0.3072, 0.1863]])
"""

from __future__ import annotations

from raymlops.training.distill.fit import distill, distillation_set, fit_weighted, train_hard
from raymlops.training.distill.selection import (
    DEFAULT_OBJECTIVES,
    model_size_bytes,
    pareto_front,
    pick_best,
    single_row_latency_ms,
)
from raymlops.training.distill.soft_targets import EPS, TEACHER_OUTPUTS, soften, teacher_logits
from raymlops.training.distill.students import STUDENT_KINDS, DistillationConfig, StudentKind, make_student

__all__ = [
    "DEFAULT_OBJECTIVES",
    "EPS",
    "STUDENT_KINDS",
    "TEACHER_OUTPUTS",
    "DistillationConfig",
    "StudentKind",
    "distill",
    "distillation_set",
    "fit_weighted",
    "make_student",
    "model_size_bytes",
    "pareto_front",
    "pick_best",
    "single_row_latency_ms",
    "soften",
    "teacher_logits",
    "train_hard",
]
