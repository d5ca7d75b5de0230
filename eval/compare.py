"""Compare evaluated checkpoints: curves against training step and beta, compare.md.

    python eval/compare.py "inputs=[outputs/eval/*]"
"""

from collapselab.config import hydra_app, run_dir
from collapselab.config.evaluate import CompareConfig


@hydra_app("compare")
def main(cfg: CompareConfig) -> None:
    from collapselab.probes.compare import compare

    out = compare(cfg, run_dir())
    print(f"{len(out['rows'])} checkpoints compared; report in {out['markdown']}")


if __name__ == "__main__":
    main()
