"""The model registry: content-addressed model artifacts, versions, aliases, attachments.

Versions of a name are consecutive (1, 2, 3, ...) even when several processes
register at once: the store assigns the next number inside the same transaction
that inserts the version. Aliases (``champion``, ``challenger``, any name) point at
versions; ``latest`` is implicit. Every alias move is kept with when, from, to and why.

The registry stores opaque *attachments* with a version (named blobs: training attaches
the drift monitor's reference profile, the monitor reads it back) and the *verdicts*
that evaluations record; ``champion`` only moves to a version whose latest verdict is
BLESSED. What a verdict means, and how it is reached, is training's business.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from raymlops.artifacts import BlobStore, RemoteBlobStore, dumps_model, loads_model
from raymlops.artifacts import connect as connect_blobs
from raymlops.core.config import Settings
from raymlops.core.errors import ChecksFailedError, InvalidInputError, ModelNotFoundError
from raymlops.core.names import parse_ref, validate_alias, validate_name
from raymlops.metadata import Artifact, MetadataAPI
from raymlops.metadata import connect as connect_store
from raymlops.registry.signature import infer_signature
from raymlops.registry.versions import ModelVersions

__all__ = ["GUARDED_ALIASES", "VERDICTS", "ModelRegistry", "PromotionRefusedError"]

GUARDED_ALIASES = ("champion",)
"""Aliases that only move to a version whose latest verdict is BLESSED (or with force)."""

VERDICTS = ("BLESSED", "NOT_BLESSED")


class PromotionRefusedError(ChecksFailedError):
    """Moving a guarded alias (``champion``) to a version that is not blessed."""

    code = "promotion_refused"
    http_status = 409
    template = (
        "refusing to make {ref} {alias}: {why}; evaluate it with `raymlops train` (a BLESSED "
        "verdict is needed) or pass --force to override (the override is recorded)"
    )


class ModelRegistry:
    """Register, resolve, load and alias model versions.

    Args:
        store: the metadata store (or its remote proxy).
        blobs: the blob store (or its remote proxy) that holds model bytes.
    """

    def __init__(self, store: MetadataAPI, blobs: BlobStore | RemoteBlobStore):
        self.store = store
        self.blobs = blobs
        self.versions = store.extension(ModelVersions)

    @classmethod
    def connect(cls, settings: Settings | None = None) -> ModelRegistry:
        """The registry of ``settings``; through the store actor inside Ray workers."""
        settings = settings or Settings.resolve()
        return cls(connect_store(settings), connect_blobs(settings))

    def register(
        self,
        model: Any,
        name: str,
        *,
        signature: dict[str, Any] | None = None,
        input_example: Any = None,
        run: Any = None,
        inputs: Sequence[Artifact] = (),
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        attachments: Mapping[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """Store ``model`` as the next version of ``name``.

        Args:
            model: any picklable model (a scikit-learn pipeline, typically).
            name: the registered model name.
            signature: input columns and output; inferred from ``input_example``
                and the model when omitted.
            input_example: a few input rows (DataFrame) to infer the signature from.
            run: the tracking run (or its id) that produced the model: the model
                becomes an OUTPUT of that run in the lineage.
            inputs: artifacts the model came from, when there is no run.
            description: free text.
            metadata: extra JSON (metrics, blessing, feature transform, ...).
            attachments: named blobs kept with the version (e.g. the drift monitor's
                reference profile); read them back with :meth:`attachment`.

        Returns:
            The version record: ``{"name", "version", "aliases", "sha256", "signature", ...}``.
        """
        validate_name(name)
        if signature is None:
            signature = infer_signature(input_example, model)
        data = dumps_model(model)
        sha, path = self.blobs.put(data)
        artifact = Artifact(
            type="Model",
            uri=f"file://{path}",
            sha256=sha,
            properties={"framework": type(model).__module__.split(".")[0], "size_bytes": len(data)},
            custom_properties={"class": f"{type(model).__module__}.{type(model).__qualname__}"},
        )
        run_id = getattr(run, "id", run)
        if attachments:
            metadata = {**(metadata or {}), "attachments": self._put_attachments(attachments)}
        return self.versions.create_model_version(
            name=name,
            artifact=artifact,
            signature=signature,
            description=description,
            metadata=metadata,
            run_id=run_id,
            inputs=list(inputs),
        )

    def get(self, ref: str) -> dict[str, Any]:
        """The version record a reference points at.

        Raises:
            InvalidRefError: the reference is malformed.
            ModelNotFoundError: no such name, version or alias.
        """
        name, sel = parse_ref(ref)
        if sel == "latest":
            version = self.versions.latest_version(name)
        elif isinstance(sel, int):
            version = sel
        else:
            version = self.versions.get_aliases(name).get(sel)
        record = self.versions.get_model_version(name, version) if version is not None else None
        if record is None:
            raise ModelNotFoundError(ref=ref)
        return record

    def load(self, ref: str) -> Any:
        """Load a model after verifying its sha256.

        Raises:
            ArtifactIntegrityError: the stored bytes do not match the recorded hash.
        """
        record = self.get(ref)
        data = self.blobs.get(record["sha256"], what=f"model {record['name']}@{record['version']}")
        return loads_model(data)

    # ------------------------------------------------------------------ attachments
    def _put_attachments(self, attachments: Mapping[str, bytes]) -> dict[str, dict[str, Any]]:
        out = {}
        for key, data in attachments.items():
            validate_name(key, "attachment")
            if not isinstance(data, (bytes, bytearray)):
                raise InvalidInputError(f"attachment {key!r} must be bytes, got {type(data).__name__}")
            sha, _ = self.blobs.put(bytes(data))
            out[key] = {"sha256": sha, "bytes": len(data)}
        return out

    def attach(self, ref: str, attachments: Mapping[str, bytes]) -> dict[str, Any]:
        """Add named blobs to an existing version (same keys are replaced)."""
        rec = self.get(ref)
        current = dict((rec.get("metadata") or {}).get("attachments") or {})
        current.update(self._put_attachments(attachments))
        self.versions.update_metadata(rec["name"], rec["version"], {"attachments": current})
        return self.get(f"{rec['name']}@{rec['version']}")

    def attachment(self, ref: str, key: str) -> bytes | None:
        """The bytes attached to a version under ``key``, or None.

        Raises:
            ArtifactIntegrityError: the stored bytes do not match their recorded hash.
        """
        record = self.get(ref)
        meta = record.get("metadata") or {}
        info = (meta.get("attachments") or {}).get(key) or meta.get(key)  # stores written before attachments
        if not isinstance(info, Mapping) or "sha256" not in info:
            return None
        return self.blobs.get(info["sha256"], what=f"{key} of {record['name']}@{record['version']}")

    # ------------------------------------------------------------------ verdicts
    def record_verdict(
        self,
        name: str,
        version: int,
        verdict: str,
        *,
        failed: Sequence[str] = (),
        report: str | None = None,
        artifact_id: int | None = None,
    ) -> dict[str, Any]:
        """Keep an evaluation's verdict on ``name@version`` (BLESSED or NOT_BLESSED)."""
        validate_name(name)
        if verdict not in VERDICTS:
            raise InvalidInputError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
        return self.versions.record_verdict(name, version, verdict, failed=failed, report=report, artifact_id=artifact_id)

    def verdict(self, name: str, version: int) -> dict[str, Any] | None:
        """The latest verdict on ``name@version``: ``{"verdict", "failed", "report", "artifact_id", "evaluated"}``."""
        self.get(f"{name}@{version}")
        return self.versions.latest_verdict(name, version)

    def set_alias(
        self, name: str, version: int, alias: str, *, reason: str | None = None, force: bool = False
    ) -> dict[str, Any]:
        """Point ``alias`` at ``name@version`` and record the move (from, to, when, why).

        ``champion`` only moves to a BLESSED version; ``force`` overrides that, and the
        override is recorded in the alias history.

        Raises:
            PromotionRefusedError: ``champion`` and the version is not blessed (exit 1).
        """
        validate_name(name)
        validate_alias(alias)
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise InvalidInputError(f"invalid version {version!r}: versions are integers from 1")
        self.get(f"{name}@{version}")
        forced = False
        if alias in GUARDED_ALIASES:
            b = self.verdict(name, version)
            if b is None or b["verdict"] != "BLESSED":
                why = "it was never evaluated" if b is None else f"it is {b['verdict']} ({'; '.join(b['failed'][:3]) or 'see its evaluation'})"
                if not force:
                    raise PromotionRefusedError(ref=f"{name}@{version}", alias=alias, why=why)
                forced = True
                reason = f"{reason + '; ' if reason else ''}forced: {why}"
        return self.versions.set_alias(name, alias, version, reason=reason, forced=forced)

    def remove_alias(self, name: str, alias: str, *, reason: str | None = None) -> dict[str, Any]:
        validate_name(name)
        validate_alias(alias)
        if alias not in self.versions.get_aliases(name):
            raise ModelNotFoundError(ref=f"{name}@{alias}")
        return self.versions.set_alias(name, alias, None, reason=reason)

    def alias_history(self, name: str, alias: str | None = None) -> list[dict[str, Any]]:
        validate_name(name)
        return self.versions.alias_history(name, alias)

    def versions(self, name: str | None = None) -> list[dict[str, Any]]:
        if name is not None:
            validate_name(name)
        return self.versions.list_model_versions(name)

    def list_models(self) -> list[dict[str, Any]]:
        """One row per name: latest version, number of versions and aliases."""
        out: dict[str, dict[str, Any]] = {}
        for v in self.versions.list_model_versions(None):
            row = out.setdefault(v["name"], {"name": v["name"], "latest_version": 0, "versions": 0, "aliases": {}})
            row["versions"] += 1
            row["latest_version"] = max(row["latest_version"], v["version"])
            for a in v["aliases"]:
                if a != "latest":
                    row["aliases"][a] = v["version"]
        return list(out.values())
