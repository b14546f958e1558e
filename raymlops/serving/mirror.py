"""Mirrored requests queued per shadow version and sent several to a call: :class:`MirrorBatcher`.

Pure bookkeeping for the ingress (:mod:`raymlops.serving.ingress_deployment`), which owns
the timer and the calls.
"""

from __future__ import annotations

from typing import Any

__all__ = ["MirrorBatcher"]


class MirrorBatcher:
    """Mirrored requests queued per shadow version and sent several to a call.

    A shadow at 100% doubles the model's work, and on a busy machine most of a request's
    cost is the call itself (the handle, the replica's request handling), not the model.
    So the ingress queues mirrored requests and sends them in one call when ``max_batch``
    are queued or ``max_wait_s`` after the first (the ingress sets that timer when
    :meth:`add` says the queue was empty). The shadow's latency is then the latency of the
    call that carried a request, not counting its wait in the queue.

    Example:
        >>> b = MirrorBatcher(max_batch=3)
        >>> b.add(("iris", 2), "r1")
        (None, True)
        >>> b.add(("iris", 2), "r2")
        (None, False)
        >>> b.add(("iris", 2), "r3")
        (['r1', 'r2', 'r3'], False)
        >>> b.add(("iris", 2), "r4"), b.take(("iris", 2)), b.take(("iris", 2))
        ((None, True), ['r4'], [])
    """

    def __init__(self, max_batch: int = 32, max_wait_s: float = 0.05):
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be >= 1 and max_wait_s >= 0")
        self.max_batch = int(max_batch)
        self.max_wait_s = float(max_wait_s)
        self.queues: dict[Any, list[Any]] = {}

    def add(self, key: Any, item: Any) -> tuple[list[Any] | None, bool]:
        """Queue ``item``; (a full batch to send now or None, whether the queue was empty)."""
        q = self.queues.setdefault(key, [])
        q.append(item)
        first = len(q) == 1
        return (self.take(key) if len(q) >= self.max_batch else None), first

    def take(self, key: Any) -> list[Any]:
        """Everything queued for ``key`` (sent by the caller), oldest first."""
        return self.queues.pop(key, [])
