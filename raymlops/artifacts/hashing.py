"""Content hashes: of bytes, of a file (read in chunks), and of a folder of files.

A folder hashes to the sha256 of its sorted ``(relative path, file sha256)`` list (hidden
and ``_`` files skipped), so the same rows written as the same parts always get the same
hash.

Example:
    >>> sha256_bytes(b"model bytes")[:12]
    '9cb7487000bc'
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable

__all__ = ["files_of", "sha256_bytes", "sha256_file", "sha256_path", "sha256_paths"]


def sha256_bytes(data: bytes) -> str:
    """The sha256 of some bytes, in hex."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """The sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def files_of(path: str) -> list[str]:
    """The data files of a file or folder (hidden and ``_`` files skipped), sorted."""
    if os.path.isfile(path):
        return [path]
    out = []
    for d, _, files in os.walk(path):
        out += [os.path.join(d, f) for f in files if not f.startswith((".", "_"))]
    return sorted(out)


def sha256_paths(paths: Iterable[str], root: str | None = None) -> str:
    """One digest for several files: sha256 of their sorted (relative name, sha256) lines."""
    h = hashlib.sha256()
    for p in sorted(paths):
        rel = os.path.relpath(p, root) if root else os.path.basename(p)
        h.update(f"{rel}\0{sha256_file(p)}\n".encode())
    return h.hexdigest()


def sha256_path(path: str) -> str:
    """sha256 of a file, or of a folder's files (see module docstring)."""
    if os.path.isfile(path):
        return sha256_file(path)
    return sha256_paths(files_of(path), root=path)
