"""Pipeline definitions fail clearly; cron, intervals, new data, alert storms, cooldown and the cap."""

from __future__ import annotations

import calendar
import os
import subprocess
import sys

import pytest

from raymlops.core.errors import InvalidInputError
from raymlops.pipelines import Pipeline, StepDefinitionError, build_retrain, step
from raymlops.pipelines.triggers import CronSchedule, TriggerSpec, TriggerState, due, list_files, observe_alerts, observe_files, observe_schedule, parse_every
from tests.conftest import PYTHON, REPO, cli_env


@step(outputs=["a"])
def make_a(ctx): ...


@step(inputs=["a"], outputs=["b"])
def make_b(ctx, a): ...


@step(inputs=["b"], outputs=["a2"])
def make_a2(ctx, b): ...


def test_cycle_is_an_error_with_its_path():
    with pytest.raises(StepDefinitionError, match=r"cycle: .* -> .*"):
        Pipeline("cyc", [make_b.options(inputs={"a": "a2"}), make_a2])


def test_missing_input_duplicate_output_and_unknown_param_are_errors():
    with pytest.raises(StepDefinitionError, match="needs input 'a' but no step"):
        Pipeline("p", [make_b])
    with pytest.raises(StepDefinitionError, match="both output 'a'"):
        Pipeline("p", [make_a, make_a.options(name="again")])
    with pytest.raises(StepDefinitionError, match=r"takes no parameter\(s\) \['C'\]"):
        Pipeline("p", [make_a, make_b]).resolve_params({"C": 1})
    with pytest.raises(StepDefinitionError, match="declares input 'zz'"):
        step(inputs=["zz"], name="f")(lambda ctx: None)


def test_retrain_rejects_a_typo_and_missing_data(tmp_path):
    (tmp_path / "d.csv").write_text("x,y\n1,0\n")
    with pytest.raises(InvalidInputError, match="targte"):
        build_retrain({"data": str(tmp_path), "target": "y", "name": "m", "targte": "y"})
    with pytest.raises(InvalidInputError, match="does not exist"):
        build_retrain({"data": str(tmp_path / "nope"), "target": "y", "name": "m"})


def test_cron_fields_ranges_steps_names_and_errors():
    t = calendar.timegm((2026, 1, 1, 0, 0, 0))  # a Thursday
    nxt = lambda expr, at=t: CronSchedule(expr).next_after(at) - at  # noqa: E731
    assert nxt("* * * * *") == 60
    assert nxt("0 * * * *") == 3600
    assert nxt("30 2 * * *") == 2 * 3600 + 1800
    assert nxt("0 0 * * mon") == 4 * 86400  # next Monday
    assert nxt("0 0 1 feb *") == 31 * 86400
    assert nxt("*/20 * * * *", t + 60) == 19 * 60
    for bad in ("* * * *", "61 * * * *", "5-1 * * * *", "*/0 * * * *", "0 0 * * funday"):
        with pytest.raises(InvalidInputError):
            CronSchedule(bad)
    assert parse_every("15m") == 900 and parse_every("2d") == 172800
    with pytest.raises(InvalidInputError):
        parse_every("soon")


def test_interval_fires_once_per_interval_with_its_cause():
    spec = TriggerSpec(id="e", pipeline="retrain", kind="every", every_s=60, cooldown_s=0)
    st = TriggerState()
    observe_schedule(spec, st, 0.0)
    observe_schedule(spec, st, 30.0)
    assert due(spec, st, now=30.0, running=0) is None
    observe_schedule(spec, st, 61.0)
    cause = due(spec, st, now=61.0, running=0)
    assert cause["kind"] == "schedule" and cause["scheduled"] == 60.0 and cause["trigger"] == "e"


def test_new_files_fire_once_settled_and_old_files_do_not(tmp_path):
    (tmp_path / "old.csv").write_text("x\n1\n")
    spec = TriggerSpec(id="n", pipeline="retrain", kind="new_data", path=str(tmp_path), cooldown_s=0)
    st = TriggerState()
    observe_files(spec, st, list_files(str(tmp_path)), 0.0)
    (tmp_path / "new.csv").write_text("x\n2\n")
    observe_files(spec, st, list_files(str(tmp_path)), 1.0)  # first seen: still settling
    assert due(spec, st, now=1.0, running=0) is None
    observe_files(spec, st, list_files(str(tmp_path)), 2.0)  # unchanged since: landed
    assert due(spec, st, now=2.0, running=0)["files"] == [str(tmp_path / "new.csv")]
    observe_files(spec, st, list_files(str(tmp_path)), 3.0)
    assert due(spec, st, now=3.0, running=0) is None


def test_an_alert_storm_is_one_run_then_at_most_one_more_after_the_cooldown_and_the_cap_holds():
    spec = TriggerSpec(id="d", pipeline="retrain", kind="drift", model="m", cooldown_s=100, max_concurrent=1)
    st = TriggerState()
    observe_alerts(spec, st, [], 0.0)
    fired = []
    for i in range(1, 51):  # 50 alerts in 50 s
        observe_alerts(spec, st, [{"id": j, "subject": "dataset", "state": "FIRING"} for j in range(1, i + 1)], float(i))
        c = due(spec, st, now=float(i), running=0)
        if c:
            fired.append(c)
    assert len(fired) == 1 and fired[0]["alerts"] == [1]
    assert due(spec, st, now=150.0, running=1) is None  # the cap: its run is still going
    later = due(spec, st, now=150.0, running=0)
    assert later["alerts"] == list(range(2, 51)) and st.coalesced == 48
    assert due(spec, st, now=400.0, running=0) is None  # nothing new: no run


def test_cli_errors_are_one_line_with_exit_2(tmp_path):
    env = cli_env(tmp_path / "home")
    bad = subprocess.run([PYTHON, "-m", "raymlops", "pipeline", "run", "retrain", "--param", "target=y"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "retrain parameters" in bad.stderr
    nowait = subprocess.run([PYTHON, "-m", "raymlops", "pipeline", "run", "retrain", "--no-wait"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert nowait.returncode == 2 and "--address" in nowait.stderr
    missing = subprocess.run([PYTHON, "-m", "raymlops", "pipeline", "status", "nope", "--json"], env=env, capture_output=True, text=True, timeout=120, cwd=REPO)
    assert missing.returncode == 2 and "pipeline run 'nope' does not exist" in missing.stderr


def test_the_key_does_not_depend_on_what_the_process_imported():
    code = (
        "import sys\n"
        "if sys.argv[1] == 'more':\n    import raymlops.cli, raymlops.demo, raymlops.serving.controller_actor  # noqa\n"
        "from raymlops.pipelines.steps import STEPS\nfrom raymlops.pipelines.cache_key import CodeFingerprint\n"
        "fp = CodeFingerprint([])\nprint(sorted((n, fp.digest(s.fn)) for n, s in STEPS.items()))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    outs = [subprocess.run([sys.executable, "-c", code, how], env=env, capture_output=True, text=True, timeout=120).stdout for how in ("less", "more")]
    assert outs[0] and outs[0] == outs[1]


def test_pipeline_files_loaded_from_many_threads_at_once_all_load(tmp_path):
    """Triggers start runs in threads of one actor: loading a project's pipeline file purges
    and re-imports the project's modules, so two loads at once must not see each other's half-done import."""
    import threading

    from raymlops.pipelines.loading import load_pipeline

    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (tmp_path / "helpers.py").write_text("import time\ntime.sleep(0.002)\nSCALE = 3\n")
    (tmp_path / "pipe.py").write_text(
        "from helpers import SCALE\nfrom raymlops.pipelines import Pipeline, step\n\n"
        "@step(outputs=['x'])\ndef make(ctx, *, n: int = SCALE):\n    pass\n\npipeline = Pipeline('p', [make])\n"
    )
    errors: list[BaseException] = []

    def load() -> None:
        for _ in range(15):
            try:
                p, _, _ = load_pipeline(str(tmp_path / "pipe.py"), {})
                assert p.order == ["make"]
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
