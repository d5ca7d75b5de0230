import json

import pytest

from collapselab.config import LoggerConfig
from collapselab.errors import UserError
from collapselab.io import atomic_dir, atomic_write_json, check_writable, config_hash
from collapselab.tracking import Tracker, read_offline_run


def test_atomic_write_and_dir(tmp_path):
    p = atomic_write_json(tmp_path / "a" / "m.json", {"x": 1})
    assert json.loads(p.read_text()) == {"x": 1}
    with atomic_dir(tmp_path / "ckpt") as d:
        (d / "f").write_text("1")
    assert (tmp_path / "ckpt" / "f").read_text() == "1"
    # a failing block leaves the old folder untouched and no temp folder behind
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "ckpt") as d:
        (d / "f").write_text("2")
        raise RuntimeError("killed")
    assert (tmp_path / "ckpt" / "f").read_text() == "1"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "ckpt"]


def test_config_hash_ignores_key_order():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})


def test_check_writable(tmp_path):
    f = tmp_path / "file"
    f.write_text("")
    with pytest.raises(UserError, match="artifacts_dir="):
        check_writable(f / "sub", "artifacts_dir")


def test_offline_wandb_run_reads_back(tmp_path):
    with Tracker(LoggerConfig(), tmp_path, name="t", config={"beta": 0.05}, group="g") as tr:
        assert tr.wandb_enabled
        for step in range(3):
            tr.log({"train/loss": 1.0 / (step + 1)}, step=step)
    run = read_offline_run(tmp_path)
    assert run["config"]["beta"] == 0.05
    assert [r["train/loss"] for r in run["history"]] == [1.0, 0.5, pytest.approx(1 / 3)]
    assert run["run"]["group"] == "g"
    # the local copy exists regardless of W&B
    rows = [json.loads(x) for x in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [r["_step"] for r in rows] == [0, 1, 2]


def test_logger_none_writes_local_only(tmp_path):
    with Tracker(LoggerConfig(backend="none"), tmp_path) as tr:
        tr.log({"a": 1}, step=0)
    assert not (tmp_path / "wandb").exists()
    assert (tmp_path / "history.jsonl").exists()


def test_atomic_writes_get_the_mode_a_plain_write_would(tmp_path, monkeypatch):
    """mkstemp / mkdtemp make 0600 / 0700; the renamed file and folder follow the umask like open() and mkdir()
    (the process's umask, read once at import; set here to 022)."""
    from collapselab import io
    from collapselab.io import atomic_dir, atomic_write_text

    monkeypatch.setattr(io, "_UMASK", 0o022)
    f = atomic_write_text(tmp_path / "a.json", "{}")
    with atomic_dir(tmp_path / "d") as d:
        (d / "x").write_text("1")
    assert f.stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755
