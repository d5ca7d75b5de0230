"""Benchmark: the vectorized bandit simulator against a plain per-seed Python loop.

    python scripts/bench_toy.py                # 1,000 seeds x 2,000 steps per rule
    python scripts/bench_toy.py --seeds 200 --steps 500 --loop-seeds 3

The loop baseline runs the same rule code one seed at a time (a [1, K] array per seed) for a
few seeds and is extrapolated per seed-step; the ratio is the speed-up from vectorizing seeds.
"""

from __future__ import annotations

import time

import numpy as np

from collapselab.cli import ArgumentParser, real, whole
from collapselab.toy import RULES, RuleParams, simulate

PI0 = np.array([0.49, 0.49, 0.02])
REWARDS = np.array([1.0, 0.4, 1.5])


def main() -> None:
    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=whole(1), default=1000)
    ap.add_argument("--steps", type=whole(1), default=2000)
    ap.add_argument("--loop-seeds", type=whole(1), default=3, help="seeds run one at a time for the baseline")
    ap.add_argument("--beta", type=real(0.0, strict=True), default=0.2, help="> 0 (the DPO rule divides by it)")
    args = ap.parse_args()
    params = RuleParams(rewards=REWARDS, pi0=PI0, beta=args.beta)
    print(f"{'rule':<10} {'vectorized s':>12} {'seed-steps/s':>14} {'loop s/seed':>12} {'seed-steps/s':>14} {'speed-up':>9}")
    total_vec = 0.0
    for rule in RULES:
        t0 = time.perf_counter()
        simulate(rule, params, args.steps, args.seeds, seed=0, log_every=args.steps)
        vec = time.perf_counter() - t0
        total_vec += vec
        t0 = time.perf_counter()
        for s in range(args.loop_seeds):  # the plain way: one seed after another
            simulate(rule, params, args.steps, 1, seed=s, log_every=args.steps)
        loop = (time.perf_counter() - t0) / args.loop_seeds
        vec_rate = args.seeds * args.steps / vec
        loop_rate = args.steps / loop
        print(f"{rule:<10} {vec:>12.2f} {vec_rate:>14,.0f} {loop:>12.3f} {loop_rate:>14,.0f} {vec_rate / loop_rate:>8.0f}x")
    print(f"total vectorized time for {len(RULES)} rules x {args.seeds} seeds x {args.steps} steps: {total_vec:.2f} s")


if __name__ == "__main__":
    main()
