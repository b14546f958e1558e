"""The cache-correctness matrix: one test per mutation, each with the outcome it must have.

Every test runs the toy pipeline (load -> total -> report) once, applies one mutation,
runs it again and checks which steps executed and which were served from the cache:
a miss where the mutation can change the result (no false hit), a hit where it cannot
(no false miss).
"""

from __future__ import annotations

import os
import threading

from raymlops.pipelines.hashing import StatCache
from tests.unit.pipelines.conftest import statuses

ALL_CACHED = {"load": "cached", "total": "cached", "report": "cached"}


def test_unchanged_rerun_hits_everything(project):
    assert set(statuses(project.run()).values()) == {"executed"}
    assert statuses(project.run()) == ALL_CACHED


def test_step_body_edited_misses(project):
    project.run()
    project.edit("pipe.py", "out = helpers.combine(values, mode) * SCALE", "out = helpers.combine(values, mode) * SCALE + 1")
    r = project.run()
    assert statuses(r) == {"load": "cached", "total": "executed", "report": "executed"}
    assert r.step("total").result == {"total": 21}


def test_imported_helper_edited_misses(project):
    project.run()
    project.edit("helpers.py", "return sum(values) if", "return 10 * sum(values) if")
    r = project.run()
    assert statuses(r)["total"] == "executed" and r.step("total").result == {"total": 200}


def test_global_changed_misses(project):
    project.run()
    project.edit("pipe.py", "SCALE = 2", "SCALE = 3")
    r = project.run()
    assert statuses(r)["total"] == "executed" and r.step("total").result == {"total": 30}


def test_closure_changed_misses(project):
    project.write(
        "closure.py",
        """
        import json
        from raymlops.pipelines import Pipeline, step

        def make(factor):
            @step(outputs=["out"])
            def scaled(ctx, *, x: int = 1):
                (ctx.output("out") / "v.json").write_text(json.dumps(x * factor))
                return {"v": x * factor}
            return Pipeline("closure", [scaled])

        def build(params):
            return make(int(params.get("factor", 2)))
        """,
    )
    from raymlops.pipelines.loading import load_pipeline
    from raymlops.pipelines.scheduler import LocalBackend, drive

    def run(factor: int):
        p = load_pipeline(str(project.root / "closure.py"), {"factor": factor})[0]
        return drive(p, {}, store=project.store, home=str(project.home), backend=LocalBackend())

    assert run(2).step("scaled").status == "executed"
    assert run(2).step("scaled").status == "cached"
    r = run(3)
    assert r.step("scaled").status == "executed" and r.step("scaled").result == {"v": 3}


def test_parameter_changed_misses(project):
    project.run({"options": {"a": 1}})
    r = project.run({"options": {"a": 2}})
    assert statuses(r) == {"load": "cached", "total": "executed", "report": "cached"}  # same total bytes: report hits


def test_same_path_new_bytes_misses(project):
    project.run()
    project.data.write_text("1 2 3 5\n")
    r = project.run()
    assert statuses(r) == {"load": "executed", "total": "executed", "report": "executed"}
    assert r.step("total").result == {"total": 22}


def test_declared_env_var_changed_misses(project, monkeypatch):
    project.run()
    monkeypatch.setenv("PIPE_MODE", "max")
    r = project.run()
    assert statuses(r)["total"] == "executed" and r.step("total").result == {"total": 8}


def test_undeclared_env_var_does_not_miss(project, monkeypatch):
    project.run()
    monkeypatch.setenv("SOME_OTHER_VAR", "x")
    assert statuses(project.run()) == ALL_CACHED


def test_declared_package_version_changed_misses(project):
    project.run()
    project.set_package_version("1.1")
    r = project.run()
    assert statuses(r) == {"load": "cached", "total": "executed", "report": "cached"}


def test_dict_key_order_changed_hits(project):
    project.run({"options": {"a": 1, "b": 2}})
    assert statuses(project.run({"options": {"b": 2, "a": 1}})) == ALL_CACHED


def test_file_touched_with_same_bytes_hits(project):
    project.run()
    hasher = StatCache.for_home(str(project.home))
    key_before = hasher._get(str(project.data))[0]
    os.utime(project.data)  # touch: new mtime and ctime, same bytes
    assert statuses(project.run()) == ALL_CACHED
    assert hasher._get(str(project.data))[0] != key_before  # the stat changed, so the file was read again


def test_comment_only_edit_hits(project):
    project.run()
    project.edit("pipe.py", "# a comment", "# a different comment\n    # and one more line")
    project.edit("helpers.py", "def combine(values, mode):", "def combine(values, mode):  # reformatted\n")
    assert statuses(project.run()) == ALL_CACHED


def test_docstring_edit_misses(project):
    """Docstrings are runtime values (``__doc__``): conservatively part of the key."""
    project.run()
    project.edit("helpers.py", "def combine(values, mode):\n", 'def combine(values, mode):\n    """Now documented."""\n')
    assert statuses(project.run())["total"] == "executed"


def test_non_deterministic_step_never_hits(project):
    project.edit("pipe.py", '@step(inputs=["total"], outputs=["report"])', '@step(inputs=["total"], outputs=["report"], deterministic=False)')
    project.run()
    for _ in range(2):
        r = project.run()
        assert statuses(r) == {"load": "cached", "total": "cached", "report": "executed"}
        assert "non-deterministic" in r.step("report").reason


def test_failed_step_is_never_served(project):
    project.edit("pipe.py", "    values = nums.read_json", "    raise RuntimeError('flaky')\n    values = nums.read_json")
    r = project.run()
    assert statuses(r) == {"load": "executed", "total": "failed", "report": "skipped"}
    assert "upstream step 'total' failed: RuntimeError: flaky" in r.step("report").reason
    project.edit("pipe.py", "    raise RuntimeError('flaky')\n", "")
    assert statuses(project.run()) == {"load": "cached", "total": "executed", "report": "executed"}


def test_modified_or_deleted_output_is_never_served(project):
    r = project.run()
    total_dir = r.step("total").outputs[0]["uri"][len("file://") :]
    path = os.path.join(total_dir, "total.json")
    os.chmod(path, 0o644)
    with open(path, "w") as f:
        f.write('{"total": 999, "options": []}')  # damaged after publishing
    r2 = project.run()
    assert statuses(r2)["total"] == "executed" and "was modified" in r2.step("total").reason
    assert open(os.path.join(r2.step("total").outputs[0]["uri"][len("file://") :], "total.json")).read().startswith('{"total": 20')
    report_dir = r2.step("report").outputs[0]["uri"][len("file://") :]
    os.chmod(os.path.join(report_dir, "report.txt"), 0o644)
    os.remove(os.path.join(report_dir, "report.txt"))
    assert statuses(project.run())["report"] == "executed"


def test_expired_entry_misses(project):
    import time

    project.edit("pipe.py", '@step(inputs=["total"], outputs=["report"])', '@step(inputs=["total"], outputs=["report"], cache_ttl=60)')
    project.run()
    assert statuses(project.run(clock=lambda: time.time() + 30))["report"] == "cached"
    r = project.run(clock=lambda: time.time() + 61)
    assert statuses(r) == {"load": "cached", "total": "cached", "report": "executed"} and "expired" in r.step("report").reason


def test_two_identical_runs_at_once_execute_once(project):
    project.edit("pipe.py", "    values = nums.read_json", "    time.sleep(1.5)\n    values = nums.read_json")
    project.run()  # warm the load step; total and report are new for both runs below
    project.edit("pipe.py", "* SCALE", "* SCALE * 1")
    results = [None, None]

    def go(i: int) -> None:
        results[i] = project.run()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    totals = sorted(r.step("total").status for r in results)
    assert totals == ["cached", "executed"]
    assert {r.step("total").outputs[0]["sha256"] for r in results} == {results[0].step("total").outputs[0]["sha256"]}


def test_upstream_rerun_with_identical_bytes_lets_downstream_hit(project):
    project.run()
    project.edit("pipe.py", "out = helpers.combine(values, mode) * SCALE", "out = SCALE * helpers.combine(values, mode)")
    r = project.run()
    assert statuses(r) == {"load": "cached", "total": "executed", "report": "cached"}


def test_helper_imported_inside_the_step_edited_misses(project):
    project.edit("pipe.py", "    values = nums.read_json", "    from helpers import combine as _c  # imported where it is used\n    values = nums.read_json")
    project.edit("pipe.py", "out = helpers.combine(values, mode)", "out = _c(values, mode)")
    project.run()
    project.edit("helpers.py", "return sum(values) if", "return 3 * sum(values) if")
    r = project.run()
    assert statuses(r)["total"] == "executed" and r.step("total").result == {"total": 60}
