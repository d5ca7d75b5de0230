"""The whole lab in one command: stages, progress, and the report beside the paper."""

from collapselab.lab.pipeline import STAGES, run_lab

__all__ = ["STAGES", "run_lab"]
