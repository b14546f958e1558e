"""Dataset schemas: what each column should hold, inferred from data and edited by people.

A :class:`Schema` lists every column with its type (``int``, ``float``, ``bool``,
``string`` or ``datetime``), whether it may be null, its range (numbers and datetimes)
or its domain (strings with few distinct values, like TFDV), and optionally the label
column with a human definition of each class (label quality starts with saying what
each label means) and the key columns whose values must not repeat.
:func:`raymlops.data.validation.validate_batch` checks data against it.

Inference is mergeable so it can run batch by batch, e.g. one :class:`SchemaBuilder`
per Ray Data block merged at the end: ``update(batch)`` on each builder, ``merge`` the
builders, then ``build(label=..., key=...)``. :func:`infer_schema` does all three for
one table. Types come from the pyarrow types; a pandas float column that holds only
whole numbers and at least one NaN is inferred as ``int`` (pandas turns an integer
column with a missing value into floats). Inference keeps the sketches of
:mod:`raymlops.sketches` per column (see :mod:`~raymlops.data.schema.infer`).

Modules: :mod:`~raymlops.data.schema.model` (the schema and its JSON file),
:mod:`~raymlops.data.schema.infer` (inference), :mod:`~raymlops.data.schema.arrow`
(batches as Arrow tables, datetimes as microseconds).

The schema file is JSON, meant to be read and edited by people::

    {
      "version": 1,
      "columns": [
        {"name": "id", "type": "int", "nullable": false, "min": 1, "max": 5000},
        {"name": "age", "type": "int", "nullable": false, "min": 0, "max": 120},
        {"name": "income", "type": "float", "nullable": true, "min": 0.0,
         "max": 250000.0, "allow_nan_or_inf": false},
        {"name": "color", "type": "string", "nullable": false, "domain": ["blue", "red"]},
        {"name": "city", "type": "string", "nullable": false, "domain": null},
        {"name": "signup", "type": "datetime", "nullable": false,
         "min": "2020-01-01T00:00:00", "max": "2024-12-31T23:59:59"},
        {"name": "churned", "type": "string", "nullable": false}
      ],
      "label": {"column": "churned",
                "classes": {"no": {"definition": "still a customer after 90 days"},
                            "yes": {"definition": ""}}},
      "key": ["id"],
      "excluded": [{"column": "signup", "reason": "a timestamp: ..."}]
    }

Column fields (only ``name`` and ``type`` are required):

- ``nullable`` (default true): whether a null (missing) value is allowed.
- ``min`` / ``max`` (int, float and datetime columns; null or absent = no bound):
  the inclusive range. Datetimes are ISO 8601 strings, compared in UTC.
- ``allow_nan_or_inf`` (float columns, default false): whether NaN and ±inf are allowed.
- ``domain`` (string columns; null or absent = any value): the allowed values.
  Inference writes one when a column has at most ``max_domain`` distinct values.
- ``description`` (optional): free text for people.

``label`` names the label column; ``classes`` maps each class value (as a JSON string:
``"3"`` for an int label, ``"true"`` for a bool one) to ``{"definition": "..."}``, or is
null for a regression target. The classes are the label column's domain: a value that
is not a class is an ``unseen_category``. ``key`` lists the columns whose combined value
identifies a row. ``excluded`` lists the columns that are data but not features, with
why: inference excludes key-like columns (unique per row: an integer sequence, unique
strings such as UUIDs), constant columns and raw timestamps; training and the data
pipeline leave them (and the key columns) out of the features. Safe edits: widen or
narrow a range, set a bound to null, add or remove domain values or classes, flip
``nullable``, write the class definitions, change the key, remove an exclusion to make a
column a feature again. Unknown fields are errors (a typo such as ``"mxa"`` is reported,
not ignored).

Example:
    >>> import pyarrow as pa
    >>> table = pa.table({"age": [31, 45, 27], "color": ["red", "blue", "red"], "y": [0, 1, 1]})
    >>> schema = infer_schema(table, label="y")
    >>> for column in schema.to_dict()["columns"]:
    ...     print(column)
    {'name': 'age', 'type': 'int', 'nullable': False, 'min': 27, 'max': 45}
    {'name': 'color', 'type': 'string', 'nullable': False, 'domain': ['blue', 'red']}
    {'name': 'y', 'type': 'int', 'nullable': False, 'min': 0, 'max': 1}
    >>> schema.to_dict()["label"]
    {'column': 'y', 'classes': {'0': {'definition': ''}, '1': {'definition': ''}}}
"""

from __future__ import annotations

from raymlops.data.schema.arrow import as_table
from raymlops.data.schema.infer import SchemaBuilder, infer_schema
from raymlops.data.schema.model import (
    ExcludedColumn,
    COLUMN_TYPES,
    SCHEMA_VERSION,
    ColumnSchema,
    LabelClass,
    LabelSchema,
    Schema,
)

__all__ = [
    "ExcludedColumn",
    "COLUMN_TYPES",
    "SCHEMA_VERSION",
    "ColumnSchema",
    "LabelClass",
    "LabelSchema",
    "Schema",
    "SchemaBuilder",
    "as_table",
    "infer_schema",
]
