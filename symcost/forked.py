"""A JSON value computed in a forked child process while this process does other work.

A cold command spends seconds in SymPy on one core. Where a part of that work does not feed the next
step (an audit's break-even section while the other sections are laid out; a figure's report while
matplotlib is imported), :func:`fork_json` runs it on a second core. The child sends its result back
as JSON text through a pipe: only JSON crosses, and nothing the child sends is executed.

The child is a copy of this process, so it needs no set-up and sees the same inputs. It is used only where
that copy is safe and can help: on Linux (macOS's system libraries do not support fork without exec), with
two cores or more, and with no other Python thread running (a thread holding a lock at the fork would leave
the copy of that lock held forever in the child). ``SYMCOST_NO_FORK=1`` turns it off.

Where the child is not used, or fails in any way (an exception, a signal, an output that is not JSON),
:meth:`Pending.result` computes the value in this process: an error is then raised here with its usual
message, exactly as without the child. What the child writes to standard error (a progress line) appears
as it happens; after a failure, the computation in this process may write it again.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from typing import Any


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def can_fork() -> bool:
    """Whether :func:`fork_json` runs its computation in a child (see the module's conditions)."""
    return (
        sys.platform.startswith("linux")
        and os.environ.get("SYMCOST_NO_FORK", "") in ("", "0")
        and cores() >= 2
        and threading.active_count() == 1
    )


class Pending:
    """A value being computed in a child process (or to be computed here): :meth:`result` returns it."""

    def __init__(self, compute: Callable[[], Any], child: int | None = None, pipe: int | None = None):
        self._compute = compute
        self._child = child
        self._pipe = pipe

    @property
    def forked(self) -> bool:
        return self._child is not None

    def result(self) -> Any:
        """The child's value; computed here when there was no child or it failed. Call it once."""
        if self._child is None:
            return self._compute()
        with os.fdopen(self._pipe, "rb") as pipe:
            data = pipe.read()
        _, status = os.waitpid(self._child, 0)
        self._child = None
        if status == 0:
            try:
                return json.loads(data)
            except ValueError:  # cut short: computed again below
                pass
        return self._compute()


def fork_json(compute: Callable[[], Any]) -> Pending:
    """Start ``compute()`` (which must return a JSON-able value) in a forked child when :func:`can_fork`."""
    if not can_fork():
        return Pending(compute)
    sys.stdout.flush()  # else text buffered here would be written twice, once by each process
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(read_end)
        _run_child(compute, write_end)
    os.close(write_end)
    return Pending(compute, child, read_end)


def _run_child(compute: Callable[[], Any], write_end: int) -> None:
    """Compute, send the JSON text and leave at once (never through this process's exit handlers)."""
    status = 1
    try:
        text = json.dumps(compute(), allow_nan=True)
        with os.fdopen(write_end, "wb") as pipe:
            pipe.write(text.encode())
        status = 0
    except BaseException:  # noqa: BLE001 - the parent computes again and reports any error itself
        pass
    finally:
        sys.stderr.flush()
        os._exit(status)
