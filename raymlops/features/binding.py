"""A model version's feature service: what a model server needs to join online features by key.

:meth:`FeatureStore.bind_model <raymlops.features.FeatureStore.bind_model>` (also
``raymlops features bind`` and ``raymlops train --feature-service``) stores a
:class:`ServiceBinding` as the registry attachment ``feature_service`` of a model version.
The binding carries all a serving replica needs (the service's features per view, their
join keys and TTLs, the online store's URI), so a replica joins features without the
repository file or its sources. The default SQLite online store is a file on one machine:
on a multi-node cluster bind the model to a Redis store.

:func:`open_service` builds the replica's :class:`~raymlops.features.OnlineFeatureJoiner`
over an :class:`~raymlops.features.online_read.OnlineReader`; both are pure (no Ray).

Example:
    >>> from raymlops.core.config import Settings
    >>> from raymlops.features.online import OnlineRow, open_online_store
    >>> b = ServiceBinding(repo="file:///r.yaml", definition_version=1, service="s", selection={"v": ["x"]},
    ...                    join_keys={"v": ["driver_id"]}, ttls={"v": None}, online="memory://binding-doc")
    >>> ServiceBinding.from_bytes(b.to_attachment()[ATTACHMENT]) == b
    True
    >>> store = open_online_store("memory://binding-doc")
    >>> _ = store.write("v", {"[5]": OnlineRow(event_us=0, created_us=0, pos=0, values={"x": 0.25})})
    >>> joiner = open_service(b, ["driver_id", "v__x"], Settings.resolve(env={}))
    >>> joiner.join([{"driver_id": 5}, {"driver_id": 6, "v__x": 1.0}], now_us=0)
    ([{'driver_id': 5, 'v__x': 0.25}, {'driver_id': 6, 'v__x': 1.0}], [{'driver_id': 'REQUEST', 'v__x': 'PRESENT'}, {'driver_id': 'REQUEST', 'v__x': 'REQUEST'}])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.features.definitions import column_name
from raymlops.features.online import open_online_store
from raymlops.features.online_read import OnlineReader
from raymlops.features.serving import OnlineFeatureJoiner

__all__ = ["ATTACHMENT", "ServiceBinding", "check_columns", "load_binding", "open_service"]

ATTACHMENT = "feature_service"
"""The registry attachment of a model version that names its feature service."""


class ServiceBinding(BaseModel):
    """The feature service a model version is served with.

    Args:
        repo: the repository's URI (``file:///.../repo.yaml``), for people and lineage.
        definition_version: the applied definitions version the binding was made from.
        service: the feature service's name.
        selection: ``{view: [feature, ...]}`` of the service.
        join_keys: ``{view: [key, ...]}``.
        ttls: ``{view: seconds or None}``.
        online: the online store's URI (None: the default SQLite store of the settings).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    repo: str
    definition_version: int
    service: str
    selection: dict[str, list[str]]
    join_keys: dict[str, list[str]]
    ttls: dict[str, int | None]
    online: str | None = None

    @property
    def columns(self) -> list[str]:
        """The ``view__feature`` columns the service provides, in order."""
        return [column_name(v, f) for v, feats in self.selection.items() for f in feats]

    @property
    def entity_keys(self) -> list[str]:
        """Every join key a request must carry, in order."""
        return list(dict.fromkeys(k for v in self.selection for k in self.join_keys[v]))

    def to_attachment(self) -> dict[str, bytes]:
        """``{ATTACHMENT: bytes}`` for ``ModelRegistry.register(..., attachments=...)`` or ``attach``."""
        return {ATTACHMENT: self.model_dump_json().encode()}  # views in the service's order

    @classmethod
    def from_bytes(cls, data: bytes) -> ServiceBinding:
        return cls.model_validate_json(data)


def load_binding(registry: Any, ref: str) -> ServiceBinding | None:
    """The binding attached to a model version (a :class:`~raymlops.registry.ModelRegistry` ref), or None."""
    data = registry.attachment(ref, ATTACHMENT)
    return None if data is None else ServiceBinding.from_bytes(data)


def check_columns(binding: ServiceBinding, columns: Sequence[str], *, model: str) -> None:
    """Refuse a binding whose service provides none of the model's inputs.

    Raises:
        InvalidInputError: naming the model's inputs and the service's columns.
    """
    if not set(binding.columns) & set(columns):
        raise InvalidInputError(
            f"{model} takes none of feature service {binding.service!r}'s features ({', '.join(binding.columns)}); "
            f"its inputs are {', '.join(columns)}: train it on a training set of that service"
        )


def open_service(binding: ServiceBinding, columns: Sequence[str], settings: Settings) -> OnlineFeatureJoiner:
    """The joiner a model server keeps for its life: the model's inputs ``columns`` from entity keys.

    Raises:
        InvalidInputError: the service provides none of ``columns``, or an unknown store URI.
    """
    check_columns(binding, columns, model="the model")
    store = open_online_store(binding.online, settings)
    reader = OnlineReader(store, binding.selection, binding.join_keys, binding.ttls)
    return OnlineFeatureJoiner(reader, columns=columns, service_columns=binding.columns, join_keys=binding.entity_keys)
