"""Reward model on annotator-labelled pairs sampled from the SFT model.

    python training/reward.py

Builds any missing prerequisite first; rerunning the same command resumes. See docs/alignment.md.
"""

from collapselab.config import hydra_app, run_dir


@hydra_app("reward")
def main(cfg) -> None:
    from collapselab.align import train_reward

    train_reward(cfg, run_dir())


if __name__ == "__main__":
    main()
