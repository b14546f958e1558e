"""The feature repository: one YAML file (or Python objects) holding every definition.

The file has exactly four lists, with Feast's field names::

    entities:      [{name, join_keys}]
    sources:       [{name, path, timestamp_field, created_timestamp_column}]
    feature_views: [{name, entities, source, ttl, features: [{name, dtype}]}]
    services:      [{name, features: ["view:feature", ...]}]

:class:`Repository` checks what can be checked without reading data: unknown keys,
missing keys, bad names and types, duplicate names, references to entities, sources,
views or features that do not exist, and features that collide with a join key.
Errors name the file and the key (``repo.yaml: feature_views[0] 'driver_hourly'.ttl: ...``).
Checking the definitions against the real files is :mod:`raymlops.features.checks`.

:meth:`Repository.content_hash` hashes the canonical definitions (sorted keys, names in
order, defaults filled in), so reformatting the file or reordering its keys does not
make a new version, and any change to a definition does.

Example:
    >>> repo = Repository(
    ...     entities=[Entity(name="driver", join_keys=["driver_id"])],
    ...     sources=[FileSource(name="stats", path="stats.parquet", timestamp_field="ts")],
    ...     feature_views=[FeatureView(name="hourly", entities=["driver"], source="stats", ttl="1h",
    ...                                features=[Feature(name="rate", dtype="float")])],
    ...     services=[FeatureService(name="model", features=["hourly:rate"])])
    >>> repo.resolve(service="model")
    {'hourly': ['rate']}
    >>> repo.content_hash()[:12]
    '594a97be5f2e'
    >>> Repository.from_dict({"entities": [{"name": "driver", "joinkeys": ["id"]}]})
    Traceback (most recent call last):
    ...
    raymlops.features.repo.DefinitionError: repository: entities[0] 'driver': unknown key 'joinkeys'; allowed keys: name, join_keys
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from raymlops.core.errors import InvalidInputError
from raymlops.features.definitions import (
    Definition,
    Entity,
    Feature,
    FeatureService,
    FeatureView,
    FileSource,
    column_name,
    split_ref,
)

__all__ = ["DefinitionError", "Repository", "load_repo"]

_LISTS = {"entities": Entity, "sources": FileSource, "feature_views": FeatureView, "services": FeatureService}
_NESTED = {"features": Feature}


class DefinitionError(InvalidInputError):
    """The definitions cannot be used (exit code 2); the message names the file and key."""

    code = "invalid_definitions"


class Repository(Definition):
    """Every definition of one feature repository, cross-checked.

    Build it from objects, from a mapping (:meth:`from_dict`) or from a YAML file
    (:func:`load_repo`, which also remembers the folder relative source paths start from).
    """

    entities: list[Entity] = Field(default_factory=list)
    sources: list[FileSource] = Field(default_factory=list)
    feature_views: list[FeatureView] = Field(default_factory=list)
    services: list[FeatureService] = Field(default_factory=list)

    _base_dir: str = PrivateAttr(default="")
    _origin: str = PrivateAttr(default="repository")

    @model_validator(mode="after")
    def _cross_check(self) -> Repository:
        problems: list[str] = []
        for key in _LISTS:
            names = [d.name for d in getattr(self, key)]
            for n in sorted({n for n in names if names.count(n) > 1}):
                problems.append(f"{key}: the name {n!r} is used twice; names must be unique")
        entities = {e.name: e for e in self.entities}
        sources = {s.name: s for s in self.sources}
        views = {v.name: v for v in self.feature_views}
        for i, v in enumerate(self.feature_views):
            where = f"feature_views[{i}] {v.name!r}"
            for e in v.entities:
                if e not in entities:
                    problems.append(f"{where}.entities: unknown entity {e!r}; define it under entities ({_known(entities)})")
            if v.source not in sources:
                problems.append(f"{where}.source: unknown source {v.source!r}; define it under sources ({_known(sources)})")
            keys = [k for e in v.entities if e in entities for k in entities[e].join_keys]
            for f in v.features:
                if f.name in keys:
                    problems.append(f"{where}.features: {f.name!r} is a join key of the view's entities, not a feature")
                if v.source in sources and f.name in sources[v.source].timestamp_columns:
                    problems.append(f"{where}.features: {f.name!r} is a timestamp column of source {v.source!r}, not a feature")
        for i, s in enumerate(self.services):
            for ref in s.features:
                view, feature = split_ref(ref)
                if view not in views:
                    problems.append(f"services[{i}] {s.name!r}.features: unknown feature view {view!r} in {ref!r} ({_known(views)})")
                elif feature not in views[view].feature_names:
                    problems.append(
                        f"services[{i}] {s.name!r}.features: view {view!r} has no feature {feature!r} "
                        f"(it has {', '.join(views[view].feature_names)})"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # ------------------------------------------------------------------ loading
    @classmethod
    def from_dict(cls, data: Any, *, origin: str = "repository", base_dir: str = "") -> Repository:
        """Build from a mapping (as read from YAML), with errors that name ``origin`` and the key.

        Raises:
            DefinitionError: unknown or missing keys, bad values, broken references.
        """
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise DefinitionError(f"{origin}: the file must be a mapping with the keys {', '.join(_LISTS)}")
        try:
            repo = cls.model_validate(data)
        except ValidationError as exc:
            lines = [_explain(e, data) for e in exc.errors()]
            raise DefinitionError(f"{origin}: " + f"; {origin}: ".join(lines[:5]) + (f" (and {len(lines) - 5} more)" if len(lines) > 5 else ""), details=lines) from None
        repo._origin = origin
        repo._base_dir = base_dir
        return repo

    @property
    def origin(self) -> str:
        """What error messages call this repository (its file path, when loaded from one)."""
        return self._origin

    @property
    def base_dir(self) -> str:
        return self._base_dir

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    # ------------------------------------------------------------------ lookups
    def entity(self, name: str) -> Entity:
        return _get(self.entities, name, "entity")

    def source(self, name: str) -> FileSource:
        return _get(self.sources, name, "source")

    def view(self, name: str) -> FeatureView:
        return _get(self.feature_views, name, "feature view")

    def service(self, name: str) -> FeatureService:
        return _get(self.services, name, "feature service")

    def join_keys(self, view: str) -> list[str]:
        """The join keys of a view's entities, in order."""
        return [k for e in self.view(view).entities for k in self.entity(e).join_keys]

    def source_path(self, source: str) -> str:
        """Where a source's data is: a relative path is taken from the repository's folder."""
        path = self.source(source).path
        if "://" in path or os.path.isabs(os.path.expanduser(path)):
            return os.path.expanduser(path)
        return os.path.normpath(os.path.join(self._base_dir or os.getcwd(), path))

    def resolve(self, features: Sequence[str] | None = None, *, service: str | None = None) -> dict[str, list[str]]:
        """``{view: [feature, ...]}`` for feature references or a service, in the order asked.

        Raises:
            InvalidInputError: neither or both given, or a reference that does not exist.
        """
        if (features is None) == (service is None):
            raise InvalidInputError("name the features (view:feature,...) or a feature service, not both and not neither")
        refs = self.service(service).features if service is not None else list(features or [])
        if not refs:
            raise InvalidInputError("no features asked for; pass view:feature references")
        out: dict[str, list[str]] = {}
        for ref in refs:
            view, feature = split_ref(ref)
            self.view(view).feature(feature)
            if feature not in out.setdefault(view, []):
                out[view].append(feature)
        return out

    @staticmethod
    def columns(selection: dict[str, list[str]]) -> list[str]:
        """The output column names (``view__feature``) of a selection, in order."""
        return [column_name(v, f) for v, feats in selection.items() for f in feats]

    # ------------------------------------------------------------------ versions
    def canonical(self) -> dict[str, Any]:
        """The definitions as canonical data: each list sorted by name, defaults filled in."""
        d = self.model_dump(mode="json")
        return {k: sorted(d[k], key=lambda x: x["name"]) for k in _LISTS}

    def content_hash(self) -> str:
        """sha256 of the canonical definitions (formatting and list order do not count)."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def diff(self, previous: dict[str, Any] | None) -> list[str]:
        """What changed against an earlier :meth:`canonical`: ``["feature_view:x added", ...]``."""
        now = self.canonical()
        before = previous or {k: [] for k in _LISTS}
        kinds = {"entities": "entity", "sources": "source", "feature_views": "feature_view", "services": "service"}
        out = []
        for key, kind in kinds.items():
            old = {d["name"]: d for d in before.get(key, [])}
            new = {d["name"]: d for d in now[key]}
            for name in sorted(set(old) | set(new)):
                if name not in old:
                    out.append(f"{kind}:{name} added")
                elif name not in new:
                    out.append(f"{kind}:{name} removed")
                elif old[name] != new[name]:
                    out.append(f"{kind}:{name} changed")
        return out


def load_repo(path: str | os.PathLike[str]) -> Repository:
    """Read and check a repository YAML file.

    Raises:
        DefinitionError: the file is missing, is not YAML, or holds bad definitions.
    """
    path = os.path.abspath(os.fspath(path))
    try:
        with open(path) as f:
            data = yaml.safe_load(f)
    except FileNotFoundError:
        raise DefinitionError(f"{path} does not exist; pass the repository YAML file") from None
    except IsADirectoryError:
        raise DefinitionError(f"{path} is a folder; pass the repository YAML file") from None
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from None
    return Repository.from_dict(data, origin=path, base_dir=os.path.dirname(path))


def _known(d: dict) -> str:
    return "defined: " + ", ".join(sorted(d)) if d else "none defined"


def _get(items: list, name: str, what: str):
    for d in items:
        if d.name == name:
            return d
    names = ", ".join(d.name for d in items) or "none"
    raise InvalidInputError(f"unknown {what} {name!r}; the repository defines: {names}")


def _explain(err: dict[str, Any], data: dict[str, Any]) -> str:
    """One pydantic error as 'feature_views[0] 'name'.key: message'."""
    loc = list(err["loc"])
    parts: list[str] = []
    node: Any = data
    model: type | None = Repository
    for i, step in enumerate(loc):
        if isinstance(step, int):
            parts[-1] += f"[{step}]"
            if isinstance(node, list) and step < len(node):
                node = node[step]
                if isinstance(node, dict) and isinstance(node.get("name"), str):
                    parts[-1] += f" {node['name']!r}"
            continue
        if i == len(loc) - 1 and err["type"] == "extra_forbidden":
            allowed = ", ".join(model.model_fields) if model is not None else ""
            where = ".".join(parts)
            return f"{where + ': ' if where else ''}unknown key {step!r}; allowed keys: {allowed}"
        parts.append(str(step))
        model = _LISTS.get(str(step)) or _NESTED.get(str(step)) if model is not None else None
        node = node.get(step) if isinstance(node, dict) else None
    where = ".".join(parts)
    if err["type"] == "missing":
        field = parts.pop() if parts else ""
        return f"{'.'.join(parts) + ': ' if parts else ''}missing key {field!r}"
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return f"{where + ': ' if where else ''}{msg}"
