"""The blob store inside Ray workers with the default SQLite store: a proxy to the store actor.

The head node's ``$RAYMLOPS_HOME/artifacts`` holds the blobs; a worker on another node
writes and reads them through the store actor, and reads a local copy first when one
exists (a worker on the head node, or a shared file system).
"""

from __future__ import annotations

from raymlops.artifacts.blobs import BlobStore
from raymlops.core.config import Settings
from raymlops.metadata import RemoteService

__all__ = ["RemoteBlobStore"]


class RemoteBlobStore(RemoteService):
    """:class:`~raymlops.artifacts.BlobStore`'s methods, served by the store actor."""

    def __init__(self, settings: Settings, target: type = BlobStore):
        super().__init__(settings, target)

    def put(self, data: bytes) -> tuple[str, str]:
        return self._call("put", data)

    def exists(self, sha256: str) -> bool:
        return self._call("exists", sha256)

    def get(self, sha256: str, *, what: str | None = None) -> bytes:
        local = BlobStore(self._settings.artifacts_dir)
        if local.exists(sha256):
            return local.get(sha256, what=what)
        return self._call("get", sha256, what=what)
