"""The schema model and its JSON file: what each column should hold, as people edit it.

The file format is described in :mod:`raymlops.data.schema`. Unknown fields are errors,
and every problem is reported with where it is and how to fix it.

Example:
    >>> schema = Schema.from_dict({"columns": [{"name": "y", "type": "int"}],
    ...                            "label": {"column": "y", "classes": {"0": {}, "1": {}}}})
    >>> schema.label_values(), class_key(True), with_article("int")
    ([0, 1], 'true', 'an int')
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, ValidationError, model_validator

from raymlops.core.coltypes import COLUMN_TYPES
from raymlops.core.errors import InvalidInputError
from raymlops.data.schema.arrow import iso_to_micros

__all__ = [
    "ExcludedColumn",
    "COLUMN_TYPES",
    "SCHEMA_VERSION",
    "ColumnSchema",
    "LabelClass",
    "LabelSchema",
    "Schema",
    "class_key",
    "parse_class",
    "with_article",
]

SCHEMA_VERSION = 1
_HELP = (
    "fix the file (its format is described in raymlops.data.schema), or write a new one with "
    "`raymlops data validate DATA --save-schema S`"
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSchema(_Model):
    """One column: its type, nullability and range or domain.

    Example:
        >>> ColumnSchema(name="age", type="int", nullable=False, min=0, max=120).to_dict()
        {'name': 'age', 'type': 'int', 'nullable': False, 'min': 0, 'max': 120}
    """

    name: StrictStr = Field(min_length=1)
    type: Literal["int", "float", "bool", "string", "datetime"]
    nullable: StrictBool = True
    min: Any = None
    max: Any = None
    allow_nan_or_inf: StrictBool = False
    domain: tuple[StrictStr, ...] | None = None
    description: StrictStr = ""

    @model_validator(mode="after")
    def _check(self) -> ColumnSchema:
        for bound in ("min", "max"):
            value = getattr(self, bound)
            if value is None:
                continue
            if self.type in ("int", "float"):
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{bound} of {with_article(self.type)} column must be a number or null, got {value!r}")
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"{bound} must be a finite number; use null for no bound")
            elif self.type == "datetime":
                if not isinstance(value, str):
                    raise ValueError(
                        f"{bound} of a datetime column must be an ISO 8601 string such as "
                        f"'2024-01-31T00:00:00', got {value!r}"
                    )
                try:
                    iso_to_micros(value)
                except ValueError:
                    raise ValueError(
                        f"{bound} {value!r} is not an ISO 8601 datetime; write e.g. '2024-01-31T00:00:00'"
                    ) from None
            else:
                raise ValueError(
                    f"{bound} applies to int, float and datetime columns, not to {with_article(self.type)} column; remove it"
                )
        if self.min is not None and self.max is not None:
            lo, hi = self.min, self.max
            if self.type == "datetime":
                lo, hi = iso_to_micros(lo), iso_to_micros(hi)
            if lo > hi:
                raise ValueError(f"min {self.min!r} is greater than max {self.max!r}")
        if self.domain is not None and self.type != "string":
            raise ValueError(f"domain applies to string columns, not to {with_article(self.type)} column; remove it")
        if self.allow_nan_or_inf and self.type != "float":
            raise ValueError(
                f"allow_nan_or_inf applies to float columns, not to {with_article(self.type)} column; remove it"
            )
        return self

    @property
    def bounds_text(self) -> str:
        """The range as ``[min, max]``, with ``-inf``/``inf`` for a missing bound."""
        lo = "-inf" if self.min is None else _fmt(self.min)
        hi = "inf" if self.max is None else _fmt(self.max)
        return f"[{lo}, {hi}]"

    def to_dict(self, *, with_domain: bool = True) -> dict[str, Any]:
        """The JSON form, with every field that applies to the column's type."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "nullable": self.nullable}
        if self.type in ("int", "float", "datetime"):
            out["min"] = self.min
            out["max"] = self.max
        if self.type == "float":
            out["allow_nan_or_inf"] = self.allow_nan_or_inf
        if self.type == "string" and with_domain:
            out["domain"] = None if self.domain is None else list(self.domain)
        if self.description:
            out["description"] = self.description
        return out


def with_article(kind: str) -> str:
    """``int`` → ``an int``, ``float`` → ``a float``."""
    return f"an {kind}" if kind[0] in "aeiou" else f"a {kind}"


def _fmt(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)


class LabelClass(_Model):
    """One class of the label: what it means, in words a labeler can apply."""

    definition: StrictStr = ""


class LabelSchema(_Model):
    """The label column and its classes (``None`` for a regression target)."""

    column: StrictStr = Field(min_length=1)
    classes: dict[StrictStr, LabelClass] | None = None


class ExcludedColumn(_Model):
    """A column that is data but not a feature: a row id, a constant, a raw timestamp."""

    column: StrictStr = Field(min_length=1)
    reason: StrictStr = ""


class Schema(_Model):
    """What a dataset's columns should hold; see the module docstring for the JSON format.

    Example:
        >>> schema = Schema.from_dict({"columns": [{"name": "x", "type": "float", "min": 0.0}]})
        >>> schema.names, schema.column("x").nullable, schema.column("x").bounds_text
        (['x'], True, '[0.0, inf]')
    """

    version: Literal[1] = SCHEMA_VERSION
    columns: tuple[ColumnSchema, ...]
    label: LabelSchema | None = None
    key: tuple[StrictStr, ...] = ()
    excluded: tuple[ExcludedColumn, ...] = ()

    @model_validator(mode="after")
    def _check(self) -> Schema:
        if not self.columns:
            raise ValueError("the schema lists no columns; add at least one")
        seen: set[str] = set()
        for col in self.columns:
            if col.name in seen:
                raise ValueError(f"column {col.name!r} is listed twice; keep one entry per column")
            seen.add(col.name)
        if self.label is not None:
            if self.label.column not in seen:
                raise ValueError(
                    f"label column {self.label.column!r} is not among the columns; add it or fix the name"
                )
            col = self.column(self.label.column)
            if self.label.classes is not None:
                if col.type not in ("int", "bool", "string"):
                    raise ValueError(
                        f"label column {col.name!r} is {col.type}; classes apply to int, bool and string "
                        "labels (use \"classes\": null for a regression target)"
                    )
                if col.domain is not None:
                    raise ValueError(
                        f"label column {col.name!r} has a domain; list its values under label.classes instead"
                    )
                for value in self.label.classes:
                    parse_class(value, col.type)
        for name in self.key:
            if name not in seen:
                raise ValueError(f"key column {name!r} is not among the columns; add it or fix the name")
        if len(set(self.key)) != len(self.key):
            raise ValueError(f"key {list(self.key)} lists a column twice")
        for ex in self.excluded:
            if ex.column not in seen:
                raise ValueError(f"excluded column {ex.column!r} is not among the columns; remove it or fix the name")
            if self.label is not None and ex.column == self.label.column:
                raise ValueError(f"the label column {ex.column!r} cannot be excluded")
        return self

    # ---- access

    @property
    def names(self) -> list[str]:
        """The column names, in schema order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSchema:
        """The column called ``name``.

        Raises:
            InvalidInputError: no such column.
        """
        for col in self.columns:
            if col.name == name:
                return col
        raise InvalidInputError(f"column {name!r} is not in the schema (columns: {', '.join(self.names)})")

    def not_features(self) -> dict[str, str]:
        """The columns that are not features, with why: the key columns and the excluded ones."""
        out = {name: "the key (identifies a row)" for name in self.key}
        out.update({ex.column: ex.reason for ex in self.excluded if ex.column not in out})
        return out

    def label_values(self) -> list[Any] | None:
        """The label classes as typed values (ints for an int label), or ``None``."""
        if self.label is None or self.label.classes is None:
            return None
        kind = self.column(self.label.column).type
        return [parse_class(v, kind) for v in self.label.classes]

    # ---- (de)serialisation

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (see the module docstring)."""
        label_col = self.label.column if self.label is not None and self.label.classes is not None else None
        out: dict[str, Any] = {
            "version": self.version,
            "columns": [c.to_dict(with_domain=c.name != label_col) for c in self.columns],
        }
        if self.label is not None:
            classes = None
            if self.label.classes is not None:
                classes = {k: v.model_dump() for k, v in self.label.classes.items()}
            out["label"] = {"column": self.label.column, "classes": classes}
        else:
            out["label"] = None
        out["key"] = list(self.key)
        out["excluded"] = [ex.model_dump() for ex in self.excluded]
        return out

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schema") -> Schema:
        """Build a schema from its JSON form.

        Args:
            data: the parsed JSON.
            source: what to call the input in error messages (e.g. the file path).

        Raises:
            InvalidInputError: naming every field that is wrong and what it should be.
        """
        if not isinstance(data, dict):
            raise InvalidInputError(
                f"{source} is not valid: it must be a JSON object with \"columns\", "
                f"got {type(data).__name__}; {_HELP}"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            problems = [_describe(e, data) for e in err.errors()]
            raise InvalidInputError(
                f"{source} is not valid: {'; '.join(problems)}; {_HELP}", details=problems
            ) from None

    def to_json(self) -> str:
        """The schema file's text: indented JSON, keys in a fixed order."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the schema file (creating parent folders) and return its path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Schema:
        """Read a schema file.

        Raises:
            InvalidInputError: the file is missing, is not JSON, or does not describe a
                schema; the message names the file, the line or field, and the fix.
        """
        path = Path(path)
        source = f"schema file {str(path)!r}"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise InvalidInputError(
                f"{source} does not exist; pass the path of an existing schema, or write one with "
                "`raymlops data validate DATA --save-schema S`"
            ) from None
        except (OSError, UnicodeDecodeError) as err:
            raise InvalidInputError(f"cannot read {source}: {err}") from None
        try:
            data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
        except json.JSONDecodeError as err:
            raise InvalidInputError(
                f"{source} is not valid JSON: {err.msg} at line {err.lineno} column {err.colno}; {_HELP}"
            ) from None
        except _DuplicateKey as err:
            raise InvalidInputError(
                f"{source} is not valid: the key {err.args[0]!r} appears twice in one object; keep one"
            ) from None
        return cls.from_dict(data, source=source)


class _DuplicateKey(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _DuplicateKey(k)
        out[k] = v
    return out


_FIELDS = {
    "schema": "version, columns, label, key",
    "column": "name, type, nullable, min, max, allow_nan_or_inf, domain, description",
    "label": "column, classes",
    "class": "definition",
}


def _describe(error: Any, data: dict[str, Any]) -> str:
    """One pydantic error as ``where: what``, naming columns by their name."""
    loc = list(error["loc"])
    where = ""
    node: Any = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            where += f"[{part}]" + (f" ({name!r})" if isinstance(name, str) else "")
            node = item
        else:
            in_classes = i > 0 and loc[i - 1] == "classes"
            where += ("." if where else "") + (repr(part) if in_classes else str(part))
            node = node.get(part) if isinstance(node, dict) else None
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        parent = {0: "schema", 1: "schema"}.get(len(loc), "")
        if loc[0] == "columns" and len(loc) == 3:
            parent = "column"
        elif loc[0] == "label":
            parent = "label" if len(loc) == 2 else "class"
        msg = f"unknown field (allowed: {_FIELDS[parent or 'schema']})"
    elif error["type"] == "missing":
        msg = "required field is missing"
    return f"{where or 'top level'}: {msg}"


def parse_class(value: str, kind: str) -> Any:
    """A label class as written in the file (a JSON key) as a value of the label's type.

    Raises:
        ValueError: the text is not a value of that type.
    """
    if kind == "int":
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"label class {value!r} is not an int, but the label column is int") from None
    if kind == "bool":
        if value not in ("true", "false"):
            raise ValueError(f"label class {value!r} of a bool label must be \"true\" or \"false\"")
        return value == "true"
    return value


def class_key(value: Any) -> str:
    """A label value as its class key in the file: ``"3"``, ``"true"``, ``"no"``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
