"""Unusable input: the data cannot be read at all (exit code 2).

:class:`DataUnusableError` says what was wrong and what to pass instead;
:func:`reading` turns a reader failure deep inside Ray Data into one.

Example:
    >>> try:
    ...     with reading("data.csv"):
    ...         raise ValueError("CSV parse error: Expected 3 columns, got 2")
    ... except DataUnusableError as err:
    ...     print(err.message, err.exit_code)
    cannot read data.csv: CSV parse error: Expected 3 columns, got 2 2
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from raymlops.core.errors import InvalidInputError, RaymlopsError

__all__ = ["DataUnusableError", "reading"]


class DataUnusableError(InvalidInputError):
    """The data cannot be read at all (exit code 2)."""

    code = "data_unusable"


@contextmanager
def reading(what: str) -> Iterator[None]:
    """Turn a reader failure deep inside Ray Data into one clear unusable-input error."""
    try:
        yield
    except RaymlopsError:
        raise
    except Exception as exc:  # noqa: BLE001 - Ray wraps reader errors in its own types
        cause = getattr(exc, "cause", None) or exc
        if isinstance(cause, RaymlopsError):
            raise cause from None
        text = str(cause).strip().splitlines()
        first = next((line for line in text if line.strip() and "Traceback" not in line), type(cause).__name__)
        raise DataUnusableError(f"cannot read {what}: {first.strip()[:300]}") from None
