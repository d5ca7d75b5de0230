"""LoRA PPO from the SFT model against the reward model; beta is kl_coef.

    python training/ppo.py beta=0.01

Builds any missing prerequisite first; rerunning the same command resumes. See docs/alignment.md.
"""

from collapselab.config import hydra_app, run_dir


@hydra_app("ppo")
def main(cfg) -> None:
    from collapselab.align import train_ppo

    train_ppo(cfg, run_dir())


if __name__ == "__main__":
    main()
