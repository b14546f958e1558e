"""A small project on disk (pipeline module, helper module, data) and a runner for it."""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
import time
from pathlib import Path

import pytest

from raymlops.metadata import MetadataStore
from raymlops.pipelines.loading import load_pipeline
from raymlops.pipelines.scheduler import LocalBackend, drive

PIPELINE = '''
import json, os, time
from raymlops.pipelines import Pipeline, step
import helpers

SCALE = 2
OPTIONS = {"a": 1, "b": 2}

@step(outputs=["nums"], files=["path"])
def load(ctx, path: str):
    nums = [int(x) for x in open(path).read().split()]
    (ctx.output("nums") / "nums.json").write_text(json.dumps(nums))

@step(inputs=["nums"], outputs=["total"], env=["PIPE_MODE"], packages=["fakepkg"])
def total(ctx, nums, *, options: dict = {}):
    # a comment
    values = nums.read_json("nums.json")
    mode = os.environ.get("PIPE_MODE", "sum")
    out = helpers.combine(values, mode) * SCALE
    (ctx.output("total") / "total.json").write_text(json.dumps({"total": out, "options": sorted(options)}))
    return {"total": out}

@step(inputs=["total"], outputs=["report"])
def report(ctx, total):
    (ctx.output("report") / "report.txt").write_text(str(total.read_json("total.json")["total"]))

pipeline = Pipeline("matrix", [load, total, report])
'''

HELPERS = '''
def combine(values, mode):
    return sum(values) if mode == "sum" else max(values)
'''


class Project:
    """A pipeline project in ``root``: edit its files, run it, read what happened."""

    def __init__(self, root: Path, home: Path):
        self.root = root
        self.home = home
        (root / "pyproject.toml").write_text("[project]\nname = 'toy'\n")
        self.write("pipe.py", PIPELINE)
        self.write("helpers.py", HELPERS)
        self.data = root / "data.txt"
        self.data.write_text("1 2 3 4\n")
        self.site = root / "site"
        self.set_package_version("1.0")
        self.store = MetadataStore(f"sqlite:///{home}/metadata.db")

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.write_text(textwrap.dedent(text))
        st = path.stat()  # a new mtime even within the same clock tick, so Python re-reads it
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))

    def edit(self, name: str, old: str, new: str) -> None:
        text = (self.root / name).read_text()
        assert old in text, old
        self.write(name, text.replace(old, new))

    def set_package_version(self, version: str) -> None:
        """A real installed distribution 'fakepkg' (a dist-info folder on sys.path)."""
        for old in self.site.glob("fakepkg-*.dist-info"):
            for f in old.iterdir():
                f.unlink()
            old.rmdir()
        d = self.site / f"fakepkg-{version}.dist-info"
        d.mkdir(parents=True)
        (d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: fakepkg\nVersion: {version}\n")
        importlib.invalidate_caches()

    def pipeline(self):
        return load_pipeline(str(self.root / "pipe.py"), {})[0]

    def run(self, params: dict | None = None, **kwargs):
        p = self.pipeline()
        return drive(p, {"path": str(self.data), **(params or {})}, store=self.store, home=str(self.home), backend=LocalBackend(), **kwargs)


@pytest.fixture
def project(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    root.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    proj = Project(root, home)
    monkeypatch.syspath_prepend(str(proj.site))
    monkeypatch.delenv("PIPE_MODE", raising=False)
    yield proj
    for name in [m for m, mod in sys.modules.items() if (getattr(mod, "__file__", "") or "").startswith(str(root))]:
        del sys.modules[name]
    proj.store.close()


def statuses(result) -> dict[str, str]:
    return {s.name: s.status for s in result.steps}


def wait_racy() -> None:
    """Let fresh files age past the stat cache's racy window (as data at rest has)."""
    time.sleep(1.05)
