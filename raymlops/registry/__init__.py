"""Model registry: content-addressed model artifacts, consecutive versions, aliases.

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

from raymlops.registry.blobs import BlobStore, sha256_bytes, sha256_file
from raymlops.core.names import parse_ref, validate_alias, validate_name
from raymlops.registry.registry import GUARDED_ALIASES, ModelRegistry, PromotionRefusedError, dumps_model, loads_model
from raymlops.registry.signature import infer_signature

__all__ = [
    "BlobStore",
    "GUARDED_ALIASES",
    "ModelRegistry",
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
