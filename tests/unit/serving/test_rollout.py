"""The rollout state machine: every strategy's path, gating, manual overrides, persistence."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raymlops.core.errors import ConflictError, InvalidInputError
from raymlops.serving.gates import ErrorRateGate, GateStatus, LatencyGate, VersionStats, evaluate_gates
from raymlops.serving.rollout import (
    ACTIONS,
    Rollout,
    RolloutPlan,
    RolloutRecord,
    RolloutState,
    RolloutStateError,
)
from raymlops.serving.routing import route

PASS, FAIL, WAIT = GateStatus.PASS, GateStatus.FAIL, GateStatus.INSUFFICIENT_DATA


def plan(strategy: str = "canary", **kw) -> RolloutPlan:
    args = {"model": "iris", "strategy": strategy, "from_version": 3, "to_version": 4, "bake_s": 60, **kw}
    return RolloutPlan(**args)


def routes(r: Rollout) -> list[tuple[int, float]]:
    return [(x.version, x.percent) for x in r.routing_table().routes]


def actions(r: Rollout) -> list[str]:
    return [h.action for h in r.history]


# --------------------------------------------------------------------------- canary


def test_canary_advances_through_steps_and_promotes():
    r = Rollout(plan("canary", steps=[10, 50, 100]))
    assert r.state is RolloutState.PENDING and routes(r) == [(3, 100.0)]
    r.start(now=0)
    assert (r.state, r.step, r.percent) == (RolloutState.RUNNING, 0, 10.0)
    assert routes(r) == [(4, 10.0), (3, 90.0)]
    assert r.tick(now=59, verdict=PASS).action == "hold"  # bake not over
    rec = r.tick(now=60, verdict=PASS)
    assert (rec.action, rec.step, rec.percent) == ("advance", 1, 50.0)
    assert routes(r) == [(4, 50.0), (3, 50.0)]
    r.tick(now=120, verdict=PASS)
    assert (r.step, routes(r)) == (2, [(4, 100.0), (3, 0.0)])  # old version still deployed
    rec = r.tick(now=180, verdict=PASS)
    assert rec.action == "promote" and r.state is RolloutState.PROMOTED
    assert r.routing_table().deployed_versions == (4,)
    assert actions(r) == ["start", "hold", "advance", "advance", "promote"]
    assert r.tick(now=240, verdict=FAIL) is None  # final


def test_bake_clock_restarts_at_each_step():
    r = Rollout(plan("canary", steps=[10, 50, 100], bake_s=[30, 60, 90]))
    r.start(now=0)
    r.tick(now=100, verdict=PASS)  # step 0 baked at 30: advance at 100
    assert r.step == 1
    assert r.tick(now=159, verdict=PASS).action == "hold"
    assert r.tick(now=160, verdict=PASS).action == "advance"
    assert r.tick(now=249, verdict=PASS).action == "hold"
    assert r.tick(now=250, verdict=PASS).action == "promote"


def test_insufficient_data_waits_even_after_the_bake():
    r = Rollout(plan("canary", steps=[10, 100]))
    r.start(now=0)
    for t in (60, 120, 600):
        rec = r.tick(now=t, verdict=WAIT)
        assert rec.action == "hold" and r.step == 0
    assert r.tick(now=601, verdict=PASS).action == "advance"


def test_fail_rolls_back_immediately_mid_bake():
    r = Rollout(plan("canary"))
    r.start(now=0)
    rec = r.tick(now=1, verdict=FAIL)
    assert (rec.action, rec.state) == ("rollback", RolloutState.ROLLED_BACK)
    assert routes(r) == [(3, 100.0)]
    assert r.routing_table().deployed_versions == (3,)


def test_failing_canary_is_rolled_back_within_two_gate_intervals():
    """Simulated traffic through route() into VersionStats; the canary starts failing mid-step."""
    interval, fail_at = 10.0, 95.0
    gates = (ErrorRateGate(max_rate=0.05, min_samples=50), LatencyGate(max_ms=200, min_samples=50))
    r = Rollout(plan("canary", steps=[10, 50, 100], bake_s=60, gates=gates))
    rng = np.random.default_rng(7)
    r.start(now=0)
    t, rolled_back_at = 0.0, None
    while t < 400:
        t += interval
        table = r.routing_table()
        window = {3: VersionStats(), 4: VersionStats()}  # stats of the last gate interval
        for i in range(1000):  # 100 requests/s for one interval
            now = t - interval + i * interval / 1000
            d = route(table, key=f"user-{rng.integers(10_000)}", u=float(rng.random()))
            broken = d.version == 4 and now >= fail_at
            window[d.version].record_request(float(rng.gamma(2, 10)), error=bool(broken and rng.random() < 0.3))
        rec = r.tick(now=t, verdict=evaluate_gates(r.plan.gates, window[4], window[3]))
        if rec is not None and rec.action == "rollback":
            rolled_back_at = t
            break
    assert rolled_back_at is not None
    assert rolled_back_at - fail_at <= 2 * interval
    last = r.history[-1]
    assert last.numbers["error_rate"] > 0.05 and "error_rate" in last.reason
    assert [x.action for x in r.history if x.action != "hold"] == ["start", "advance", "rollback"]
    assert routes(r) == [(3, 100.0)]


def test_canary_users_stay_in_the_canary_as_it_grows():
    r = Rollout(plan("canary", steps=[5, 10, 50, 100]))
    r.start(now=0)
    seen = []
    for k in range(3):
        table = r.routing_table()
        seen.append({f"u{i}" for i in range(3000) if route(table, key=f"u{i}", u=0.0).version == 4})
        r.tick(now=60 * (k + 1), verdict=PASS)
    assert seen[0] <= seen[1] <= seen[2]
    assert r.routing_table().salt == "iris@4"


def test_last_step_below_100_holds_until_promote():
    r = Rollout(plan("canary", steps=[20]))
    r.start(now=0)
    rec = r.tick(now=60, verdict=PASS)
    assert (rec.action, r.state, r.percent) == ("hold", RolloutState.HOLDING, 20.0)
    assert "holding until promote or rollback" in rec.reason
    r.tick(now=70, verdict=PASS)
    r.tick(now=80, verdict=WAIT)
    assert r.state is RolloutState.HOLDING
    rec = r.promote(now=90, reason="looks good")
    assert (rec.action, rec.reason, r.state) == ("manual_promote", "looks good", RolloutState.PROMOTED)
    assert routes(r) == [(4, 100.0)]


def test_failing_gates_roll_back_a_holding_rollout():
    r = Rollout(plan("canary", steps=[20]))
    r.start(now=0)
    r.tick(now=60, verdict=PASS)
    assert r.tick(now=61, verdict=FAIL).action == "rollback"
    assert r.state is RolloutState.ROLLED_BACK


# --------------------------------------------------------------------------- other strategies


def test_recreate_path_and_rollback():
    p = plan("recreate")
    assert p.steps == (100.0,) and p.wait_ready is False
    r = Rollout(p)
    r.start(now=0)
    assert routes(r) == [(4, 100.0)] and r.routing_table().deployed_versions == (4,)  # old removed
    assert r.routing_table().strategy == "recreate"
    assert r.tick(now=30, verdict=PASS).action == "hold"
    assert r.tick(now=60, verdict=PASS).action == "promote"
    r2 = Rollout(p)
    r2.start(now=0)
    r2.tick(now=5, verdict=FAIL)
    assert routes(r2) == [(3, 100.0)]  # recreated the old version


def test_recreate_cannot_set_percent():
    r = Rollout(plan("recreate"))
    r.start(now=0)
    with pytest.raises(RolloutStateError, match="one version"):
        r.set_percent(50, now=1)


def test_blue_green_waits_for_ready_then_switches_and_retires_old():
    r = Rollout(plan("blue-green"))
    r.start(now=0)
    assert routes(r) == [(4, 0.0), (3, 100.0)]  # green deployed, no traffic
    assert r.waiting_ready and r.percent == 0
    for t in (10, 20, 500):
        assert r.tick(now=t, verdict=PASS).action == "hold"  # bake does not run before ready
    assert actions(r) == ["start", "hold"]  # identical holds are recorded once
    with pytest.raises(RolloutStateError, match="has not reported ready"):
        r.promote(now=501)
    rec = r.mark_ready(now=510)
    assert rec.action == "ready" and rec.numbers["waited_s"] == 510
    assert r.mark_ready(now=511) is None  # idempotent
    assert routes(r) == [(4, 100.0), (3, 0.0)]  # old kept warm
    assert r.tick(now=569, verdict=PASS).action == "hold"
    rec = r.tick(now=570, verdict=PASS)
    assert rec.action == "promote" and "version 3 retired" in rec.reason
    assert routes(r) == [(4, 100.0)]


def test_blue_green_instant_switch_back_during_final_bake():
    r = Rollout(plan("blue-green"))
    r.start(now=0)
    r.mark_ready(now=5)
    before = r.revision
    r.tick(now=20, verdict=FAIL)
    assert routes(r) == [(3, 100.0)] and r.revision == before + 1


def test_blue_green_ready_timeout_rolls_back():
    r = Rollout(plan("blue-green", ready_timeout_s=120))
    r.start(now=0)
    assert r.tick(now=119, verdict=PASS).action == "hold"
    rec = r.tick(now=120, verdict=PASS)
    assert rec.action == "rollback" and "did not report ready within 120s" in rec.reason
    assert routes(r) == [(3, 100.0)]


def test_blue_green_schedule_of_percents():
    r = Rollout(plan("blue-green", steps=[25, 100], bake_s=[10, 20]))
    r.start(now=0)
    r.mark_ready(now=0)
    assert routes(r) == [(4, 25.0), (3, 75.0)]
    r.tick(now=10, verdict=PASS)
    assert routes(r) == [(4, 100.0), (3, 0.0)]
    assert r.tick(now=30, verdict=PASS).action == "promote"


def test_ab_holds_at_fixed_split_until_manual_decision():
    p = plan("ab")
    assert p.steps == (50.0,)
    r = Rollout(p)
    r.start(now=0)
    assert routes(r) == [(4, 50.0), (3, 50.0)] and r.routing_table().strategy == "ab"
    r.tick(now=60, verdict=PASS)
    assert r.state is RolloutState.HOLDING
    rec = r.rollback(now=1000, reason="B lost: p=0.003")
    assert (rec.action, r.state) == ("manual_rollback", RolloutState.ROLLED_BACK)
    assert routes(r) == [(3, 100.0)]


def test_shadow_mirrors_then_holds_then_promotes():
    r = Rollout(plan("shadow", mirror_percent=20))
    r.start(now=0)
    t = r.routing_table()
    assert (routes(r), t.shadow, t.mirror_percent, r.percent) == ([(3, 100.0)], 4, 20.0, 0.0)
    r.tick(now=60, verdict=PASS)
    assert r.state is RolloutState.HOLDING
    r.set_percent(50, now=70)  # for shadow: the mirrored share
    assert r.routing_table().mirror_percent == 50.0 and r.percent == 0.0
    r.promote(now=80)
    t = r.routing_table()
    assert (routes(r), t.shadow) == ([(4, 100.0)], None)


def test_ending_a_shadow_is_recorded_as_such_not_as_a_rollback():
    r = Rollout(plan("shadow", mirror_percent=50))
    r.start(now=0)
    rec = r.rollback(now=10, reason="seen enough")  # stopping a shadow rolls nothing back
    assert (rec.action, rec.state, r.is_final) == ("end_shadow", RolloutState.ENDED, True)
    t = r.routing_table()
    assert (routes(r), t.shadow, t.mirror_percent) == ([(3, 100.0)], None, 0.0)
    assert Rollout.from_dict(json.loads(json.dumps(r.to_dict()))) == r
    with pytest.raises(RolloutStateError):
        r.end_shadow(now=11)
    canary = Rollout(plan("canary", steps=[10, 100]))
    canary.start(now=0)
    with pytest.raises(RolloutStateError, match="no shadow phase"):
        canary.end_shadow(now=1)
    assert canary.rollback(now=2).action == "manual_rollback"


def test_a_new_rollout_ends_the_running_shadow_first():
    from raymlops.serving.manager import RolloutManager

    m = RolloutManager(gate_interval_s=5)
    m.serve("iris", 3, now=0.0)
    m.start(plan("shadow", mirror_percent=50), now=0.0)
    with pytest.raises(ConflictError):
        m.start(plan("canary", steps=[10, 100]), now=1.0)  # the shadow must be ended first
    with pytest.raises(ConflictError, match="not 9"):
        m.end_shadow_for(plan("canary", steps=[10, 100], from_version=9), now=1.0)  # a bad plan ends nothing
    assert m.status("iris")["state"] == "RUNNING"
    ended = m.end_shadow_for(plan("canary", steps=[10, 100]), now=2.0)
    assert (ended.action, ended.state.value) == ("end_shadow", "ENDED")
    assert "a canary rollout of version 4 starts" in ended.reason
    assert m.start(plan("canary", steps=[10, 100]), now=2.0).action == "start"
    assert [d["action"] for d in m.status("iris")["decisions"]][-2:] == ["end_shadow", "start"]
    with pytest.raises(ConflictError, match="canary rollout of iris is in progress"):
        m.end_shadow_for(plan("canary", steps=[10, 100], to_version=5), now=3.0)  # a canary is not ended, it is rolled back


# --------------------------------------------------------------------------- manual operations


def test_set_percent_holds_at_the_new_percent():
    r = Rollout(plan("canary", steps=[10, 50, 100]))
    r.start(now=0)
    rec = r.set_percent(25, now=5, reason="ops asked")
    assert (rec.action, rec.percent, r.state) == ("set_percent", 25.0, RolloutState.HOLDING)
    assert routes(r) == [(4, 25.0), (3, 75.0)]
    r.tick(now=1000, verdict=PASS)
    assert r.percent == 25.0  # no more automatic steps
    with pytest.raises(InvalidInputError, match="two decimals"):
        r.set_percent(10.001, now=6)
    with pytest.raises(InvalidInputError, match="between 0 and 100"):
        r.set_percent(120, now=6)


def test_operations_refused_in_the_wrong_state():
    r = Rollout(plan())
    with pytest.raises(RolloutStateError, match="call start"):
        r.tick(now=0, verdict=PASS)
    with pytest.raises(RolloutStateError):
        r.promote(now=0)
    with pytest.raises(RolloutStateError):
        r.set_percent(20, now=0)
    r.start(now=0)
    with pytest.raises(RolloutStateError, match="starts once"):
        r.start(now=1)
    r.rollback(now=2)
    for op in (lambda: r.promote(now=3), lambda: r.rollback(now=3), lambda: r.set_percent(5, now=3)):
        with pytest.raises(RolloutStateError) as e:
            op()
        assert isinstance(e.value, ConflictError) and e.value.http_status == 409


def test_rollback_before_start_cancels():
    r = Rollout(plan())
    rec = r.rollback(now=0, reason="cancelled")
    assert (rec.step, r.state, routes(r)) == (None, RolloutState.ROLLED_BACK, [(3, 100.0)])


def test_tick_needs_a_verdict_when_the_plan_has_gates():
    r = Rollout(plan(gates=[ErrorRateGate(max_rate=0.01)]))
    r.start(now=0)
    with pytest.raises(InvalidInputError, match="GateVerdict"):
        r.tick(now=1)
    with pytest.raises(InvalidInputError, match="verdict must be"):
        r.tick(now=1, verdict="MAYBE")
    assert r.tick(now=1, verdict="INSUFFICIENT_DATA").action == "hold"
    r2 = Rollout(plan(steps=[100]))
    r2.start(now=0)
    assert r2.tick(now=60).action == "promote"  # no gates: None is PASS


def test_insufficient_data_record_names_the_gates_and_numbers():
    r = Rollout(plan(gates=[ErrorRateGate(max_rate=0.01, min_samples=100)]))
    r.start(now=0)
    s = VersionStats()
    s.record_requests([5.0] * 40)
    rec = r.tick(now=10, verdict=evaluate_gates(r.plan.gates, s))
    assert rec.reason == "waiting for data: error_rate"
    assert rec.numbers["error_rate_samples"] == 40 and rec.numbers["bake_s"] == 60


# --------------------------------------------------------------------------- records, revisions, persistence


def test_revision_grows_with_every_traffic_change_only():
    r = Rollout(plan("canary", steps=[10, 100]), revision=41)
    assert r.routing_table().revision == 41
    r.start(now=0)
    assert r.routing_table().revision == 42
    r.tick(now=10, verdict=PASS)  # hold
    assert r.revision == 42
    r.tick(now=60, verdict=PASS)  # advance
    r.tick(now=120, verdict=PASS)  # promote
    assert r.revision == 44 and r.routing_table().revision == 44


def test_history_records_have_all_fields_and_serialise():
    r = Rollout(plan("canary", steps=[10, 100], gates=[ErrorRateGate(max_rate=0.5, min_samples=1)]))
    r.start(now=100)
    s = VersionStats()
    s.record_requests([1.0, 2.0], errors=0)
    r.tick(now=200, verdict=evaluate_gates(r.plan.gates, s))
    d = json.loads(json.dumps(r.history[-1].to_dict()))
    assert set(d) == {"time", "step", "percent", "action", "reason", "state", "numbers"}
    assert d["action"] == "advance" and d["numbers"]["error_rate"] == 0.0
    assert RolloutRecord.from_dict(d) == r.history[-1]
    assert set(ACTIONS) >= set(actions(r))
    with pytest.raises(InvalidInputError, match="unknown rollout action"):
        RolloutRecord.from_dict({**d, "action": "explode"})


def test_rollout_roundtrip_resumes_where_it_was():
    r = Rollout(plan("blue-green", steps=[50, 100], gates=[ErrorRateGate(max_rate=0.01)]))
    r.start(now=0)
    r.mark_ready(now=3)
    r.tick(now=70, verdict=PASS)
    back = Rollout.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r and repr(back) == repr(r)
    assert pickle.loads(pickle.dumps(r)) == r  # the controller actor may be restarted by Ray
    assert back.routing_table() == r.routing_table()
    assert back.tick(now=140, verdict=PASS).action == "promote"
    assert r.tick(now=140, verdict=PASS).action == "promote"
    assert back == r
    with pytest.raises(InvalidInputError, match="exactly the keys"):
        Rollout.from_dict({"plan": r.plan.to_dict()})


# --------------------------------------------------------------------------- plans


def test_plan_defaults_and_roundtrip():
    p = RolloutPlan(model="iris", strategy="canary", from_version=1, to_version=2, gates=[{"kind": "error_rate", "max_rate": 0.01}])
    assert p.steps == (10.0, 50.0, 100.0) and p.bake_s == (300.0, 300.0, 300.0)
    assert p.gates == (ErrorRateGate(max_rate=0.01),)
    assert p.salt == "iris@2" and p.sticky_header == "x-user-id"
    d = json.loads(json.dumps(p.to_dict()))
    assert RolloutPlan.from_dict(d) == p
    assert RolloutPlan(model="iris", strategy="shadow", from_version=1, to_version=2).stages == (0.0,)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"to_version": 3}, "both 3"),
        ({"strategy": "yolo"}, "unknown strategy"),
        ({"steps": [50, 10]}, "strictly increasing"),
        ({"steps": [0, 100]}, "above 0"),
        ({"steps": [10, 150]}, "above 0 and at most 100"),
        ({"steps": []}, "at least one step"),
        ({"steps": "10,50"}, "list of percents"),
        ({"strategy": "recreate", "steps": [50]}, "single step"),
        ({"strategy": "shadow", "steps": [100]}, "no steps"),
        ({"bake_s": -1}, "non-negative"),
        ({"bake_s": [1, 2]}, "one per stage"),
        ({"gates": [{"kind": "nope"}]}, "unknown gate kind"),
        ({"gates": [ErrorRateGate(max_rate=0.1), ErrorRateGate(max_rate=0.2)]}, "unique"),
        ({"strategy": "recreate", "wait_ready": True}, "cannot wait"),
        ({"sticky_header": "no spaces"}, "header name"),
        ({"salt": "a\x1f"}, "salt"),
        ({"mirror_percent": 200}, "mirror_percent"),
        ({"ready_timeout_s": float("nan")}, "ready_timeout_s"),
        ({"from_version": "3"}, "from_version"),
    ],
)
def test_invalid_plans_are_rejected(kwargs, match):
    with pytest.raises(InvalidInputError, match=match):
        plan(**kwargs)


def test_plan_is_keyword_only_and_rejects_unknown_dict_keys():
    with pytest.raises(TypeError):
        RolloutPlan("iris", "canary", 1, 2)  # type: ignore[misc]
    with pytest.raises(InvalidInputError, match="unknown rollout plan key"):
        RolloutPlan.from_dict({**plan().to_dict(), "bake": 3})
    with pytest.raises(InvalidInputError, match="needs"):
        RolloutPlan.from_dict({"model": "iris"})


# --------------------------------------------------------------------------- properties


OPS = st.lists(
    st.tuples(
        st.sampled_from(["tick", "tick", "tick", "ready", "promote", "rollback", "set_percent"]),
        st.sampled_from([PASS, FAIL, WAIT]),
        st.integers(min_value=0, max_value=100),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(strategy=st.sampled_from(["recreate", "blue-green", "canary", "ab", "shadow"]), ops=OPS)
def test_any_sequence_keeps_the_invariants(strategy, ops):
    r = Rollout(plan(strategy, bake_s=20))
    r.start(now=0)
    now, last_rev = 0.0, r.revision
    for op, verdict, p in ops:
        now += 15
        final_before = r.is_final
        try:
            if op == "tick":
                r.tick(now=now, verdict=verdict)
            elif op == "ready":
                r.mark_ready(now=now)
            elif op == "promote":
                r.promote(now=now)
            elif op == "rollback":
                r.rollback(now=now)
            else:
                r.set_percent(p, now=now)
        except RolloutStateError:
            pass
        if final_before:
            assert r.is_final  # final states are final
        table = r.routing_table()  # always a valid table
        assert table.revision == r.revision >= last_rev
        last_rev = r.revision
        assert set(table.deployed_versions) <= {3, 4}
        if r.state is RolloutState.PROMOTED:
            assert table.live_versions == (4,)
        if r.state is RolloutState.ROLLED_BACK or r.waiting_ready:
            assert table.live_versions == (3,)
        if strategy == "recreate" and r.state in (RolloutState.RUNNING, RolloutState.HOLDING):
            assert table.deployed_versions == (4,)
    assert [h.time for h in r.history] == sorted(h.time for h in r.history)
    assert all(h.action in ACTIONS for h in r.history)
    assert Rollout.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_a_ratio_gate_at_the_100_percent_step_compares_with_the_stable_versions_stats_so_far():
    """At 100% the stable version serves nothing in the window; its stats since the start stand in."""
    from raymlops.serving.manager import RolloutManager

    m = RolloutManager(gate_interval_s=1)
    m.serve("iris", 3, now=0.0)
    gates = (LatencyGate(max_ratio=2.0, min_samples=20),)
    m.start(plan("canary", steps=[50, 100], bake_s=0, gates=gates), now=0.0)

    def flush(**per_version: float) -> None:
        stats = {}
        for v, ms in per_version.items():
            s = VersionStats()
            for _ in range(40):
                s.record_request(ms)
            stats[v[1:]] = s.to_dict()
        m.report({"models": {"iris": {"stats": stats}}})

    flush(v3=10.0, v4=12.0)
    assert [rec.action for _, rec in m.tick(now=2.0)] == ["advance"]  # 50% -> 100%
    s = VersionStats()
    s.record_request(10.0)  # a straggler of version 3, answered after the switch: not a window's worth
    m.report({"models": {"iris": {"stats": {"3": s.to_dict()}}}})
    flush(v4=12.0)  # version 3 gets nothing now
    assert [rec.action for _, rec in m.tick(now=4.0)] == ["promote"]
    m.serve("iris", 4, now=5.0)
    m.start(plan("canary", from_version=4, to_version=5, steps=[100], bake_s=0, gates=gates), now=5.0)
    flush(v5=12.0)
    verdict = m.tick(now=7.0)  # no stats of version 4 since this rollout started: the gate waits
    assert not verdict or verdict[0][1].action == "hold"
