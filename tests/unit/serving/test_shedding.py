"""Best-effort mirroring: mirrors shed on a saturated primary or a full shadow queue, counted per reason and reported."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import raymlops.cli.serve as cli_serve
from raymlops.cli import cli
from raymlops.core.errors import InvalidInputError
from raymlops.serving.manager import RolloutManager
from raymlops.serving.rollout import RolloutPlan
from raymlops.serving.shadow import ShadowComparator
from raymlops.serving.shedding import SHED_REASONS, MirrorShedder, ShedCounts, primary_limit_for


def test_mirrors_are_sent_while_the_primary_keeps_up_and_the_shadow_drains():
    s = MirrorShedder(max_outstanding=4, primary_limit=3)
    for _ in range(100):
        s.primary_started("m")
        s.primary_started("m")  # two in flight, under the limit of 3
        s.primary_done("m")
        assert s.admit("m") is None
        s.shadow_done("m")
        s.primary_done("m")
    assert s.counts["m"].summary() == {"mirrored": 100, "dropped": dict.fromkeys(SHED_REASONS, 0), "dropped_share": 0.0}
    assert s.outstanding["m"] == 0 and s.primary_inflight["m"] == 0


def test_a_saturated_primary_sheds_every_mirror_until_it_recovers():
    s = MirrorShedder(max_outstanding=100, primary_limit=3)
    for _ in range(3):
        s.primary_started("m")
    assert [s.admit("m") for _ in range(5)] == ["primary_saturated"] * 5
    s.primary_done("m")  # 2 in flight: under the limit again
    assert s.admit("m") is None
    assert s.counts["m"].dropped == {"primary_saturated": 5, "shadow_queue_full": 0}
    assert s.counts["m"].mirrored == 1


def test_a_slow_shadow_fills_its_queue_and_later_mirrors_are_shed():
    s = MirrorShedder(max_outstanding=3, primary_limit=100)
    assert [s.admit("m") for _ in range(5)] == [None, None, None, "shadow_queue_full", "shadow_queue_full"]
    assert s.outstanding["m"] == 3
    s.shadow_done("m", 2)  # a batch of two answered
    assert [s.admit("m") for _ in range(3)] == [None, None, "shadow_queue_full"]
    c = s.counts["m"]
    assert (c.mirrored, c.dropped["shadow_queue_full"], round(c.dropped_share, 4)) == (5, 3, 0.375)


def test_saturation_is_checked_first_and_a_mirror_counts_once():
    s = MirrorShedder(max_outstanding=1, primary_limit=1)
    assert s.admit("m") is None
    s.primary_started("m")
    assert s.admit("m") == "primary_saturated"  # both bounds are reached
    assert s.counts["m"].dropped_total == 1


def test_models_are_shed_independently():
    s = MirrorShedder(max_outstanding=1, primary_limit=1)
    s.primary_started("busy")
    assert s.admit("busy") == "primary_saturated"
    assert s.admit("idle") is None
    assert s.admit("idle") == "shadow_queue_full"
    assert s.models() == {"busy", "idle"}


def test_answers_never_take_the_counters_below_zero():
    s = MirrorShedder(max_outstanding=1, primary_limit=1)
    s.primary_done("m")
    s.shadow_done("m", 5)
    assert s.admit("m") is None  # a late answer after a restart does not open the bounds
    assert s.outstanding["m"] == 1


def test_flush_hands_over_the_counts_and_starts_again():
    s = MirrorShedder(max_outstanding=1, primary_limit=10)
    assert s.flush("m") is None
    s.admit("m")
    s.admit("m")
    assert s.flush("m") == {"mirrored": 1, "dropped": {"primary_saturated": 0, "shadow_queue_full": 1}}
    assert s.flush("m") is None and s.models() == set()
    assert s.outstanding["m"] == 1  # what is in flight stays in flight


def test_the_primary_limit_is_a_share_of_the_servers_max_ongoing_requests():
    assert primary_limit_for(64) == 16
    assert primary_limit_for(64, 0.5) == 32
    assert primary_limit_for(1) == 1
    for bad in ((0,), (64, 0.0), (64, 1.5), (True,)):
        with pytest.raises(InvalidInputError):
            primary_limit_for(*bad)


@pytest.mark.parametrize("kwargs", [{"max_outstanding": 0}, {"primary_limit": 0}, {"primary_limit": 2.5}])
def test_bounds_are_positive_integers(kwargs):
    with pytest.raises(InvalidInputError, match="must be an integer of at least 1"):
        MirrorShedder(**kwargs)


def test_counts_merge_by_addition_and_round_trip():
    a, b = ShedCounts(), ShedCounts()
    a.record(None, 10)
    a.record("primary_saturated", 3)
    b.record(None, 5)
    b.record("shadow_queue_full", 2)
    merged = a + b
    assert merged.to_dict() == {"mirrored": 15, "dropped": {"primary_saturated": 3, "shadow_queue_full": 2}}
    assert merged.dropped_share == 5 / 20
    assert a.to_dict() == {"mirrored": 10, "dropped": {"primary_saturated": 3, "shadow_queue_full": 0}}  # + copies
    assert ShedCounts.from_dict(json.loads(json.dumps(merged.to_dict()))) == merged
    assert ShedCounts().summary() == {"mirrored": 0, "dropped": dict.fromkeys(SHED_REASONS, 0), "dropped_share": None}
    with pytest.raises(InvalidInputError, match="unknown shed reason 'tired'"):
        a.record("tired")


@pytest.mark.parametrize(
    "bad",
    [
        {"mirrored": 1},
        {"mirrored": -1, "dropped": {"primary_saturated": 0, "shadow_queue_full": 0}},
        {"mirrored": 1, "dropped": {"primary_saturated": 0}},
        {"mirrored": 1, "dropped": {"primary_saturated": True, "shadow_queue_full": 0}},
        [],
    ],
)
def test_invalid_count_dicts_are_refused(bad):
    with pytest.raises(InvalidInputError):
        ShedCounts.from_dict(bad)


def _shadow_manager() -> RolloutManager:
    m = RolloutManager(gate_interval_s=5)
    m.serve("iris", 1, now=0.0)
    m.start(RolloutPlan(model="iris", strategy="shadow", from_version=1, to_version=2, bake_s=60), now=0.0)
    return m


def _replica_flush(mirrored: int, saturated: int, full: int) -> dict:
    s = MirrorShedder(max_outstanding=1_000_000, primary_limit=1)
    for _ in range(mirrored):
        s.admit("iris")
    s.primary_started("iris")
    for _ in range(saturated):
        s.admit("iris")
    s.primary_done("iris")
    s.max_outstanding = 1  # the shadow's queue is now over its bound
    for _ in range(full):
        s.admit("iris")
    return {"models": {"iris": {"shadow": ShadowComparator().flush(), "mirroring": s.flush("iris")}}}


def test_counts_of_every_ingress_replica_merge_into_rollout_status():
    m = _shadow_manager()
    m.report(_replica_flush(mirrored=70, saturated=20, full=0))
    m.report(_replica_flush(mirrored=10, saturated=0, full=5))
    m.report({"models": {"iris": {"stats": {}}}})  # a flush without mirrors changes nothing
    sh = m.status("iris")["shadow"]
    assert sh["mirrored"] == 80
    assert sh["dropped"] == {"primary_saturated": 20, "shadow_queue_full": 5}
    assert sh["dropped_share"] == round(25 / 105, 4)
    assert json.loads(json.dumps(sh))["dropped_share"] == sh["dropped_share"]


def test_a_new_rollout_starts_its_counts_from_zero():
    m = _shadow_manager()
    m.report(_replica_flush(mirrored=3, saturated=1, full=0))
    m.rollback("iris", now=1.0)
    m.start(RolloutPlan(model="iris", strategy="shadow", from_version=1, to_version=3, bake_s=60), now=2.0)
    sh = m.status("iris")["shadow"]
    assert (sh["mirrored"], sh["dropped_share"]) == (0, None)


def test_rollout_status_shows_the_dropped_share_in_json_and_text(monkeypatch):
    m = _shadow_manager()
    m.report(_replica_flush(mirrored=90, saturated=8, full=2))
    controller = type("Controller", (), {"status": staticmethod(m.status)})()
    monkeypatch.setattr(cli_serve, "_controller", lambda cctx: controller)
    monkeypatch.setattr(cli_serve, "call_actor", lambda method, *args: method(*args))
    runner = CliRunner()
    out = runner.invoke(cli, ["rollout", "status", "iris", "--json"])
    assert out.exit_code == 0, out.output
    sh = json.loads(out.output)["shadow"]
    assert (sh["dropped"], sh["dropped_share"]) == ({"primary_saturated": 8, "shadow_queue_full": 2}, 0.1)
    text = runner.invoke(cli, ["rollout", "status", "iris"])
    assert text.exit_code == 0, text.output
    assert (
        "mirrored 90, dropped 10 (10.0% of those chosen for mirroring: primary saturated 8, shadow queue full 2)"
        in text.output
    )
