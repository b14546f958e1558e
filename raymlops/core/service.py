"""The clock and the checkpoint of a long-lived service actor, written once.

The drift monitor and the rollout controller are named, detached Ray actors that Ray
restarts when they die. Each keeps its state in a plain class, ticks it on a clock and
checkpoints it as JSON, so a restarted actor carries on where the old one stopped.
:class:`ClockedService` is that loop: subclasses implement :meth:`ClockedService.on_tick`
and call :meth:`ClockedService.ensure_clock` from their async methods (an actor has no
event loop until its first async call). Ray only wraps the subclass; nothing here
imports Ray.

Example:
    >>> import asyncio, tempfile, os
    >>> class Counter(ClockedService):
    ...     def __init__(self, path):
    ...         super().__init__(name="counter", checkpoint_path=path, tick_s=0.01)
    ...         self.n = (self.restore() or {}).get("n", 0)
    ...     async def on_tick(self):
    ...         self.n += 1
    ...         self.save_checkpoint({"n": self.n})
    >>> path = os.path.join(tempfile.mkdtemp(), "c.json")
    >>> async def main():
    ...     c = Counter(path)
    ...     c.ensure_clock()
    ...     while c.n < 3:
    ...         await asyncio.sleep(0.01)
    ...     c.stop_clock()
    >>> asyncio.run(main())
    >>> Counter(path).n >= 3
    True
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from abc import ABC, abstractmethod
from typing import Any

__all__ = ["ClockedService"]

log = logging.getLogger("raymlops")


class ClockedService(ABC):
    """A service with a clock (``on_tick`` every ``tick_s``) and an atomic JSON checkpoint.

    Args:
        name: what log lines call the service.
        checkpoint_path: the checkpoint file.
        tick_s: seconds between ticks.
    """

    def __init__(self, *, name: str, checkpoint_path: str, tick_s: float):
        self.service_name = name
        self.checkpoint_path = checkpoint_path
        self.tick_s = tick_s
        self.last_checkpoint = 0.0
        self._clock: asyncio.Task | None = None

    @abstractmethod
    async def on_tick(self) -> None:
        """One tick of the clock; an exception is logged and the clock keeps going."""

    def ensure_clock(self) -> None:
        """Start the clock on the running event loop unless it runs already."""
        if self._clock is None or self._clock.done():
            self._clock = asyncio.get_running_loop().create_task(self._run())

    def stop_clock(self) -> None:
        if self._clock is not None:
            self._clock.cancel()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            try:
                await self.on_tick()
            except Exception:  # noqa: BLE001 - the clock must keep ticking
                log.exception("%s: tick failed", self.service_name)

    def restore(self) -> dict[str, Any] | None:
        """The last checkpoint, or None when there is none or it cannot be read (logged)."""
        if not os.path.exists(self.checkpoint_path):
            return None
        try:
            with open(self.checkpoint_path) as f:
                data = json.load(f)
        except (OSError, ValueError) as exc:
            log.warning("%s: checkpoint %s unreadable (%s); starting empty", self.service_name, self.checkpoint_path, exc)
            return None
        return data if isinstance(data, dict) else None

    def save_checkpoint(self, data: dict[str, Any], *, allow_nan: bool = True) -> None:
        """Write ``data`` as the checkpoint: a temporary file renamed over the old one."""
        os.makedirs(os.path.dirname(self.checkpoint_path), exist_ok=True)
        tmp = f"{self.checkpoint_path}.tmp"
        with open(tmp, "w") as f:
            json.dump(data, f, allow_nan=allow_nan, default=str)
        os.replace(tmp, self.checkpoint_path)
        self.last_checkpoint = time.time()
