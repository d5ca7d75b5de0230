"""The one place that knows about W&B.

``Tracker`` writes every logged row to ``<run dir>/history.jsonl`` first (W&B is never the
only copy), then to W&B when enabled (offline by default: the run lands in
``<run dir>/wandb``; ``wandb sync`` uploads it later). A W&B failure is a warning.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from pathlib import Path
from typing import Any

from collapselab.config.common import LoggerConfig
from collapselab.tracking.offline import find_run_files, is_complete, read_offline_run

__all__ = ["Tracker", "find_run_files", "read_offline_run"]


class Tracker:
    """Log scalars, images and tables for one run; use as a context manager."""

    def __init__(
        self,
        cfg: LoggerConfig,
        run_dir: str | Path,
        *,
        name: str | None = None,
        config: dict[str, Any] | None = None,
        job_type: str | None = None,
        group: str | None = None,
    ):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.history_path = self.run_dir / "history.jsonl"
        self._wandb_run = None
        if cfg.backend != "wandb":
            return
        try:
            import wandb

            os.environ.setdefault("WANDB_SILENT", "true")
            self._wandb_run = wandb.init(
                mode=cfg.mode,
                dir=str(self.run_dir),
                project=cfg.project,
                entity=cfg.entity,
                group=group or cfg.group,
                job_type=job_type,
                name=name,
                tags=list(cfg.tags) or None,
                config=config or {},
                reinit="create_new",
                settings=wandb.Settings(console="off", x_disable_stats=True, x_disable_meta=True),
            )
        except Exception as e:  # noqa: BLE001 - tracking must never lose a run
            warnings.warn(f"W&B disabled for this run ({type(e).__name__}: {e}); metrics stay in {self.history_path}")
            self._wandb_run = None

    @property
    def wandb_enabled(self) -> bool:
        return self._wandb_run is not None

    def log(self, metrics: dict[str, Any], step: int | None = None) -> None:
        row = {k: v for k, v in metrics.items()}
        with open(self.history_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"_step": step, **row}, default=_plain) + "\n")
        self._call("log", row, step=step)

    def log_images(self, images: dict[str, str | Path], step: int | None = None) -> None:
        """Log PNG files (already saved locally) as W&B images."""
        if not self.wandb_enabled:
            return
        import wandb

        self._call("log", {k: wandb.Image(str(p)) for k, p in images.items()}, step=step)

    def log_table(self, key: str, columns: list[str], rows: list[list[Any]], step: int | None = None) -> None:
        if not self.wandb_enabled:
            return
        import wandb

        self._call("log", {key: wandb.Table(columns=columns, data=rows)}, step=step)

    def summary(self, metrics: dict[str, Any]) -> None:
        if self.wandb_enabled:
            try:
                self._wandb_run.summary.update(metrics)
            except Exception as e:  # noqa: BLE001
                warnings.warn(f"W&B summary failed: {e}")

    def _call(self, method: str, *args: Any, **kwargs: Any) -> None:
        if self._wandb_run is None:
            return
        try:
            getattr(self._wandb_run, method)(*args, **kwargs)
        except Exception as e:  # noqa: BLE001
            warnings.warn(f"W&B {method} failed ({e}); local copy kept in {self.history_path}")

    def finish(self) -> None:
        if self._wandb_run is not None:
            run_id, offline = self._wandb_run.id, self._wandb_run.offline
            try:
                self._wandb_run.finish()
            except Exception as e:  # noqa: BLE001
                warnings.warn(f"W&B finish failed: {e}")
            self._wandb_run = None
            if offline:
                self._wait_flushed(run_id)

    def _wait_flushed(self, run_id: str, timeout_s: float = 30.0) -> None:
        """Offline runs are written by W&B's background service; under load ``finish()`` can return
        before the file holds the run's exit record. Wait for it so the run is complete on disk."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for f in self.run_dir.glob(f"wandb/offline-run-*-{run_id}/run-{run_id}.wandb"):
                if is_complete(f):
                    return
            time.sleep(0.1)
        warnings.warn(f"W&B offline run {run_id} not complete on disk after {timeout_s:.0f}s; "
                      f"metrics are in {self.history_path}")

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


def _plain(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    if hasattr(o, "tolist"):
        return o.tolist()
    return str(o)
