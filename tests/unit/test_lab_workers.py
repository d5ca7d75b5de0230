"""A lab killed outright (SIGKILL: no cleanup runs) takes its worker processes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

PARENT = """
import concurrent.futures as cf, multiprocessing, os, sys, time
from collapselab.lab.pipeline import _worker_init
if __name__ == "__main__":
    pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
    pid = pool.submit(os.getpid).result()
    with open(sys.argv[1], "w") as f:
        f.write(str(pid))
    time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is dead, only not yet reaped
        return f.read().split()[2] != "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_when_the_lab_process_is_killed(tmp_path):
    pid_file = tmp_path / "worker.pid"
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(pid_file)])
    deadline = time.time() + 60
    while not pid_file.is_file() or not pid_file.read_text():
        assert time.time() < deadline and parent.poll() is None, "the worker never started"
        time.sleep(0.05)
    worker = int(pid_file.read_text())
    assert _alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while _alive(worker) and time.time() < deadline:
        time.sleep(0.05)
    assert not _alive(worker), "the worker outlived the killed lab"


WORKER_POOLS = """
import concurrent.futures as cf, multiprocessing

def pools():
    import numpy, torch  # numpy's BLAS is loaded before the job starts, as in a lab worker
    from threadpoolctl import threadpool_info
    from collapselab.lab.pipeline import job_threads

    def blas():
        return sorted(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    before = blas()
    with job_threads(1):
        inside = (blas(), torch.get_num_threads())
    return before, inside, blas()

if __name__ == "__main__":
    from collapselab.lab.pipeline import _worker_init
    pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
    print(pool.submit(pools).result())
"""


def test_job_threads_holds_every_loaded_pool_to_the_jobs_cores(tmp_path):
    """In a lab worker numpy's BLAS is loaded before OMP_NUM_THREADS is set; job_threads(1) brings it to one
    thread for the job (with torch's) and gives it back afterwards."""
    script = tmp_path / "pools.py"  # a file: spawn workers re-import __main__ to find pools()
    script.write_text(WORKER_POOLS)
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "OPENBLAS_NUM_THREADS": "2"})
    assert out.returncode == 0, out.stderr[-2000:]
    before, (inside, torch_threads), after = eval(out.stdout.strip().splitlines()[-1])
    assert inside and all(n == 1 for n in inside) and torch_threads == 1
    assert max(before) == 2 and after == before


DATASETS_BARS = """
import concurrent.futures as cf, multiprocessing

def bars_disabled():
    from datasets.utils.tqdm import are_progress_bars_disabled
    return are_progress_bars_disabled()

if __name__ == "__main__":
    from collapselab.lab.pipeline import _worker_init
    pool = cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_init)
    print(pool.submit(bars_disabled).result())
"""


def test_a_lab_worker_writes_no_datasets_progress_bars_into_its_log(tmp_path):
    script = tmp_path / "bars.py"
    script.write_text(DATASETS_BARS)
    env = {k: v for k, v in os.environ.items() if k != "HF_DATASETS_DISABLE_PROGRESS_BARS"}
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True"


TWO_JOBS = """
import logging, sys
from collapselab.lab.pipeline import _redirect
logs = sys.argv[1:3]
for i, path in enumerate(logs):
    with open(path, "a", buffering=1) as fh, _redirect(fh):
        if i == 0:  # a library imported during the first job makes its handler on that job's sys.stderr,
            lib = logging.getLogger("somelib")  # and binds its flush to that stream's, as transformers does
            handler = logging.StreamHandler()
            handler.flush = sys.stderr.flush
            lib.addHandler(handler)
        logging.getLogger("somelib").warning("warning of job %d", i)
"""


def test_a_library_handler_made_in_one_job_logs_into_the_next_jobs_log(tmp_path):
    """A worker runs jobs one after another; a logging handler made during the first (transformers' on import)
    wrote into that job's closed log during the next: "--- Logging error --- ... I/O operation on closed file"."""
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    r = subprocess.run([sys.executable, "-c", TWO_JOBS, *map(str, logs)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert logs[0].read_text() == "warning of job 0\n"
    assert logs[1].read_text() == "warning of job 1\n"
    assert "Logging error" not in r.stderr + logs[1].read_text()
