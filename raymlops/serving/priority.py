"""Lower CPU priority for best-effort work: a worker thread whose nice value is raised.

A model server runs its shadow's model work (mirrored requests) on such a thread, so when
the CPUs are contended the scheduler gives the primary's work the time first. On Linux
the nice value is per thread: ``os.setpriority(os.PRIO_PROCESS, tid, nice)`` with the
thread's native id changes that thread only, and raising it needs no privilege (lowering
it back would). Elsewhere (macOS applies it to the whole process; Windows has no nice
values) the thread keeps its priority and a note is logged once.

With the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``)
nice values order threads within one session's group; Ray's worker processes share the
raylet's session, so the shadow's thread still yields to the primary's replicas.

Example:
    >>> with low_priority_executor(nice=5) as pool:
    ...     nice = pool.submit(thread_nice).result()
    >>> nice is None or nice >= min(19, thread_nice() + 5)
    True
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

__all__ = ["MAX_NICE", "SHADOW_NICE", "low_priority_executor", "lower_thread_priority", "thread_nice"]

log = logging.getLogger("raymlops")

MAX_NICE = 19
"""The lowest priority a nice value gives."""

SHADOW_NICE = 19
"""How much a shadow's worker thread raises its nice value (clamped at :data:`MAX_NICE`)."""

_noted = False


def _per_thread() -> bool:
    """Whether ``setpriority`` on a thread id changes that thread only (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "setpriority")


def thread_nice() -> int | None:
    """The calling thread's nice value; None where threads have none of their own."""
    if not _per_thread():
        return None
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def lower_thread_priority(increment: int = SHADOW_NICE) -> int | None:
    """Raise the calling thread's nice value by ``increment`` (at most to :data:`MAX_NICE`).

    Returns:
        The thread's new nice value, or None where the OS gives threads no priority of
        their own or refused (a note is logged once per process; the thread runs on).
    """
    global _noted
    if increment < 0:
        raise ValueError(f"increment must be >= 0 (lowering a nice value needs privilege), got {increment}")
    if not _per_thread():
        if not _noted:
            log.info("low-priority shadow work: %s has no per-thread nice value; the shadow runs at normal priority", sys.platform)
            _noted = True
        return None
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        target = min(MAX_NICE, current + increment)
        if target != current:
            os.setpriority(os.PRIO_PROCESS, tid, target)
        return os.getpriority(os.PRIO_PROCESS, tid)
    except OSError as exc:
        if not _noted:
            log.info("low-priority shadow work: raising the thread's nice value failed (%s); normal priority", exc)
            _noted = True
        return None


def low_priority_executor(nice: int = SHADOW_NICE, name: str = "raymlops-low-priority") -> ThreadPoolExecutor:
    """A one-thread executor whose thread runs with its nice value raised by ``nice``.

    One thread: the work it is given is serialised, so best-effort work never takes more
    than one core's worth of (low-priority) time.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=lower_thread_priority, initargs=(nice,))
