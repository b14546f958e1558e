"""Layer 2, next to the metadata store: the artifact store.

Content-addressed blobs under ``$RAYMLOPS_HOME/artifacts`` (written atomically, read back
only when their sha256 still matches), the content hashes of files and folders that
``Dataset`` artifacts record, and model (de)serialisation. :func:`connect` gives the blob
store of the current settings: the folder itself in a driver, the store actor's proxy
inside Ray workers with the default SQLite store.

Example:
    >>> import tempfile
    >>> blobs = BlobStore(tempfile.mkdtemp())
    >>> sha, _ = blobs.put(dumps_model({"w": 1}))
    >>> loads_model(blobs.get(sha))
    {'w': 1}
"""

from __future__ import annotations

from raymlops.artifacts.blobs import BlobStore
from raymlops.artifacts.hashing import files_of, sha256_bytes, sha256_file, sha256_path, sha256_paths
from raymlops.artifacts.remote import RemoteBlobStore
from raymlops.artifacts.serialization import dumps_model, loads_model
from raymlops.core.config import Settings
from raymlops.core.runtime import in_ray_worker

__all__ = [
    "BlobStore",
    "RemoteBlobStore",
    "connect",
    "dumps_model",
    "files_of",
    "loads_model",
    "sha256_bytes",
    "sha256_file",
    "sha256_path",
    "sha256_paths",
]


def connect(settings: Settings | None = None) -> BlobStore | RemoteBlobStore:
    """The blob store of ``settings``; through the store actor inside Ray workers on SQLite."""
    settings = settings or Settings.resolve()
    if settings.is_sqlite and in_ray_worker():
        return RemoteBlobStore(settings)
    return BlobStore(settings.artifacts_dir)
