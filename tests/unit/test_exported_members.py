"""The top-level API is exactly what README documents."""

from __future__ import annotations

import re

import raymlops
from tests.conftest import REPO


def test_top_level_all_matches_readme():
    text = (REPO / "README.md").read_text()
    block = text.split("<!-- exported-members -->")[1].split("<!-- /exported-members -->")[0]
    documented = {m.group(1) for m in re.finditer(r"^- `([A-Za-z_]+)", block, re.M)}
    assert documented == set(raymlops.__all__)
    for name in raymlops.__all__:
        assert hasattr(raymlops, name)
