"""One suite, every online store backend: memory, SQLite and a real Redis server."""

from __future__ import annotations

import threading

import pytest

from raymlops.core.errors import InvalidInputError, StoreUnavailableError
from raymlops.features.online import OnlineRow, open_online_store
from raymlops.features.times import NAT
from tests.unit.features.conftest import flush


@pytest.fixture(params=["memory", "sqlite", "redis"])
def online(request, tmp_path, settings):
    if request.param == "memory":
        from raymlops.features.online import MemoryOnlineStore

        yield MemoryOnlineStore()
    elif request.param == "sqlite":
        s = open_online_store(f"sqlite:///{tmp_path}/online.db", settings)
        yield s
        s.close()
    else:
        url = request.getfixturevalue("redis_url")
        flush(url)
        s = open_online_store(url, settings)
        yield s
        s.close()


def row(event, created=0, pos=0, **values):
    return OnlineRow(event_us=event, created_us=created, pos=pos, values=values)


def test_write_then_read_in_the_order_asked(online):
    assert online.write("v", {"[1]": row(10, x=1.5, s="a"), "[2]": row(11, x=None, s="b")}) == 2
    got = online.read("v", ["[2]", "[3]", "[1]"])
    assert got[0] == row(11, x=None, s="b") and got[1] is None and got[2] == row(10, x=1.5, s="a")
    assert online.count("v") == 2 and online.count("other") == 0


def test_newest_version_wins_whatever_the_write_order(online):
    online.write("v", {"[1]": row(10, created=5, x="new")})
    assert online.write("v", {"[1]": row(9, created=99, x="late, older event")}) == 0
    assert online.write("v", {"[1]": row(10, created=4, x="same event, older created")}) == 0
    assert online.write("v", {"[1]": row(10, created=5, pos=7, x="same event and created, later row")}) == 1
    assert online.read("v", ["[1]"])[0].values == {"x": "same event and created, later row"}
    assert online.write("v", {"[1]": row(11, created=NAT, x="newer event")}) == 1
    assert online.read("v", ["[1]"])[0] == row(11, created=NAT, x="newer event")
    assert online.count("v") == 1


def test_negative_and_missing_timestamps_order_correctly(online):
    online.write("v", {"[1]": row(-5, x=1)})
    assert online.write("v", {"[1]": row(NAT, x=0)}) == 0
    assert online.write("v", {"[1]": row(-4, x=2)}) == 1


def test_views_and_keys_are_separate(online):
    online.write("a", {'["x",1]': row(1, v=1)})
    online.write("b", {'["x",1]': row(1, v=2)})
    assert online.read_many({"a": ['["x",1]'], "b": ['["x",1]', '["y",1]']}) == {
        "a": [row(1, v=1)], "b": [row(1, v=2), None]}


def test_read_many_keeps_each_views_order_and_duplicates(online):
    online.write("a", {"[1]": row(1, v="a1"), "[2]": row(2, v="a2")})
    online.write("b", {"[2]": row(3, v="b2"), "[3]": row(4, v="b3")})
    got = online.read_many({"a": ["[2]", "[3]", "[2]", "[1]"], "b": ["[1]", "[3]", "[2]"], "c": ["[1]"]})
    assert got == {"a": [row(2, v="a2"), None, row(2, v="a2"), row(1, v="a1")], "b": [None, row(4, v="b3"), row(3, v="b2")], "c": [None]}
    assert online.read_many({}) == {} and online.read_many({"a": []}) == {"a": []}


def test_state_round_trip(online):
    assert online.get_state("v") is None
    online.set_state("v", {"end_us": 5, "key_types": {"driver_id": "int"}})
    online.set_state("v", {"end_us": 6, "key_types": {"driver_id": "int"}})
    assert online.get_state("v") == {"end_us": 6, "key_types": {"driver_id": "int"}}


def test_concurrent_writers_keep_the_newest(online):
    def writer(start):
        for e in range(start, 200, 4):
            online.write("v", {"[1]": row(e, x=e)})

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert online.read("v", ["[1]"])[0].values == {"x": 199}


def test_large_batches(online):
    rows = {f"[{i}]": row(i, x=i) for i in range(2500)}
    assert online.write("v", rows) == 2500
    got = online.read("v", [f"[{i}]" for i in range(2500)])
    assert [r.values["x"] for r in got] == list(range(2500)) and online.count("v") == 2500


def test_unknown_scheme_and_unreachable_redis(settings):
    with pytest.raises(InvalidInputError, match="unknown online store 'mongo://x'"):
        open_online_store("mongo://x", settings)
    with pytest.raises(StoreUnavailableError, match="cannot reach the Redis online store at 127.0.0.1:1"):
        open_online_store("redis://127.0.0.1:1/0", settings)
