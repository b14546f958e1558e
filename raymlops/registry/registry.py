"""The model registry: content-addressed model artifacts, versions, aliases.

Versions of a name are consecutive (1, 2, 3, ...) even when several processes
register at once: the store assigns the next number inside the same transaction
that inserts the version. Aliases (``champion``, ``challenger``, any name) point at
versions; ``latest`` is implicit. Every alias move is kept with when, from, to and why.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from typing import Any

from raymlops.core.config import Settings
from raymlops.core.errors import ChecksFailedError, InvalidInputError, ModelNotFoundError
from raymlops.metadata import Artifact, MetadataAPI
from raymlops.core.names import parse_ref, validate_alias, validate_name
from raymlops.registry.signature import infer_signature

__all__ = ["ModelRegistry", "PromotionRefusedError", "GUARDED_ALIASES", "dumps_model", "loads_model"]

GUARDED_ALIASES = ("champion",)


class PromotionRefusedError(ChecksFailedError):
    """Moving a guarded alias (``champion``) to a version that is not blessed."""

    code = "promotion_refused"
    http_status = 409
    template = (
        "refusing to make {ref} {alias}: {why}; evaluate it with `raymlops train` (a BLESSED "
        "verdict is needed) or pass --force to override (the override is recorded)"
    )


def dumps_model(model: Any) -> bytes:
    """Serialise a model (pickle; cloudpickle for classes defined in ``__main__``)."""
    try:
        data = pickle.dumps(model, protocol=5)
        if b"__main__" not in data:
            return data
    except (pickle.PicklingError, AttributeError, TypeError):
        pass
    from ray import cloudpickle

    return cloudpickle.dumps(model, protocol=5)


def loads_model(data: bytes) -> Any:
    """Deserialise bytes written by :func:`dumps_model` (only after their hash is checked)."""
    return pickle.loads(data)  # noqa: S301 - callers verify the sha256 first


class ModelRegistry:
    """Register, resolve, load and alias model versions.

    Args:
        store: the metadata store (or its remote proxy).
        blobs: the blob store (or its remote proxy) that holds model bytes.
    """

    def __init__(self, store: MetadataAPI, blobs: Any):
        self.store = store
        self.blobs = blobs

    @classmethod
    def connect(cls, settings: Settings | None = None) -> ModelRegistry:
        """The registry of ``settings``; through the store actor inside Ray workers."""
        from raymlops.metadata import connect
        from raymlops.metadata.remote import RemoteBlobStore, in_ray_worker
        from raymlops.registry.blobs import BlobStore

        settings = settings or Settings.resolve()
        store = connect(settings)
        if settings.is_sqlite and in_ray_worker():
            return cls(store, RemoteBlobStore(settings))
        return cls(store, BlobStore(settings.artifacts_dir))

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
        reference: Any = None,
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
            reference: the training inputs (a DataFrame of the signature's columns): their
                profile, with the model's predictions on them, is stored with the version
                as the drift monitor's reference (``metadata["reference_profile"]``).

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
        if reference is not None:
            import json

            from raymlops.monitoring.live import reference_profile

            prof = reference_profile(model, reference)
            ref_sha, _ = self.blobs.put(json.dumps(prof.to_dict(), allow_nan=False).encode())
            metadata = {**(metadata or {}), "reference_profile": {"sha256": ref_sha, "rows": prof.rows, "columns": list(prof.columns)}}
        return self.store.create_model_version(
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
            version = self.store.latest_version(name)
        elif isinstance(sel, int):
            version = sel
        else:
            version = self.store.get_aliases(name).get(sel)
        record = self.store.get_model_version(name, version) if version is not None else None
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

    def reference_profile(self, ref: str) -> Any:
        """The drift reference (a :class:`~raymlops.sketches.Profile`) of a version, or None.

        Raises:
            ArtifactIntegrityError: the stored profile does not match its recorded hash.
        """
        import json

        from raymlops.sketches import Profile

        record = self.get(ref)
        info = (record.get("metadata") or {}).get("reference_profile")
        if not info:
            return None
        data = self.blobs.get(info["sha256"], what=f"reference profile of {record['name']}@{record['version']}")
        return Profile.from_dict(json.loads(data))

    def blessing(self, name: str, version: int) -> dict[str, Any] | None:
        """The latest evaluation verdict of ``name@version`` (from its lineage), or ``None``."""
        rec = self.get(f"{name}@{version}")
        evals = [e.execution_id for e in self.store.get_events(artifact_id=rec["artifact_id"]) if e.type == "INPUT" and e.path == "model"]
        done = [e for e in self.store.get_executions(ids=evals, type="Evaluate") if e.state == "COMPLETE"] if evals else []
        for ex in sorted(done, key=lambda e: e.id, reverse=True):
            outs = [e.artifact_id for e in self.store.get_events(execution_id=ex.id) if e.type == "OUTPUT"]
            for art in self.store.get_artifacts(ids=outs, type="Blessing"):
                return {
                    "verdict": art.properties.get("verdict"),
                    "failed": art.properties.get("failed", []),
                    "report": art.uri,
                    "artifact_id": art.id,
                    "evaluated": ex.update_time,
                }
        return None

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
            b = self.blessing(name, version)
            if b is None or b["verdict"] != "BLESSED":
                why = "it was never evaluated" if b is None else f"it is {b['verdict']} ({'; '.join(b['failed'][:3]) or 'see its evaluation'})"
                if not force:
                    raise PromotionRefusedError(ref=f"{name}@{version}", alias=alias, why=why)
                forced = True
                reason = f"{reason + '; ' if reason else ''}forced: {why}"
        return self.store.set_alias(name, alias, version, reason=reason, forced=forced)

    def remove_alias(self, name: str, alias: str, *, reason: str | None = None) -> dict[str, Any]:
        validate_name(name)
        validate_alias(alias)
        if alias not in self.store.get_aliases(name):
            raise ModelNotFoundError(ref=f"{name}@{alias}")
        return self.store.set_alias(name, alias, None, reason=reason)

    def alias_history(self, name: str, alias: str | None = None) -> list[dict[str, Any]]:
        validate_name(name)
        return self.store.alias_history(name, alias)

    def versions(self, name: str | None = None) -> list[dict[str, Any]]:
        if name is not None:
            validate_name(name)
        return self.store.list_model_versions(name)

    def list_models(self) -> list[dict[str, Any]]:
        """One row per name: latest version, number of versions and aliases."""
        out: dict[str, dict[str, Any]] = {}
        for v in self.store.list_model_versions(None):
            row = out.setdefault(v["name"], {"name": v["name"], "latest_version": 0, "versions": 0, "aliases": {}})
            row["versions"] += 1
            row["latest_version"] = max(row["latest_version"], v["version"])
            for a in v["aliases"]:
                if a != "latest":
                    row["aliases"][a] = v["version"]
        return list(out.values())
