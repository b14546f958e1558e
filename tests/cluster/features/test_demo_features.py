"""The feature-store demo chapter: PIT training set → model → lookup by entity key."""

from __future__ import annotations

from raymlops.demo.features import MODEL, chapter


def test_chapter_trains_from_a_pit_training_set_and_serves_by_entity_key(ray_session):
    from raymlops.metadata import connect
    from raymlops.registry import ModelRegistry

    lines: list[str] = []
    out = chapter(ray_session, say=lines.append)
    text = "\n".join(lines)
    assert out["training_rows"] == 4000 and "every one kept in order" in text
    assert 0 < out["training_nulls"]["driver_hourly__conv_rate"] < 4000 and out["training_nulls"]["driver_daily__rating"] == 0
    assert out["materialized"] == {"driver_hourly": 60, "driver_daily": 60}
    lookup = out["lookup"]
    assert lookup["status"]["driver_id"] == "REQUEST"
    assert {s for c, s in lookup["status"].items() if "__" in c} == {"PRESENT"}
    assert lookup["prediction"] in (0, 1) and out["expired_status"] == "OUTSIDE_MAX_AGE"
    assert out["test_accuracy"] > 0.55  # the label depends on the driver's stats at trip time
    # The model was trained on the training set file, whose own lineage names the definitions.
    # (The data pipeline's Ingest hashes a single file differently from data.artifacts, so it
    # records the same file as a second Dataset artifact instead of reusing ours: linked by uri.)
    store = connect(ray_session)
    model_art = ModelRegistry.connect(ray_session).get(out["model"])
    up = store.lineage(("artifact", model_art["artifact_id"]), direction="up", hops=12)
    uris = {n.get("uri") for n in up.nodes.values() if n["type"] == "Dataset"}
    training = [a for a in store.get_artifacts(type="Dataset") if a.uri in uris and a.properties.get("definition_version")]
    assert len(training) == 1 and training[0].properties["definition_version"] == out["definition_version"]
    defs = store.lineage(("artifact", training[0].id), direction="up", hops=2)
    assert {"GetHistoricalFeatures", "FeatureDefinitions"} <= {n["type"] for n in defs.nodes.values()}
    assert MODEL in out["model"]
