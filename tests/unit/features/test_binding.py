"""Serving by entity key without Ray: the binding a model version carries, the joiner a model
server builds from it, the problems it reports per instance and field, the reader's freshness."""

from __future__ import annotations

import math

import numpy as np
import pytest

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.features import FeatureRequestError, MemoryOnlineStore, OnlineReader, ServiceBinding
from raymlops.features.binding import ATTACHMENT, check_columns, open_service
from raymlops.features.online import OnlineRow, open_online_store
from raymlops.serving.protocol import InvalidInstancesError, instances_frame

US = 1_000_000
BINDING = dict(repo="file:///repo.yaml", definition_version=3, service="tips",
               selection={"stats": ["conv_rate", "trips"], "profile": ["rating"]},
               join_keys={"stats": ["driver_id"], "profile": ["driver_id"]}, ttls={"stats": 3600, "profile": None})
COLUMNS = ["stats__conv_rate", "stats__trips", "profile__rating", "distance_km"]
SIGNATURE = {"inputs": [{"name": "stats__conv_rate", "type": "float"}, {"name": "stats__trips", "type": "int"},
                        {"name": "profile__rating", "type": "float"}, {"name": "distance_km", "type": "float"}]}


@pytest.fixture
def joiner(request):
    uri = f"memory://{request.node.name}"
    store = open_online_store(uri)
    store.write("stats", {"[1]": OnlineRow(event_us=100 * US, created_us=0, pos=0, values={"conv_rate": 0.4, "trips": 7}),
                          "[2]": OnlineRow(event_us=0, created_us=0, pos=0, values={"conv_rate": 0.9, "trips": 3})})
    store.write("profile", {"[1]": OnlineRow(event_us=0, created_us=0, pos=0, values={"rating": 4.5})})
    for view in ("stats", "profile"):
        store.set_state(view, {"newest_event_us": 100 * US if view == "stats" else 0, "key_types": {"driver_id": "int"}})
    return open_service(ServiceBinding(**BINDING, online=uri), COLUMNS, Settings.resolve(env={}))


def test_the_binding_round_trips_through_its_registry_attachment():
    b = ServiceBinding(**BINDING)
    (name, data), = b.to_attachment().items()
    assert name == ATTACHMENT and ServiceBinding.from_bytes(data) == b
    assert b.columns == ["stats__conv_rate", "stats__trips", "profile__rating"] and b.entity_keys == ["driver_id"]
    with pytest.raises(ValueError, match="(?i)extra"):
        ServiceBinding(**BINDING, ttl="typo")


def test_a_model_that_takes_none_of_the_services_features_is_refused():
    with pytest.raises(InvalidInputError, match="takes none of feature service 'tips'"):
        check_columns(ServiceBinding(**BINDING), ["a", "b"], model="m@1")


def test_request_values_override_the_store_and_the_ttl_is_enforced(joiner):
    rows, statuses = joiner.join([{"driver_id": 1, "distance_km": 2.0}, {"driver_id": 2, "distance_km": 1.0, "stats__trips": 40},
                                  {"driver_id": 9, "distance_km": 3.0}], now_us=100 * US + 3600 * US)
    assert rows[0] == {"stats__conv_rate": 0.4, "stats__trips": 7, "profile__rating": 4.5, "distance_km": 2.0}
    assert statuses[0] == {"stats__conv_rate": "PRESENT", "stats__trips": "PRESENT", "profile__rating": "PRESENT", "distance_km": "REQUEST"}
    # driver 2's stats are 100 s older than the TTL allows; its trips came with the request
    assert rows[1] == {"stats__conv_rate": None, "stats__trips": 40, "profile__rating": None, "distance_km": 1.0}
    assert statuses[1]["stats__conv_rate"] == "OUTSIDE_MAX_AGE" and statuses[1]["stats__trips"] == "REQUEST"
    assert statuses[1]["profile__rating"] == "NOT_FOUND" and set(statuses[2].values()) == {"NOT_FOUND", "REQUEST"}


def test_every_problem_names_the_instance_and_the_field(joiner):
    with pytest.raises(FeatureRequestError) as err:
        joiner.join([{"driver_id": 1, "distance_km": 1.0}, {"drivr_id": 1, "distance_km": 1.0}, {"driver_id": 1}, 7])
    assert err.value.http_status == 422 and "instance 1 field 'driver_id': missing entity key" in err.value.message
    assert [(d.get("instance"), d.get("field")) for d in err.value.details] == [(1, "driver_id"), (1, "drivr_id"), (2, "distance_km"), (3, None)]
    with pytest.raises(FeatureRequestError) as err:
        joiner.join([{"driver_id": "five", "distance_km": 1.0}])
    assert err.value.details == [{"field": "driver_id", "problem": "expected an integer entity key, got 'five'"}]


def test_an_instance_with_every_service_feature_needs_no_key(joiner):
    rows, statuses = joiner.join([{"stats__conv_rate": 0.1, "stats__trips": 1, "profile__rating": 3.0, "distance_km": 1.0}])
    assert rows[0]["stats__conv_rate"] == 0.1 and set(statuses[0].values()) == {"REQUEST"}


def test_joined_rows_become_the_signatures_frame_with_nulls_from_the_store_only(joiner):
    instances = [{"driver_id": 1, "distance_km": 2.0}, {"driver_id": 9, "distance_km": 3.0}]
    rows, statuses = joiner.join(instances, now_us=100 * US)
    stored = [frozenset(c for c, s in st.items() if s != "REQUEST") for st in statuses]
    frame = instances_frame(rows, SIGNATURE, stored=stored)
    assert list(frame.columns) == COLUMNS and frame["stats__trips"].dtype == np.float64  # an int column with a null
    assert frame["stats__trips"].tolist()[0] == 7 and math.isnan(frame["stats__trips"].tolist()[1])
    full, _ = joiner.join([{"driver_id": 1, "distance_km": 2.0}], now_us=100 * US)
    assert instances_frame(full, SIGNATURE, stored=stored[:1])["stats__trips"].dtype == np.int64
    # a request's own value is validated, null or not
    bad, st = joiner.join([{"driver_id": 1, "distance_km": None}], now_us=100 * US)
    with pytest.raises(InvalidInstancesError) as err:
        instances_frame(bad, SIGNATURE, stored=[frozenset(c for c, s in st[0].items() if s != "REQUEST")])
    assert err.value.details == [{"instance": 0, "field": "distance_km", "problem": "expected float, got null"}]


def test_the_reader_reports_freshness_per_view_and_refreshes_from_the_store():
    store = MemoryOnlineStore("memory://fresh")
    reader = OnlineReader(store, {"v": ["x"]}, {"v": ["k"]}, {"v": None})
    assert reader.freshness(now_us=5 * US) == {"v": None}  # never materialized
    store.set_state("v", {"newest_event_us": 2 * US, "key_types": {"k": "string"}})
    assert reader.freshness(now_us=5 * US) == {"v": None}  # until the next refresh
    reader.refresh()
    assert reader.freshness(now_us=5 * US) == {"v": 3.0} and reader.key_types == {"v": {"k": "string"}}
