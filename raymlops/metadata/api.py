"""The metadata store's API: one abstract base, implemented by the SQL store and its remote proxy.

:class:`MetadataAPI` lists every method a store offers. :class:`~raymlops.metadata.store.MetadataStore`
implements it on SQL; :class:`~raymlops.metadata.remote.RemoteMetadataStore` implements it
by calling the store actor, so code inside Ray tasks uses the same API. One shared test
suite runs against both. ``put_execution`` and ``run_execution`` are written once, here,
on top of the one write each backend implements (``_put_execution``).

Packages above the store keep their own tables next to it (the registry's versions, the
tracker's metric history) through :meth:`MetadataAPI.extension`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from raymlops.metadata.lineage import NodeId
from raymlops.metadata.types import Artifact, Context, Event, Execution, LineageGraph

__all__ = ["MetadataAPI", "StepRecorder"]

E = TypeVar("E")

class MetadataAPI(ABC):
    """Artifacts, executions, contexts, events and lineage: what every store offers."""

    # ------------------------------------------------------------------ writes
    @abstractmethod
    def _put_execution(
        self,
        execution: Execution,
        inputs: list[tuple[str | None, Artifact]],
        outputs: list[tuple[str | None, Artifact]],
        contexts: list[Context],
    ) -> dict[str, Any]:
        """Write an execution, its new artifacts, events and contexts in one transaction.

        Returns ``{"execution_id", "artifact_ids", "context_ids", "time"}``.
        """

    @abstractmethod
    def put_type(self, kind: str, name: str, properties: Mapping[str, str] | None = None) -> int:
        """Declare a type (or add properties to it) and return its id."""

    @abstractmethod
    def get_type(self, kind: str, name: str) -> dict[str, str] | None:
        """The declared properties of a type, or ``None`` if it does not exist."""

    @abstractmethod
    def put_artifact(self, artifact: Artifact, *, contexts: Sequence[Context] = ()) -> Artifact:
        """Insert an artifact (or update the state, uri, hash and properties of a stored one)."""

    @abstractmethod
    def put_context(self, context: Context) -> Context:
        """Find a context by type and name, or create it."""

    # ------------------------------------------------------------------ reads
    @abstractmethod
    def get_artifacts(
        self,
        *,
        type: str | None = None,
        ids: Iterable[int] | None = None,
        uri: str | None = None,
        sha256: str | None = None,
        context_id: int | None = None,
        limit: int | None = None,
    ) -> list[Artifact]:
        """Artifacts matching every filter given, oldest first."""

    @abstractmethod
    def get_artifact(self, artifact_id: int) -> Artifact:
        """One artifact; NotFoundError when there is none."""

    @abstractmethod
    def get_executions(
        self,
        *,
        type: str | None = None,
        ids: Iterable[int] | None = None,
        state: str | None = None,
        context_id: int | None = None,
        limit: int | None = None,
    ) -> list[Execution]:
        """Executions matching every filter given, oldest first."""

    @abstractmethod
    def get_execution(self, execution_id: int) -> Execution:
        """One execution; NotFoundError when there is none."""

    @abstractmethod
    def count_executions(self, *, type: str | None = None) -> int:
        """How many executions (of a type)."""

    @abstractmethod
    def get_contexts(self, *, type: str | None = None, name: str | None = None) -> list[Context]:
        """Contexts matching the filters, oldest first."""

    @abstractmethod
    def get_context(self, type: str, name: str) -> Context | None:
        """The context of that type and name, or None."""

    @abstractmethod
    def get_contexts_of(self, *, execution_id: int | None = None, artifact_id: int | None = None) -> list[Context]:
        """The contexts an execution is associated with, or an artifact attributed to."""

    @abstractmethod
    def get_events(self, *, execution_id: int | None = None, artifact_id: int | None = None) -> list[Event]:
        """Events of an execution or an artifact (or all), oldest first."""

    @abstractmethod
    def lineage(self, starts: NodeId | Sequence[NodeId], *, direction: str = "both", hops: int = 20) -> LineageGraph:
        """The lineage graph around ``starts`` within ``hops`` edges (up, down or both)."""

    # ------------------------------------------------------------------ extensions
    @abstractmethod
    def extension(self, cls: type[E]) -> E:
        """The instance of a :class:`~raymlops.metadata.extensions.StoreExtension` on this store.

        The SQL store builds ``cls(self)`` once; the remote store returns ``cls``'s remote
        proxy, which calls the store actor.
        """

    # ------------------------------------------------------------------ written once

    def put_execution(
        self,
        execution: Execution,
        *,
        inputs: Sequence[Artifact] | Mapping[str, Artifact] = (),
        outputs: Sequence[Artifact] | Mapping[str, Artifact] = (),
        contexts: Sequence[Context] = (),
    ) -> Execution:
        """Write an execution with its artifacts, events and contexts in one transaction.

        New records (``id is None``) are inserted; an execution with an id is updated
        (state, error, properties) and gets the new events. Ids and times are set on
        the objects passed in.

        Args:
            execution: the execution to insert or update.
            inputs: artifacts read, as a list or as ``{role: artifact}``.
            outputs: artifacts written, as a list or as ``{role: artifact}``.
            contexts: contexts (experiment, pipeline run) the execution and its
                artifacts belong to; found by type and name or created.

        Returns:
            The execution, with ``id`` set.
        """
        ins = _with_roles(inputs)
        outs = _with_roles(outputs)
        ctxs = list(contexts)
        res = self._put_execution(execution, ins, outs, ctxs)
        execution.id = res["execution_id"]
        execution.create_time = execution.create_time or res["time"]
        execution.update_time = res["time"]
        for (_, art), aid in zip(ins + outs, res["artifact_ids"]):
            if art.id is None:
                art.id = aid
                art.create_time = art.update_time = res["time"]
        for ctx, cid in zip(ctxs, res["context_ids"]):
            ctx.id = cid
        return execution

    @contextmanager
    def run_execution(
        self,
        type: str,
        *,
        name: str | None = None,
        inputs: Sequence[Artifact] | Mapping[str, Artifact] = (),
        contexts: Sequence[Context] = (),
        properties: dict[str, Any] | None = None,
        custom_properties: dict[str, Any] | None = None,
    ) -> Iterator[StepRecorder]:
        """Record a step: RUNNING when entered, COMPLETE with its outputs when left.

        A step that raises leaves its execution FAILED (CANCELED for
        ``KeyboardInterrupt``) with the error message, and the error propagates.

        Example:
            >>> from raymlops.metadata import MetadataStore
            >>> store = MetadataStore("sqlite://")
            >>> with store.run_execution("Train", name="demo") as step:
            ...     _ = step.add_output(Artifact(type="Model", uri="file:///m.pkl"))
            >>> store.get_execution(step.execution.id).state
            'COMPLETE'
        """
        ex = Execution(
            type=type,
            name=name,
            state="RUNNING",
            properties=dict(properties or {}),
            custom_properties=dict(custom_properties or {}),
        )
        self.put_execution(ex, inputs=inputs, contexts=contexts)
        rec = StepRecorder(ex)
        try:
            yield rec
        except BaseException as exc:
            ex.state = "CANCELED" if isinstance(exc, KeyboardInterrupt) else "FAILED"
            ex.error = f"{exc.__class__.__name__}: {exc}"[:10_000]
            try:
                self.put_execution(ex, outputs=rec.outputs)
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise
        ex.state = rec.final_state
        self.put_execution(ex, outputs=rec.outputs)


class StepRecorder:
    """Collects the outputs of a step recorded by :meth:`MetadataAPI.run_execution`."""

    def __init__(self, execution: Execution):
        self.execution = execution
        self.outputs: dict[str, Artifact] = {}
        self.final_state = "COMPLETE"

    def add_output(self, artifact: Artifact, role: str | None = None) -> Artifact:
        self.outputs[role or f"output{len(self.outputs)}"] = artifact
        return artifact

    def set_property(self, key: str, value: Any) -> None:
        self.execution.properties[key] = value

    def mark_cached(self) -> None:
        self.final_state = "CACHED"


def _with_roles(arts: Sequence[Artifact] | Mapping[str, Artifact]) -> list[tuple[str | None, Artifact]]:
    if isinstance(arts, Mapping):
        return [(role, a) for role, a in arts.items()]
    return [(None, a) for a in arts]
