"""Worker processes end when the node that started them dies.

A node killed with SIGKILL gets no chance to shut its process pools down, and an
idle pool worker blocked on its queue may never notice. Each worker calls
``exit_with_parent`` in its initializer (``start_worker`` does, and lowers the
process's priority when asked): a thread that exits the process once its parent is
gone (it is re-parented, so ``getppid`` changes).
"""

from __future__ import annotations

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
    give the CPU to the node's other processes whenever they want it."""
    exit_with_parent()
    if niceness:
        os.nice(niceness)
