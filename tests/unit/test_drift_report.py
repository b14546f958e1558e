"""The HTML drift report: one self-contained, well-formed file naming every test (no Ray)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from raymlops.sketches import Profile
from raymlops.monitoring import TESTS, judge
from raymlops.monitoring.report import render_html

VOID = {"meta", "br", "img", "input", "link", "hr", "col", "area", "base", "embed", "source", "track", "wbr"}


class Checker(HTMLParser):
    """Collects tags, resource attributes and text, and checks that tags nest."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[str] = []
        self.resources: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href", "srcset", "action", "poster", "data") and value:
                self.resources.append(value)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value:
                self.resources.append(value)

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse(page: str) -> Checker:
    checker = Checker()
    checker.feed(page)
    checker.close()
    return checker


@pytest.fixture
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(0)
    n = 2500

    def make(shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "income": rng.lognormal(10 + shift, 0.5, n),
                "age": rng.normal(40 + 10 * shift, 12, n),
                "flag": (rng.random(n) < 0.3 + shift / 2).astype(np.int64),
                "city": rng.choice([f"city-{i}" for i in range(30)], n),
                'odd <name> & "quotes"': rng.choice(["<script>", "a&b"], n),
            }
        )

    return make(0.0), make(0.3)


@pytest.mark.parametrize("preset", ["evidently", "tfdv"])
@pytest.mark.parametrize("mode", ["exact", "sketch"])
def test_the_report_is_one_self_contained_well_formed_page(data, preset, mode):
    ref, cur = data
    if mode == "sketch":
        pr, pc = Profile(), Profile()
        pr.update(ref)
        pc.update(cur)
        ref, cur = pr, pc
    report = judge(ref, cur, preset=preset)
    page = render_html(report, ref, cur)
    checker = parse(page)
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    assert page.startswith("<!DOCTYPE html>")
    # nothing is fetched: no scripts, stylesheets, images, fonts or URLs of any kind
    assert checker.resources == []
    assert not {"script", "link", "img", "iframe", "object"} & set(checker.tags)
    assert not re.search(r"https?://", page) and "@import" not in page and "url(" not in page
    # every column has a row and a histogram
    text = " ".join(checker.text)
    for column in report.to_dict()["columns"]:
        assert column["column"] in text
    assert page.count("<svg") == len(report.columns)
    # tests are named with their base and whether they are a distance or a divergence
    for c in report.columns:
        assert c.test in text and TESTS[c.test].title in text
    if preset == "evidently":
        assert "Jensen-Shannon distance (natural log)" in text
        assert "normed Wasserstein distance" in text
    else:
        assert "Jensen-Shannon divergence (log base 2)" in text and "L-infinity distance" in text


def test_user_text_is_escaped(data):
    ref, cur = data
    page = render_html(judge(ref, cur), ref, cur)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'odd <name>' not in page and "odd &lt;name&gt; &amp; &quot;quotes&quot;" in page


def test_the_report_renders_from_its_dict_and_without_data(data):
    ref, cur = data
    report = judge(ref, cur)
    from_dict = render_html(report.to_dict(), ref, cur)
    assert from_dict == render_html(report, ref, cur)
    bare = render_html(report, None, None)
    assert "<svg" not in bare and "no data for a histogram" in bare
    assert not parse(bare).errors


def test_the_summary_states_the_dataset_verdict(data):
    ref, cur = data
    report = judge(ref, cur, drift_share=0.4)
    assert report.dataset_drift and "Dataset drift detected" in render_html(report, ref, cur)
    assert "No dataset drift" in render_html(judge(ref, ref), ref, ref)
