"""Model signatures: the input columns with their types, and the output.

A signature is plain JSON so the serving side can validate every instance against it:
``{"inputs": [{"name": "x", "type": "float"}, ...], "output": {...}}`` where input types
are the project's column types (:mod:`raymlops.core.coltypes`: ``int``, ``float``,
``bool``, ``string``, ``datetime``) and the output is ``{"type": "class", "classes":
[...]}`` for a classifier and ``{"type": "float"}`` for a regressor. Signatures stored
before the one vocabulary say ``double``, ``long`` and ``boolean``; readers pass every
type through :func:`raymlops.core.coltypes.canonical`.

Example:
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "color": ["r", "g", "r", "g"]})
    >>> sig = infer_signature(X, LogisticRegression().fit(X[["a"]], [0, 0, 1, 1]))
    >>> sig["inputs"], sig["output"]
    ([{'name': 'a', 'type': 'float'}, {'name': 'color', 'type': 'string'}], {'type': 'class', 'classes': [0, 1]})
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from raymlops.core import coltypes
from raymlops.core.values import py

__all__ = ["infer_signature"]


def infer_signature(input_example: Any = None, model: Any = None) -> dict[str, Any]:
    """Build a signature from an input example (a DataFrame) and a fitted model."""
    inputs: list[dict[str, str]] = []
    if input_example is not None:
        df = input_example if isinstance(input_example, pd.DataFrame) else pd.DataFrame(input_example)
        inputs = [{"name": str(c), "type": coltypes.from_pandas(df[c].dtype)} for c in df.columns]
    elif model is not None and hasattr(model, "feature_names_in_"):
        inputs = [{"name": str(c), "type": "float"} for c in model.feature_names_in_]
    output: dict[str, Any] = {}
    if model is not None:
        classes = getattr(model, "classes_", None)
        if classes is not None:
            output = {"type": "class", "classes": [py(c) for c in classes]}
        else:
            output = {"type": "float"}
    return {"inputs": inputs, "output": output}
