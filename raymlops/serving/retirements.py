"""When a model server no routing table needs any more may be deleted: :class:`Retirements`."""

from __future__ import annotations

__all__ = ["Retirements"]


class Retirements:
    """When a model server no table routes to any more may be deleted.

    Ingress replicas move to a new table within a poll interval, and a request routed by
    the old table may still be on its way; deleting the version's Serve app at once would
    leave such a request waiting for a replica that will never come. So a version is
    retired only after it has been unrouted for ``after_s`` (unless ``now`` is asked, as
    *recreate* does); routed again meanwhile, it stays.

    Example:
        >>> r = Retirements(after_s=3.0)
        >>> r.due({("iris", 1)}, now=10.0)
        set()
        >>> r.due({("iris", 1)}, now=13.0)
        {('iris', 1)}
        >>> r.due({("iris", 2)}, now=20.0), r.due(set(), now=21.0), r.due({("iris", 2)}, now=24.0)
        (set(), set(), set())
        >>> r.due({("iris", 2)}, now=24.0, at_once=True)
        {('iris', 2)}
    """

    def __init__(self, after_s: float = 3.0):
        self.after_s = float(after_s)
        self.since: dict[tuple[str, int], float] = {}

    def due(self, unrouted: set[tuple[str, int]], *, now: float, at_once: bool = False) -> set[tuple[str, int]]:
        """The versions of ``unrouted`` to delete now (the others keep waiting)."""
        self.since = {k: self.since.get(k, now) for k in unrouted}
        out = {k for k, t in self.since.items() if at_once or now - t >= self.after_s}
        for k in out:
            del self.since[k]
        return out

    @property
    def pending(self) -> bool:
        return bool(self.since)
