"""The decay chapter runs end to end and reports what the README promises."""

from __future__ import annotations


def test_decay_chapter_promotes_and_prints_the_lineage(ray_session, tmp_path):
    from raymlops.core.config import Settings
    from raymlops.demo_pipelines import chapter

    settings = Settings.resolve(home=tmp_path / "demo-home", env={"RAYMLOPS_HOME": str(tmp_path / "demo-home")})
    lines: list[str] = []
    out = chapter(settings, say=lines.append)
    text = "\n".join(lines)
    assert out["champion"] == 2 and out["verdict"] == "BLESSED" and out["failed"] == 0, text
    assert out["steps"]["ingest[day1.csv]"] == "cached" and out["alert_to_canary_s"] <= 120, text
    assert "RolloutDecision" in text and "TriggerCause" in text, text
