"""Time the silhouette search of k (``best_kmeans``) with and without the thread limits, in one run.

    .venv/bin/python scripts/bench_threads.py [N_SENTENCES]    # default 1000: the size of a review-k search

The review-k interval of the persona probe (21 searches over k = 2..20 per evaluation) was the
costliest part of an evaluation. The sentences here come from the world's review grammar
(``world.reviews``), embedded with the lab's MiniLM. Two settings, each timed with the thread pools as
they were (the baseline) and with the limits:

- alone: one process (``python eval/evaluate.py``), ``best_kmeans`` (BLAS at one thread during the
  search) against its search with the pools as loaded;
- lab: two lab workers at once (``spawn`` + ``_worker_init``, one core each, as ``make lab`` runs two
  jobs on 2 cores), ``job_threads(1)`` against torch's threads alone, as ``run_job`` set them before.

Prints seconds (the fastest of ``BENCH_REPEATS``, default 2), the ratio baseline / limited (target:
>= 1.5x in both settings on 2 cores) and whether k and the silhouettes come out the same.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from collapselab.cli import ArgumentParser, env_whole, one_line_errors, whole  # noqa: E402

with one_line_errors():
    REPEATS = env_whole("BENCH_REPEATS", 2)
K_MAX = 20


def sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` review sentences from the world's grammar: templates of every class, openers, closers, styles."""
    from collapselab.world.reviews import CLOSERS, OPENERS, STYLE, TEMPLATES, fill

    pool = [t for group in (TEMPLATES, STYLE) for ts in group.values() for t in ts]
    pool += [t for group in (OPENERS, CLOSERS) for ts in group.values() for t in ts]
    rng = np.random.default_rng(seed)
    return [fill(pool[int(i)], rng) for i in rng.integers(0, len(pool), size=n)]


def search(path: str, limited: bool, lab: bool) -> tuple[float, int, float]:
    """(seconds, k, silhouette) of one search on the unit rows saved at ``path``."""
    from collapselab.metrics.semantic import _silhouette_search, _unit_rows, best_kmeans

    x = _unit_rows(np.load(path))
    t0 = time.perf_counter()
    if limited and lab:
        from collapselab.lab.pipeline import job_threads

        with job_threads(1):
            k, _, s = best_kmeans(x, 2, K_MAX)
    elif limited:
        k, _, s = best_kmeans(x, 2, K_MAX)
    else:
        if lab:
            import torch

            torch.set_num_threads(1)  # what run_job did before job_threads
        k, _, s = _silhouette_search(x, 2, K_MAX, 0)
    return time.perf_counter() - t0, int(k), float(s)


def lab_pair(path: str, limited: bool) -> tuple[float, int, float]:
    """Two lab workers searching at once; the slower one's seconds."""
    from collapselab.lab.pipeline import _worker_init

    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=2, mp_context=ctx, initializer=_worker_init) as pool:
        out = [f.result() for f in [pool.submit(search, path, limited, True) for _ in range(2)]]
    return max(o[0] for o in out), out[0][1], out[0][2]


def main(n: int = 1000) -> None:
    from collapselab.metrics import embed_texts

    emb = np.asarray(embed_texts(sentences(n)), dtype=float)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "emb.npy")
        np.save(path, emb)
        print(f"{n} review sentences from the world's grammar, k = 2..{K_MAX}, {os.cpu_count()} cores, "
              f"fastest of {REPEATS}")
        ok = True
        for setting, run in (("alone", lambda lim: search(path, lim, False)), ("lab", lambda lim: lab_pair(path, lim))):
            base = min((run(False) for _ in range(REPEATS)), key=lambda r: r[0])
            fixed = min((run(True) for _ in range(REPEATS)), key=lambda r: r[0])
            same = base[1] == fixed[1] and abs(base[2] - fixed[2]) < 1e-9
            ok &= same
            print(f"{setting:<6s} pools as loaded {base[0]:6.2f} s   limited {fixed[0]:6.2f} s   "
                  f"ratio {base[0] / fixed[0]:4.2f}x   k {base[1]} / {fixed[1]}, silhouette "
                  f"{base[2]:.6f} / {fixed[2]:.6f}: {'same' if same else 'DIFFERENT'}")
    if not ok:
        sys.exit("bench_threads: the limits changed k or the silhouette")


if __name__ == "__main__":
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=whole(100), default=1000, metavar="N_SENTENCES",
                    help="default 1000; k = 2..20 needs at least 100 sentences to choose among")
    main(ap.parse_args().n)
