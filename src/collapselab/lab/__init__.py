"""The whole lab in one command: stages, progress, and the report beside the paper."""

from collapselab.config.lab import STAGES
from collapselab.lab.pipeline import run_lab

__all__ = ["STAGES", "run_lab"]
