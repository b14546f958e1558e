"""Lower CPU priority for the shadow's work: the worker thread's nice value really is higher."""

from __future__ import annotations

import logging
import os
import sys
import threading

import pytest

import raymlops.serving.priority as priority
from raymlops.serving.priority import MAX_NICE, low_priority_executor, lower_thread_priority, thread_nice

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")


def _kernel_nice(tid: int) -> int:
    """The thread's nice value as the kernel reports it (field 19 of /proc/self/task/TID/stat)."""
    with open(f"/proc/self/task/{tid}/stat") as f:
        stat = f.read()
    return int(stat.rpartition(")")[2].split()[16])


@linux_only
def test_the_worker_threads_nice_value_is_raised_and_the_callers_is_not():
    before = thread_nice()
    with low_priority_executor(nice=7) as pool:
        tid, nice = pool.submit(lambda: (threading.get_native_id(), thread_nice())).result()
        assert nice == min(MAX_NICE, before + 7)
        assert _kernel_nice(tid) == nice  # the kernel's view of that thread, not just ours
    assert thread_nice() == before
    assert _kernel_nice(threading.get_native_id()) == before
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the process (its main thread) keeps its priority


@linux_only
def test_the_shadow_default_is_the_lowest_priority():
    with low_priority_executor() as pool:
        assert pool.submit(thread_nice).result() == MAX_NICE


@linux_only
def test_every_task_runs_on_the_one_low_priority_thread():
    with low_priority_executor(nice=3) as pool:
        seen = {pool.submit(lambda: (threading.get_native_id(), thread_nice())).result() for _ in range(20)}
    assert len(seen) == 1
    assert next(iter(seen))[1] > thread_nice()


@linux_only
def test_raising_is_clamped_at_the_lowest_priority():
    def twice() -> tuple[int | None, int | None]:
        return lower_thread_priority(15), lower_thread_priority(15)

    with low_priority_executor(nice=0) as pool:
        assert pool.submit(twice).result() == (min(MAX_NICE, thread_nice() + 15), MAX_NICE)


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
    assert thread_nice() is None
    notes = [r.getMessage() for r in caplog.records if "low-priority shadow work" in r.getMessage()]
    assert len(notes) == 1 and "darwin" in notes[0]  # logged once
    if before is not None:
        assert os.getpriority(os.PRIO_PROCESS, 0) == before
