"""Rollout strategies as plug-ins: the registry, the built-ins, and a new strategy added by a test alone."""

from __future__ import annotations

import json

import click
import pytest

from raymlops.cli import cli
from raymlops.core.errors import InvalidInputError
from raymlops.serving.gates import ErrorRateGate, GateStatus, VersionStats
from raymlops.serving.manager import RolloutManager
from raymlops.serving.rollout import Rollout, RolloutPlan, RolloutState, RolloutStateError
from raymlops.serving.routing import RoutingTable, route
from raymlops.serving.strategies import (
    DEFAULT_STEPS,
    STRATEGIES,
    PercentRefused,
    RolloutStrategy,
    Share,
    register_strategy,
    strategy_for,
)

PASS = GateStatus.PASS


class RampStrategy(RolloutStrategy):
    """Defined here only: ramps up in quarters once ready; an operator may only raise the percent."""

    name = "ramp"
    default_steps = (25.0, 50.0, 75.0, 100.0)
    waits_ready = True

    def apply_percent(self, share: Share, p: float) -> Share:
        if p < share.percent:
            raise PercentRefused("a ramp only goes up; roll back instead")
        return share._replace(percent=p)

    def describe(self, old: int, new: int, share: Share) -> str:
        return f"ramping version {new} to {share.percent:g}%"


@pytest.fixture
def ramp():
    register_strategy(RampStrategy)
    yield STRATEGIES["ramp"]
    del STRATEGIES["ramp"]


def routes(r: Rollout) -> list[tuple[int, float]]:
    return [(x.version, x.percent) for x in r.routing_table().routes]


def test_the_builtin_strategies_are_registered_with_their_defaults():
    assert list(STRATEGIES) == ["recreate", "blue-green", "canary", "ab", "shadow"]
    assert dict(DEFAULT_STEPS) == {
        "recreate": (100.0,), "blue-green": (100.0,), "canary": (10.0, 50.0, 100.0), "ab": (50.0,), "shadow": (),
    }  # fmt: skip
    flags = {n: (s.waits_ready, s.mirrors, s.recreates, s.one_route, s.ab_test) for n, s in STRATEGIES.items()}
    assert flags == {
        "recreate": (False, False, True, True, False),
        "blue-green": (True, False, False, False, False),
        "canary": (False, False, False, False, False),
        "ab": (False, False, False, False, True),
        "shadow": (False, True, False, True, False),
    }
    with pytest.raises(InvalidInputError, match="unknown strategy 'yolo': use one of recreate, blue-green"):
        strategy_for("yolo")


def test_the_cli_offers_exactly_the_registered_strategies():
    rollout = cli.get_command(click.Context(cli), "rollout")
    start = rollout.commands["start"]  # type: ignore[union-attr]
    choice = next(p for p in start.params if p.name == "strategy").type
    assert tuple(choice.choices) == tuple(STRATEGIES)


def test_an_unregistered_strategy_is_refused_everywhere():
    with pytest.raises(InvalidInputError, match="unknown strategy 'ramp'"):
        RolloutPlan(model="iris", strategy="ramp", from_version=3, to_version=4)
    with pytest.raises(InvalidInputError, match="unknown strategy 'ramp'"):
        RoutingTable(model="iris", strategy="ramp", routes=[(3, 100)])


def test_a_new_strategy_works_end_to_end_through_plan_rollout_and_routing_table(ramp):
    plan = RolloutPlan(model="iris", strategy="ramp", from_version=3, to_version=4, bake_s=10)
    assert (plan.steps, plan.stages, plan.wait_ready, plan.rollout_strategy) == (ramp.default_steps,) * 2 + (True, ramp)
    assert RolloutPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    r = Rollout(plan)
    assert r.start(now=0).reason == "deployed version 4 at 0%; waiting for it to report ready"
    assert routes(r) == [(4, 0.0), (3, 100.0)]  # deployed, no traffic before ready
    assert r.mark_ready(now=1).reason == "version 4 is ready; ramping version 4 to 25%"
    assert routes(r) == [(4, 25.0), (3, 75.0)] and r.routing_table().strategy == "ramp"
    first = {f"u{i}" for i in range(2000) if route(r.routing_table(), key=f"u{i}", u=0.0).version == 4}
    rec = r.tick(now=11, verdict=PASS)
    assert (rec.action, rec.reason) == ("advance", "step 1/4 at 25% baked 10s with gates passing; ramping version 4 to 50%")
    second = {f"u{i}" for i in range(2000) if route(r.routing_table(), key=f"u{i}", u=0.0).version == 4}
    assert first < second  # monotone, sticky buckets come with the routing table
    with pytest.raises(RolloutStateError, match="a ramp only goes up; roll back instead"):
        r.set_percent(40, now=12)
    assert r.set_percent(60, now=13).reason == "set by operator: ramping version 4 to 60%"
    assert (r.state, routes(r)) == (RolloutState.HOLDING, [(4, 60.0), (3, 40.0)])
    back = Rollout.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r and RoutingTable.from_dict(r.routing_table().to_dict()) == r.routing_table()
    assert r.promote(now=14).action == "manual_promote" and routes(r) == [(4, 100.0)]


def test_a_new_strategy_promotes_by_itself_and_the_manager_runs_it(ramp):
    gates = [ErrorRateGate(max_rate=0.1, min_samples=10)]
    plan = RolloutPlan(model="iris", strategy="ramp", from_version=3, to_version=4, steps=[50, 100], bake_s=5, gates=gates)
    m = RolloutManager(gate_interval_s=5)
    m.serve("iris", 3, now=0.0)
    assert m.start(plan, now=0.0).action == "start"
    assert m.mark_ready("iris", now=0.0).action == "ready"
    assert m.tables()["iris"].live_versions == (4, 3)
    for t in (5.0, 10.0):
        stats = VersionStats()
        stats.record_requests([5.0] * 20, errors=0)
        m.report({"models": {"iris": {"stats": {"4": stats.to_dict()}}}})
        m.tick(now=t)
    status = m.status("iris")
    assert (status["strategy"], status["state"], status["routes"]) == ("ramp", "PROMOTED", [{"version": 4, "percent": 100.0}])
    assert status["decisions"][-1]["reason"].endswith("version 4 promoted, version 3 retired")
    assert m.deployed() == {("iris", 4)}


def test_register_strategy_refuses_what_is_not_a_new_strategy():
    class Impostor(RolloutStrategy):
        name = "canary"

    class Nameless(RolloutStrategy):
        pass

    with pytest.raises(InvalidInputError, match="already registered"):
        register_strategy(Impostor)
    with pytest.raises(InvalidInputError, match="name"):
        register_strategy(Nameless)
    with pytest.raises(InvalidInputError, match="RolloutStrategy"):
        register_strategy(object())  # type: ignore[arg-type]
    assert register_strategy(STRATEGIES["canary"]) is STRATEGIES["canary"]  # the same one again is a no-op
    assert list(STRATEGIES) == ["recreate", "blue-green", "canary", "ab", "shadow"]
