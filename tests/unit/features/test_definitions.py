"""Definitions and the repository file: validation, errors that name the key, versions."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from raymlops.core.errors import InvalidInputError
from raymlops.features import Entity, Feature, FeatureView, FileSource, Repository, load_repo
from raymlops.features.checks import check_files
from raymlops.features.repo import DefinitionError
from raymlops.features.sample import REPO_YAML
from raymlops.features.versions import RepositoryChangedError, applied_version, record_version


def test_objects_are_keyword_only_validated_and_round_trip():
    with pytest.raises(TypeError):
        Entity("driver")  # keyword-only
    view = FeatureView(name="v", entities=[Entity(name="driver")], source=FileSource(name="s", path="x", timestamp_field="ts"),
                       ttl=dt.timedelta(hours=2), features=[Feature(name="a", dtype="double")])
    assert view.entities == ["driver"] and view.source == "s" and view.ttl_seconds == 7200
    assert FeatureView.from_dict(view.to_dict()) == view and view.to_dict()["ttl"] == "2h"
    assert "FeatureView(name='v'" in repr(view)
    assert FeatureView(name="v", entities="driver", source="s", ttl="0", features=[{"name": "a", "dtype": "int"}]).ttl is None


@pytest.mark.parametrize("kwargs,message", [
    (dict(ttl="2 hours"), "duration '2 hours' is not a duration"),
    (dict(ttl="5"), "has no unit; write 5s, 5m, 5h or 5d"),
    (dict(features=[{"name": "a", "dtype": "flaot"}]), "unknown column type 'flaot'"),
    (dict(features=[{"name": "a", "dtype": "int"}, {"name": "a", "dtype": "int"}]), "feature names repeat: a"),
    (dict(name="a__b"), "may not contain '__'"),
    (dict(features=[]), "at least one feature"),
])
def test_view_errors(kwargs, message):
    base = dict(name="v", entities=["driver"], source="s", features=[{"name": "a", "dtype": "int"}])
    with pytest.raises(ValueError, match=message):
        FeatureView(**(base | kwargs))


def _yaml(tmp_path, text):
    p = tmp_path / "repo.yaml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("edit,message", [
    (("ttl: 2h", "tll: 2h"), r"feature_views\[0\] 'driver_hourly': unknown key 'tll'; allowed keys: name, entities, source, ttl, features"),
    (("    timestamp_field: day\n", ""), r"sources\[1\] 'driver_ratings': missing key 'timestamp_field'"),
    (("dtype: string", "dtype: text"), r"feature_views\[1\] 'driver_daily'.features\[1\] 'tier'.dtype: unknown column type 'text'"),
    (("source: driver_ratings", "source: ratings"), r"unknown source 'ratings'"),
    (("driver_daily:rating]", "driver_daily:stars]"), r"view 'driver_daily' has no feature 'stars'"),
    (("  - name: driver_model", "  - name: driver model"), r"feature service name 'driver model' must start"),
    (("entities:\n", "entity:\n"), r"unknown key 'entity'; allowed keys: entities, sources, feature_views, services"),
])
def test_repository_file_errors_name_the_file_and_key(tmp_path, edit, message):
    path = _yaml(tmp_path, REPO_YAML.replace(*edit, 1))
    with pytest.raises(DefinitionError, match=message) as err:
        load_repo(path)
    assert str(err.value).startswith(path)
    assert err.value.exit_code == 2


def test_not_yaml_and_missing_file(tmp_path):
    with pytest.raises(DefinitionError, match="is not valid YAML"):
        load_repo(_yaml(tmp_path, "entities: [\n"))
    with pytest.raises(DefinitionError, match="does not exist"):
        load_repo(tmp_path / "nope.yaml")


def test_content_hash_ignores_formatting_and_order(tmp_path):
    a = load_repo(_yaml(tmp_path, REPO_YAML))
    data = yaml.safe_load(REPO_YAML)
    data["feature_views"].reverse()
    data = {k: data[k] for k in reversed(list(data))}
    b = Repository.from_dict(data)
    assert a.content_hash() == b.content_hash()
    data["feature_views"][0]["ttl"] = "3h"
    c = Repository.from_dict(data)
    assert c.content_hash() != a.content_hash()
    assert c.diff(a.canonical()) == ["feature_view:driver_hourly changed"] or c.diff(a.canonical()) == ["feature_view:driver_daily changed"]


def test_resolve_keeps_the_order_asked_and_rejects_unknown():
    repo = Repository.from_dict(yaml.safe_load(REPO_YAML))
    assert repo.resolve(["driver_daily:rating", "driver_hourly:acc_rate", "driver_daily:tier"]) == {
        "driver_daily": ["rating", "tier"], "driver_hourly": ["acc_rate"]}
    with pytest.raises(InvalidInputError, match="view:feature"):
        repo.resolve(["driver_daily.rating"])
    with pytest.raises(InvalidInputError, match="unknown feature service 'nope'"):
        repo.resolve(service="nope")


def test_check_files_finds_missing_columns_and_type_mismatches(driver_repo):
    text = open(driver_repo["repo"]).read()
    bad = (text.replace("{name: acc_rate, dtype: float}", "{name: acc_ratio, dtype: float}")
               .replace("{name: avg_daily_trips, dtype: int}", "{name: avg_daily_trips, dtype: string}")
               .replace("driver_hourly:acc_rate", "driver_hourly:acc_ratio")
               .replace("created_timestamp_column: created", "created_timestamp_column: created_at"))
    with open(driver_repo["repo"], "w") as f:
        f.write(bad)
    with pytest.raises(DefinitionError) as err:
        check_files(load_repo(driver_repo["repo"]))
    msg = str(err.value)
    assert "created_timestamp_column: " in msg and "has no column 'created_at'" in msg
    assert "'acc_ratio': no such column in" in msg and "driver_stats.parquet" in msg
    assert "'avg_daily_trips': declared string but" in msg and "holds int" in msg


def test_check_files_accepts_the_sample_and_widening(driver_repo):
    text = open(driver_repo["repo"]).read().replace("{name: avg_daily_trips, dtype: int}", "{name: avg_daily_trips, dtype: float}")
    open(driver_repo["repo"], "w").write(text)
    found = check_files(load_repo(driver_repo["repo"]))
    assert found["driver_ratings"]["day"] in ("datetime", "string") and found["driver_stats"]["conv_rate"] == "float"


def test_missing_source_path_is_named(driver_repo, tmp_path):
    text = open(driver_repo["repo"]).read().replace("path: driver_ratings.csv", "path: ratings/*.csv")
    open(driver_repo["repo"], "w").write(text)
    with pytest.raises(DefinitionError, match=r"sources\[1\] 'driver_ratings'.path: no file matches"):
        check_files(load_repo(driver_repo["repo"]))


def test_versions_record_only_changes(store, tmp_path):
    repo = Repository.from_dict(yaml.safe_load(REPO_YAML))
    first = record_version(store, repo, "file:///r.yaml")
    assert first["version"] == 1 and len(first["changed"]) == 6
    assert record_version(store, repo, "file:///r.yaml")["version"] == 1
    assert store.count_executions(type="ApplyFeatureDefinitions") == 1
    data = yaml.safe_load(REPO_YAML)
    data["services"].append({"name": "other", "features": ["driver_daily:tier"]})
    changed = Repository.from_dict(data)
    with pytest.raises(RepositoryChangedError, match="changed since version 1"):
        applied_version(store, changed, "file:///r.yaml")
    second = record_version(store, changed, "file:///r.yaml")
    assert (second["version"], second["changed"]) == (2, ["service:other added"])
    assert applied_version(store, changed, "file:///r.yaml").properties["version"] == 2
