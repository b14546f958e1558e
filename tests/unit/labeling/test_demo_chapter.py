"""The demo's labeling chapter without Ray: Dawid-Skene beats majority vote, the spammers are named."""

from __future__ import annotations

from raymlops.core.config import Settings
from raymlops.demo.labeling import labeling_chapter
from raymlops.metadata import connect


def test_chapter_beats_majority_vote_and_names_the_spammers(tmp_path):
    settings = Settings.resolve(home=tmp_path, env={})
    lines: list[str] = []
    out = labeling_chapter(settings, say=lines.append)
    assert out["accuracy"]["dawid_skene"] > out["accuracy"]["majority_vote"]
    assert sum(g > 0 for g in out["gains_on_more_crowds"]) >= len(out["gains_on_more_crowds"]) - 1
    assert sum(w["true_accuracy"] <= 0.55 for w in out["worst_annotators"]) >= 3
    assert len(out["spammers_named"]) >= 3
    assert any("trusts least" in line for line in lines)
    store = connect(settings)
    graph = store.lineage(("artifact", out["artifacts"]["labels"]), direction="up", hops=4)
    uris = {n["uri"] for n in graph.to_dict()["nodes"]}
    assert f"file://{out['annotations_path']}" in uris
