"""The step cache: which earlier execution's outputs a step may reuse.

A cache entry is not a separate table: it is a COMPLETE ``PipelineStep`` execution
associated with a ``PipelineStepCache`` context named by its cache key (ML Metadata's
model, as TFX keeps its execution cache). The execution and that association are written
in the same transaction as its outputs, so an entry exists only for a step whose outputs
were all published. Reuse rules (:func:`lookup`):

* only executions of deterministic steps are entries (a ``deterministic=False`` step
  never hits);
* an entry older than the step's ``cache_ttl`` has expired;
* every declared output must be there, LIVE, and hash to its recorded sha256 (through
  the stat cache, so an unchanged output is not re-read); a failed, partial, deleted or
  modified output is never served: the next older entry is tried, then the step runs.

Example:
    >>> import tempfile, os
    >>> from raymlops.metadata import MetadataStore
    >>> from raymlops.pipelines.hashing import StatCache
    >>> miss = lookup(MetadataStore("sqlite://"), "0" * 64, outputs=["out"], ttl=None, hasher=StatCache(None))
    >>> miss.hit, miss.reason
    (False, 'no cache entry')
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from raymlops.metadata import Artifact, Context, Execution, MetadataAPI
from raymlops.pipelines.hashing import StatCache

__all__ = ["CACHE_CONTEXT", "STEP_EXECUTION", "CacheLookup", "cache_context", "lookup", "uri_path"]

CACHE_CONTEXT = "PipelineStepCache"
STEP_EXECUTION = "PipelineStep"


def cache_context(key: str) -> Context:
    return Context(type=CACHE_CONTEXT, name=key)


def uri_path(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


@dataclasses.dataclass
class CacheLookup:
    """The answer of :func:`lookup`: a hit with the entry's execution and outputs, or why not."""

    hit: bool
    reason: str
    execution: Execution | None = None
    outputs: dict[str, Artifact] = dataclasses.field(default_factory=dict)


def verify_outputs(store: MetadataAPI, execution_id: int, outputs: Sequence[str], hasher: StatCache) -> tuple[dict[str, Artifact], str]:
    """The outputs of an execution by role if every one is LIVE and verifies, else ``({}, why not)``."""
    events = [e for e in store.get_events(execution_id=execution_id) if e.type == "OUTPUT"]
    by_id = {a.id: a for a in store.get_artifacts(ids=[e.artifact_id for e in events])} if events else {}
    found: dict[str, Artifact] = {}
    for e in events:
        if e.path in outputs and e.artifact_id in by_id:
            found[e.path] = by_id[e.artifact_id]
    missing = [o for o in outputs if o not in found]
    if missing:
        return {}, f"execution {execution_id} has no output {missing[0]!r}"
    for role, art in found.items():
        if art.state != "LIVE":
            return {}, f"output {role!r} of execution {execution_id} is {art.state}"
        try:
            actual = hasher.hash_path(uri_path(art.uri))
        except OSError:
            return {}, f"output {role!r} of execution {execution_id} is gone ({uri_path(art.uri)})"
        if actual != art.sha256:
            return {}, f"output {role!r} of execution {execution_id} was modified (sha256 {actual[:12]} != {str(art.sha256)[:12]})"
    return found, ""


def lookup(
    store: MetadataAPI,
    key: str,
    *,
    outputs: Sequence[str],
    ttl: float | None,
    hasher: StatCache,
    now: float | None = None,
) -> CacheLookup:
    """The newest usable cache entry for ``key`` (see the module docstring)."""
    now = time.time() if now is None else now
    ctx = store.get_context(CACHE_CONTEXT, key)
    if ctx is None:
        return CacheLookup(False, "no cache entry")
    entries = [e for e in store.get_executions(context_id=ctx.id, state="COMPLETE") if e.properties.get("deterministic", True)]
    if not entries:
        return CacheLookup(False, "no complete cache entry")
    reason = ""
    for ex in sorted(entries, key=lambda e: e.id or 0, reverse=True):
        if ttl is not None and (ex.update_time or 0) + ttl < now:
            reason = reason or f"cache entry {ex.id} expired ({now - (ex.update_time or 0):.0f} s old, cache_ttl {ttl:g} s)"
            continue
        found, why = verify_outputs(store, ex.id, outputs, hasher)
        if found:
            return CacheLookup(True, f"outputs of execution {ex.id}", ex, found)
        reason = reason or why
    return CacheLookup(False, reason)


def result_of(execution: Execution) -> Any:
    return execution.properties.get("result")
