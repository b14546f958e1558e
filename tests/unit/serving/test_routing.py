"""Routing tables and decisions: stable buckets, monotone canaries, sticky splits, shadow mirroring."""

from __future__ import annotations

import hashlib
import json
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raymlops.core.errors import InvalidInputError
from raymlops.serving.routing import (
    BUCKETS,
    Decision,
    Route,
    RoutingTable,
    bucket,
    mirror_bucket,
    route,
)

KEYS = [f"user-{i}" for i in range(20_000)]


def canary(percent: float, *, salt: str = "iris@4", **kw) -> RoutingTable:
    routes = [(4, percent), (3, round(100 - percent, 2))] if percent < 100 else [(4, 100)]
    return RoutingTable(model="iris", strategy="canary", routes=routes, salt=salt, **kw)


def test_bucket_is_blake2b_of_salt_separator_key():
    h = int.from_bytes(hashlib.blake2b(b"salt\x1fuser-1", digest_size=8).digest(), "big")
    assert bucket("user-1", "salt") == (h * BUCKETS) >> 64
    # stable across processes: a pinned value (Python's hash() would change per process)
    assert bucket("user-7", "iris@4") == 7544


def test_bucket_range_and_uniformity():
    b = np.array([bucket(k, "s") for k in KEYS])
    assert b.min() >= 0 and b.max() < BUCKETS
    counts = np.histogram(b, bins=10, range=(0, BUCKETS))[0]
    assert (abs(counts - len(KEYS) / 10) < 5 * np.sqrt(len(KEYS) / 10)).all()


def test_mirror_bucket_is_independent_of_route_bucket():
    r = np.array([bucket(k, "s") for k in KEYS]) < 1000
    m = np.array([mirror_bucket(k, "s") for k in KEYS]) < 1000
    # P(both) should be about 1 % if independent (10 % * 10 %), not 10 %
    assert abs((r & m).mean() - 0.01) < 0.004


@settings(max_examples=200, deadline=None)
@given(
    key=st.text(min_size=1, max_size=40),
    percents=st.lists(st.integers(min_value=1, max_value=10_000), min_size=2, max_size=5, unique=True),
    salt=st.text(max_size=10).filter(lambda s: "\x1f" not in s),
)
def test_canary_membership_is_monotone_in_percent(key, percents, salt):
    """A user in the canary at P% stays in it at every larger percent."""
    percents = sorted(p / 100 for p in percents)
    inside = [route(canary(p, salt=salt), key=key, u=0.0).version == 4 for p in percents]
    first = inside.index(True) if True in inside else len(inside)
    assert inside == [False] * first + [True] * (len(inside) - first)
    b = bucket(key, salt)
    assert inside == [b < round(p * 100) for p in percents]


def test_canary_monotone_on_many_users():
    at = {p: {k for k in KEYS[:5000] if route(canary(p), key=k, u=0.99).version == 4} for p in (5, 10, 50)}
    assert at[5] <= at[10] <= at[50]
    assert abs(len(at[5]) / 5000 - 0.05) < 0.015
    assert abs(len(at[50]) / 5000 - 0.50) < 0.03


def test_sticky_key_ignores_u():
    t = canary(30)
    for k in KEYS[:200]:
        assert len({route(t, key=k, u=u).version for u in (0.0, 0.3, 0.999)}) == 1


def test_no_key_routes_by_u():
    t = canary(10)
    assert route(t, key=None, u=0.0999).version == 4
    assert route(t, key=None, u=0.1).version == 3
    assert route(t, key="", u=0.05).version == 4  # a blank key is no key
    rng = np.random.default_rng(0)
    share = np.mean([route(t, key=None, u=float(u)).version == 4 for u in rng.random(20_000)])
    assert abs(share - 0.10) < 0.01


def test_u_just_below_one_never_overflows():
    t = RoutingTable(model="m", strategy="blue-green", routes=[(2, 100), (1, 0)])
    assert route(t, key=None, u=np.nextafter(1.0, 0.0)) == Decision(2, None)


@pytest.mark.parametrize("u", [-0.1, 1.0, 1.5, float("nan"), True])
def test_u_out_of_range_is_rejected(u):
    with pytest.raises(InvalidInputError, match="u must be"):
        route(canary(10), key=None, u=u)


def test_ab_split_is_sticky_and_close_to_target():
    t = RoutingTable(model="m", strategy="ab", routes=[(2, 50), (1, 50)], salt="exp-1")
    first = {k: route(t, key=k, u=0.5).version for k in KEYS[:4000]}
    again = {k: route(t, key=k, u=0.1).version for k in KEYS[:4000]}
    assert first == again
    share = np.mean([v == 2 for v in first.values()])
    assert abs(share - 0.5) < 0.03


def test_three_way_split_follows_route_order():
    t = RoutingTable(model="m", strategy="ab", routes=[(1, 20), (2, 30), (3, 50)])
    assert [route(t, key=None, u=u).version for u in (0.0, 0.19, 0.2, 0.49, 0.5, 0.99)] == [1, 1, 2, 2, 3, 3]


def test_different_salts_draw_different_users():
    a = {k for k in KEYS[:5000] if route(canary(10, salt="a"), key=k, u=0).version == 4}
    b = {k for k in KEYS[:5000] if route(canary(10, salt="b"), key=k, u=0).version == 4}
    assert len(a & b) < 0.03 * 5000  # independent: about 1 % overlap


def test_blue_green_switch_and_switch_back():
    blue = RoutingTable(model="m", strategy="blue-green", routes=[(2, 0), (1, 100)])
    green = blue.replace(routes=[(2, 100), (1, 0)])
    back = green.replace(routes=[(2, 0), (1, 100)])
    assert {route(blue, key=k, u=0.5).version for k in KEYS[:100]} == {1}
    assert {route(green, key=k, u=0.5).version for k in KEYS[:100]} == {2}
    assert {route(back, key=k, u=0.5).version for k in KEYS[:100]} == {1}
    assert blue.deployed_versions == green.deployed_versions == (2, 1)  # the idle colour stays warm
    assert green.live_versions == (2,)
    assert (blue.revision, green.revision, back.revision) == (0, 1, 2)


def test_zero_percent_route_never_gets_traffic():
    t = RoutingTable(model="m", strategy="canary", routes=[(2, 0), (1, 100)])
    assert {route(t, key=k, u=0.0).version for k in KEYS[:2000]} == {1}
    assert route(t, key=None, u=0.0).version == 1


def test_recreate_single_version():
    t = RoutingTable(model="m", strategy="recreate", routes=[(5, 100)])
    assert route(t, key="u", u=0.3) == Decision(5, None)
    with pytest.raises(InvalidInputError, match="one version"):
        RoutingTable(model="m", strategy="recreate", routes=[(5, 50), (4, 50)])


def test_shadow_mirrors_share_by_u_independently_of_the_primary_choice():
    t = RoutingTable(model="m", strategy="shadow", routes=[(1, 100)], shadow=2, mirror_percent=25)
    rng = np.random.default_rng(1)
    decisions = [route(t, key=None, u=float(u)) for u in rng.random(20_000)]
    assert {d.version for d in decisions} == {1}  # the primary answers everything
    assert abs(np.mean([d.shadow == 2 for d in decisions]) - 0.25) < 0.01
    # with a canary and a shadow, mirroring is independent of the canary choice
    t2 = RoutingTable(model="m", strategy="canary", routes=[(2, 10), (1, 90)], shadow=3, mirror_percent=10)
    ds = [route(t2, key=None, u=float(u)) for u in rng.random(40_000)]
    both = np.mean([d.version == 2 and d.shadow == 3 for d in ds])
    assert abs(both - 0.01) < 0.003


def test_shadow_mirror_by_key_is_sticky():
    t = RoutingTable(model="m", strategy="shadow", routes=[(1, 100)], shadow=2, mirror_percent=30)
    mirrored = {k for k in KEYS[:5000] if route(t, key=k, u=0.9).shadow == 2}
    assert mirrored == {k for k in KEYS[:5000] if route(t, key=k, u=0.1).shadow == 2}
    assert mirrored == {k for k in KEYS[:5000] if mirror_bucket(k, "") < 3000}
    assert abs(len(mirrored) / 5000 - 0.3) < 0.03


def test_mirror_percent_zero_and_hundred():
    t0 = RoutingTable(model="m", strategy="shadow", routes=[(1, 100)], shadow=2, mirror_percent=0)
    t100 = t0.replace(mirror_percent=100)
    for u in (0.0, 0.5, np.nextafter(1.0, 0.0)):
        assert route(t0, key=None, u=u).shadow is None
        assert route(t100, key=None, u=u).shadow == 2


def test_sticky_key_from_headers():
    t = RoutingTable(model="m", strategy="canary", routes=[(2, 10), (1, 90)], sticky_header="X-Session")
    assert t.sticky_header == "x-session"
    assert t.sticky_key({"X-SESSION": "abc"}) == "abc"
    assert t.sticky_key({"x-user-id": "abc"}) is None
    assert t.sticky_key({"x-session": "   "}) is None


def test_to_dict_from_dict_roundtrip_through_json():
    t = RoutingTable(
        model="iris", strategy="canary", routes=[(4, 12.5), (3, 87.5)], sticky_header="x-user-id",
        shadow=5, mirror_percent=33.33, salt="iris@4", revision=7,
    )  # fmt: skip
    back = RoutingTable.from_dict(json.loads(json.dumps(t.to_dict())))
    assert back == t
    assert back.routes == (Route(4, 12.5), Route(3, 87.5))
    assert all(route(back, key=k, u=0.5) == route(t, key=k, u=0.5) for k in KEYS[:500])
    assert "revision=7" in repr(t)
    assert pickle.loads(pickle.dumps(t)) == t  # Ray pickles it to every replica


def test_routes_accept_dict_and_mapping_forms():
    a = RoutingTable(model="m", strategy="ab", routes={2: 40, 1: 60})
    b = RoutingTable(model="m", strategy="ab", routes=[{"version": 2, "percent": 40}, {"version": 1, "percent": 60}])
    assert a == b and a.percent_of(2) == 40.0 and a.percent_of(9) == 0.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"routes": [(2, 10), (1, 80)]}, "sum to 100"),
        ({"routes": [(2, 50), (2, 50)]}, "once"),
        ({"routes": []}, "at least one route"),
        ({"routes": [(0, 100)]}, "version number"),
        ({"routes": [(True, 100)]}, "version number"),
        ({"routes": [(2, 10.001), (1, 89.999)]}, "two decimals"),
        ({"routes": [(2, -10), (1, 110)]}, "between 0 and 100"),
        ({"routes": [(1, 100)], "shadow": 1}, "already answers"),
        ({"routes": [(1, 100)], "strategy": "rainbow"}, "unknown strategy"),
        ({"routes": [(1, 100)], "model": "../x"}, "invalid model name"),
        ({"routes": [(1, 100)], "sticky_header": "bad header"}, "header name"),
        ({"routes": [(1, 100)], "salt": "a\x1fb"}, "salt"),
        ({"routes": [(1, 100)], "revision": -1}, "revision"),
        ({"routes": [(1, 100)], "mirror_percent": 101}, "mirror_percent"),
        ({"routes": "1:100"}, "pairs"),
    ],
)
def test_invalid_tables_are_rejected(kwargs, match):
    args = {"model": "m", "strategy": "canary", **kwargs}
    with pytest.raises(InvalidInputError, match=match):
        RoutingTable(**args)


def test_shadow_strategy_needs_one_route():
    with pytest.raises(InvalidInputError, match="one version"):
        RoutingTable(model="m", strategy="shadow", routes=[(1, 50), (3, 50)], shadow=2)


def test_from_dict_rejects_unknown_or_missing_keys():
    d = canary(10).to_dict()
    with pytest.raises(InvalidInputError, match="exactly the keys"):
        RoutingTable.from_dict({**d, "extra": 1})
    d.pop("salt")
    with pytest.raises(InvalidInputError, match="exactly the keys"):
        RoutingTable.from_dict(d)


def test_table_is_immutable_and_hashable():
    t = canary(10)
    with pytest.raises(AttributeError):
        t.salt = "x"  # type: ignore[misc]
    assert hash(t) == hash(canary(10))


@settings(max_examples=100, deadline=None)
@given(key=st.one_of(st.none(), st.text(max_size=30)), u=st.floats(min_value=0, max_value=1, exclude_max=True))
def test_route_always_returns_a_routed_version(key, u):
    t = RoutingTable(model="m", strategy="ab", routes=[(3, 0), (2, 33.33), (1, 66.67)], shadow=9, mirror_percent=5)
    d = route(t, key=key, u=u)
    assert d.version in (2, 1) and d.shadow in (None, 9)
