"""Model signatures: the input columns with their types, and the output.

A signature is plain JSON so the serving side can validate every instance against it:
``{"inputs": [{"name": "x", "type": "double"}, ...], "output": {...}}`` where the
output is ``{"type": "class", "classes": [...]}`` for a classifier and
``{"type": "double"}`` for a regressor.

Example:
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "color": ["r", "g", "r", "g"]})
    >>> sig = infer_signature(X, LogisticRegression().fit(X[["a"]], [0, 0, 1, 1]))
    >>> sig["inputs"], sig["output"]
    ([{'name': 'a', 'type': 'double'}, {'name': 'color', 'type': 'string'}], {'type': 'class', 'classes': [0, 1]})
"""

from __future__ import annotations

from typing import Any

__all__ = ["infer_signature", "dtype_to_type", "SIGNATURE_TYPES"]

SIGNATURE_TYPES = ("double", "long", "boolean", "string")


def dtype_to_type(dtype: Any) -> str:
    """Map a pandas/numpy dtype to a signature type."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        return "long"
    if pd.api.types.is_float_dtype(dtype):
        return "double"
    return "string"


def _plain(v: Any) -> Any:
    return v.item() if hasattr(v, "item") else v


def infer_signature(input_example: Any = None, model: Any = None) -> dict[str, Any]:
    """Build a signature from an input example (a DataFrame) and a fitted model."""
    import pandas as pd

    inputs: list[dict[str, str]] = []
    if input_example is not None:
        df = input_example if isinstance(input_example, pd.DataFrame) else pd.DataFrame(input_example)
        inputs = [{"name": str(c), "type": dtype_to_type(df[c].dtype)} for c in df.columns]
    elif model is not None and hasattr(model, "feature_names_in_"):
        inputs = [{"name": str(c), "type": "double"} for c in model.feature_names_in_]
    output: dict[str, Any] = {}
    if model is not None:
        classes = getattr(model, "classes_", None)
        if classes is not None:
            output = {"type": "class", "classes": [_plain(c) for c in classes]}
        else:
            output = {"type": "double"}
    return {"inputs": inputs, "output": output}
