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


def test_parallel_runs_in_the_workers_and_here():
    """Workers take shards once started; this process takes the next one whenever the next result is not
    ready (so it runs the first ones while the workers start)."""
    got = list(runner.run_parallel(_pid, range(60), 2))  # (6 s of work: the workers start within it)
    assert got[0] == os.getpid()
    assert len(set(got) - {os.getpid()}) >= 1  # (at least one worker took part)


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
