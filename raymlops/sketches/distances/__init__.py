"""Distances and tests between a reference and a current sample, exact or from sketches.

Every function takes the two sides either as raw values (**exact mode**: a numpy array,
pandas Series, pyarrow array or list) or as sketches (**sketch mode**: a
:class:`~raymlops.sketches.NumericSketch`, :class:`~raymlops.sketches.CategoricalSketch`
or :class:`~raymlops.sketches.ValueCounts` merged from any number of replicas). If one
side is raw and the other a sketch, the raw side is sketched first. Nulls, NaN and
infinities are left out (a sketch counts them apart); statistics compare the finite
values of numeric columns and the non-null values of categorical ones.

Exact mode equals scipy to float rounding (the tests hold it to 1e-9 on random data):

* :func:`ks` is ``scipy.stats.ks_2samp`` (two-sided; exact p-value when both samples
  have at most 10,000 values, else ``kstwo.sf(D, round(n*m/(n+m)))``, as scipy does);
* :func:`wasserstein` is ``scipy.stats.wasserstein_distance``; :func:`wasserstein_normed`
  divides it by ``max(std of reference, 0.001)`` (population std, ddof=0: Evidently's);
* :func:`chi2` is ``scipy.stats.chi2_contingency`` on the 2 x k table of counts;
* :func:`jensenshannon` is ``scipy.spatial.distance.jensenshannon`` (a *distance*: the
  square root of the divergence), natural log unless ``base`` is given;
  :func:`jensenshannon_divergence` is its square, log base 2 by default (0..1).

KS and Wasserstein come from one sort of each side: the two sorted arrays are merged in
linear time and the CDF difference is read off the merge, so both statistics and the
distinct-value count of the union come out of one pass (about 3x faster than the scipy
calls on 1e6 + 1e6 values). Sketch-mode results carry ``bound``, the most the statistic
can differ from the exact one (see :mod:`~raymlops.sketches.distances.ks_test` and
:mod:`~raymlops.sketches.distances.wasserstein_distance`); PSI, Jensen-Shannon, chi-square,
L-infinity and Z come from counts that are the same in both modes (bound 0), on the
shared bins of :func:`binned_counts` or the category counts of :func:`category_counts`.

Example:
    >>> rng = np.random.default_rng(0)
    >>> ref, cur = rng.normal(size=5_000), rng.normal(0.3, 1.0, size=5_000)
    >>> r = ks(ref, cur)
    >>> round(r.statistic, 4), r.p_value < 1e-20, r.bound
    (0.1458, True, 0.0)
    >>> sref, scur = NumericSketch(), NumericSketch()
    >>> sref.update(ref); scur.update(cur)
    >>> s = ks(sref, scur)
    >>> bool(abs(s.statistic - r.statistic) <= s.bound), round(s.bound, 4)
    (True, 0.0154)
    >>> _, rc, cc = binned_counts(ref, cur)
    >>> _, src, scc = binned_counts(sref, scur)
    >>> rc.tolist() == src.tolist() and cc.tolist() == scc.tolist()
    True
    >>> round(psi(rc, cc), 4), round(psi(src, scc), 4)
    (0.1089, 0.1089)
"""

from __future__ import annotations

import numpy as np

from raymlops.sketches.distances._common import Merged, TestResult, is_sketch, merge_sorted, numeric_pair
from raymlops.sketches.distances.binning import binned_counts, quantile_cuts
from raymlops.sketches.distances.categories import OTHER, category_counts
from raymlops.sketches.distances.divergences import jensenshannon, jensenshannon_divergence, linf, psi
from raymlops.sketches.distances.hypothesis import chi2, chisquare, ztest
from raymlops.sketches.distances.ks_test import EXACT_KS_MAX_N, ks, ks_pvalue
from raymlops.sketches.distances.wasserstein_distance import MIN_STD, wasserstein, wasserstein_normed
from raymlops.sketches.numeric import NumericSketch

__all__ = [
    "EXACT_KS_MAX_N",
    "MIN_STD",
    "OTHER",
    "Merged",
    "TestResult",
    "binned_counts",
    "category_counts",
    "chi2",
    "chisquare",
    "is_sketch",
    "jensenshannon",
    "jensenshannon_divergence",
    "ks",
    "ks_pvalue",
    "linf",
    "merge_sorted",
    "numeric_pair",
    "psi",
    "quantile_cuts",
    "wasserstein",
    "wasserstein_normed",
    "ztest",
]
