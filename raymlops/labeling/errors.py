"""Errors of the labeling package: each says which row, column or function was wrong.

Example:
    >>> err = AnnotationsError("row 3: column 'label' is empty; fill it in or drop the row")
    >>> err.exit_code, err.code
    (2, 'bad_annotations')
"""

from __future__ import annotations

from raymlops.core.errors import InvalidInputError

__all__ = ["AnnotationsError", "GoldError", "LabelingFunctionError", "LabelStudioFormatError"]


class AnnotationsError(InvalidInputError):
    """The annotation table cannot be used (a missing column, an empty cell, no labels)."""

    code = "bad_annotations"


class GoldError(InvalidInputError):
    """The gold table cannot be used (a missing column, a class the annotations do not know)."""

    code = "bad_gold"


class LabelingFunctionError(InvalidInputError):
    """A labeling-function file cannot be loaded, or one of its functions failed or returned nonsense."""

    code = "labeling_function_failed"


class LabelStudioFormatError(InvalidInputError):
    """A Label Studio JSON file is not what Label Studio writes."""

    code = "bad_label_studio_json"
