"""Defaults are written once, in the schema dataclasses; a primary config holds only what differs.

A value restated in a yaml at the schema's default drifts from it the day one of them changes (it
did: ``save_every`` was 20 in ``StageConfig`` and 50 / 50 / 16 / 10 in the stage yamls). The second
test pins the values that matter most, so a silent change of a default fails here.
"""

from __future__ import annotations

import operator
from pathlib import Path
from typing import Any

import pytest
from omegaconf import OmegaConf

from collapselab.config import compose
from collapselab.config.app import CONFIG_DIR

PRIMARY = sorted(Path(CONFIG_DIR).glob("*.yaml"))

# Keys a primary config may restate at the schema's value (config name -> keys), each with its reason.
RESTATED_OK: dict[str, set[str]] = {}
MODELS = sorted((Path(CONFIG_DIR) / "model").glob("*.yaml"))


def _schema_defaults(yaml: dict[str, Any], path: Path) -> dict[str, Any]:
    from hydra.core.config_store import ConfigStore

    import collapselab.config  # noqa: F401 - registers the schemas

    names = [d for d in yaml.get("defaults", []) if isinstance(d, str) and d.endswith("_schema")]
    assert len(names) == 1, f"{path.name}: its defaults list must name exactly one <name>_schema, found {names}"
    return OmegaConf.to_container(ConfigStore.instance().load(f"{names[0]}.yaml").node, resolve=False)


def _restated(yaml: dict[str, Any], schema: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys whose plain value in ``yaml`` equals the schema's default (interpolations differ by design)."""
    out = []
    for key, value in yaml.items():
        full = f"{prefix}{key}"
        if isinstance(value, dict) and isinstance(schema.get(key), dict):
            out += _restated(value, schema[key], full + ".")
        elif not (isinstance(value, str) and "${" in value) and key in schema and schema[key] == value:
            out.append(full)
    return out


@pytest.mark.parametrize("path", PRIMARY, ids=lambda p: p.stem)
def test_primary_config_does_not_restate_schema_defaults(path):
    yaml = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    schema = _schema_defaults(yaml, path)
    body = {k: v for k, v in yaml.items() if k not in ("defaults", "hydra")}
    restated = [k for k in _restated(body, schema) if k not in RESTATED_OK.get(path.stem, set())]
    assert not restated, (f"{path.name} restates the schema's default for {restated}: delete them from the yaml "
                          "(the schema holds defaults), or change the schema if the default itself should change")


# The values that matter most, as each entry point composes them (docs/alignment.md, "Choosing the defaults").
EXPECTED = [
    ("sft", [], {"save_every": 50, "sft.learning_rate": 5e-4, "sft.persona_repeats": 2}),
    ("reward", [], {"save_every": 50, "pairs.n_prompts": 1024, "pairs.temperatures": [0.7, 1.3]}),
    ("ppo", [], {"save_every": 16, "beta": 0.01, "ppo.learning_rate": 1e-3, "ppo.total_episodes": 1024,
                 "pairs.n_prompts": 1024}),
    ("dpo", [], {"save_every": 10, "beta": 0.1, "dpo.learning_rate": 3e-4, "dpo.epochs": 2.0,
                 "pairs.n_prompts": 1024}),
    ("pretrain", [], {"steps": 1000, "seq_len": 256, "save_every": 200}),
    ("pretrain", ["model=tiny_test"], {"steps": 30}),  # steps follow model.pretrain_steps
    ("pretrain", ["model.pretrain_seed=3"], {"seed": 3}),  # and the seed model.pretrain_seed
]


def test_the_pretrain_seed_picks_the_base_every_stage_starts_from(tmp_path):
    """model.pretrain_seed names another base (its own folder) and every aligned artifact key follows it;
    at 0 the keys are those the lab had before the knob existed (no pretrain_seed in them)."""
    from collapselab.io import config_hash
    from collapselab.models.loading import pretrain_config
    from collapselab.models.pretrain import base_dir

    base = ["logger=none", f"artifacts_dir={tmp_path}"]
    sft0, sft3 = compose("sft", base), compose("sft", [*base, "model.pretrain_seed=3"])
    assert "pretrain_seed" not in sft0.upstream()["model"] and sft3.upstream()["model"]["pretrain_seed"] == 3
    assert config_hash(sft0.sft_key()) != config_hash(sft3.sft_key())
    p0, p3 = (pretrain_config(c.model, c.world, tmp_path) for c in (sft0, sft3))
    assert (p0.seed, p3.seed) == (0, 3) and base_dir(p0) != base_dir(p3)
    # an explicit pretraining seed still wins over the model's, as steps= does over pretrain_steps
    assert pretrain_config(sft3.model, sft3.world, tmp_path, ["seed=5"]).seed == 5


@pytest.mark.parametrize("name,overrides,expected", EXPECTED, ids=[" ".join([n, *o]) for n, o, _ in EXPECTED])
def test_entry_points_compose_the_expected_values(name, overrides, expected):
    cfg = compose(name, overrides)
    got = {key: operator.attrgetter(key)(cfg) for key in expected}
    assert got == expected, f"configs/{name}.yaml {overrides}"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_model_configs_hold_only_what_differs_from_the_model_schema(path):
    from dataclasses import asdict

    from collapselab.config.model import ModelConfig

    yaml = OmegaConf.to_container(OmegaConf.load(path), resolve=False)
    defaults = asdict(ModelConfig())
    restated = [k for k, v in yaml.items() if k != "name" and k in defaults and defaults[k] == v]
    assert not restated, f"model/{path.name} restates ModelConfig's default for {restated}: delete them"
    assert set(yaml) <= set(defaults), f"model/{path.name}: keys the schema does not have: {set(yaml) - set(defaults)}"
