"""Supervised fine-tuning of the base model on the world's chat instructions.

    python training/sft.py

Builds any missing prerequisite first; rerunning the same command resumes. See docs/alignment.md.
"""

from collapselab.config import hydra_app, run_dir


@hydra_app("sft")
def main(cfg) -> None:
    from collapselab.align import train_sft

    train_sft(cfg, run_dir())


if __name__ == "__main__":
    main()
