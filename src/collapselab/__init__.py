"""collapselab: measure how alignment (PPO, DPO) collapses the diversity of language models."""

__version__ = "0.1.0"
