"""Lower CPU priority for the shadow's work: the worker thread's nice value and policy really are lower."""

from __future__ import annotations

import logging
import os
import sys
import threading

import pytest

import raymlops.serving.priority as priority
from raymlops.serving.priority import MAX_NICE, low_priority_executor, lower_thread_priority, thread_nice, thread_policy

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priorities are Linux's")


def _kernel_view(tid: int) -> tuple[int, int]:
    """The thread's (nice value, policy) as the kernel reports them (/proc/self/task/TID/stat)."""
    with open(f"/proc/self/task/{tid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return int(fields[16]), int(fields[38])  # stat fields 19 and 41


@linux_only
def test_the_worker_threads_priority_is_lowered_and_the_callers_is_not():
    before, policy_before = thread_nice(), os.sched_getscheduler(0)
    with low_priority_executor(nice=7) as pool:
        tid, nice, policy = pool.submit(lambda: (threading.get_native_id(), thread_nice(), thread_policy())).result()
        assert nice == min(MAX_NICE, before + 7)
        assert policy == "idle"
        assert _kernel_view(tid) == (nice, os.SCHED_IDLE)  # the kernel's view of that thread, not just ours
    assert thread_nice() == before and thread_policy() == "other"
    assert _kernel_view(threading.get_native_id()) == (before, policy_before)
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the process (its main thread) keeps its priority


@linux_only
def test_the_shadow_default_is_the_lowest_priority():
    with low_priority_executor() as pool:
        assert pool.submit(lambda: (thread_nice(), thread_policy())).result() == (MAX_NICE, "idle")


@linux_only
def test_nice_only_when_asked():
    with low_priority_executor(nice=4, idle=False) as pool:
        nice, policy = pool.submit(lambda: (thread_nice(), thread_policy())).result()
    assert (nice, policy) == (min(MAX_NICE, thread_nice() + 4), "other")


@linux_only
def test_every_task_runs_on_the_one_low_priority_thread():
    with low_priority_executor(nice=3) as pool:
        seen = {pool.submit(lambda: (threading.get_native_id(), thread_nice())).result() for _ in range(20)}
    assert len(seen) == 1
    assert next(iter(seen))[1] > thread_nice()


@linux_only
def test_raising_is_clamped_at_the_lowest_priority():
    def twice() -> tuple[int | None, int | None]:
        return lower_thread_priority(15, idle=False), lower_thread_priority(15, idle=False)

    with low_priority_executor(nice=0, idle=False) as pool:
        assert pool.submit(twice).result() == (min(MAX_NICE, thread_nice() + 15), MAX_NICE)


@linux_only
def test_a_refused_sched_idle_keeps_the_nice_value(monkeypatch, caplog):
    def refuse(*args):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(priority.os, "sched_setscheduler", refuse)
    monkeypatch.setattr(priority, "_noted", False)
    with caplog.at_level(logging.INFO, logger="raymlops"), low_priority_executor(nice=2) as pool:
        assert pool.submit(lambda: (thread_nice(), thread_policy())).result() == (min(MAX_NICE, thread_nice() + 2), "other")
    assert any("SCHED_IDLE refused" in r.getMessage() for r in caplog.records)


def test_lowering_a_nice_value_is_refused():
    with pytest.raises(ValueError, match="needs privilege"):
        lower_thread_priority(-1)


def test_elsewhere_it_is_a_no_op_with_a_note(monkeypatch, caplog):
    monkeypatch.setattr(priority.sys, "platform", "darwin")
    monkeypatch.setattr(priority, "_noted", False)
    before = os.getpriority(os.PRIO_PROCESS, 0) if hasattr(os, "getpriority") else None
    with caplog.at_level(logging.INFO, logger="raymlops"):
        assert lower_thread_priority() is None
        assert lower_thread_priority() is None
    assert thread_nice() is None and thread_policy() is None
    notes = [r.getMessage() for r in caplog.records if "low-priority shadow work" in r.getMessage()]
    assert len(notes) == 1 and "darwin" in notes[0]  # logged once
    if before is not None:
        assert os.getpriority(os.PRIO_PROCESS, 0) == before
