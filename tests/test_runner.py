"""checks/runner.py: the same function, serially or in a process pool, gives the same records back."""

import multiprocessing
import os
import time

import pytest

from peacetalks.checks import runner
from peacetalks.defaults import PARALLEL_FROM


def exit_in_a_worker(x):
    """Dies in a worker process (as one killed for its memory would); answers in the first process,
    slowly enough that the workers start and are given shards."""
    if multiprocessing.parent_process() is not None:
        os._exit(1)
    time.sleep(0.2)
    return x * 2


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_serial_and_parallel_give_the_same_results_in_order(jobs):
    shards = list(range(-20, 20))
    assert list(runner.run(abs, shards, jobs)) == [abs(x) for x in shards]


@pytest.mark.parametrize("forked", [True, False])
def test_parallel_runs_in_the_workers_once_they_run(monkeypatch, forked):
    """Workers take shards once started; this process takes the next one only while a worker is not
    running yet (the fork server's workers take a second or two), never once they all run: the cores
    are theirs then. Forked workers run at once, so this process takes none."""
    if not forked:
        monkeypatch.setattr(runner, "_fork_is_safe", lambda: False)
    elif not runner._fork_is_safe():
        pytest.skip("this test process has threads: its workers come from the fork server")
    got = list(runner.run_parallel(_pid, range(120), 2))  # (12 s of work: the workers start within it)
    workers = set(got) - {os.getpid()}
    assert len(workers) == 2
    # the shards given out once the later worker ran (from its first one on) all went to the workers,
    # however long the workers took to start (on a loaded machine, the fork server's imports take longer)
    assert os.getpid() not in got[max(got.index(w) for w in workers):]
    if forked:
        assert os.getpid() not in got


def test_no_shard_waits_for_a_worker_to_start(monkeypatch):
    """While the workers start, this process checks the shards in order; none is given to a worker
    that has not started yet (a shard given to it would hold the results in order back)."""
    submitted = []
    real = runner.ProcessPoolExecutor

    class Slow(real):
        def submit(self, fn, *args, **kwargs):
            if fn is runner._started:  # (workers that take three seconds to start)
                return super().submit(time.sleep, 3)
            submitted.append(args[0])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(runner, "ProcessPoolExecutor", Slow)
    t0 = time.perf_counter()
    assert list(runner.run_parallel(abs, list(range(-10, 0)), 2)) == list(range(10, 0, -1))
    assert submitted == []  # all done here before any worker started
    assert time.perf_counter() - t0 < 3 + 2  # (and the workers' start is not waited for twice)


def _pid(_):
    time.sleep(0.1)
    return os.getpid()


def test_an_exception_in_a_worker_is_raised_as_it_would_be_serially():
    with pytest.raises(ValueError, match="invalid literal"):
        list(runner.run(int, ["1", "2", "x", "4"], 2))
    with pytest.raises(ValueError, match="invalid literal"):
        list(runner.run(int, ["1", "2", "x", "4"], 1))


def test_a_dead_worker_leaves_its_shards_to_this_process(capsys):
    shards = list(range(40))
    assert list(runner.run(exit_in_a_worker, shards, 2)) == [2 * x for x in shards]
    assert "worker process ended unexpectedly" in capsys.readouterr().err


def test_how_many_workers():
    assert runner.workers(None, 10, PARALLEL_FROM - 1) == 1  # a small corpus stays in this process
    assert runner.workers(None, 10, PARALLEL_FROM) == min(10, runner.default_jobs())
    assert runner.workers(4, 2, 5) == 2  # never more workers than shards
    assert runner.workers(3, 10, 5) == 3  # --jobs asks for workers even for a small corpus
    assert runner.workers(1, 10, 10**6) == 1


def test_a_script_without_a_main_guard_is_not_run_again_by_the_workers(tmp_path):
    """Workers do not import the caller's main module: a plain script that validates with a pool
    runs once, as a user writes it."""
    import subprocess
    import sys
    script = tmp_path / "plain.py"
    script.write_text("from peacetalks.checks import runner\n"
                      "print('ran', list(runner.run(abs, [-1, -2, -3, -4], 2)))\n", "utf-8")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "ran [1, 2, 3, 4]\n" and "ended unexpectedly" not in r.stderr


def test_workers_that_cannot_start_leave_every_shard_here(monkeypatch):
    """Starting the workers happens in a thread; if that fails, nothing hangs or is lost."""
    real = runner.ProcessPoolExecutor

    class Flaky(real):
        calls = 0

        def submit(self, *args, **kwargs):
            Flaky.calls += 1
            if Flaky.calls == 1:
                raise RuntimeError("could not start a worker")
            return super().submit(*args, **kwargs)

    monkeypatch.setattr(runner, "ProcessPoolExecutor", Flaky)
    monkeypatch.setattr("threading.excepthook", lambda args: None)  # (the starter's failure is expected here)
    assert list(runner.run_parallel(abs, list(range(-10, 0)), 2)) == list(range(10, 0, -1))


HELPER = '''
import multiprocessing, os, time

def parent(x):
    """The process that forked the one running this shard (None: the first process ran it)."""
    time.sleep(0.1)
    return os.getppid() if multiprocessing.parent_process() is not None else None
'''


def _run_script(tmp_path, body: str) -> str:
    import subprocess
    import sys
    (tmp_path / "helper.py").write_text(HELPER, "utf-8")
    script = tmp_path / "script.py"
    script.write_text("import os, sys, threading, time\nimport peacetalks.release.build\n"
                      "from peacetalks.checks import runner\nfrom helper import parent\n" + body, "utf-8")
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="forks from this process only where threads can be listed")
def test_a_clean_process_forks_its_workers_itself(tmp_path):
    """A process with only the threads its imports started (a `peacetalks build` command) forks its
    workers directly: their parent is this process, not a fork server."""
    out = _run_script(tmp_path, "print(runner._fork_is_safe())\n"
                                "print(sorted(set(runner.run(parent, range(60), 2)) - {None}) == [os.getpid()])\n")
    assert out.split() == ["True", "True"]


@pytest.mark.parametrize("setup", [
    "threading.Thread(target=time.sleep, args=(30,), daemon=True).start()",  # a thread of the caller's
    "import polars as pl\npl.DataFrame({'a': list(range(10))}).group_by('a').agg(pl.len())",  # polars' pool started
], ids=["python thread", "polars pool"])
def test_a_process_with_other_threads_takes_its_workers_from_the_fork_server(tmp_path, setup):
    """A thread that is not one its imports started could hold a lock at the fork (a caller's thread,
    polars' compute pool once a query ran): the workers then come from the fork server, and the
    results are the same."""
    out = _run_script(tmp_path, setup + "\nprint(runner._fork_is_safe())\n"
                      "got = list(runner.run(parent, range(100), 2))\n"
                      "print(len(got) == 100 and os.getpid() not in got and len(set(got) - {None}) >= 1)\n")
    assert out.split() == ["False", "True"]


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="threads are listed only where the system lists them")
@pytest.mark.parametrize("gone", [["999999999"], ["999999998", "999999999"]], ids=["one", "two"])
def test_a_thread_that_ends_while_the_names_are_read_is_not_one_of_them(monkeypatch, gone):
    """A pool's thread, joined by its shutdown, may stay in the system's list a moment longer, and its
    name can no longer be read: it is not counted, and the others' names are still given (this
    process is not taken as one whose threads cannot be told)."""
    listed = os.listdir("/proc/self/task")
    real = runner._threads()
    monkeypatch.setattr(runner.os, "listdir", lambda path: gone[:1] + listed + gone[1:])
    assert real is not None and runner._threads() == real


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="forks from this process only where threads can be listed")
def test_a_process_forks_again_as_soon_as_a_begun_call_ends(tmp_path):
    """``begin`` after ``begin``: each forks (the last one's threads have just ended), every time."""
    out = _run_script(tmp_path, "forked = 0\n"
                                "for _ in range(40):\n"
                                "    begun = runner.begin(parent, 0)\n"
                                "    forked += begun is not None\n"
                                "    begun and begun.result()\n"
                                "print(forked)\n")
    assert out.split() == ["40"]


def test_this_test_process_is_not_clean():
    """(The test process has run polars queries: its pools would not survive a fork.)"""
    import polars as pl
    pl.DataFrame({"a": list(range(10))}).group_by("a").agg(pl.len())
    assert not runner._fork_is_safe()


def test_a_worker_sets_its_memory_up_where_the_c_library_can(monkeypatch):
    """glibc's mallopt on Linux (in a process of its own: it changes how that process allocates);
    elsewhere the setup does nothing and never fails a worker."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", "from peacetalks.checks import runner; runner._worker_setup()"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

    def no_library(*args, **kwargs):
        raise AssertionError("the C library is not looked up off Linux")
    monkeypatch.setattr(runner.sys, "platform", "darwin")
    monkeypatch.setattr(runner.ctypes, "CDLL", no_library)
    assert runner._worker_setup() is None


def test_fork_only_work_runs_here_where_forking_is_not_safe(monkeypatch):
    """Work too small to pay for a fork server's start (``fork_only``) runs in this process where it cannot
    fork its workers: no fork server is started, and the results are the same."""
    monkeypatch.setattr(runner, "_pool_context", lambda *a: pytest.fail("a fork server was started"))
    monkeypatch.setattr(runner, "_fork_is_safe", lambda: False)
    assert list(runner.run(_pid, range(4), 2, fork_only=True)) == [os.getpid()] * 4
    # (forking may stop being safe between ``run``'s check and the workers' start)
    assert list(runner.run_parallel(_pid, range(4), 2, fork_only=True)) == [os.getpid()] * 4


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="forks from this process only where threads can be listed")
def test_forked_workers_import_only_what_the_work_needs(tmp_path):
    """With ``preload=()``, a clean process forks its workers without importing the build's modules first
    (spaCy and the release: a second or so) for work that does not need them."""
    (tmp_path / "helper.py").write_text(HELPER, "utf-8")
    script = tmp_path / "script.py"
    script.write_text("import os, sys\nfrom peacetalks.checks import runner\nfrom helper import parent\n"
                      "print(runner._fork_is_safe())\n"
                      "got = list(runner.run(parent, range(20), 2, preload=(), fork_only=True))\n"
                      "print(set(got) - {None} == {os.getpid()}, 'spacy' in sys.modules)\n", "utf-8")
    import subprocess
    import sys
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["True", "True", "False"]
