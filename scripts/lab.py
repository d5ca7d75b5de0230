"""The whole study on the tiny world in one command (what `make lab` runs).

    python scripts/lab.py              # default sizes, ~65-75 minutes on 2 CPU cores
    python scripts/lab.py lab=smoke    # smallest sizes, < 2 minutes

Each stage reuses its artifact when its config is unchanged; a killed run picks up where it
stopped. The report lands in report/index.html (and report/report.md).
"""

from collapselab.config import hydra_app


@hydra_app("lab")
def main(cfg) -> None:
    from collapselab.lab import run_lab

    run_lab(cfg)


if __name__ == "__main__":
    main()
