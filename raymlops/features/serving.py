"""Joining served features at request time: entity keys in, the model's full feature row out.

:class:`OnlineFeatureJoiner` is pure (it only needs an online-store reader) and is what
the serving ingress calls for a model registered with a feature service. How serving
should call it:

1. When a model version is deployed, build one joiner from its feature service and its
   signature's input names (``signature["inputs"]``) and keep it for the replica's life:
   ``joiner = OnlineFeatureJoiner(store.reader(selection), columns=[i["name"] for i in sig["inputs"]],
   service_columns=Repository.columns(selection), join_keys=keys)``.
2. Per request, pass the instances as they came (``[{"driver_id": 5}, ...]``, optionally
   with explicit feature values): ``rows, statuses = joiner.join(instances)``. One online
   read serves the whole batch.
3. Predict on ``rows`` (dicts in the signature's order, ready for the model's
   DataFrame), sketch ``rows`` like any request so the monitor compares served feature
   vectors with the training set's profile (training/serving skew is then a drift check),
   and return ``statuses`` next to the predictions if the client asks for them.

An explicit value in the request overrides the store for that feature (status
``REQUEST``); a column the signature needs that neither the request nor the service
provides is an error naming it.

Example:
    >>> from raymlops.features.online_read import OnlineResult
    >>> def reader(rows, now_us=None):
    ...     return OnlineResult(values={"d__rate": [0.5 for _ in rows]}, status={"d__rate": ["PRESENT" for _ in rows]})
    >>> j = OnlineFeatureJoiner(reader, columns=["d__rate", "trip_km"], service_columns=["d__rate"], join_keys=["driver_id"])
    >>> j.join([{"driver_id": 5, "trip_km": 3.2}])
    ([{'d__rate': 0.5, 'trip_km': 3.2}], [{'d__rate': 'PRESENT', 'trip_km': 'REQUEST'}])
    >>> j.join([{"driver_id": 5, "trip_km": 1.0, "d__rate": 0.9}])[0]
    [{'d__rate': 0.9, 'trip_km': 1.0}]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from raymlops.core.errors import InvalidInputError

__all__ = ["FeatureRequestError", "OnlineFeatureJoiner", "REQUEST"]

REQUEST = "REQUEST"
"""The status of a value the request itself carried."""


class FeatureRequestError(InvalidInputError):
    """Instances that cannot be joined with their features; ``details`` lists ``{"instance", "field", "problem"}``."""

    code = "invalid_instances"
    http_status = 422


class OnlineFeatureJoiner:
    """Builds model input rows from entity keys, the online store and request-time values.

    Args:
        reader: ``reader(entity_rows, now_us=None) -> OnlineResult`` (an
            :class:`~raymlops.features.online_read.OnlineReader`, or see
            :meth:`raymlops.features.FeatureStore.reader`).
        columns: the model signature's input names, in order.
        service_columns: the ``view__feature`` columns the feature service provides.
        join_keys: the entity keys a request must carry.
    """

    def __init__(self, reader: Callable[..., Any], *, columns: Sequence[str], service_columns: Sequence[str], join_keys: Sequence[str]):
        self.reader = reader
        self.columns = list(columns)
        self.service_columns = [c for c in service_columns if c in set(self.columns)]
        self.join_keys = list(join_keys)
        self._known = set(self.columns) | set(self.join_keys)

    def __repr__(self) -> str:
        return f"OnlineFeatureJoiner(columns={self.columns!r}, join_keys={self.join_keys!r})"

    def _problems(self, instances: Sequence[Any]) -> list[dict[str, Any]]:
        problems: list[dict[str, Any]] = []
        for i, inst in enumerate(instances):
            if not isinstance(inst, Mapping):
                problems.append({"instance": i, "problem": f"expected an object {{field: value}}, got {type(inst).__name__}"})
                continue
            lookup = any(c not in inst for c in self.service_columns)
            keys = [k for k in self.join_keys if k not in inst] if lookup else []
            problems += [{"instance": i, "field": k, "problem": "missing entity key: the model's features are looked up by it"} for k in keys]
            problems += [{"instance": i, "field": str(k)[:100], "problem": "unexpected field: neither an input of the model nor an entity key"}
                         for k in inst if k not in self._known]
            problems += [{"instance": i, "field": c, "problem": "missing required field (the feature service does not provide it)"}
                         for c in self.columns if c not in inst and c not in self.service_columns and c not in keys]
        return problems

    def join(self, instances: Sequence[Mapping[str, Any]], *, now_us: int | None = None) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
        """The model input row and the per-feature status of each instance.

        Raises:
            FeatureRequestError: an instance lacks an entity key, a column neither the
                request nor the service provides, or has a field the model does not take
                (every problem is a detail naming the instance and the field).
        """
        problems = self._problems(instances)
        if problems:
            first = problems[0]
            where = f"instance {first['instance']}" + (f" field {first['field']!r}" if "field" in first else "")
            raise FeatureRequestError(f"{len(problems)} problem(s); first: {where}: {first['problem']}", details=problems[:100])
        need_store = [i for i, inst in enumerate(instances) if any(c not in inst for c in self.service_columns)]
        try:
            found = self.reader([instances[i] for i in need_store], now_us=now_us) if need_store else None
        except InvalidInputError as exc:  # an entity key of the wrong type
            raise FeatureRequestError(exc.message, details=exc.details) from None
        slot = {i: n for n, i in enumerate(need_store)}
        rows, statuses = [], []
        for i, inst in enumerate(instances):
            row, status = {}, {}
            for c in self.columns:
                if c in inst:
                    row[c], status[c] = inst[c], REQUEST
                else:
                    row[c], status[c] = found.values[c][slot[i]], found.status[c][slot[i]]
            rows.append(row)
            statuses.append(status)
        return rows, statuses
