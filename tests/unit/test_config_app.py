"""The config machinery: unknown keys, wrong types, out-of-range values and unknown group
options all become one-line UserErrors naming the key; sweeps are checked value by value."""

from dataclasses import dataclass, field

import pytest

from collapselab.config import compose, positive, register_schema
from collapselab.config.app import prevalidate
from collapselab.errors import UserError


@dataclass
class _Part:
    rank: int = 8

    def problems(self):
        return [] if self.rank >= 1 else [f"rank={self.rank}: must be >= 1"]


@dataclass
class _Cfg:
    beta: float = 0.1
    seed: int = 0
    part: _Part = field(default_factory=_Part)

    def problems(self):
        return positive("beta", self.beta, strict=False)


register_schema("cltest", _Cfg)


@pytest.fixture()
def cdir(tmp_path):
    (tmp_path / "part").mkdir()
    (tmp_path / "cltest.yaml").write_text("defaults:\n  - cltest_schema\n  - part: small\n  - _self_\nbeta: 0.2\n")
    (tmp_path / "part" / "small.yaml").write_text("rank: 4\n")
    (tmp_path / "part" / "broken.yaml").write_text("rank: 4\nranq: 5\n")
    return tmp_path


def test_compose_gives_typed_config(cdir):
    cfg = compose("cltest", ["seed=3"], cdir)
    assert isinstance(cfg, _Cfg) and cfg.beta == 0.2 and cfg.seed == 3 and cfg.part.rank == 4


@pytest.mark.parametrize(
    "override, expected",
    [
        ("betta=1", "unknown config key 'betta'"),
        ("+betta=1", "unknown config key 'betta'"),
        ("part.rnk=2", "unknown config key 'part.rnk'"),
        ("beta=abc", "beta:"),
        ("seed=1.5", "seed:"),
        ("beta=-1", "beta=-1.0: must be >= 0"),
        ("part.rank=0", "part.rank=0: must be >= 1"),
        ("part=huge", "part=huge is unknown (available: broken, small)"),
        ("part=broken", "part.ranq"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(cdir, override, expected):
    with pytest.raises(UserError) as e:
        compose("cltest", [override], cdir)
    msg = str(e.value)
    assert expected in msg, msg
    assert "\n" not in msg


def test_every_sweep_value_is_checked(cdir):
    prevalidate("cltest", ["-m", "beta=0.1,0.5"], cdir)  # all fine
    with pytest.raises(UserError, match=r"beta=-2.0"):
        prevalidate("cltest", ["-m", "beta=0.1,-2", "seed=1,2"], cdir)


@pytest.mark.parametrize("argv, key", [(["hydra.run.dir={bad}"], "hydra.run.dir"),
                                       (["-m", "beta=0.1,0.5", "hydra.sweep.dir={bad}"], "hydra.sweep.dir")])
def test_unwritable_run_dir_is_one_line_before_hydra_makes_it(cdir, tmp_path, argv, key):
    """Hydra makes its run folder before the app starts; a folder it cannot make used to end in its traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")  # a folder under a file cannot be made, whoever runs the test (root ignores modes)
    bad = blocker / "run"
    with pytest.raises(UserError) as e:
        prevalidate("cltest", [a.format(bad=bad) for a in argv], cdir)
    assert str(e.value).startswith(f"{key}='{bad}' is not a writable folder") and "\n" not in str(e.value)
    good = tmp_path / "new" / "run"
    prevalidate("cltest", [f"hydra.run.dir={good}"], cdir)
    assert not (tmp_path / "new").exists()  # the check creates nothing


def test_lab_out_dir_is_checked_with_the_config(tmp_path):
    """The lab's Hydra run folder sits under out_dir, so out_dir is checked with the config, named as itself."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UserError, match=r"^out_dir='.*a-file/lab' is not a writable folder"):
        compose("lab", [f"out_dir={blocker / 'lab'}", "logger=none"])


def test_writable_creates_nothing(tmp_path):
    from collapselab.config.common import writable

    f = tmp_path / "file"
    f.write_text("")
    assert writable("out_dir", f / "sub" / "deeper") == [f"out_dir='{f / 'sub' / 'deeper'}' is not a writable folder "
                                                         "(Not a directory)"]
    assert writable("out_dir", tmp_path / "new" / "sub") == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no folder made, no probe left


def test_a_launcher_without_its_plugin_is_one_line():
    """``hydra/launcher=slurm_gpu`` needs the ``cluster`` extra; without it Hydra printed a multi-line
    "Could not load 'hydra/launcher/submitit_slurm'" and its config search path."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        version("hydra-submitit-launcher")
        pytest.skip("hydra-submitit-launcher is installed here")
    except PackageNotFoundError:
        pass
    with pytest.raises(UserError) as e:
        prevalidate("toy", ["-m", "experiment=jeepiti", "hydra/launcher=slurm_gpu"])
    assert str(e.value) == ("hydra/launcher=slurm_gpu needs Hydra's submitit launcher plugin, which is not installed: "
                            "pip install -e '.[cluster]' (hydra-submitit-launcher)")
    with pytest.raises(UserError, match=r"^hydra/launcher=nosuch is unknown \(available: basic, slurm_gpu\)$"):
        prevalidate("toy", ["-m", "experiment=jeepiti", "hydra/launcher=nosuch"])


def test_a_run_dir_hydra_resolves_only_when_it_runs_is_left_to_hydra(tmp_path):
    """``${hydra:job.name}`` cannot resolve before Hydra runs; the folder check must not reject it."""
    prevalidate("toy", ["experiment=jeepiti", f"hydra.run.dir={tmp_path}/" + "${hydra:job.name}"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("override, expected", [
    ("hydra.run.dirr=/x", "unknown config key 'hydra.run.dirr' (known keys: dir)"),
    ("hydra.job.chdir=maybe", "hydra.job.chdir: Value 'maybe' is not a valid bool (type str)"),
])
def test_a_hydra_setting_that_does_not_compose_is_one_line(cdir, override, expected):
    """Hydra's own settings are composed before it runs, as the app's are; it printed several lines, exit 1."""
    with pytest.raises(UserError) as e:
        prevalidate("cltest", [override], cdir)
    assert str(e.value) == expected


def test_cfg_checks_the_overrides_it_prints_but_not_the_run_folder_it_does_not_make(cdir, tmp_path):
    """``--cfg`` skipped the check, so a mistyped key was Hydra's several lines; ``--help`` takes no config."""
    for argv, expected in [(["--cfg", "job", "betta=1"], "unknown config key 'betta'"),
                           (["--cfg", "job", "--resolve", "beta=-1"], "beta=-1.0: must be >= 0"),
                           (["--cfg", "hydra", "hydra.run.dirr=/x"], "unknown config key 'hydra.run.dirr'")]:
        with pytest.raises(UserError) as e:
            prevalidate("cltest", argv, cdir)
        assert str(e.value).startswith(expected) and "\n" not in str(e.value)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    prevalidate("cltest", ["--cfg", "job", f"hydra.run.dir={blocker / 'run'}"], cdir)
    prevalidate("cltest", ["--help", "betta=1"], cdir)


@pytest.mark.parametrize("script, config, override, expected", [
    ("training/ppo.py", "ppo", "lab=smoke",
     "lab=smoke: training/ppo.py's config (ppo) has no group 'lab'; its groups: logger, model"),
    ("training/ppo.py", "ppo", "decoding=plain",
     "decoding=plain: training/ppo.py's config (ppo) has no group 'decoding'; its groups: logger, model"),
    ("eval/steer.py", "steer", "logger=none",
     "logger=none: eval/steer.py's config (steer) has no group 'logger'; it has no config groups"),
    ("training/ppo.py", "ppo", "+lab=smoke",
     "+lab=smoke: training/ppo.py's config (ppo) has no group 'lab'; its groups: logger, model"),
    ("training/ppo.py", "ppo", "++lab=smoke",
     "++lab=smoke: training/ppo.py's config (ppo) has no group 'lab'; its groups: logger, model"),
    ("training/ppo.py", "ppo", "+lab=nosuch",
     "+lab=nosuch: training/ppo.py's config (ppo) has no group 'lab'; its groups: logger, model"),
    ("training/ppo.py", "ppo", "+decoding@probe=plain",
     "+decoding@probe=plain: training/ppo.py's config (ppo) has no group 'decoding'; its groups: logger, model"),
])
def test_a_group_the_config_lacks_names_its_groups(script, config, override, expected):
    """Hydra said only "Could not override 'lab'. No match in the defaults list."; for +lab=smoke "Key 'lab' not in
    'PPOStage'", for ++lab=smoke "force-add of config groups is not supported"."""
    with pytest.raises(UserError) as e:
        prevalidate(config, [override], prog=script)
    assert str(e.value) == expected


@dataclass
class _Bare:
    part: _Part = field(default_factory=_Part)


register_schema("cltest_bare", _Bare)


def test_appending_a_group_is_suggested_only_where_it_works(cdir):
    (cdir / "other").mkdir()
    (cdir / "other" / "x.yaml").write_text("seed: 1\n")
    with pytest.raises(UserError) as e:
        compose("cltest", ["other=x"], cdir)
    assert str(e.value) == "other=x: config 'cltest' has no group 'other'; its groups: part"  # +other=x: unknown key
    (cdir / "cltest_bare.yaml").write_text("defaults:\n  - cltest_bare_schema\n  - _self_\n")
    with pytest.raises(UserError) as e:
        compose("cltest_bare", ["part=small"], cdir)
    assert str(e.value) == "part=small: config 'cltest_bare' has no group 'part'; it has no config groups; +part=small adds it"
    assert compose("cltest_bare", ["+part=small"], cdir).part.rank == 4
    with pytest.raises(UserError) as e:  # Hydra refuses ++ for any group
        compose("cltest_bare", ["++part=small"], cdir)
    assert str(e.value) == ("++part=small: config 'cltest_bare' has no group 'part'; it has no config groups; "
                            "+part=small adds it")
    with pytest.raises(UserError, match=r"^part\.ranq"):  # + adds the group here: the option's own error
        compose("cltest_bare", ["+part=broken"], cdir)


@pytest.mark.parametrize("override, expected", [
    ("+betta=1", "unknown config key 'betta'"),  # a plain key, no group: as before
    ("++betta=1", "unknown config key 'betta'"),
    ("+logger=none", "Multiple values for logger"),  # a group the config has: Hydra's words, as before
    ("++logger=none", "force-add of config groups is not supported: '++logger=none'"),
])
def test_adding_a_key_or_a_group_the_config_has_keeps_its_line(override, expected):
    with pytest.raises(UserError) as e:
        prevalidate("ppo", [override], prog="training/ppo.py")
    assert str(e.value).startswith(expected) and "\n" not in str(e.value)


@pytest.mark.parametrize("argv, expected", [
    (["seed=1,2"], "seed=1,2: several values sweep only under -m (--multirun); a list is seed=[1,2], a string seed='1,2'"),
    (["-m", "hydra.job.chdir=false,true"],
     "hydra.job.chdir=false,true: Hydra's own settings (hydra.*, hydra/...) take one value; only the app's settings can be swept"),
])
def test_a_sweep_hydra_refuses_is_one_line(cdir, argv, expected):
    with pytest.raises(UserError) as e:
        prevalidate("cltest", argv, cdir)
    assert str(e.value) == expected


@pytest.mark.parametrize("override, expected", [
    ("beta=[0.01,", "beta=[0.01,: Hydra cannot parse this override of 'beta' (no viable alternative at input "
                    "'[0.01,'); a list is beta=[a,b], quoted in the shell: 'beta=[a,b]'"),
    ("lab.align=[a=1]", "lab.align=[a=1]: Hydra cannot parse this override of 'lab.align' (no viable alternative at "
                        "input '[a='); a list of overrides quotes each one: lab.align=[\"a=1\",\"b=2\"], quoted in "
                        "the shell: 'lab.align=[\"a=1\"]'"),
    # outside the lab's per-stage lists a value with '=' is no list of overrides
    ("+part.tags=[a=1]", "+part.tags=[a=1]: Hydra cannot parse this override of 'part.tags' (no viable alternative at "
                         "input '[a='); a list is part.tags=[a,b], quoted in the shell: 'part.tags=[a,b]'"),
    ("beta=0.1)", "beta=0.1): Hydra cannot parse this override of 'beta' (extraneous input ')' expecting <EOF>); "
                  "quote a value holding spaces, brackets, commas or quotes: beta='...' "
                  "(in the shell: \"beta='...'\")"),
    ("be ta=1", "be ta=1: Hydra cannot parse this override of 'be ta' (unexpected ' ' at character 3); a key is a "
                "dotted name such as model.lora_r, + in front adds it, ~ deletes it"),
    ("beta", "beta: Hydra cannot parse this override (missing EQUAL at '<EOF>'); an override is key=value, "
             "+key=value adds a key, ~key deletes one"),
])
def test_an_override_hydra_cannot_parse_is_one_line_naming_it(cdir, override, expected):
    """Hydra's grammar message alone ("cannot parse override: no viable alternative at input '['") named no key."""
    for argv in ([override], ["-m", override]):
        with pytest.raises(UserError) as e:
            prevalidate("cltest", argv, cdir)
        assert str(e.value) == expected
    with pytest.raises(UserError) as e:
        compose("cltest", [override], cdir)
    assert str(e.value) == expected


def test_config_dir_and_config_path_are_read_as_hydra_reads_them(cdir, tmp_path, monkeypatch):
    """The check composed from configs/ alone, so an option from a folder ``--config-dir`` adds was "unknown"."""
    mine = tmp_path / "mine"
    (mine / "part").mkdir(parents=True)
    (mine / "part" / "mine.yaml").write_text("rank: 2\n")
    monkeypatch.chdir(tmp_path)
    for flag in ("--config-dir", "-cd"):
        prevalidate("cltest", [flag, "mine", "part=mine"], cdir)
        prevalidate("cltest", [flag, str(mine), "--cfg", "job", "part=mine"], cdir)
    with pytest.raises(UserError, match=r"^part=mine is unknown \(available: broken, small\)$"):
        prevalidate("cltest", ["part=mine"], cdir)
    with pytest.raises(UserError, match=r"^part\.rank=0: must be >= 1$"):  # its values are checked as any
        prevalidate("cltest", ["-cd", "mine", "part=mine", "part.rank=0"], cdir)
    with pytest.raises(UserError) as e:
        prevalidate("cltest", ["-cd", "nosuch", "part=mine"], cdir)
    assert str(e.value) == (f"--config-dir=nosuch: no such folder ({tmp_path / 'nosuch'}); --config-dir (-cd) adds "
                            "a folder of configs to the search path")
    # --config-path replaces the primary folder (absolute: as it is); --config-name names the config in it
    (mine / "other.yaml").write_text("defaults:\n  - cltest_schema\n  - part: mine\n  - _self_\nbeta: 0.3\n")
    prevalidate("ppo", ["-cp", str(mine), "-cn", "other"])
    with pytest.raises(UserError, match=r"^--config-path=mine: Hydra reads a relative config path inside the package"):
        prevalidate("cltest", ["-cp", "mine", "part=mine"], cdir)
    with pytest.raises(UserError, match=r"^--config-path=.*other\.yaml: names a file; --config-path \(-cp\) takes"):
        prevalidate("cltest", ["-cp", str(mine / "other.yaml")], cdir)


def test_hydra_searchpath_adds_a_config_folder_for_the_check_too(cdir, tmp_path):
    """``hydra.searchpath=[...]`` is Hydra's other way to add a folder; the check left it out of the app's config."""
    (tmp_path / "mine" / "part").mkdir(parents=True)
    (tmp_path / "mine" / "part" / "mine.yaml").write_text("rank: 2\n")
    prevalidate("cltest", [f"hydra.searchpath=[file://{tmp_path / 'mine'}]", "part=mine"], cdir)
    with pytest.raises(UserError, match=r"^part\.rank=0: must be >= 1$"):
        prevalidate("cltest", [f"hydra.searchpath=[file://{tmp_path / 'mine'}]", "part=mine", "part.rank=0"], cdir)


_SEED = "must be an integer from 0 to 4294967295 (2**32 - 1, numpy's seed range)"


@pytest.mark.parametrize("config, overrides, expected", [
    ("ppo", ["seed=4294967296"], f"seed=4294967296: {_SEED}"),
    ("sft", ["seed=-1"], f"seed=-1: {_SEED}"),
    ("sft", ["model.pretrain_seed=4294967296"], f"model.pretrain_seed=4294967296: {_SEED}"),
    ("pretrain", ["seed=4294967296", "model.pretrain_seed=1"], f"seed=4294967296: {_SEED}"),
    ("evaluate", ["checkpoints=[tiny]", "seed=4294967296"], f"seed=4294967296: {_SEED}"),
    ("steer", ["checkpoint=tiny", "seed=4294967296"], f"seed=4294967296: {_SEED}"),
    ("typicality", ["pairs=p.jsonl", "ref=tiny", "seed=4294967296"], f"seed=4294967296: {_SEED}"),
    ("toy", ["seed=-1"], "seed=-1: must be an integer >= 0"),  # numpy.random.default_rng alone: no upper bound
    ("make_world", ["world.seed=-1"], "world.seed=-1: must be an integer >= 0"),
])
def test_a_seed_the_code_cannot_use_is_refused_with_its_range(config, overrides, expected):
    """seed_everything's np.random.seed takes 0 to 2**32 - 1 and default_rng no negative seed: the config took any
    integer, and the job ended in numpy's traceback once it seeded (after its prerequisites, for a stage)."""
    with pytest.raises(UserError) as e:
        compose(config, ["logger=none", *overrides] if config not in ("steer", "typicality") else overrides)
    assert str(e.value) == expected


def test_the_largest_seeds_are_taken():
    assert compose("ppo", ["logger=none", "seed=4294967295"]).seed == 2**32 - 1
    assert compose("toy", ["seed=4294967296"]).seed == 2**32


def test_hydra_mode_multirun_on_the_command_line_is_a_multirun(tmp_path):
    """``hydra.mode=MULTIRUN`` is Hydra's other spelling of ``-m``: its sweep is not refused, and the folder
    checked is the sweep's."""
    prevalidate("toy", ["hydra.mode=MULTIRUN", "experiment=bandit", "seed=1,2", f"hydra.sweep.dir={tmp_path}/sw"])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UserError, match=r"^hydra.sweep.dir='.*a-file/sw' is not a writable folder"):
        prevalidate("toy", ["hydra.mode=MULTIRUN", "experiment=bandit", "seed=1,2", f"hydra.sweep.dir={blocker}/sw"])


def test_device_cuda_is_checked_where_the_job_runs(tmp_path):
    """A sweep submitted from a machine without a GPU (``-m hydra/launcher=slurm_gpu device=cuda``) passes the
    config check; the job itself, on the machine that runs it, refuses CUDA that torch cannot use, in one line."""
    import torch

    from collapselab.probes.harness import resolve_device

    prevalidate("evaluate", ["checkpoints=[tiny]", "device=cuda", "logger=none", f"hydra.run.dir={tmp_path}/run"])
    if torch.cuda.is_available():
        assert resolve_device("cuda") == "cuda"
        return
    with pytest.raises(UserError, match=r"^device=cuda: torch cannot use CUDA here \(.+\); use device=cpu or device=auto$"):
        resolve_device("cuda")
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"


@pytest.mark.parametrize("config, override, where, known", [
    ("ppo", "+model.foo=1", "of model", "num_layers"),
    ("ppo", "+ppo.value_lora_r=1", "of ppo", "value_lora"),
    ("evaluate", "+persona.foo=1", "of persona", "k_max"),
    ("lab", "+lab.foo=1", "of lab", "ppo_betas"),
    ("ppo", "+foo=1", "at top level", "beta"),
])
def test_an_added_key_inside_a_node_is_refused_with_that_nodes_keys(config, override, where, known):
    """Under ``from __future__ import annotations`` a field's type is a string, so the check never walked into
    nested nodes and ``+model.foo=1`` passed silently; it names the node's own keys now."""
    extra = ["checkpoints=[tiny]"] if config == "evaluate" else []
    with pytest.raises(UserError) as e:
        compose(config, [override, *extra])
    key = override.lstrip("+").split("=")[0]
    assert f"unknown config key '{key}' (known keys {where}: " in str(e.value) and known in str(e.value)


@pytest.mark.parametrize("argv, expected", [
    (["beta=0.1", "--cfg", "job", "seed=2"], "seed=2: an override after a flag that itself follows overrides; "),
    (["beta=0.1", "--frobnicate"], "--frobnicate: unknown flag (see --help)"),
])
def test_a_command_line_argparse_refuses_is_one_line(cdir, argv, expected):
    """Hydra reads the overrides as one run of words: a second run after a flag, or an unknown flag, printed
    argparse's dozen usage lines and 'unrecognized arguments'."""
    with pytest.raises(UserError) as e:
        prevalidate("cltest", argv, cdir)
    assert str(e.value).startswith(expected) and "\n" not in str(e.value)
    prevalidate("cltest", ["beta=0.1", "seed=2", "--cfg", "job"], cdir)  # the same overrides in one run pass
