"""Toy advantage-update simulator (paper section 5.2).

    python scripts/toy_sim.py experiment=jeepiti
    python scripts/toy_sim.py experiment=bandit rule=ppo beta=0.1
    python scripts/toy_sim.py experiment=bandit typicality=0.5     (annotators reward R + 0.5 log pi0)
    python scripts/toy_sim.py -m experiment=bandit rule=ppo,dpo,actde beta=0.01,0.1,1
"""

from collapselab.config import hydra_app, run_dir
from collapselab.config.toy import ToyConfig


@hydra_app("toy")
def main(cfg: ToyConfig) -> None:
    from collapselab.toy.experiment import run

    run(cfg, run_dir())
    print(f"outputs: {run_dir()}")


if __name__ == "__main__":
    main()
