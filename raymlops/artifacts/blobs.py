"""Content-addressed blob store under ``$RAYMLOPS_HOME/artifacts``.

A blob lives at ``sha256/<first two hex digits>/<full digest>``; writing is atomic
(temporary file, then rename) and idempotent, and reading verifies the digest.

Example:
    >>> import tempfile
    >>> blobs = BlobStore(tempfile.mkdtemp())
    >>> sha, path = blobs.put(b"model bytes")
    >>> sha[:12], blobs.get(sha)
    ('9cb7487000bc', b'model bytes')
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from raymlops.artifacts.hashing import sha256_bytes
from raymlops.core.config import Settings
from raymlops.core.errors import ArtifactIntegrityError, InvalidInputError, NotFoundError

__all__ = ["BlobStore"]

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    """Blobs addressed by their sha256 in a folder."""

    def __init__(self, root: str | os.PathLike[str]):
        self.root = Path(root)

    @classmethod
    def hosted(cls, store: Any, settings: Settings) -> BlobStore:
        """The blob store the store actor serves (the head node's ``$RAYMLOPS_HOME/artifacts``)."""
        return cls(settings.artifacts_dir)

    def path(self, sha256: str) -> Path:
        if not _HEX64.match(sha256 or ""):
            raise InvalidInputError(f"invalid sha256 digest {sha256!r}: expected 64 lowercase hex digits")
        return self.root / "sha256" / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, data: bytes) -> tuple[str, str]:
        """Store ``data``; returns its sha256 and the absolute path of the blob."""
        sha = sha256_bytes(data)
        dest = self.path(sha)
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.chmod(tmp, 0o444)
                os.replace(tmp, dest)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        return sha, str(dest)

    def get(self, sha256: str, *, what: str | None = None) -> bytes:
        """The bytes of a blob, after checking they still hash to ``sha256``.

        Raises:
            ArtifactIntegrityError: the file's content no longer matches its digest.
            NotFoundError: no blob with that digest.
        """
        p = self.path(sha256)
        try:
            data = p.read_bytes()
        except FileNotFoundError:
            raise NotFoundError(
                what="artifact blob", name=sha256, hint=f"it should be at {p}; was RAYMLOPS_HOME moved or cleaned?"
            ) from None
        actual = sha256_bytes(data)
        if actual != sha256:
            raise ArtifactIntegrityError(what=what or f"blob {sha256}", expected=sha256, actual=actual, path=str(p))
        return data
