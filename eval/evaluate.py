"""Evaluate checkpoints with the paper's probes.

    python eval/evaluate.py checkpoints=[tiny] probes=[entropy,semantic]

Writes <run dir>/<checkpoint name>/{metrics.json,samples.jsonl,figures/} and one W&B run.
"""

from collapselab.config import hydra_app, run_dir
from collapselab.config.evaluate import EvaluateConfig


@hydra_app("evaluate")
def main(cfg: EvaluateConfig) -> None:
    from collapselab.probes import evaluate

    report = evaluate(cfg, run_dir())
    for name, m in report.results.items():
        print(f"{name}: " + ", ".join(f"{k}={v:.3g}" for k, v in m.items() if k != "meta" and "_ci_" not in k))
    print(f"results in {report.out_dir}")


if __name__ == "__main__":
    main()
