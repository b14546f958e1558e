"""Layer 3: the model registry. Content-addressed model artifacts, consecutive versions,
aliases, attachments and verdicts, on the metadata store and the artifact store.

Example:
    >>> import tempfile
    >>> from raymlops.metadata import MetadataStore
    >>> from raymlops.registry import BlobStore, ModelRegistry
    >>> reg = ModelRegistry(MetadataStore("sqlite://"), BlobStore(tempfile.mkdtemp()))
    >>> reg.register({"weights": [1, 2]}, "toy")["version"], reg.register({"weights": [3]}, "toy")["version"]
    (1, 2)
    >>> _ = reg.set_alias("toy", 1, "production", reason="first")
    >>> reg.get("toy@production")["version"], reg.load("toy@latest")
    (1, {'weights': [3]})
"""

from __future__ import annotations

from raymlops.artifacts import BlobStore, dumps_model, loads_model, sha256_bytes, sha256_file
from raymlops.core.names import parse_ref, validate_alias, validate_name
from raymlops.registry.registry import GUARDED_ALIASES, VERDICTS, ModelRegistry, PromotionRefusedError
from raymlops.registry.signature import infer_signature
from raymlops.registry.versions import ModelVersions

__all__ = [
    "BlobStore",
    "GUARDED_ALIASES",
    "VERDICTS",
    "ModelRegistry",
    "ModelVersions",
    "PromotionRefusedError",
    "dumps_model",
    "infer_signature",
    "loads_model",
    "parse_ref",
    "sha256_bytes",
    "sha256_file",
    "validate_alias",
    "validate_name",
]
