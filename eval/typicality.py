"""Fit the typicality bias alpha of preference labels (Verbalized Sampling, arXiv 2510.01171, eq. 1).

    python eval/typicality.py pairs=artifacts/pairs/<hash>/pairs.jsonl ref=tiny

Scores every chosen and rejected answer under pi_ref, orients each pair at random, fits
P(A preferred) = sigmoid(a * delta_logp [+ c * quality_delta]) and writes
<run dir>/typicality.json. See docs/typicality.md.
"""

from collapselab.config import hydra_app, run_dir
from collapselab.config.typicality import TypicalityConfig


@hydra_app("typicality")
def main(cfg: TypicalityConfig) -> None:
    from collapselab.typicality import estimate

    out = run_dir()
    r = estimate(cfg, out)
    lo, hi = r["ci"]
    print(f"alpha = {r['alpha']:.4g} (95% CI {lo:.4g} to {hi:.4g}; n={r['n']} pairs, reduce={r['reduce']}, "
          f"T={r['temperature']:g}) -> {out / 'typicality.json'}")


if __name__ == "__main__":
    main()
