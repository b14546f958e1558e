"""What every run records about where it ran: code version, interpreter, packages."""

from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata
from typing import Any

__all__ = ["KEY_PACKAGES", "environment_info", "git_info"]

KEY_PACKAGES = ("raymlops", "ray", "scikit-learn", "pandas", "numpy", "pyarrow", "sqlalchemy")


def git_info(cwd: str | None = None) -> dict[str, Any]:
    """The git commit and dirty flag of ``cwd`` (``None`` values outside a repository)."""

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}


def environment_info() -> dict[str, Any]:
    """Python version, platform and versions of the key packages."""
    packages = {}
    for name in KEY_PACKAGES:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "packages": packages,
    }
