"""Build the tiny world (corpus + ground truth) and print its summary.

    python scripts/make_world.py
    python scripts/make_world.py world.coupling=0 world.n_personas=2000
"""

from collapselab.config import hydra_app, run_dir
from collapselab.config.world import MakeWorldConfig


@hydra_app("make_world")
def main(cfg: MakeWorldConfig) -> None:
    from collapselab.world.make import make_world

    make_world(cfg, run_dir())


if __name__ == "__main__":
    main()
