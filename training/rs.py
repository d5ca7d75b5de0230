"""Rejection-sampling fine-tuning (iterated best-of-N, Llama 2 section 3.2.3) from the SFT model.

    python training/rs.py annotator.typicality=0.05
    python training/rs.py rs.rounds=5 rs.n_samples=16

Builds any missing prerequisite first; rerunning the same command resumes at the next round.
See docs/alignment.md.
"""

from collapselab.config import hydra_app, run_dir


@hydra_app("rs")
def main(cfg) -> None:
    from collapselab.align.rs import train_rs

    train_rs(cfg, run_dir())


if __name__ == "__main__":
    main()
