"""One runner for the per-document work, serial or in a process pool (flake8's ``checker.Manager``).

``run(function, shards, jobs)`` yields ``function(shard)`` for every shard, in order, whether
it ran in this process (``run_serial``) or in a standard ``concurrent.futures`` process pool
(``run_parallel``): the same function, the same records back. Small corpora stay in this
process, where starting workers would cost more than it saves.

Where the workers come from: a fork server (a small process that imports the package once
and forks each worker from itself: never this process's threads and memory), except when this
process is itself as clean as a fork server, as a ``peacetalks build`` or ``validate`` command is
when its workers start: then they are forked from it directly (``_fork_is_safe``), which spares
the fork server's start (its imports: ~2 s of one core, measured by scripts/bench.py at 10,000
documents).
"""

from __future__ import annotations

import ctypes
import gc
import importlib
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
import types
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TypeVar

try:
    from multiprocessing import forkserver
except ImportError:  # (no fork server on this platform: workers are spawned)
    forkserver = None

from ..defaults import (
    FORKED_START_S,
    GC_THRESHOLD,
    IN_FLIGHT,
    PARALLEL_FROM,
    QUEUED_PER_WORKER,
    WORKER_MMAP_THRESHOLD,
    WORKER_TRIM_THRESHOLD,
)

#: what the fork server imports once, before it forks workers: the build's shard function and all it uses
PRELOAD = ("peacetalks.release.preload",)
#: the threads a process has from importing the package alone, as the fork server has them too: the
#: main thread and numpy's OpenBLAS threads ("python"), the jemalloc background threads of pyarrow and
#: polars, and polars' spill-file cleaner. Each library keeps its own state right across a fork. Any
#: other thread (polars' compute pool or its async runtime once a query ran, a thread of the caller's)
#: could hold a lock at the fork that a worker would then wait for forever: the fork server is used.
IMPORT_THREADS = frozenset({"python", "jemalloc_bg_thd", "polars-ooc-clea"})

S = TypeVar("S")
R = TypeVar("R")


def default_jobs() -> int:
    """Every core this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def workers(jobs: int | None, shards: int, documents: int) -> int:
    """How many processes to run: ``jobs`` (None: every core) but no more than there are shards; one
    (this process) for a corpus under ``PARALLEL_FROM`` documents unless ``jobs`` asks for more."""
    if jobs is None:
        jobs = default_jobs() if documents >= PARALLEL_FROM else 1
    return max(1, min(jobs, shards))


def run(function: Callable[[S], R], shards: Sequence[S], jobs: int = 1,
        preload: Sequence[str] = PRELOAD, fork_only: bool = False) -> Iterator[R]:
    """``function`` of every shard, in the shards' order. ``preload``: the modules ``function`` needs,
    imported before the workers start (``PRELOAD``: the build's). With ``fork_only``, the workers are
    forked from this process or there are none: where forking is not safe, everything runs here (for
    work too small to pay for a fork server's start)."""
    if jobs <= 1 or len(shards) <= 1:
        return run_serial(function, shards)
    return run_parallel(function, shards, jobs, preload, fork_only)


def run_serial(function: Callable[[S], R], shards: Sequence[S]) -> Iterator[R]:
    for shard in shards:
        yield function(shard)


class _NoMain(types.ModuleType):
    """What a worker is told the caller's main module is: nothing to import. The shard functions
    live in this package; without this, every worker would first run the caller's script again
    (multiprocessing's rule for scripts without an ``if __name__ == "__main__":`` guard)."""


def _launch(popen, process_obj):
    main = sys.modules["__main__"]
    sys.modules["__main__"] = _NoMain("__main__")
    try:
        return popen(process_obj)  # (the worker's preparation data is taken now)
    finally:
        sys.modules["__main__"] = main


class _SpawnProcess(multiprocessing.context.SpawnProcess):
    @staticmethod
    def _Popen(process_obj):
        return _launch(multiprocessing.context.SpawnProcess._Popen, process_obj)


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnProcess


if forkserver is not None:
    class _ForkServerProcess(multiprocessing.context.ForkServerProcess):
        @staticmethod
        def _Popen(process_obj):
            return _launch(multiprocessing.context.ForkServerProcess._Popen, process_obj)

    class _ForkServerContext(multiprocessing.context.ForkServerContext):
        Process = _ForkServerProcess


def _pool_context(preload: Sequence[str] = PRELOAD):
    """A fork server where there is one: each worker is forked from a small server process that
    has imported the package once (``preload``: not from this process, whose threads and memory it
    would copy). Elsewhere, spawned workers. Either way, workers do not import the caller's main module."""
    if forkserver is not None and sys.platform.startswith("linux") \
            and "forkserver" in multiprocessing.get_all_start_methods():
        forkserver.set_forkserver_preload(list(preload))
        return _ForkServerContext()
    return _SpawnContext()


def _threads() -> set[str] | None:
    """The names of this process's threads (None where the system does not tell). A thread that ends
    while they are read is not one of them: a pool's threads, joined by its shutdown, may still be
    leaving the system's list for a moment after (its name then can no longer be read)."""
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return None
    names = set()
    for task in tasks:
        try:
            names.add(Path(f"/proc/self/task/{task}/comm").read_text().strip())
        except (FileNotFoundError, ProcessLookupError):  # (it has ended)
            continue
        except OSError:
            return None
    return names


def _fork_is_safe() -> bool:
    """Whether workers may be forked from this process: on Linux, with no thread but those its imports
    started (``IMPORT_THREADS``) and no Python thread but this one."""
    if not sys.platform.startswith("linux") or "fork" not in multiprocessing.get_all_start_methods() \
            or threading.active_count() != 1:
        return False
    names = _threads()
    return names is not None and names <= IMPORT_THREADS


def _warm(preload: Sequence[str] = PRELOAD) -> None:
    """Import what the workers run, as the fork server would (this process needs it too)."""
    for module in preload:
        importlib.import_module(module)


def start_pool() -> None:
    """Prepare the workers' start now, so that it overlaps with this process's own work: warm this
    process if they will be forked from it, else start the fork server (its imports)."""
    if _fork_is_safe():
        _warm()
    elif isinstance(_pool_context(), multiprocessing.context.ForkServerContext):
        forkserver.ensure_running()


def _fork_context(preload: Sequence[str] = PRELOAD):
    """Fork from this process, if it is safe now (after warming it), else None."""
    if not _fork_is_safe():
        return None
    _warm(preload)
    return multiprocessing.get_context("fork") if _fork_is_safe() else None


class Begun:
    """A call begun in a worker forked for it alone (``begin``): ``result()`` waits for its answer, then
    for the worker and the pool's thread to end, so that this process can fork again safely."""

    def __init__(self, pool: ProcessPoolExecutor, future) -> None:
        self._pool, self._future = pool, future

    def result(self):
        """The call's answer; None if its worker died (the caller then runs the function itself)."""
        try:
            return self._future.result()
        except BrokenProcessPool:
            return None
        finally:
            self.close()

    def close(self) -> None:
        """End the worker, its call done or not wanted: every ``begin`` is closed (or its result taken),
        else its worker would wait for more work after this process ends."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def begin(function: Callable[[S], R], job: S) -> "Begun | None":
    """``function(job)`` begun now in one worker forked from this process, to run while this process
    does other work (a ``peacetalks validate`` imports its checks meanwhile): None where forking is not
    safe now (``_fork_is_safe``), and the caller runs the function itself when it needs the answer.
    Nothing is imported for it: the worker has this process's modules."""
    if not _fork_is_safe():
        return None
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
    try:
        return Begun(pool, pool.submit(function, job))
    except (OSError, RuntimeError):  # (no process or thread could be started: the caller does it)
        pool.shutdown(wait=False)
        return None


def _worker_setup() -> None:
    """What each worker does first: the collector's thresholds of a validation (``GC_THRESHOLD``: a
    forked worker has them already, one from the fork server or spawned does not); glibc's malloc
    keeps the memory a shard freed for the next shard (``WORKER_MMAP_THRESHOLD``,
    ``WORKER_TRIM_THRESHOLD``; elsewhere, another C library, nothing)."""
    gc.set_threshold(*GC_THRESHOLD)
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # (a C library without mallopt: musl has none)
        return
    mallopt(_M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD)
    mallopt(_M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD)


#: mallopt's parameter numbers (glibc's malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def _started() -> int:
    """A worker's first task: answered once the worker has started (its imports done)."""
    return os.getpid()


def run_parallel(function: Callable[[S], R], shards: Sequence[S], jobs: int, preload: Sequence[str] = PRELOAD,
                 fork_only: bool = False) -> Iterator[R]:
    """The same calls in ``jobs`` worker processes and this one; results in the shards' order.

    A shard is given to a worker only when one is idle: a worker starts by answering ``_started``
    (the fork server's imports take a second or two), so no shard waits for a worker to start.
    Whenever the next result in order is not ready (the workers are starting, or busy), this
    process runs the next shard not yet given out itself, so it is never idle while there is work.
    At most ``IN_FLIGHT`` shards per worker are begun ahead of the next result, so that the
    results held at once do not grow with the corpus. An exception in a worker is raised here, as
    it would be in ``run_serial``. If a worker dies (killed, out of memory), the shards not yet
    yielded run in this process: the answer is the same, only slower.
    """
    n, window = len(shards), IN_FLIGHT * jobs
    done = 0  # results yielded
    try:
        fork = _fork_context(preload)
        if fork is None and fork_only:
            yield from run_serial(function, shards)
            return
        with ProcessPoolExecutor(max_workers=jobs, mp_context=fork or _pool_context(preload),
                                 initializer=_worker_setup) as pool:
            started: list = []  # each worker's answer to ``_started``

            def start() -> None:
                started.extend(pool.submit(_started) for _ in range(jobs))

            starter = None
            if fork is not None:  # every worker is forked at the first submit, from this thread, now
                with warnings.catch_warnings():  # (Python 3.12+ warns of any thread: see IMPORT_THREADS)
                    warnings.filterwarnings("ignore", r".*multi-threaded.*fork", DeprecationWarning)
                    try:
                        start()
                    except (OSError, RuntimeError):  # (no process or thread could be started: all done here)
                        pass
                # forked workers answer at once: wait for them, so that the first shards go to them
                # rather than all waiting while this process checks one
                wait(started, timeout=FORKED_START_S)
            else:  # the fork server's imports take a second or two: the workers are asked to start from
                starter = threading.Thread(target=start, daemon=True)  # another thread, while this one
                starter.start()  # checks the first shards itself
            running: dict = {}  # shard number -> future
            ready: dict = {}  # shard number -> result
            given = 0
            try:
                while done < n:
                    for i in [i for i, f in running.items() if f.done()]:
                        ready[i] = running.pop(i).result()
                    # each started worker has a shard queued behind the one it runs, so that it starts the
                    # next as soon as it sends a result (not once this process has received it)
                    free = QUEUED_PER_WORKER * sum(f.done() for f in list(started)) - len(running)
                    while free > 0 and given < n and given - done < window:
                        running[given] = pool.submit(function, shards[given])
                        given, free = given + 1, free - 1
                    if done in ready:
                        result = ready.pop(done)
                        done += 1
                        yield result
                    elif given < n and given - done < window and sum(f.done() for f in list(started)) < jobs:
                        # nothing ready and a worker not running (still starting, or it could not start):
                        # work here meanwhile; once every worker runs, the cores are theirs
                        ready[given] = function(shards[given])
                        given += 1
                    else:
                        wait([*running.values(), *(f for f in list(started) if not f.done())],
                             return_when=FIRST_COMPLETED)
            finally:
                if starter is not None:
                    starter.join()
                for future in running.values():
                    future.cancel()
    except BrokenProcessPool:
        print(f"peacetalks: a worker process ended unexpectedly; checking the other {n - done} "
              "shard(s) in this process", file=sys.stderr)
        yield from run_serial(function, shards[done:])
