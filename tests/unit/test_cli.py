"""The CLI as a user meets it: real subprocesses, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import PYTHON, cli_env


def run(home, *args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [PYTHON, "-m", "raymlops", *args], capture_output=True, text=True, env=cli_env(home, **env), timeout=120
    )


@pytest.fixture
def populated(settings, registry, store):
    from raymlops.metadata import Artifact
    from raymlops.tracking import start_run

    data = Artifact(type="Dataset", uri="file:///data.csv", sha256="c" * 64)
    with start_run("exp", params={"C": 1}, seed=1, inputs=[data], store=store) as r:
        r.log_metric("accuracy", 0.9)
        registry.register({"w": 1}, "iris", run=r, signature={"inputs": [{"name": "x", "type": "double"}], "output": {}})
    registry.register({"w": 2}, "iris")
    registry.set_alias("iris", 1, "champion", reason="best so far", force=True)
    return settings.home


def test_models_list_show_alias_history_json(populated):
    out = json.loads(run(populated, "models", "list", "--json").stdout)
    assert out == [{"name": "iris", "latest_version": 2, "versions": 2, "aliases": {"champion": 1}}]
    show = json.loads(run(populated, "--json", "models", "show", "iris@champion").stdout)
    assert {"name", "version", "aliases", "sha256", "signature"} <= set(show)
    assert (show["name"], show["version"], show["aliases"]) == ("iris", 1, ["champion"])
    refused = run(populated, "models", "alias", "iris", "2", "champion", "--reason", "retrained")
    assert refused.returncode == 1 and "never evaluated" in refused.stderr
    moved = run(populated, "models", "alias", "iris", "2", "champion", "--reason", "retrained", "--force", "--json")
    assert moved.returncode == 0, moved.stderr
    hist = json.loads(run(populated, "models", "history", "iris", "--json").stdout)
    assert [(h["from_version"], h["to_version"], h["forced"]) for h in hist] == [(None, 1, True), (1, 2, True)]
    assert hist[-1]["reason"].startswith("retrained; forced: it was never evaluated")
    human = run(populated, "models", "list")
    assert "champion=2" in human.stdout


def test_runs_list_and_lineage_json(populated):
    runs = json.loads(run(populated, "runs", "list", "--json").stdout)
    assert runs[0]["metrics"] == {"accuracy": 0.9} and runs[0]["params"] == {"C": 1}
    g = json.loads(run(populated, "lineage", "iris@1", "--direction", "up", "--hops", "2", "--json").stdout)
    types = sorted((n["kind"], n["type"]) for n in g["nodes"])
    assert types == [("artifact", "Dataset"), ("artifact", "Model"), ("execution", "Run")]
    assert all({"id", "kind", "type", "uri"} <= set(n) for n in g["nodes"])
    assert all(set(e) == {"source", "target", "type"} for e in g["edges"])
    one_hop = json.loads(run(populated, "lineage", "iris@1", "--direction", "up", "--hops", "1", "--json").stdout)
    assert len(one_hop["nodes"]) == 2


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("models", "show", "nope@1"), 2, "not in the registry"),
        (("models", "show", "../../etc@1"), 2, "invalid model reference"),
        (("models", "show", "iris@0"), 2, "versions start at 1"),
        (("lineage", "iris@2", "--direction", "sideways"), 2, "Invalid value for '--direction'"),
        (("models", "alias", "iris", "one", "champion"), 2, "is not a valid integer"),
        (("models", "alias", "iris", "1", "latest"), 2, "cannot be set"),
        (("--metadata-uri", "sqlite:////nonexistent/dir/m.db", "models", "list"), 2, "cannot open the metadata store"),
        (("--metadata-uri", "postgresql://u:secret@127.0.0.1:9/db", "models", "list"), 2, "cannot open the metadata store"),
        (("lineage", "artifact:999"), 2, "does not exist"),
        (("frobnicate",), 2, "No such command"),
    ],
)
def test_bad_input_is_one_clear_line(populated, args, code, needle):
    res = run(populated, *args)
    assert res.returncode == code, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and needle in lines[0], res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    assert "secret" not in res.stderr


def test_unwritable_home_is_one_clear_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = run(blocker / "home", "models", "list")
    assert res.returncode == 2
    assert res.stderr.strip().count("\n") == 0 and "not writable" in res.stderr
    assert "Traceback" not in res.stderr


def test_json_errors_are_json(populated):
    res = run(populated, "models", "show", "nope@1", "--json")
    assert res.returncode == 2
    assert json.loads(res.stdout)["error"]["code"] == "model_not_found"
