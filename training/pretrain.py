"""Pretrain the tiny Llama base on the world's documents.

    python training/pretrain.py                       # the default tiny model (~7 min on 2 cores)
    python training/pretrain.py model=tiny_test steps=30 logger=none

Prints the checkpoint folder; a rerun with the same config reuses it, a killed run resumes.
"""

from collapselab.config import hydra_app, run_dir
from collapselab.config.model import PretrainConfig


@hydra_app("pretrain")
def main(cfg: PretrainConfig) -> None:
    from collapselab.models import pretrain, read_meta

    out = pretrain(cfg, log_dir=run_dir())
    meta = read_meta(out)
    print(f"base model: {out}")
    print(f"params {meta.get('n_params')}, steps {meta.get('step')}, final loss {meta.get('final_loss')}, "
          f"{meta.get('seconds')} s training, {meta.get('tokens_per_s')} tokens/s")


if __name__ == "__main__":
    main()
