"""Lower the CPU priority of the calling thread, for work that may wait while customers may not.

    executor = ThreadPoolExecutor(1, initializer=lower_this_thread)

On Linux the scheduling policy and the nice value belong to a thread, not to the whole process,
and threads inherit them from the thread that starts them (so a model's own worker threads started
from here are lowered too). `SCHED_IDLE` runs the thread only on CPU time nothing else wants; where
it is not available the thread gets the lowest nice value instead. Lowering needs no privilege, and
a thread that holds a lock others wait for (a database write) must not be lowered: keep that work
on a thread of normal priority.
"""

from __future__ import annotations

import contextlib
import os
import threading


def lower_this_thread() -> str:
    """Lower the calling thread's CPU priority as far as it goes; returns what it did."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        return "nice 19"
    return "unchanged"


def thread_policy() -> str:
    """The calling thread's scheduling, as `lower_this_thread` names it (for logs and tests)."""
    if hasattr(os, "sched_getscheduler") and hasattr(os, "SCHED_IDLE"):
        with contextlib.suppress(OSError):
            if os.sched_getscheduler(0) == os.SCHED_IDLE:
                return "idle"
    with contextlib.suppress(OSError, AttributeError):
        nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        if nice:
            return f"nice {nice}"
    return "normal"
