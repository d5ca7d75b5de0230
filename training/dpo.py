"""LoRA DPO from the SFT model on annotator-labelled pairs; beta is DPO's beta.

    python training/dpo.py beta=0.1

Builds any missing prerequisite first; rerunning the same command resumes. See docs/alignment.md.
"""

from collapselab.config import hydra_app, run_dir


@hydra_app("dpo")
def main(cfg) -> None:
    from collapselab.align import train_dpo

    train_dpo(cfg, run_dir())


if __name__ == "__main__":
    main()
