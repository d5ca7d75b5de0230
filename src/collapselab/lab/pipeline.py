"""The whole lab as a graph of jobs, run in parallel worker processes, each reused when unchanged.

Stages (``STAGES``) are what a user names and what the times are reported by; each is one job
or several (``lab/stages.py``: one per beta, one per evaluated run). Jobs run in ``workers``
processes as soon as their dependencies are done. On the tiny models one CPU thread per job is
as fast as two (a PPO update: 3.5 s on one thread, 3.9 s on two), so on a 2-core machine two
jobs side by side nearly halve the time of the alignment and evaluation stages; pretraining,
whose large batches do use both cores, gets every thread.

Jobs call the same library functions as the entry points (``training/*.py``, ``eval/*.py``,
``scripts/toy_sim.py``) with configs composed from the same files, so the lab is exactly the
sum of the commands a user would type. A job whose key (its composed config, hashed) matches
the one recorded in ``<out_dir>/stages.json`` and whose outputs exist is skipped, so a second
run takes seconds, and a killed run picks up at the jobs it was in (training resumes from its
last checkpoint, evaluation from its sample cache). Each job's output goes to
``<out_dir>/logs/<job>.log``; the terminal shows one line per job start and end, and every
``heartbeat`` seconds which jobs are running, the time so far and the estimated time left.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from collapselab.config.app import compose
from collapselab.config.lab import STAGES
from collapselab.errors import UserError
from collapselab.io import atomic_write_json, check_writable
from collapselab.lab.stages import build_jobs, check_configs, read_memo

# seconds per job (the median of its kind) in the default lab from scratch on this 2-core machine, two jobs at a
# time (2026-12-04, 44:21 in all, four rounds of rejection sampling, thread pools held to each job's share;
# docs/alignment.md), for the first estimate of time left; later runs use the last run's own job times
DEFAULT_SECONDS = {"world": 8, "base": 298, "sft": 259, "reward": 54, "ppo": 269, "dpo": 292, "rs": 222,
                   "evaluate": 57, "evaluate_steps": 10, "evaluate_persona": 39, "score": 2, "toy": 15,
                   "compare": 15, "report": 10, "mitigate": 29, "steer": 31}


class LabState:
    """The lab's config, its output folder and the results of the jobs done so far (by job name)."""

    def __init__(self, cfg: Any, out_dir: Path):
        self.cfg, self.out_dir = cfg, Path(out_dir)
        self.results: dict[str, Any] = {}
        self.times: dict[str, float] = {}  # this run's seconds per stage (wall, jobs may overlap)
        self.job_times: dict[str, float] = {}
        self.last_job_times: dict[str, float] = {}  # seconds of each job the last time it ran (stage_times.json)
        self.threads: int | None = None  # CPU threads of the job this process runs (set by run_job)

    def overrides(self, stage: str, extra: list[str] | None = None) -> list[str]:
        """Overrides for composing ``stage``'s config: only the keys that stage's schema has."""
        p, lg = self.cfg.lab, self.cfg.logger
        ov: list[str] = []
        if stage not in ("toy", "compare"):
            ov += [f"artifacts_dir={self.cfg.artifacts_dir}", *p.world]
        if stage not in ("toy", "compare", "world", "steer"):
            ov += [f"logger.backend={lg.backend}", f"logger.mode={lg.mode}"]
        if stage in ("pretrain", "sft", "reward", "ppo", "dpo", "rs"):
            ov += list(p.model)
        if stage in ("sft", "reward", "ppo", "dpo", "rs"):
            keys = _schema_keys(stage)  # sft.* applies to all four, pairs.* only to reward/ppo/dpo, ...
            ov += [o for o in p.align if o.lstrip("+~").split("=")[0].split(".")[0] in keys]
            if "annotator" in keys:  # the labels' typicality bias (the control's extra sets it to 0)
                ov.append(f"annotator.typicality={float(p.typicality)}")
        if stage in ("ppo", "dpo") and p.align_start == "rs":  # the RS model they start from is the lab's own
            ov += list(p.rs)  # rs.* keys only (LabPreset.problems refuses others with align_start=rs)
        if stage in ("ppo", "dpo", "rs", "evaluate", "evaluate_steps", "toy"):
            ov += list(getattr(p, stage))
        return ov + list(extra or [])

    def compose(self, name: str, stage: str, extra: list[str] | None = None) -> Any:
        return compose(name, self.overrides(stage, extra))


def _schema_keys(config_name: str) -> set[str]:
    """Top-level keys of a registered schema (``<config_name>_schema``; importing config.app registered them)."""
    from hydra.core.config_store import ConfigStore

    node = ConfigStore.instance().load(f"{config_name}_schema.yaml").node
    return set(node.keys())


def _fmt(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m}:{s:02d}"


def _log_path(out_dir: Path, job: str) -> Path:
    return Path(out_dir) / "logs" / (job.replace("/", "_") + ".log")


# --------------------------------------------------------------------------- one job, in a worker


def _worker_init() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # before torch is imported in this process
    # a job's output is its log file: datasets' map bars ("Tokenizing train dataset", 4 per trl trainer) only
    # filled it with carriage returns (36 in an RS log); read when datasets is first imported, after this
    os.environ.setdefault("HF_DATASETS_DISABLE_PROGRESS_BARS", "1")
    _die_with_parent()


def _die_with_parent() -> None:
    """Ask Linux to send this worker SIGTERM when the lab process dies, however it dies: a lab killed
    with SIGTERM or SIGKILL runs no cleanup, and its orphaned workers would go on training."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except OSError:  # no glibc (e.g. musl): workers then outlive a killed lab, as before
        pass


@contextlib.contextmanager
def job_threads(threads: int) -> Iterator[None]:
    """A job's native thread pools at the ``threads`` cores the scheduler gave it: torch's, and the BLAS
    and OpenMP pools already loaded (numpy's OpenBLAS is, before ``_worker_init``'s OMP_NUM_THREADS can
    reach it; pools loaded later read that variable). Measured on 2 cores: two jobs whose numpy BLAS kept
    2 threads each ran the review-k search 2.3x slower (scripts/bench_threads.py)."""
    import torch  # after _worker_init has set OMP_NUM_THREADS
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    with threadpool_limits(limits=threads):
        yield


def run_job(cfg: Any, name: str, results: dict[str, Any], threads: int) -> tuple[dict, list[str], float]:
    """Run job ``name`` with its dependencies' ``results``; its output goes to its log file."""
    state = LabState(cfg, Path(cfg.out_dir))
    state.results = dict(results)
    state.threads = threads
    job = build_jobs(state)[name]
    log = _log_path(state.out_dir, name)
    log.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(log, "a", buffering=1) as fh, _redirect(fh), job_threads(threads):
        print(f"== {name} started {time.strftime('%Y-%m-%d %H:%M:%S')}", flush=True)
        try:
            result, outputs = job.run(state)
        except BaseException:
            traceback.print_exc()
            raise
        print(f"== {name} done in {time.perf_counter() - t0:.1f}s", flush=True)
    return result, outputs, time.perf_counter() - t0


class _redirect:
    """Send this process's stdout and stderr (Python's and the C level's) to ``fh``, then restore them."""

    def __init__(self, fh: Any):
        self.fh = fh

    def __enter__(self) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2), sys.stdout, sys.stderr)
        os.dup2(self.fh.fileno(), 1)
        os.dup2(self.fh.fileno(), 2)
        sys.stdout = sys.stderr = self.fh

    def __exit__(self, *exc: Any) -> None:
        self.fh.flush()
        out, err, sys.stdout, sys.stderr = self.saved
        os.dup2(out, 1)
        os.dup2(err, 2)
        os.close(out)
        os.close(err)
        _retarget_log_handlers(self.fh, sys.stderr)


def _retarget_log_handlers(old: Any, new: Any) -> None:
    """Point every logging handler that writes to ``old`` (a job's log, about to close) at ``new``. A library
    imported during a job (transformers) makes its handler on the ``sys.stderr`` of that moment, the job's log:
    the next job in the same worker would log into the closed file ("--- Logging error ---", the message lost).
    ``new`` writes to file descriptor 2, which the next job's redirect points at its own log."""
    import logging

    loggers = [logging.getLogger(), *(lg for lg in logging.Logger.manager.loggerDict.values()
                                      if isinstance(lg, logging.Logger))]
    for lg in loggers:
        for h in lg.handlers:
            if isinstance(h, logging.StreamHandler) and getattr(h, "stream", None) is old:
                h.setStream(new)
                if getattr(h.__dict__.get("flush"), "__self__", None) is old:  # transformers binds the handler's
                    del h.flush  # flush to that sys.stderr's: the class's flushes the stream it now has


# --------------------------------------------------------------------------- time left


def _waits_on(jobs: dict[str, Any], job: Any) -> list[str]:
    """The jobs of this run that ``job`` starts after: its dependencies and its ``after`` jobs."""
    return [d for d in (*job.deps, *getattr(job, "after", ())) if d in jobs]


def _admits(jobs: dict[str, Any], job: Any, running: list[str], workers: int) -> bool:
    """Whether a worker may start ready ``job`` beside the ``running`` ones: a worker is free, no running job holds
    every core, and a job that takes every core (``all_cores``) starts only on an idle machine."""
    if len(running) >= workers or any(getattr(jobs[n], "all_cores", False) for n in running):
        return False
    return not (getattr(job, "all_cores", False) and running)


def estimate_left(jobs: dict[str, Any], done: set[str], running: dict[str, float], expected: dict[str, float],
                  workers: int) -> float:
    """Seconds until every job is done: the scheduler's own policy replayed on the expected job times.

    ``running`` maps a running job to its seconds so far; a job takes ``expected[name]``. As in ``run_local``:
    whenever a worker is free, the ready jobs (every dependency of the run done) start longest chain first
    (``_critical_path``); a job that takes every core (``all_cores``) starts only on an idle machine and holds it;
    a ``local`` job runs in the lab's own process without a worker. Replaying the policy matters: a list schedule
    in the jobs' listed order, the earlier estimate, put 52:51 on the default lab that ran in 44:21, its own job
    times given.
    """
    finish = {n: 0.0 for n in done}
    busy = {n: max(expected[n] - s, 0.05 * expected[n]) for n, s in running.items()}  # worker jobs' end times
    finish.update(busy)
    pending = [n for n in jobs if n not in finish]
    rank = _critical_path(jobs, expected)
    pending.sort(key=lambda n: -rank[n])
    t = 0.0
    while pending:
        active = [n for n, end in busy.items() if end > t]
        for name in list(pending):
            job = jobs[name]
            if not all(d in finish and finish[d] <= t for d in _waits_on(jobs, job)):
                continue
            if getattr(job, "local", False):
                finish[name] = t + expected[name]
            elif _admits(jobs, job, active, workers):
                finish[name] = busy[name] = t + expected[name]
                active.append(name)
            else:
                continue
            pending.remove(name)
        later = [e for e in finish.values() if e > t]
        if pending and not later:  # nothing running and nothing ready: a dependency is not in this run
            break
        t = min(later, default=t)
    return max(finish.values(), default=0.0)


# --------------------------------------------------------------------------- the scheduler


def _select(jobs: dict[str, Any], stages: list[str]) -> dict[str, Any]:
    """The jobs of the named stages and every job they depend on (all jobs when ``stages`` is empty)."""
    if not stages:
        return jobs
    named = {n for n, j in jobs.items() if j.stage in stages}
    keep = named.union(*(_closure(jobs, n) for n in named))
    return {n: j for n, j in jobs.items() if n in keep}


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def run_lab(cfg: Any) -> dict[str, Any]:
    """Run the lab's jobs; return ``{"this_run": {stage: s}, "reused": [...], ...}`` (also in ``stage_times.json``)."""
    out_dir = check_writable(cfg.out_dir, "out_dir")
    check_writable(cfg.artifacts_dir, "artifacts_dir")
    state = LabState(cfg, out_dir)
    jobs = _select(build_jobs(state), list(cfg.stages))
    check_configs(state, jobs)  # every job's config, before the first job starts
    workers = cfg.workers or default_workers()
    cores = os.cpu_count() or 1
    memo_path, times_path = out_dir / "stages.json", out_dir / "stage_times.json"
    memo = read_memo(memo_path)
    previous = read_memo(times_path).get("jobs", {})
    state.last_job_times = dict(previous)
    scale = 0.1 if cfg.lab.name == "smoke" else 1.0  # first-run guess; later runs use the last run's times
    expected = {n: previous.get(n) or DEFAULT_SECONDS.get(j.kind, 30) * scale for n, j in jobs.items()}
    t0 = time.perf_counter()
    done: set[str] = set()
    reused: set[str] = set()
    started: dict[str, float] = {}
    ended: dict[str, float] = {}
    keys: dict[str, str] = {}
    futures: dict[cf.Future, str] = {}
    heartbeat = 30.0 if sys.stdout.isatty() else 60.0
    last_beat = time.perf_counter()

    def status() -> str:
        now = time.perf_counter()
        running = {n: now - started[n] for n in futures.values()}
        left = estimate_left(jobs, done, running, expected, workers)
        return f"[{len(done)}/{len(jobs)} done, elapsed {_fmt(now - t0)}, ~{_fmt(left)} left]"

    def finish(name: str, result: dict, outputs: list[str], seconds: float, was_reused: bool) -> None:
        state.results[name] = result
        state.job_times[name] = seconds
        ended[name] = time.perf_counter()
        done.add(name)
        if was_reused:
            reused.add(name)
        else:
            memo[name] = {"key": keys[name], "seconds": seconds, "result": result, "outputs": outputs}
            atomic_write_json(memo_path, memo)
            expected[name] = seconds

    def run_local(name: str) -> None:
        started[name] = time.perf_counter()
        state.times = _stage_walls(jobs, started, ended)  # the stages done so far: this job's own has no wall yet
        result, outputs = jobs[name].run(state)
        finish(name, result, outputs, time.perf_counter() - started[name], False)
        print(f"  done  {name} in {_fmt(state.job_times[name])}  {status()}", flush=True)

    print(f"== lab `{cfg.lab.name}`: {len(jobs)} jobs on {workers} worker(s); logs in {out_dir / 'logs'}  "
          f"{status()}", flush=True)
    ctx = multiprocessing.get_context("spawn")
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init)
    try:
        while len(done) < len(jobs):
            progressed = False
            ready = [n for n, j in jobs.items() if n not in done and n not in started
                     and all(d in done for d in _waits_on(jobs, j))]
            rank = _critical_path(jobs, expected)
            for name in sorted(ready, key=lambda n: -rank[n]):  # the longest chain to the end goes first
                job = jobs[name]
                if name not in keys:
                    keys[name] = job.key(state)
                hit = memo.get(name, {})
                if (not job.always and hit.get("key") == keys[name] and "result" in hit
                        and all(Path(p).exists() for p in hit.get("outputs", []))):
                    started[name] = time.perf_counter()
                    finish(name, hit["result"], hit["outputs"], 0.0, True)
                    print(f"  reuse {name}", flush=True)
                    progressed = True
                elif job.local:  # cheap, last: in this process, while the workers finish what they run
                    run_local(name)
                    progressed = True
                elif _admits(jobs, job, list(futures.values()), workers):  # an all-core job starts alone
                    threads = cores if job.all_cores else max(1, cores // workers)
                    deps = {d: state.results[d] for d in _closure(jobs, name) if d in state.results}
                    futures[pool.submit(run_job, cfg, name, deps, threads)] = name
                    started[name] = time.perf_counter()
                    print(f"  start {name}  (log {_log_path(out_dir, name)})  {status()}", flush=True)
            if progressed:
                continue
            if not futures:
                missing = [n for n in jobs if n not in done]
                raise RuntimeError(f"lab: jobs {missing} can never start (a dependency is missing)")
            finished, _ = cf.wait(futures, timeout=max(1.0, heartbeat - (time.perf_counter() - last_beat)),
                                  return_when=cf.FIRST_COMPLETED)
            for fut in finished:
                name = futures.pop(fut)
                try:
                    result, outputs, seconds = fut.result()
                except BaseException as e:
                    _fail(name, e, out_dir)
                finish(name, result, outputs, seconds, False)
                print(f"  done  {name} in {_fmt(seconds)}  {status()}", flush=True)
            if time.perf_counter() - last_beat >= heartbeat:
                last_beat = time.perf_counter()
                now = time.perf_counter()
                running = ", ".join(f"{n} ({_fmt(now - started[n])} of ~{_fmt(expected[n])})" for n in futures.values())
                print(f"  ...   running {running}  {status()}", flush=True)
    except BaseException as e:
        for p in list(getattr(pool, "_processes", {}).values()):  # a failed or interrupted lab stops its jobs now
            p.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        if isinstance(e, KeyboardInterrupt):
            print(f"\nlab interrupted after {_fmt(time.perf_counter() - t0)} ({len(done)}/{len(jobs)} jobs done); "
                  "rerun the same command to pick up where it stopped", file=sys.stderr)
            raise SystemExit(130) from None
        raise
    pool.shutdown()
    total = time.perf_counter() - t0
    state.times = _stage_walls(jobs, started, ended)
    stages_reused = [s for s in STAGES if any(j.stage == s for j in jobs.values())
                     and all(n in reused for n, j in jobs.items() if j.stage == s)]
    ran = {n: s for n, s in state.job_times.items() if n not in reused}  # a reused job keeps its last real time
    record = {"seconds": state.times, "jobs": {**previous, **ran}, "this_run": state.times,
              "total_this_run": total, "preset": cfg.lab.name, "workers": workers, "reused": stages_reused}
    atomic_write_json(times_path, record)
    report = f"; report: {state.results['report']['index']}" if "report" in state.results else ""
    print(f"\nlab finished in {_fmt(total)}{report}", file=sys.stderr)
    return record


def _critical_path(jobs: dict[str, Any], expected: dict[str, float]) -> dict[str, float]:
    """Per job: its expected seconds plus the longest chain of jobs that wait for it."""
    out: dict[str, float] = {}
    for name in reversed(list(jobs)):  # jobs are listed after their dependencies
        after = [out[n] for n, j in jobs.items() if name in j.deps and n in out]
        out[name] = expected[name] + max(after, default=0.0)
    return out


def _closure(jobs: dict[str, Any], name: str) -> set[str]:
    out: set[str] = set()
    todo = list(jobs[name].deps)
    while todo:
        d = todo.pop()
        if d not in out and d in jobs:
            out.add(d)
            todo += list(jobs[d].deps)
    return out


def _stage_walls(jobs: dict[str, Any], started: dict[str, float], ended: dict[str, float]) -> dict[str, float]:
    """Per stage: from its first job's start to its last job's end (its jobs may overlap other stages')."""
    out = {}
    for s in STAGES:
        names = [n for n, j in jobs.items() if j.stage == s and n in started and n in ended]
        if names:
            out[s] = max(ended[n] for n in names) - min(started[n] for n in names)
    return out


def _fail(name: str, e: BaseException, out_dir: Path) -> None:
    log = _log_path(out_dir, name)
    if isinstance(e, UserError):
        raise UserError(f"lab job {name}: {e}") from None
    tail = log.read_text().splitlines()[-15:] if log.exists() else []
    print("\n".join(["", f"lab job {name} failed; the end of {log}:", *("  | " + t for t in tail)]), file=sys.stderr)
    raise RuntimeError(f"lab job {name} failed: {type(e).__name__}: {e} (log: {log})") from None
