"""Lower CPU priority for best-effort work: a worker thread the scheduler serves last.

A model server runs its shadow's model work (mirrored requests) on such a thread, so when
the CPUs are contended the primary's work gets them first. On Linux priorities are per
thread: ``os.setpriority(os.PRIO_PROCESS, tid, nice)`` with the thread's native id
changes that thread only, and so does ``os.sched_setscheduler(tid, SCHED_IDLE, ...)``.
Raising a nice value and switching to ``SCHED_IDLE`` need no privilege (going back would,
so a thread once lowered stays low; the server keeps the primary's work off it).

Both, because Ray already starts its worker processes at nice 15
(``RAY_worker_niceness``): nice 19 alone leaves the shadow's thread a weight of 15
against the primary's 36 in the fair scheduler (about 30% of a core they both want),
while ``SCHED_IDLE`` gives it the lowest weight there is (3, under 8%). The thread still
runs whenever the CPUs would otherwise idle, and is never starved outright.

Elsewhere (macOS applies ``setpriority`` to the whole process; Windows has no nice
values) the thread keeps its priority and a note is logged once.

With the kernel's autogroup scheduling (``/proc/sys/kernel/sched_autogroup_enabled``)
priorities order threads within one session's group: a local Ray's raylet and workers
are in the session of the process that started it, so the shadow's thread yields to the
primary's replicas, which share that group.

Example:
    >>> with low_priority_executor(nice=5) as pool:
    ...     nice, policy = pool.submit(lambda: (thread_nice(), thread_policy())).result()
    >>> nice is None or (nice >= min(MAX_NICE, thread_nice() + 5) and policy == "idle")
    True
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

__all__ = [
    "MAX_NICE",
    "SHADOW_NICE",
    "low_priority_executor",
    "lower_thread_priority",
    "thread_nice",
    "thread_policy",
]

log = logging.getLogger("raymlops")

MAX_NICE = 19
"""The lowest priority a nice value gives."""

SHADOW_NICE = 19
"""How much a shadow's worker thread raises its nice value (clamped at :data:`MAX_NICE`)."""

_POLICIES = {"SCHED_OTHER": "other", "SCHED_BATCH": "batch", "SCHED_IDLE": "idle", "SCHED_FIFO": "fifo", "SCHED_RR": "rr"}

_noted = False


def _per_thread() -> bool:
    """Whether ``setpriority`` on a thread id changes that thread only (Linux)."""
    return sys.platform.startswith("linux") and hasattr(os, "setpriority")


def _note(message: str, *args: object) -> None:
    global _noted
    if not _noted:
        log.info("low-priority shadow work: " + message, *args)
        _noted = True


def thread_nice() -> int | None:
    """The calling thread's nice value; None where threads have none of their own."""
    if not _per_thread():
        return None
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def thread_policy() -> str | None:
    """The calling thread's scheduling policy (``"other"``, ``"idle"``, ...); None where unknown."""
    if not _per_thread() or not hasattr(os, "sched_getscheduler"):
        return None
    policy = os.sched_getscheduler(threading.get_native_id())
    names = {getattr(os, name): short for name, short in _POLICIES.items() if hasattr(os, name)}
    return names.get(policy, str(policy))


def lower_thread_priority(increment: int = SHADOW_NICE, *, idle: bool = True) -> int | None:
    """Raise the calling thread's nice value by ``increment`` (at most to :data:`MAX_NICE`), and with ``idle`` switch it to ``SCHED_IDLE``.

    Returns:
        The thread's new nice value, or None where the OS gives threads no priority of
        their own or refused (a note is logged once per process; the thread runs on).
    """
    if increment < 0:
        raise ValueError(f"increment must be >= 0 (lowering a nice value needs privilege), got {increment}")
    if not _per_thread():
        _note("%s has no per-thread priority; the shadow runs at normal priority", sys.platform)
        return None
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        target = min(MAX_NICE, current + increment)
        if target != current:
            os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError as exc:
        _note("raising the thread's nice value failed (%s); normal priority", exc)
        return None
    if idle and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(tid, os.SCHED_IDLE, os.sched_param(0))
        except OSError as exc:  # a seccomp profile may refuse it: the nice value still holds
            _note("SCHED_IDLE refused (%s); nice %d only", exc, target)
    return os.getpriority(os.PRIO_PROCESS, tid)


def low_priority_executor(nice: int = SHADOW_NICE, name: str = "raymlops-low-priority", *, idle: bool = True) -> ThreadPoolExecutor:
    """A one-thread executor whose thread runs at lowered priority (:func:`lower_thread_priority`).

    One thread: the work it is given is serialised, so best-effort work never takes more
    than one core's worth of (low-priority) time. The thread starts on the first task.
    """
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix=name, initializer=partial(lower_thread_priority, nice, idle=idle))
