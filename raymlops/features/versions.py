"""Definition versions in the metadata store.

Applying a repository records a ``FeatureDefinitions`` artifact (its ``sha256`` the
content hash of the canonical definitions, its properties the version number, the
definitions and what changed) made by an ``ApplyFeatureDefinitions`` execution, in a
``FeatureRepository`` context named after the repository. A new version is recorded
only when the content hash differs from the latest one. Retrievals and
materializations name the version they used in their lineage, and refuse a
repository edited since its last apply.

Example:
    >>> from raymlops.metadata import MetadataStore
    >>> from raymlops.features.definitions import Entity
    >>> from raymlops.features.repo import Repository
    >>> store = MetadataStore("sqlite://")
    >>> repo = Repository(entities=[Entity(name="driver")])
    >>> record_version(store, repo, "feature-repo://demo")["version"]
    1
    >>> record_version(store, repo, "feature-repo://demo")["changed"]
    []
"""

from __future__ import annotations

from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.metadata import Artifact, Context, MetadataAPI
from raymlops.features.repo import Repository

__all__ = ["ARTIFACT_TYPE", "RepositoryChangedError", "applied_version", "latest_version", "record_version"]

ARTIFACT_TYPE = "FeatureDefinitions"


class RepositoryChangedError(InvalidInputError):
    code = "definitions_not_applied"
    template = (
        "{origin} is not applied{since}; run `raymlops features apply {origin}` first, so the "
        "definitions this run uses are a recorded version"
    )


def latest_version(store: MetadataAPI, uri: str) -> Artifact | None:
    """The newest recorded version of the repository at ``uri`` (None if never applied)."""
    found = store.get_artifacts(type=ARTIFACT_TYPE, uri=uri)
    return found[-1] if found else None


def record_version(store: MetadataAPI, repo: Repository, uri: str, *, checked: dict[str, Any] | None = None) -> dict[str, Any]:
    """Record the definitions as a new version unless they equal the latest one.

    Returns:
        ``{"version", "changed", "feature_views", "sha256", "artifact_id"}``; ``changed``
        is empty when nothing changed (and no version was recorded).
    """
    digest = repo.content_hash()
    prev = latest_version(store, uri)
    views = [v.name for v in repo.feature_views]
    if prev is not None and prev.sha256 == digest:
        return {"version": prev.properties["version"], "changed": [], "feature_views": views, "sha256": digest, "artifact_id": prev.id}
    version = (prev.properties["version"] + 1) if prev is not None else 1
    changed = repo.diff(prev.properties.get("definitions") if prev is not None else None)
    art = Artifact(
        type=ARTIFACT_TYPE,
        uri=uri,
        sha256=digest,
        name=f"{uri.rsplit('/', 1)[-1]}@{version}",
        properties={"version": version, "definitions": repo.canonical(), "changed": changed, "columns_found": checked or {}},
    )
    with store.run_execution("ApplyFeatureDefinitions", name=art.name, contexts=[Context(type="FeatureRepository", name=uri)]) as step:
        step.add_output(art, role="definitions")
    return {"version": version, "changed": changed, "feature_views": views, "sha256": digest, "artifact_id": art.id}


def applied_version(store: MetadataAPI, repo: Repository, uri: str) -> Artifact:
    """The recorded version equal to ``repo``.

    Raises:
        RepositoryChangedError: never applied, or edited since the last apply.
    """
    prev = latest_version(store, uri)
    if prev is None:
        raise RepositoryChangedError(origin=repo.origin, since="")
    if prev.sha256 != repo.content_hash():
        raise RepositoryChangedError(origin=repo.origin, since=f" (it changed since version {prev.properties['version']})")
    return prev
