"""Hydra entry points with structured-config validation and one-line errors.

Every entry point is ``@hydra_app("name")`` over a function taking the typed config:

    @hydra_app("toy")
    def main(cfg: ToyConfig) -> None: ...

Before Hydra runs, the command line is composed once per sweep value (Hydra's own
compose API), converted to the schema dataclass and validated, so a mistyped key, a
wrong type or an out-of-range value exits 2 with one line naming the key, the value and
what is allowed, and never after a sweep has half run. The run folder Hydra is about to
make (``hydra.run.dir``, or ``hydra.sweep.dir`` under ``-m``) is checked the same way.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.resources
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from collapselab.errors import UserError, fail  # noqa: F401 - fail: re-exported by collapselab.config

T = TypeVar("T")

# configs/ sits at the repository root, beside src/ (editable install) unless overridden.
CONFIG_DIR = Path(os.environ.get("COLLAPSELAB_CONFIGS", Path(__file__).resolve().parents[3] / "configs"))


# --------------------------------------------------------------------------- validation


def _explain(exc: BaseException) -> str:
    """Turn a Hydra / OmegaConf composition error into one readable line."""
    from hydra.errors import MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

    if isinstance(exc, MissingConfigException):
        missing = (exc.missing_cfg_file or "").replace("\\", "/")
        group, _, name = missing.rpartition("/")
        opts = ", ".join(sorted(exc.options or []))
        if group:
            return f"{group}={name} is unknown (available: {opts})"
        return str(exc).splitlines()[0]
    if isinstance(exc, OverrideParseException):
        return _explain_parse(exc)
    cause = exc.__cause__ or exc
    full_key = getattr(cause, "full_key", None)
    first = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and full_key:
        return f"unknown config key '{full_key}'{_known_keys_hint(cause)}"
    if isinstance(cause, ValidationError) and full_key:
        return f"{full_key}: {first}"
    # composition errors raised while loading a group file carry the inner message
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    key_line = next((ln for ln in lines if ln.startswith("full_key:")), None)
    msg = next((ln for ln in lines[1:] if not ln.startswith(("full_key", "object_type", "reference_type"))), lines[0])
    return f"{key_line.split(':', 1)[1].strip()}: {msg}" if key_line else (lines[0] if lines else repr(exc))


_LEXER = "LexerNoViableAltException: "


def _explain_parse(exc: Any) -> str:
    """One line for an override Hydra's grammar refuses: the override as typed, its key, Hydra's reason and what
    the valid form looks like, e.g. ``beta=[0.01,: Hydra cannot parse this override of 'beta' (no viable
    alternative at input '[0.01,'); a list is beta=[a,b], quoted in the shell: 'beta=[a,b]'``."""
    override = str(getattr(exc, "override", "") or "")
    text = str(getattr(exc, "message", exc))
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("See http")]  # the grammar's URL
    at = -1
    if len(lines) > 1 and lines[0].startswith("Error parsing override"):
        reason = lines[1].strip()  # under "Error parsing override 'beta'": e.g. "missing EQUAL at '<EOF>'"
    elif len(lines) > 1 and lines[0].startswith(_LEXER) and "^" in lines[1]:
        at = lines[1].index("^") - len(_LEXER)  # the caret under the character the lexer stopped at
        reason = f"unexpected {override[at]!r} at character {at + 1}" if 0 <= at < len(override) else lines[0]
    else:
        reason = lines[0].strip() if lines else type(exc).__name__
    if "=" not in override:
        return (f"{override}: Hydra cannot parse this override ({reason}); an override is key=value, "
                "+key=value adds a key, ~key deletes one")
    key, value = override.split("=", 1)
    key = key.lstrip("+~")
    if 0 <= at < override.index("="):
        hint = "a key is a dotted name such as model.lora_r, + in front adds it, ~ deletes it"
    elif value.startswith("[") and "=" in value and key.startswith("lab."):  # the lab's per-stage lists
        hint = f'a list of overrides quotes each one: {key}=["a=1","b=2"], quoted in the shell: \'{key}=["a=1"]\''
    elif value.startswith("["):
        hint = f"a list is {key}=[a,b], quoted in the shell: '{key}=[a,b]'"
    elif value.startswith("{"):
        hint = f"a dict is {key}={{a:1,b:2}}, quoted in the shell: '{key}={{a:1,b:2}}'"
    else:
        hint = f"quote a value holding spaces, brackets, commas or quotes: {key}='...' (in the shell: \"{key}='...'\")"
    return f"{override}: Hydra cannot parse this override of '{key}' ({reason}); {hint}"


def _known_keys_hint(cause: BaseException) -> str:
    obj_type = getattr(cause, "object_type", None)
    if obj_type is not None and dataclasses.is_dataclass(obj_type):
        return f" (known keys: {', '.join(f.name for f in dataclasses.fields(obj_type))})"
    return ""


def _unknown_keys(node: Any, schema: Any, prefix: str = "") -> list[str]:
    """Keys present in a composed config that the schema does not declare (``+key=`` adds them silently)."""
    from omegaconf import DictConfig

    if not dataclasses.is_dataclass(schema) or not isinstance(node, DictConfig):
        return []
    schema = schema if isinstance(schema, type) else type(schema)
    fields = {f.name for f in dataclasses.fields(schema)}
    hints = _field_types(schema)
    out = []
    for key in node.keys():
        full = f"{prefix}{key}"
        if key not in fields:
            out.append(full)
            continue
        sub_type = _dataclass_of(hints.get(key))
        if sub_type is not None:
            out += _unknown_keys(node[key], sub_type, full + ".")
    return out


@functools.lru_cache(maxsize=None)
def _field_types(schema: type) -> dict[str, Any]:
    """A dataclass's field types, resolved: under ``from __future__ import annotations`` ``Field.type`` is a string,
    so a nested config node (``model: ModelConfig``) was never walked and ``+model.foo=1`` passed."""
    import typing

    return typing.get_type_hints(schema)


def _dataclass_of(tp: Any) -> type | None:
    """The config dataclass a field holds: ``ModelConfig`` for ``ModelConfig`` or ``ModelConfig | None``."""
    import typing

    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return tp
    inner = [a for a in typing.get_args(tp) if isinstance(a, type) and dataclasses.is_dataclass(a)]
    return inner[0] if len(inner) == 1 else None


def collect_problems(obj: Any, prefix: str = "") -> list[str]:
    """Walk a config dataclass tree, gathering ``problems()`` of every node (full dotted keys)."""
    out: list[str] = []
    if not dataclasses.is_dataclass(obj):
        return out
    if hasattr(obj, "problems"):
        out += [f"{prefix}{p}" for p in obj.problems()]
    for f in dataclasses.fields(obj):
        out += collect_problems(getattr(obj, f.name), f"{prefix}{f.name}.")
    return out


def to_typed(cfg: Any, schema: type[T] | None = None) -> T:
    """DictConfig -> schema dataclass, checked for unknown keys and out-of-range values."""
    from omegaconf import OmegaConf

    obj = OmegaConf.to_object(cfg)
    if schema is None:
        schema = type(obj)
    unknown = _unknown_keys(cfg, type(obj))
    if unknown:
        *path, _ = unknown[0].split(".")
        node = type(obj)
        for part in path:  # the node that lacks the key: its own keys are the ones to list
            node = _dataclass_of(_field_types(node)[part])
        known = ", ".join(f.name for f in dataclasses.fields(node))
        where = f"of {'.'.join(path)}" if path else "at top level"
        raise UserError(f"unknown config key '{unknown[0]}' (known keys {where}: {known})")
    problems = collect_problems(obj)
    if problems:
        raise UserError("; ".join(problems))
    return obj  # type: ignore[return-value]


def compose(config_name: str, overrides: list[str] | None = None, config_dir: Path | str | None = None, *,
            app: str | None = None, extra_dirs: tuple[str, ...] = ()) -> Any:
    """Compose ``configs/<config_name>.yaml`` with overrides and return the validated dataclass.

    Used by tests and by library code that needs another stage's config; ``app`` (the entry point's script)
    only words the errors; ``extra_dirs`` are folders added to the search path (``--config-dir``). Raises
    UserError.
    """
    from hydra import compose as hydra_compose

    _import_schemas()
    overrides = list(overrides or [])
    with _hydra_context(config_dir, extra_dirs):
        try:
            cfg = hydra_compose(config_name, overrides=overrides)
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001 - every composition error becomes one line
            raise UserError(_explain_no_group(e, config_name, overrides, app) or _explain(e)) from None
        try:
            return to_typed(cfg)
        except UserError:
            raise
        except Exception as e:  # noqa: BLE001
            raise UserError(_explain(e)) from None


_NO_GROUP = re.compile(r"^Could not (?:override|delete) '([^'=]+)(?:=[^']*)?'\. No match in the defaults list")


def _explain_no_group(exc: BaseException, config_name: str, overrides: list[str], app: str | None) -> str | None:
    """One line for ``group=option`` over a group the config's defaults list lacks (Hydra: "Could not override
    'lab'. No match in the defaults list."), and for ``+group=option`` / ``++group=option`` adding such a group
    (Hydra: "Key 'lab' not in 'PPOStage'", "force-add of config groups is not supported"), naming the groups it
    has; None for any other error. Called inside ``_hydra_context``."""
    from hydra import compose as hydra_compose
    from hydra.errors import ConfigCompositionException

    if not isinstance(exc, ConfigCompositionException):
        return None
    m = _NO_GROUP.match(str(exc))
    try:
        bare = hydra_compose(config_name, overrides=[], return_hydra_config=True)
    except Exception:  # noqa: BLE001 - the bare config does not compose: Hydra's own words
        return None
    choices = bare.hydra.runtime.choices
    if m:
        key = m.group(1).split("@")[0]
        given = next((o for o in overrides if _key(o) == key), m.group(1))
    else:
        found = _added_group(overrides, choices, bare)
        if found is None:
            return None
        given, key = found
    groups = sorted(g for g in choices if not g.startswith("hydra/"))
    whose = f"{app}'s config ({config_name})" if app else f"config '{config_name}'"
    msg = f"{given}: {whose} has no group '{key}'; "
    msg += f"its groups: {', '.join(groups)}" if groups else "it has no config groups"
    plus = "+" + given.lstrip("+")
    if not given.startswith("~") and given != plus:  # Hydra's way to add a group the defaults list lacks: named
        try:  # only if it works
            to_typed(hydra_compose(config_name, overrides=[plus if o == given else o for o in overrides]))
        except Exception:  # noqa: BLE001
            return msg
        msg += f"; {plus} adds it"
    return msg


def _added_group(overrides: list[str], choices: Any, bare: Any) -> tuple[str, str] | None:
    """The first ``+group=option`` or ``++group=option`` (as typed, and its group) over a config group of the
    search path that the config's defaults list lacks and, for ``+``, that the config has no node for (there
    ``+`` adds it, and an error is the option's own). Hydra's groups (``hydra/...``) and special packages
    (``@_global_``, ...) are left to Hydra's words."""
    from hydra.core.global_hydra import GlobalHydra

    repository = GlobalHydra.instance().config_loader().repository
    for o in overrides:
        if not o.startswith("+"):
            continue
        group, _, package = o.lstrip("+").split("=", 1)[0].partition("@")
        if not group or group.split("/")[0] == "hydra" or package.startswith("_") or group in choices:
            continue
        if not repository.group_exists(group):  # a plain key (+betta=1): the unknown-key line
            continue
        if not o.startswith("++") and (package or group.replace("/", ".")).split(".")[0] in bare:
            continue
        return o, group
    return None


@contextlib.contextmanager
def _hydra_context(config_dir: Path | str | None = None, extra_dirs: tuple[str, ...] = ()) -> Iterator[None]:
    """Hydra's compose API over ``config_dir`` (a folder, or Hydra's ``pkg://`` path), with ``extra_dirs`` added to
    the search path where Hydra's ``--config-dir`` puts them (after the primary folder, before the structured
    configs); inside a running app, in a clean context, left as found after."""
    from hydra import version
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.core.config_search_path import SearchPathQuery
    from hydra.core.global_hydra import GlobalHydra

    was = GlobalHydra.instance().is_initialized()
    if was:
        hydra_state = GlobalHydra.instance().hydra
        GlobalHydra.instance().clear()
    try:
        # what initialize_config_dir(config_dir, version_base=None) does, and what Hydra's main does with -cd
        version.setbase(None)
        primary = str(config_dir or CONFIG_DIR)
        search_path = create_config_search_path(primary if "://" in primary else str(Path(primary).absolute()))
        for extra in extra_dirs:
            search_path.prepend(provider="command-line", path=f"file://{os.path.abspath(extra)}",
                                anchor=SearchPathQuery(provider="schema"))
        Hydra.create_main_hydra2(task_name="app", config_search_path=search_path)
        yield
    finally:
        GlobalHydra.instance().clear()
        if was:
            GlobalHydra.instance().initialize(hydra_state)


def _sweep_variants(overrides: list[str]) -> list[list[str]]:
    """One override list per sweep value (others at their first value), so each value is checked."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as e:  # noqa: BLE001
        raise UserError(_explain(e)) from None
    choices: list[list[str]] = []
    for ov in parsed:
        if ov.is_sweep_override():
            vals = [str(v) for v in ov.sweep_string_iterator()]
            key = ov.get_key_element()
            choices.append([f"{key}={v}" for v in vals] or [ov.input_line])
        else:
            choices.append([ov.input_line])
    base = [c[0] for c in choices]
    variants = [base]
    for i, c in enumerate(choices):
        for v in c[1:]:
            variants.append(base[:i] + [v] + base[i + 1 :])
    return variants


def prevalidate(config_name: str, argv: list[str], config_dir: Path | None = None, prog: str | None = None) -> None:
    """Check a command line before Hydra runs it: every sweep value of the app's settings, Hydra's own settings
    (``hydra.*``, ``hydra/...``) and the run folder. ``--cfg``/``--resolve`` print the config, so they are checked
    too, bar the folder, which they do not make; ``--help``, ``--hydra-help``, ``--info`` and
    ``--shell-completion`` take no config and are not. The config is found as Hydra finds it: ``--config-name``
    (``-cn``) names it, ``--config-path`` (``-cp``) replaces ``config_dir``, ``--config-dir`` (``-cd``) adds a
    folder to the search path. ``prog`` (the script) only words the errors. Raises UserError."""
    from hydra._internal.utils import get_args_parser

    args, stray = get_args_parser().parse_known_args(argv)
    if stray:  # Hydra reads the overrides as one run of words: a second run after a flag is refused in usage lines
        flags = [a for a in stray if a.startswith("-")]
        raise UserError(f"{' '.join(flags)}: unknown flag (see --help)" if flags else (
            f"{' '.join(stray)}: an override after a flag that itself follows overrides; Hydra reads the overrides "
            "as one run, so put them all before the flags or all after them (e.g. beta=1 seed=2 --cfg job)"))
    if args.help or args.hydra_help or args.info or args.shell_completion:
        return
    config_name = args.config_name or config_name
    config_dir, extra = _config_dirs(args, config_dir)
    app = _prog_name(prog) if prog else None
    # the app's settings; hydra.searchpath, Hydra's other way to add config folders, finds the app's configs too
    overrides = [o for o in args.overrides
                 if not o.lstrip("+~").startswith("hydra") or _key(o) == "hydra.searchpath"]
    # -m, or Hydra's own spelling of it on the command line
    multirun = args.multirun or any(o.replace(" ", "").upper() == "HYDRA.MODE=MULTIRUN" for o in args.overrides)
    _check_sweeps(args.overrides, multirun)
    variants = _sweep_variants(overrides)
    for variant in variants:
        compose(config_name, variant, config_dir, app=app, extra_dirs=extra)
    hydra_overrides = [o for o in args.overrides if o not in overrides]
    if args.cfg:
        _compose_with_hydra(config_name, variants[0] + hydra_overrides, config_dir, extra)
        return
    check_output_dir(config_name, variants[0] + hydra_overrides, multirun, config_dir, extra)


def _key(override: str) -> str:
    """An override's key: ``hydra.searchpath`` of ``++hydra.searchpath=[...]``."""
    return re.split(r"[=@]", override.lstrip("+~"), maxsplit=1)[0].strip()


def _config_dirs(args: Any, config_dir: Path | None) -> tuple[Path | str | None, tuple[str, ...]]:
    """The primary config folder and the folders added to the search path, from Hydra's ``--config-path`` and
    ``--config-dir`` the way Hydra's main reads them: ``-cp`` replaces the primary folder, an absolute path as it is
    and a relative one under the package that declares the app (this one), ``-cd`` adds a folder, relative to the
    working folder, before the structured configs. Raises UserError for what Hydra would refuse in several lines."""
    from hydra._internal.utils import compute_search_path_dir

    if args.config_path is not None:
        cp = args.config_path
        if Path(cp).suffix in (".yaml", ".yml"):
            raise UserError(f"--config-path={cp}: names a file; --config-path (-cp) takes the folder and "
                            "--config-name (-cn) the config in it, e.g. -cp /abs/configs -cn ppo")
        config_dir = compute_search_path_dir(None, __name__, cp)  # Hydra's reading, for the task defined here
        if config_dir and "://" not in config_dir and not Path(config_dir).is_dir():
            raise UserError(f"--config-path={cp}: no such folder")
        if config_dir and config_dir.startswith("pkg://") and not cp.startswith("pkg://"):
            module, _, sub = config_dir[len("pkg://"):].partition("/")
            try:
                found = bool(module) and importlib.resources.files(module).joinpath(sub).is_dir()
            except (ImportError, TypeError, ValueError):
                found = False
            if not found:
                raise UserError(f"--config-path={cp}: Hydra reads a relative config path inside the package that "
                                f"declares the app ({config_dir}), which has no such folder; give an absolute "
                                f"folder (-cp {os.path.abspath(cp)}), or add a folder to the search path with "
                                f"--config-dir {cp}")
    extra: tuple[str, ...] = ()
    if args.config_dir is not None:
        cd = Path(os.path.abspath(args.config_dir))  # as Hydra's main makes it
        if not cd.is_dir():
            raise UserError(f"--config-dir={args.config_dir}: no such folder ({cd}); --config-dir (-cd) adds a "
                            "folder of configs to the search path")
        extra = (str(cd),)
    return config_dir, extra


def _check_sweeps(overrides: list[str], multirun: bool) -> None:
    """Several values are a sweep only under ``-m``, and never for Hydra's own settings (Hydra refuses both in
    several lines once it runs). Raises UserError."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ValueType

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except Exception as e:  # noqa: BLE001
        raise UserError(_explain(e)) from None
    for ov in parsed:
        if not ov.is_sweep_override():
            continue
        if ov.is_hydra_override():
            raise UserError(f"{ov.input_line}: Hydra's own settings (hydra.*, hydra/...) take one value; "
                            "only the app's settings can be swept")
        if not multirun:
            key, value = ov.get_key_element(), ov.input_line.split("=", 1)[1]
            hint = (f"; a list is {key}=[{value}], a string {key}='{value}'"
                    if ov.value_type == ValueType.SIMPLE_CHOICE_SWEEP else "")
            raise UserError(f"{ov.input_line}: several values sweep only under -m (--multirun){hint}")


def _prog_name(prog: str) -> str:
    """The script as the user would type it: relative to the working folder when under it, else its name."""
    path = Path(prog)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.name


def _compose_with_hydra(config_name: str, overrides: list[str], config_dir: Path | str | None = None,
                        extra_dirs: tuple[str, ...] = ()) -> Any:
    """The config with Hydra's own settings (``return_hydra_config``), so a mistyped ``hydra.*`` key or a wrong
    type is one line, as an app key is. Interpolations are left unresolved. Raises UserError."""
    from hydra import compose as hydra_compose
    from hydra.errors import MissingConfigException

    try:
        with _hydra_context(config_dir, extra_dirs):
            return hydra_compose(config_name, overrides, return_hydra_config=True)
    except MissingConfigException as e:  # e.g. a launcher whose plugin is not installed
        raise UserError(_explain_hydra(e, overrides)) from None
    except Exception as e:  # noqa: BLE001 - every composition error becomes one line
        raise UserError(_explain(e)) from None


def check_output_dir(config_name: str, overrides: list[str], multirun: bool, config_dir: Path | str | None = None,
                     extra_dirs: tuple[str, ...] = ()) -> None:
    """Hydra makes its run folder (``hydra.sweep.dir`` under ``-m``) before the app starts, and one it cannot
    make ends in a traceback: check the folder first, creating nothing. Raises UserError (for a Hydra setting
    that does not compose, too)."""
    from omegaconf import OmegaConf

    from collapselab.config.common import writable

    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    cfg = _compose_with_hydra(config_name, overrides, config_dir, extra_dirs)
    try:
        path = OmegaConf.select(cfg, key)
    except Exception:  # noqa: BLE001 - e.g. ${hydra:...}, which resolves only once Hydra runs: it reports it itself
        return
    problems = writable(key, str(path))
    if problems:
        raise UserError(problems[0])


def _explain_hydra(exc: Any, overrides: list[str]) -> str:
    """One line for a Hydra config group that does not load (``hydra/launcher=...``). The usual one: a launcher
    config whose plugin is not installed (``hydra/launcher=slurm_gpu`` needs hydra-submitit-launcher, the
    ``cluster`` extra)."""
    missing = (exc.missing_cfg_file or "").replace("\\", "/")
    if missing.startswith("hydra/launcher/submitit"):
        chosen = next((o.split("=", 1)[1] for o in overrides if o.lstrip("+~").startswith("hydra/launcher=")), "")
        return (f"hydra/launcher={chosen or missing.rsplit('/', 1)[-1]} needs Hydra's submitit launcher plugin, which is not "
                "installed: pip install -e '.[cluster]' (hydra-submitit-launcher)")
    return _explain(exc)


_SCHEMA_MODULES: list[str] = []


def register_schema(name: str, node: type, module: str | None = None) -> None:
    """Store a schema dataclass in Hydra's ConfigStore as ``<name>_schema``."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=f"{name}_schema", node=node)


def _import_schemas() -> None:
    import collapselab.config  # noqa: F401 - registering the schemas is an import side effect


# --------------------------------------------------------------------------- the decorator


def hydra_app(config_name: str) -> Callable[[Callable[[Any], Any]], Callable[[], None]]:
    """Make ``fn(cfg: Schema)`` a Hydra app over ``configs/<config_name>.yaml`` with one-line errors."""

    def deco(fn: Callable[[Any], Any]) -> Callable[[], None]:
        @functools.wraps(fn)
        def entry() -> None:
            import hydra

            _import_schemas()
            try:
                prevalidate(config_name, sys.argv[1:], prog=sys.argv[0])
            except UserError as e:
                fail(str(e))

            def task(cfg: Any) -> Any:
                try:
                    return fn(to_typed(cfg))
                except UserError as e:
                    fail(str(e))

            hydra.main(version_base=None, config_path=str(CONFIG_DIR), config_name=config_name)(task)()

        return entry

    return deco


def run_dir() -> Path:
    """The current Hydra job's output folder (``hydra.run.dir`` or the sweep's job folder)."""
    from hydra.core.hydra_config import HydraConfig

    try:
        return Path(HydraConfig.get().runtime.output_dir)
    except ValueError:  # not inside a Hydra app (library use, tests)
        return Path.cwd()


def as_dict(obj: Any) -> dict:
    """A config dataclass as a plain dict (for metadata, hashing and W&B config)."""
    return dataclasses.asdict(obj)


def result_settings(cfg: Any) -> dict:
    """A stage config as a cache key sees it (the lab's evaluation and base jobs): every setting but the logger,
    which changes where the numbers are logged and none of them, so a rerun with another logger
    (``logger=none stages=[report]``) reuses the work."""
    d = as_dict(cfg)
    d.pop("logger", None)
    return d
