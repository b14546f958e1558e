"""The registry's records inside Ray workers with the default SQLite store: a proxy to the store actor."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from raymlops.metadata import Artifact, RemoteService

__all__ = ["RemoteModelVersions"]


class RemoteModelVersions(RemoteService):
    """:class:`~raymlops.registry.versions.ModelVersions`' methods, served by the store actor.

    Built by ``RemoteMetadataStore.extension(ModelVersions)`` with the settings and that class.
    """

    def create_model_version(
        self,
        *,
        name: str,
        artifact: Artifact,
        signature: dict[str, Any],
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: int | None = None,
        inputs: Sequence[Artifact] = (),
    ) -> dict[str, Any]:
        rec = self._call(
            "create_model_version",
            name=name, artifact=artifact, signature=signature, description=description,
            metadata=metadata, run_id=run_id, inputs=list(inputs),
        )  # fmt: skip
        artifact.id = rec["artifact_id"]
        return rec

    def get_model_version(self, name: str, version: int) -> dict[str, Any] | None:
        return self._call("get_model_version", name, version)

    def list_model_versions(self, name: str | None = None) -> list[dict[str, Any]]:
        return self._call("list_model_versions", name)

    def get_aliases(self, name: str) -> dict[str, int]:
        return self._call("get_aliases", name)

    def latest_version(self, name: str) -> int | None:
        return self._call("latest_version", name)

    def set_alias(
        self, name: str, alias: str, version: int | None, *, reason: str | None = None, forced: bool = False,
        actor: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return self._call("set_alias", name, alias, version, reason=reason, forced=forced, actor=actor)

    def alias_history(self, name: str, alias: str | None = None) -> list[dict[str, Any]]:
        return self._call("alias_history", name, alias)

    def record_verdict(
        self, name: str, version: int, verdict: str, *, failed: Sequence[str] = (), report: str | None = None,
        artifact_id: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        return self._call(
            "record_verdict", name, version, verdict, failed=list(failed), report=report, artifact_id=artifact_id
        )

    def latest_verdict(self, name: str, version: int) -> dict[str, Any] | None:
        return self._call("latest_verdict", name, version)

    def update_metadata(self, name: str, version: int, changes: dict[str, Any]) -> dict[str, Any]:
        return self._call("update_metadata", name, version, changes)
