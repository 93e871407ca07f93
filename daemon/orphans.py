"""Worker processes end when the node that started them dies.

A node killed with SIGKILL gets no chance to shut its process pools down, and an
idle pool worker blocked on its queue may never notice. Each worker calls
``exit_with_parent`` in its initializer (``start_worker`` does, and lowers the
process's priority when asked): a thread that exits the process once its parent is
gone (it is re-parented, so ``getppid`` changes).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time


def exit_with_parent(interval: float = 1.0) -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def start_worker(niceness: int = 0) -> None:
    """A node worker process's first step: end with the node, and with ``niceness`` > 0
    give the CPU to whatever else wants it.

    Where the kernel groups processes by session for scheduling (autogroup), niceness
    counts only inside a group, and every group gets an equal share: a niced prime
    search in one devnet node would still take CPU from another node's keygen. So a
    niced worker leaves for a session of its own and gives that group its niceness.
    """
    exit_with_parent()
    if niceness:
        os.nice(niceness)
        os.setsid()
        # No autogroup here (another kernel, another OS): niceness alone does it.
        with contextlib.suppress(OSError), open("/proc/self/autogroup", "w") as group:
            group.write(str(niceness))
