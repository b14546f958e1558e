from __future__ import annotations

import multiprocessing as mp
import os
import stat

import pytest

from raymlops.core.config import Settings
from raymlops.core.errors import ArtifactIntegrityError, InvalidNameError, InvalidRefError, ModelNotFoundError
from raymlops.registry import BlobStore, ModelRegistry, parse_ref


def test_versions_are_consecutive_per_name(registry):
    assert [registry.register({"v": i}, "a")["version"] for i in range(3)] == [1, 2, 3]
    assert registry.register({"v": 0}, "b")["version"] == 1
    assert registry.get("a")["version"] == 3
    assert registry.get("a@latest")["aliases"] == ["latest"]


def _register_many(home: str, worker: int, n: int) -> list[int]:
    reg = ModelRegistry.connect(Settings.resolve(home=home, env={}))
    return [reg.register({"worker": worker, "i": i}, "shared")["version"] for i in range(n)]


def test_concurrent_registration_from_processes_gives_consecutive_versions(settings, store):
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        got = pool.starmap(_register_many, [(str(settings.home), w, 8) for w in range(4)])
    versions = sorted(v for vs in got for v in vs)
    assert versions == list(range(1, 33))
    rows = ModelRegistry(store, BlobStore(settings.artifacts_dir)).versions.list_model_versions("shared")
    assert [r["version"] for r in rows] == list(range(1, 33))
    assert len({r["sha256"] for r in rows}) == 32


def test_load_verifies_the_hash_and_refuses_a_tampered_artifact(registry):
    rec = registry.register({"weights": [1, 2, 3]}, "m")
    assert registry.load("m@1") == {"weights": [1, 2, 3]}
    path = registry.blobs.path(rec["sha256"])
    os.chmod(path, stat.S_IWUSR | stat.S_IRUSR)
    data = bytearray(path.read_bytes())
    data[-2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="sha256 hash check failed for model m@1"):
        registry.load("m@1")


def test_signature_is_recorded(registry):
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "n": [1, 2, 3, 4]})
    model = LogisticRegression().fit(X, ["no", "no", "yes", "yes"])
    rec = registry.register(model, "clf", input_example=X)
    assert rec["signature"] == {
        "inputs": [{"name": "x", "type": "float"}, {"name": "n", "type": "int"}],
        "output": {"type": "class", "classes": ["no", "yes"]},
    }


def test_alias_moves_are_kept_in_history(registry):
    for i in range(3):
        registry.register({"i": i}, "m")
    registry.set_alias("m", 1, "production", reason="first")
    registry.set_alias("m", 2, "production", reason="better")
    registry.set_alias("m", 3, "challenger")
    registry.remove_alias("m", "challenger", reason="lost")
    assert registry.get("m@production")["version"] == 2
    assert registry.get("m@2")["aliases"] == ["production"]
    hist = [(h["alias"], h["from_version"], h["to_version"], h["reason"]) for h in registry.alias_history("m")]
    assert hist == [
        ("production", None, 1, "first"),
        ("production", 1, 2, "better"),
        ("challenger", None, 3, None),
        ("challenger", 3, None, "lost"),
    ]
    with pytest.raises(ModelNotFoundError):
        registry.get("m@challenger")


@pytest.mark.parametrize(
    "ref", ["", "../x@1", "a/b@1", "x@../../etc", "x@0", "x@-1", "x@", "@1", "x y@1", "a" * 65 + "@1"]
)
def test_malformed_refs_are_refused(ref):
    with pytest.raises(InvalidRefError):
        parse_ref(ref)


def test_names_and_aliases_are_validated(registry):
    with pytest.raises(InvalidNameError):
        registry.register({}, "../escape")
    registry.register({}, "ok")
    for bad in ("latest", "12", "a/b"):
        with pytest.raises(InvalidNameError):
            registry.set_alias("ok", 1, bad)
    with pytest.raises(ModelNotFoundError):
        registry.set_alias("ok", 5, "champion")


def test_champion_needs_a_blessing_or_a_recorded_force(registry):
    from raymlops.registry import PromotionRefusedError

    registry.register({"w": 1}, "g")
    with pytest.raises(PromotionRefusedError, match="never evaluated") as info:
        registry.set_alias("g", 1, "champion")
    assert info.value.exit_code == 1
    move = registry.set_alias("g", 1, "champion", reason="hotfix", force=True)
    assert move["forced"] is True and "forced" in move["reason"]
    assert registry.alias_history("g", "champion")[-1]["forced"] is True


def test_blobs_are_content_addressed(registry):
    a = registry.register({"same": 1}, "x")
    b = registry.register({"same": 1}, "y")
    assert a["sha256"] == b["sha256"]
    assert registry.blobs.path(a["sha256"]).is_file()
    assert len(list((registry.blobs.root / "sha256").rglob("*"))) == 2  # one prefix dir, one blob
