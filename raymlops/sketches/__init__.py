"""Layer 1: the one statistics format. Sketches, counts, profiles and the distances between them.

A sketch summarises one column and merges by addition: the data profile produces one per
column, every serving replica one per column and window, and a monitor merges them, so
the monitor's view of N replicas equals one process that saw all rows (DESIGN.md,
principle 3). Data profiles, schema inference, serving replicas, shadow comparison,
gates and the drift monitors all use these classes, and nothing else computes these
statistics. Only numpy, scipy, pandas and pyarrow below; no Ray.

* :class:`NumericSketch`: exact counts, extremes and moments, a DDSketch of quantiles,
  optional fixed-edge histogram counts.
* :class:`CategoricalSketch`: exact counts per category.
* :class:`ValueCounts`: exact counts of a numeric column's values while they are few.
* :class:`DistinctCount`: how many distinct values a column has (exact while few, KMV beyond).
* :class:`Profile`: one sketch per column of a dataset.
* :mod:`raymlops.sketches.distances`: KS, Wasserstein, PSI, Jensen-Shannon,
  chi-square, L-infinity and Z, from raw values or sketches.

Example:
    >>> import numpy as np
    >>> a, b = NumericSketch(), NumericSketch()
    >>> a.update(np.arange(100.0)); b.update(np.arange(100.0, 200.0))
    >>> whole = NumericSketch(); whole.update(np.arange(200.0))
    >>> a.merge(b) == whole, whole.count, whole.min, whole.max
    (True, 200, 0.0, 199.0)
"""

from __future__ import annotations

from raymlops.sketches import distances
from raymlops.sketches._arrays import finite_values
from raymlops.sketches._ddsketch import MIN_INDEXABLE
from raymlops.sketches._edges import Histogram
from raymlops.sketches.categorical import CategoricalSketch
from raymlops.sketches.distinct import DistinctCount
from raymlops.sketches.kinds import Sketch, is_numeric, sketch_for, sketch_from_dict
from raymlops.sketches.numeric import FORMAT_VERSION, NumericSketch
from raymlops.sketches.profile import DEFAULT_BINS, Profile
from raymlops.sketches.values import ValueCounts

__all__ = [
    "DEFAULT_BINS",
    "FORMAT_VERSION",
    "MIN_INDEXABLE",
    "CategoricalSketch",
    "DistinctCount",
    "Histogram",
    "NumericSketch",
    "Profile",
    "Sketch",
    "ValueCounts",
    "distances",
    "finite_values",
    "is_numeric",
    "sketch_for",
    "sketch_from_dict",
]
