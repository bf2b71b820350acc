"""Work handed to a forked child process while the caller goes on.

:func:`sim.runs.write_run` draws a run's figures (matplotlib, which holds the GIL) beside
its own work (metrics, the other figures): on a machine with a second free core the run
folder is finished sooner, with the very same bytes. A forked child starts at once and
shares the parent's imports and memory (copy on write); it is used only where that is safe:
Linux (macOS system libraries do not survive a fork), a process that is not itself a
daemonic worker (Dask's, multiprocessing's: they may not have children), more than one
CPU to run on, and **no other thread alive** (a thread holding a lock at the moment of
the fork would leave that lock held forever in the child). Anywhere else the work runs in
the caller, when its result is asked for.

Results and exceptions come back pickled through a pipe; a child that dies without
answering (killed, out of memory) is reported as an error, never as success. A
:class:`Gate` lets the child start before everything it needs exists: it does what it can,
then waits until the caller says the rest is ready.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from sim._errors import EvacsimError

__all__ = ["Background", "Gate", "can_fork"]

T = TypeVar("T")


def can_fork() -> bool:
    """Whether this process may fork a child for :class:`Background` work now."""
    if not sys.platform.startswith("linux") or threading.active_count() != 1:
        return False
    if multiprocessing.current_process().daemon:
        return False
    return len(os.sched_getaffinity(0)) > 1


def _child(fn: Callable[[], object], conn) -> None:  # pragma: no cover - runs in the child
    try:
        out = ("ok", fn())
    except BaseException as err:  # noqa: BLE001 - every failure goes back to the parent
        out = ("error", err)
    try:
        pickle.loads(pickle.dumps(out))  # it must make the trip back whole
    except Exception as err:  # noqa: BLE001 - sent as text instead
        what = "" if out[0] == "error" else "result: "
        out = ("error", EvacsimError(f"{what}{type(out[1]).__name__}: {out[1]} "
                                     f"(not picklable: {err})"))
    conn.send(out)
    conn.close()


class Background(Generic[T]):
    """Run ``fn()`` in a forked child now, or in the caller at :meth:`result`.

    Parameters
    ----------
    fn
        The work; it returns something picklable. In a child it sees the parent's memory
        as it was at the fork, and what it changes there is lost: it must work through
        files (or its return value).
    fork
        False: never fork (the work runs in :meth:`result`).
    what
        What the work is, for the error raised when a child dies without an answer.

    Use it as a context manager: leaving the block stops a child whose result was never
    asked for (the caller failed), so that nothing writes after the caller has cleaned up.
    """

    def __init__(self, fn: Callable[[], T], *, fork: bool = True, what: str = "work") -> None:
        self._fn = fn
        self._what = what
        self._proc = None
        self._conn = None
        if fork and can_fork():
            ctx = multiprocessing.get_context("fork")
            recv, send = ctx.Pipe(duplex=False)
            self._proc = ctx.Process(target=_child, args=(fn, send), name="evacsim-background")
            self._proc.start()
            send.close()  # the child holds its end: EOF here if it dies
            self._conn = recv

    @property
    def forked(self) -> bool:
        """Whether the work runs in a child process."""
        return self._proc is not None

    def result(self) -> T:
        """The work's return value (waits for the child); its exception is raised here."""
        if self._proc is None:
            return self._fn()
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        try:
            status, value = conn.recv()
        except EOFError:
            proc.join()
            raise EvacsimError(f"{self._what}: the process doing it ended without an answer "
                               f"(exit code {proc.exitcode})") from None
        finally:
            conn.close()
        proc.join()
        if status == "error":
            raise value
        return value

    def close(self) -> None:
        """Stop a child whose result was not asked for."""
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join()
            self._conn.close()
            self._proc = self._conn = None

    def __enter__(self) -> Background[T]:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Gate:
    """A signal given once by the caller, which :class:`Background` work may wait for.

    Made before the :class:`Background` whose work waits on it (a forked child must inherit
    it). In a child, :meth:`wait` blocks until the caller's :meth:`open`; where the work
    runs in the caller (no fork) it runs after :meth:`open`, so nothing waits. Waiting in
    the caller on a gate it never opened would never end: that is an error instead.
    One process waits on a gate (the byte it reads is the signal). Use it as a context
    manager, around the :class:`Background`: leaving closes its pipe.
    """

    def __init__(self) -> None:
        self._pid = os.getpid()
        self._read, self._write = os.pipe()
        self._opened = False

    def open(self) -> None:
        """Let the work waiting on this gate go on (once; later calls do nothing)."""
        if not self._opened:
            os.write(self._write, b"1")
            self._opened = True

    def wait(self) -> None:
        """Return once the caller has opened the gate (at once if it already was)."""
        if self._opened:
            return
        if os.getpid() == self._pid:
            raise EvacsimError("waiting on a gate that this process has not opened: it "
                               "would wait forever (open it before asking for the result)")
        os.close(self._write)  # the child's copy: the caller closing its own is then EOF
        self._write = None
        if os.read(self._read, 1) != b"1":
            raise EvacsimError("the caller closed the gate without opening it")
        self._opened = True

    def close(self) -> None:
        """Close the pipe (in the process that made the gate)."""
        for fd in (self._read, self._write):
            if fd is not None:
                os.close(fd)
        self._read = self._write = None

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
