"""A drift report as one self-contained HTML file, readable offline.

:func:`render_html` turns a :class:`~raymlops.monitoring.results.DriftReport` into one
HTML document: a summary, the verdict table (test named with its log base and whether it
is a distance, a divergence or a p-value test, statistic, threshold, p-value, verdict and
why that test), and for every column a reference-vs-current histogram drawn as inline SVG.
There is no JavaScript, no external stylesheet, font or image and no network address: the
file can be mailed, archived as an artifact and opened anywhere.

Histograms show proportions. Numeric columns use 20 equal-width bins over the range of
both sides; from raw values the proportions are exact, from sketches they come from the
sketches' interpolated CDFs (each within one DDSketch bucket's mass of the truth).
Categorical columns show the most frequent categories (by the larger of the two
proportions) and fold the rest into one bar.

Example:
    >>> import pandas as pd
    >>> from raymlops.monitoring.judge import judge
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=300), "c": rng.choice(["a", "b"], 300)})
    >>> cur = pd.DataFrame({"x": rng.normal(1, 1, size=300), "c": rng.choice(["a", "b"], 300)})
    >>> page = render_html(judge(ref, cur), ref, cur)
    >>> page.startswith("<!DOCTYPE html>"), "<svg" in page, "http" in page
    (True, True, False)
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from raymlops.core.errors import InvalidInputError
from raymlops.sketches import CategoricalSketch, NumericSketch, ValueCounts, finite_values
from raymlops.sketches import distances as st
from raymlops.monitoring.drift_tests import TESTS
from raymlops.monitoring.judge import columns_of
from raymlops.monitoring.results import ColumnDrift, DriftReport

__all__ = ["render_html", "HISTOGRAM_BINS", "TOP_CATEGORIES"]

HISTOGRAM_BINS = 20
"""Equal-width bins of the numeric histograms."""

TOP_CATEGORIES = 12
"""Categories drawn one by one; the rest share one bar."""

_W, _H = 440, 170  # SVG size
_ML, _MR, _MT, _MB = 44, 8, 10, 42  # margins: left, right, top, bottom
_REF, _CUR = "#4C78A8", "#F58518"

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px}
.summary{padding:10px 14px;border-radius:6px;margin:12px 0;background:#f3f5f7}
.drift{color:#b00020;font-weight:600} .ok{color:#1b7f3b;font-weight:600}
table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #ddd;padding:5px 7px;text-align:left;vertical-align:top}
th{background:#fafafa} td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666;font-size:12px} code{font-size:12px;background:#f3f3f3;padding:0 3px}
.cols{display:flex;flex-wrap:wrap;gap:18px} .col{border:1px solid #e3e3e3;border-radius:6px;padding:8px 10px}
.col h3{font-size:14px;margin:0 0 4px} .key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
svg text{font-size:10px;fill:#444}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(x: float | None, digits: int = 4) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "&mdash;"
    if x == 0:
        return "0"
    return _e(f"{x:.{digits}g}")


def _test_label(test: str) -> str:
    spec = TESTS.get(test)
    if spec is None:
        return "no test (a side had no values)"
    return f"{spec.title}"


def _rule(c: ColumnDrift) -> str:
    spec = TESTS.get(c.test)
    if spec is None:
        return "&mdash;"
    if spec.drift_if == "p<":
        return f"drift if p-value &lt; {_fmt(c.threshold)}"
    op = "&ge;" if spec.drift_if == ">=" else "&gt;"
    return f"drift if statistic {op} {_fmt(c.threshold)}"


# --------------------------------------------------------------------------- histograms


def _numeric_side(side: Any) -> tuple[Any, float, float] | None:
    if isinstance(side, NumericSketch):
        return (side, side.min, side.max) if side.count else None
    if isinstance(side, (CategoricalSketch, ValueCounts)):
        return None
    try:
        x = finite_values(side)
    except InvalidInputError:
        return None
    return (x, float(x.min()), float(x.max())) if x.size else None


def _masses(side: Any, edges: np.ndarray) -> np.ndarray:
    if isinstance(side, NumericSketch):
        cdf = np.asarray(side.cdf(edges), dtype=np.float64)
        out = np.diff(cdf)
        out[0] += cdf[0]  # values equal to the lowest edge
        return np.clip(out, 0.0, None)
    counts, _ = np.histogram(side, bins=edges)
    return counts / side.size


def _numeric_hist(ref: Any, cur: Any) -> tuple[list[str], np.ndarray, np.ndarray, list[str]] | None:
    a, b = _numeric_side(ref), _numeric_side(cur)
    if a is None or b is None:
        return None
    lo, hi = min(a[1], b[1]), max(a[2], b[2])
    if not lo < hi:
        return [_short(lo)], np.ones(1), np.ones(1), [f"value {lo:.6g}"]
    edges = np.linspace(lo, hi, HISTOGRAM_BINS + 1)
    pa, pb = _masses(a[0], edges), _masses(b[0], edges)
    tips = [f"[{edges[i]:.6g}, {edges[i + 1]:.6g})" for i in range(HISTOGRAM_BINS)]
    tips[-1] = tips[-1][:-1] + "]"  # the last bin holds the maximum
    labels = [_short(lo)] + [""] * (HISTOGRAM_BINS - 2) + [_short(hi)]
    return labels, pa, pb, tips


def _categorical_hist(ref: Any, cur: Any) -> tuple[list[str], np.ndarray, np.ndarray, list[str]] | None:
    try:
        keys, rc, cc = st.category_counts(ref, cur)
    except InvalidInputError:
        return None
    if not rc.sum() or not cc.sum():
        return None
    p, q = rc / rc.sum(), cc / cc.sum()
    order = np.argsort(-np.maximum(p, q), kind="stable")
    top, rest = order[:TOP_CATEGORIES], order[TOP_CATEGORIES:]
    names = [str(keys[i]) for i in top]
    pa, pb = list(p[top]), list(q[top])
    if rest.size:
        names.append(f"({rest.size} others)")
        pa.append(float(p[rest].sum()))
        pb.append(float(q[rest].sum()))
    return [_short(n, 9) for n in names], np.array(pa), np.array(pb), names


def _short(x: Any, width: int = 10) -> str:
    s = f"{x:.4g}" if isinstance(x, float) else str(x)
    return s if len(s) <= width else s[: width - 1] + "\u2026"


def _svg(labels: list[str], pa: np.ndarray, pb: np.ndarray, tips: list[str], column: str) -> str:
    k = len(pa)
    top = float(max(pa.max(), pb.max(), 1e-12))
    pw, ph = _W - _ML - _MR, _H - _MT - _MB
    slot = pw / k
    bar = max(slot * 0.42, 0.5)
    rotate = sum(1 for label in labels if label) > 4  # category names: slanted so they do not overlap
    parts = [
        f'<svg role="img" aria-label="histogram of {_e(column)}" width="{_W}" height="{_H}" '
        f'viewBox="0 0 {_W} {_H}">',
        f'<line x1="{_ML}" y1="{_MT + ph}" x2="{_W - _MR}" y2="{_MT + ph}" stroke="#999"/>',
        f'<line x1="{_ML}" y1="{_MT}" x2="{_ML}" y2="{_MT + ph}" stroke="#999"/>',
        f'<text x="{_ML - 4}" y="{_MT + 8}" text-anchor="end">{top:.0%}</text>',
        f'<text x="{_ML - 4}" y="{_MT + ph}" text-anchor="end">0%</text>',
    ]
    for i in range(k):
        x0 = _ML + i * slot + (slot - 2 * bar) / 2
        for j, (share, colour, side) in enumerate(((pa[i], _REF, "reference"), (pb[i], _CUR, "current"))):
            h = ph * float(share) / top
            parts.append(
                f'<rect x="{x0 + j * bar:.2f}" y="{_MT + ph - h:.2f}" width="{bar:.2f}" height="{h:.2f}" '
                f'fill="{colour}"><title>{_e(side)} {_e(tips[i])}: {float(share):.2%}</title></rect>'
            )
        if labels[i]:
            cx, y = _ML + (i + 0.5) * slot, _MT + ph + 13
            if rotate:
                parts.append(
                    f'<text transform="translate({cx:.2f},{y - 4}) rotate(-40)" text-anchor="end">'
                    f"{_e(labels[i])}</text>"
                )
            else:
                parts.append(f'<text x="{cx:.2f}" y="{y}" text-anchor="middle">{_e(labels[i])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _histogram(c: ColumnDrift, ref: Any, cur: Any) -> str:
    if ref is None or cur is None:
        return '<p class="muted">no data for a histogram</p>'
    # a numeric sketch keeps no per-category counts: draw it as numbers even when it was judged by value
    numeric = isinstance(ref, NumericSketch) or (c.kind == "numeric" and not isinstance(ref, CategoricalSketch))
    hist = _numeric_hist(ref, cur) if numeric else _categorical_hist(ref, cur)
    if hist is None:
        return '<p class="muted">no values to draw</p>'
    return _svg(*hist, column=c.column)


# --------------------------------------------------------------------------- page


def _getter(side: Any) -> Any:
    if side is None:
        return lambda name: None
    names, get = columns_of(side)
    present = set(names)
    return lambda name: get(name) if name in present else None


def render_html(
    report: DriftReport | Mapping[str, Any], reference: Any, current: Any, *, title: str = "Drift report"
) -> str:
    """Render a drift report as one self-contained HTML page.

    Args:
        report: a :class:`DriftReport` or its ``to_dict()`` output.
        reference: the reference data the report judged (DataFrame, pyarrow Table,
            Profile, mapping of values or sketches), or None to leave out histograms.
        current: the current data, likewise.
        title: the page title.

    Returns:
        The HTML document as a string (UTF-8 text; no external resources).

    Raises:
        InvalidInputError: if ``report`` is neither a DriftReport nor its dict.
    """
    if not isinstance(report, DriftReport):
        report = DriftReport.from_dict(report)
    ref_get, cur_get = _getter(reference), _getter(current)
    drifted, judged = report.number_of_drifted_columns, report.number_of_columns
    verdict = (
        '<span class="drift">Dataset drift detected</span>'
        if report.dataset_drift
        else '<span class="ok">No dataset drift</span>'
    )
    rows = []
    for c in report.columns:
        mark = '<span class="drift">drift</span>' if c.drift else '<span class="ok">no drift</span>'
        if c.mode == "sketch" and c.bound:
            note = "" if c.certain else " (within bound of threshold)"
            mark += f'<div class="muted">&plusmn;{_fmt(c.bound, 3)}{note}</div>'
        rows.append(
            "<tr>"
            f"<td>{_e(c.column)}</td><td>{_e(c.kind)}</td>"
            f"<td>{_e(_test_label(c.test))}<div class=\"muted\"><code>{_e(c.test)}</code></div></td>"
            f'<td class="num">{_fmt(c.statistic)}</td><td>{_rule(c)}</td>'
            f'<td class="num">{_fmt(c.p_value, 3)}</td><td>{mark}</td>'
            f'<td>{_e(c.mode)}</td><td class="muted">{_e(c.reason)}</td>'
            "</tr>"
        )
    used = sorted({c.test for c in report.columns if c.test in TESTS})
    legend = "".join(
        f"<li><b>{_e(TESTS[t].title)}</b> (<code>{_e(t)}</code>): {_e(TESTS[t].description)}.</li>" for t in used
    )
    panels = []
    for c in report.columns:
        flag = '<span class="drift">drift</span>' if c.drift else '<span class="ok">no drift</span>'
        panels.append(
            f'<div class="col"><h3>{_e(c.column)} {flag}</h3>'
            f'<div class="muted">{_e(_test_label(c.test))}: {_fmt(c.statistic)}'
            f'{"" if c.p_value is None else ", p-value " + _fmt(c.p_value, 3)}</div>'
            f"{_histogram(c, ref_get(c.column), cur_get(c.column))}</div>"
        )
    skipped = (
        f'<p class="muted">Not judged (on one side only): {_e(", ".join(report.skipped))}</p>' if report.skipped else ""
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>"
        f'<div class="summary">{verdict}: {drifted} of {judged} columns drifted '
        f"({report.share_of_drifted_columns:.0%}; the dataset drifts at {report.drift_share:.0%} or more). "
        f"Preset <code>{_e(report.preset)}</code>.</div>"
        "<h2>Verdicts</h2><table><thead><tr><th>Column</th><th>Kind</th><th>Test</th><th>Statistic</th>"
        "<th>Rule</th><th>p-value</th><th>Verdict</th><th>Mode</th><th>Why this test</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>{skipped}"
        f'<h2>Tests used</h2><ul class="muted">{legend}</ul>'
        '<h2>Reference vs current</h2><p class="muted">Share of values per bin:'
        f'<span class="key" style="background:{_REF}"></span>reference'
        f'<span class="key" style="background:{_CUR}"></span>current. Numeric columns: '
        f"{HISTOGRAM_BINS} equal-width bins over both sides' range (from sketches: interpolated within "
        "DDSketch buckets); categorical: the most frequent categories.</p>"
        f'<div class="cols">{"".join(panels)}</div>'
        "</body></html>\n"
    )
