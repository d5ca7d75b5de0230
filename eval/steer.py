"""The creativity direction of a checkpoint and the validation of its score (Olson et al. 2024, arXiv 2412.06060).

    python eval/steer.py checkpoint=artifacts/sft/<hash> layer=all

Computes a = mean residual activation on the model's own answers to the world's "unusual" persona
requests minus the mean on its answers to the "ordinary" ones (n_answers per side, mean over each
answer's tokens, unit length; position=last reads the last prompt token instead) at each layer, saves
it with its provenance, and reports the Spearman correlation between each persona's creativity score
and its true surprisal under the world, with a bootstrap 95% CI. See docs/evaluation.md ("Creativity
steering").
"""

from collapselab.config import hydra_app, run_dir
from collapselab.config.steer import SteerConfig


@hydra_app("steer")
def main(cfg: SteerConfig) -> None:
    from collapselab.steering.validate import steer_validation

    out = run_dir()
    r = steer_validation(cfg, out)
    if "answers_creative" in r:
        a, b = r["answers_creative"], r["answers_boring"]
        print(f"answers: unusual {a['surprisal_mean']:.2f} nats ({a['n_scored']}/{a['n']} parsed), "
              f"ordinary {b['surprisal_mean']:.2f} ({b['n_scored']}/{b['n']})")
    for layer, row in r["layers"].items():
        cells = [f"layer {layer}"]
        for name in ("samples", "world"):
            s = row.get(f"{name}_surprisal_spearman")
            if s is not None:
                cells.append(f"{name}: rho={s['rho']:.3f} [{s['ci_lo']:.3f}, {s['ci_hi']:.3f}] n={s['n']}")
        print("  ".join(cells))
    print(f"directions and steer.json in {out}")


if __name__ == "__main__":
    main()
