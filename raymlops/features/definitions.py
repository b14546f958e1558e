"""Feature definitions: entities, file sources, feature views and feature services.

The concepts and field names are Feast's, so a Feast user recognises them:

* an :class:`Entity` names the join keys that identify a row (``driver_id``);
* a :class:`FileSource` is a Parquet or CSV file, folder, glob or fsspec URI with a
  ``timestamp_field`` (the event time) and an optional ``created_timestamp_column``;
* a :class:`FeatureView` reads typed :class:`Feature` columns of one source for some
  entities, with a ``ttl`` (how old a value may be and still count);
* a :class:`FeatureService` is a named list of ``"view:feature"`` references for a model.

Each is a frozen pydantic model: keyword-only, validated at construction (an unknown
field is an error, not ignored), with equality, a repr and ``to_dict``/``from_dict``.
Feature types use the project's one column-type vocabulary
(:mod:`raymlops.core.coltypes`: ``int``, ``float``, ``bool``, ``string``, ``datetime``).

Example:
    >>> view = FeatureView(name="driver_hourly", entities=["driver"], source="driver_stats",
    ...                    ttl="2h", features=[{"name": "conv_rate", "dtype": "double"}])
    >>> view.ttl_seconds, view.features[0].dtype, view.to_dict()["ttl"]
    (7200, 'float', '2h')
    >>> FeatureView.from_dict(view.to_dict()) == view
    True
    >>> Entity(name="driver")
    Entity(name='driver', join_keys=['driver_id'])
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator, model_validator

from raymlops.core import coltypes
from raymlops.core.errors import InvalidInputError
from raymlops.core.names import NAME_RE
from raymlops.features.times import format_duration, parse_duration

__all__ = ["Definition", "Entity", "Feature", "FeatureService", "FeatureView", "FileSource", "column_name", "split_ref"]

SEP = "__"
"""Output columns are named ``view__feature``."""


def column_name(view: str, feature: str) -> str:
    """The column a view's feature gets in a training set and in served rows."""
    return f"{view}{SEP}{feature}"


def split_ref(ref: str) -> tuple[str, str]:
    """``"view:feature"`` as ``(view, feature)``.

    Raises:
        InvalidInputError: the reference is not ``view:feature``.
    """
    view, sep, feature = str(ref).strip().partition(":")
    if not sep or not view or not feature or ":" in feature:
        raise InvalidInputError(f"feature reference {ref!r} must be written view:feature (e.g. driver_hourly:conv_rate)")
    return view.strip(), feature.strip()


def _check_name(value: str, what: str) -> str:
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise ValueError(
            f"{what} name {value!r} must start with a letter or digit and use only letters, digits, '.', '_' or '-' (at most 64 characters)"
        )
    return value


def _check_column(value: str, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or value != value.strip() or ":" in value:
        raise ValueError(f"{what} {value!r} must be a non-empty column name without ':' or surrounding spaces")
    return value


def _name_of(value: Any) -> Any:
    return value.name if isinstance(value, Definition) else value


class Definition(BaseModel):
    """Base of the definition objects: frozen, keyword-only, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as written in the repository YAML file (optional fields left out when unset)."""
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """Build from :meth:`to_dict` output or a mapping read from YAML."""
        return cls.model_validate(data)


class Entity(Definition):
    """Something features describe, identified by its join keys (``join_keys`` default: ``[name + "_id"]``)."""

    name: str
    join_keys: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name(v, "entity")

    @field_validator("join_keys")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        for k in v:
            _check_column(k, "join key")
        if len(set(v)) != len(v):
            raise ValueError(f"join keys {v} repeat a name")
        return v

    @model_validator(mode="after")
    def _default_keys(self) -> Entity:
        if not self.join_keys:
            object.__setattr__(self, "join_keys", [f"{self.name}_id"])
        return self


class Feature(Definition):
    """A typed feature column (``dtype`` one of int, float, bool, string, datetime)."""

    name: str
    dtype: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        _check_column(v, "feature name")
        if SEP in v:
            raise ValueError(f"feature name {v!r} may not contain {SEP!r} (it separates view and feature in column names)")
        return v

    @field_validator("dtype", mode="before")
    @classmethod
    def _dtype(cls, v: Any) -> str:
        try:
            return coltypes.canonical(v)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None


class FileSource(Definition):
    """Parquet or CSV data with an event-time column (and optionally a created-time column).

    ``path`` is a file, a folder, a glob or an fsspec URI; a relative path is relative to
    the repository file.
    """

    name: str
    path: str
    timestamp_field: str
    created_timestamp_column: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name(v, "source")

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        if not isinstance(v, str) or not v.strip():
            raise ValueError("path must name a file, folder, glob or URI")
        return v

    @field_validator("timestamp_field", "created_timestamp_column")
    @classmethod
    def _columns(cls, v: str | None) -> str | None:
        return None if v is None else _check_column(v, "timestamp column")

    @property
    def timestamp_columns(self) -> list[str]:
        return [self.timestamp_field] + ([self.created_timestamp_column] if self.created_timestamp_column else [])


class FeatureView(Definition):
    """Typed features of one source for some entities, valid for ``ttl`` after their event time.

    ``entities`` and ``source`` take names (or the objects, whose names are kept).
    ``ttl`` is ``30s``/``15m``/``2h``/``7d``, seconds or a timedelta; ``0`` or None: no limit.
    """

    name: str
    entities: list[str]
    source: str
    ttl: int | None = None
    features: list[Feature]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        _check_name(v, "feature view")
        if SEP in v:
            raise ValueError(f"feature view name {v!r} may not contain {SEP!r} (it separates view and feature in column names)")
        return v

    @field_validator("entities", mode="before")
    @classmethod
    def _entities(cls, v: Any) -> Any:
        if isinstance(v, (str, Definition)):
            v = [v]
        out = [_name_of(e) for e in v] if isinstance(v, (list, tuple)) else v
        if isinstance(out, list):
            if not out:
                raise ValueError("a feature view needs at least one entity")
            if len(set(out)) != len(out):
                raise ValueError(f"entities {out} repeat a name")
        return out

    @field_validator("source", mode="before")
    @classmethod
    def _source(cls, v: Any) -> Any:
        return _name_of(v)

    @field_validator("ttl", mode="before")
    @classmethod
    def _ttl(cls, v: Any) -> int | None:
        if isinstance(v, float) and v == int(v):
            v = int(v)
        try:
            return parse_duration(v)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None

    @field_validator("features")
    @classmethod
    def _features(cls, v: list[Feature]) -> list[Feature]:
        if not v:
            raise ValueError("a feature view needs at least one feature")
        names = [f.name for f in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"feature names repeat: {', '.join(dup)}")
        return v

    @field_serializer("ttl")
    def _ttl_out(self, v: int | None) -> str:
        return format_duration(v)

    @property
    def ttl_seconds(self) -> int | None:
        """The TTL in seconds (None: values never expire)."""
        return self.ttl

    @property
    def ttl_timedelta(self) -> dt.timedelta | None:
        return None if self.ttl is None else dt.timedelta(seconds=self.ttl)

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def feature(self, name: str) -> Feature:
        """The feature called ``name``.

        Raises:
            InvalidInputError: the view has no such feature.
        """
        for f in self.features:
            if f.name == name:
                return f
        raise InvalidInputError(f"feature view {self.name!r} has no feature {name!r}; it has {', '.join(self.feature_names)}")


class FeatureService(Definition):
    """A named list of ``"view:feature"`` references: the features one model reads."""

    name: str
    features: list[str]

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _check_name(v, "feature service")

    @field_validator("features")
    @classmethod
    def _refs(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("a feature service needs at least one feature")
        out = []
        for ref in v:
            try:
                view, feature = split_ref(ref)
            except InvalidInputError as exc:
                raise ValueError(exc.message) from None
            out.append(f"{view}:{feature}")
        dup = sorted({r for r in out if out.count(r) > 1})
        if dup:
            raise ValueError(f"features repeat: {', '.join(dup)}")
        return out
