"""Metric registry: every key the harness writes to metrics.json, with what computes it, its
direction, its confidence-interval method and, where the paper has one, the paper's numbers.

Keys follow DESIGN.md ("Contracts"), ``<probe>/<name>``. Two kinds of entry, one namespace:

- **metrics** (``METRICS``, ``register``): what a checkpoint is measured by. Registered next to
  the pure function that computes them in ``collapselab.metrics.*`` (a decorator, or ``fn=``);
  a value the probe derives itself (a mean of per-completion values, k of ``best_kmeans``)
  has ``fn=None`` and says how in ``derived``.
- **companions** (``COMPANIONS``, ``register_companion``): values reported beside the metrics,
  not ranked or compared with the paper: world-truth references (``*_truth``, ``*_tv_truth``),
  counts behind a rate (``persona/n_unparsed``), diagnostics (``semantic/silhouette``).
  Registered in the probe module that builds them.

``<key>_ci_lo`` / ``<key>_ci_hi`` are never registered: they resolve to a metric whose ``ci``
method is not "none". ``resolve`` answers for every key; the harness refuses a key it cannot
resolve (``check_keys``). Registering a name twice is an error (lm-evaluation-harness style),
so two modules cannot silently disagree about a metric.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

F = TypeVar("F", bound=Callable[..., Any])

CIMethod = Literal["bootstrap_mean", "bootstrap_stat", "index_bootstrap", "wilson", "none"]
CI_METHODS: tuple[str, ...] = get_args(CIMethod)
# bootstrap_mean:  percentile bootstrap of the mean of per-item values (``probes.base.add_ci``)
# bootstrap_stat:  percentile bootstrap of another statistic of per-item values (sd, min; ``add_ci(stat=...)``)
# index_bootstrap: set-level statistic over items resampled by index, re-centred on the point estimate
#                  (``probes.base.add_index_ci``, ``metrics.index_bootstrap_ci``)
# wilson:          Wilson score interval of a share (``metrics.wilson_ci``)
# none:            no interval; a ``<key>_ci_lo``/``_ci_hi`` for it is refused
CI_SUFFIXES = ("_ci_lo", "_ci_hi")


@dataclass(frozen=True)
class PaperValues:
    """What Mohammadi (2024) reports for a metric, Llama-2-7B base vs -chat at T = 1.0.

    ``base`` / ``aligned`` as the paper states them (text: some are ranges or words, and a few are
    on another scale than the lab metric, e.g. MBTI types rather than the share of 16; the report
    maps the lab value onto the paper's scale). ``direction``: +1 alignment raised it in the paper,
    -1 lowered it. ``experiment`` 1-3 and ``section`` (e.g. "4.3, Fig. 11") say where.
    """

    experiment: int
    section: str
    base: str
    aligned: str
    direction: int

    def __post_init__(self) -> None:
        if self.direction not in (-1, 1):
            raise ValueError(f"direction={self.direction!r}: must be +1 or -1")
        if self.experiment not in (1, 2, 3):
            raise ValueError(f"experiment={self.experiment!r}: the paper has Experiments 1-3")


@dataclass(frozen=True)
class MetricInfo:
    """One registered key.

    ``higher_is_better`` is the quality direction used for ranking checkpoints (None only for a
    companion with no better side, e.g. a truth reference); ``more_diverse`` is the diversity
    direction (True: a higher value means more diverse, False: lower means more diverse, None:
    not a diversity measure, e.g. reward or parse rate). ``fn`` computes the value: it returns
    the number, or a mapping holding it under ``name`` (a function computing a group of keys,
    e.g. ``persona_stats``); None when the probe derives the value, then ``derived`` says how.
    ``ci``: how the probe's 95% interval is computed (``CI_METHODS``). ``paper``: the paper's
    numbers, if it reports this measure. ``companion_of``: set for a companion (the metric it
    accompanies, or "" when it stands alone).
    """

    name: str
    higher_is_better: bool | None
    probe: str
    description: str
    more_diverse: bool | None = None
    fn: Callable[..., Any] | None = None
    derived: str = ""
    ci: str = "none"
    paper: PaperValues | None = None
    companion_of: str | None = None

    @property
    def is_companion(self) -> bool:
        return self.companion_of is not None

    def compute(self, *args: Any, **kwargs: Any) -> float:
        """``fn(*args, **kwargs)`` as a float (picking ``name`` from a mapping result)."""
        if self.fn is None:
            raise ValueError(f"metric {self.name!r} has no function: {self.derived or 'derived by its probe'}")
        out = self.fn(*args, **kwargs)
        return float(out[self.name] if isinstance(out, Mapping) else out)


METRICS: dict[str, MetricInfo] = {}
COMPANIONS: dict[str, MetricInfo] = {}


def _check_new(name: str, probe: str) -> None:
    if name in METRICS or name in COMPANIONS:
        raise ValueError(f"metric {name!r} is already registered")
    if not name.startswith(probe + "/"):
        raise ValueError(f"metric {name!r} must start with its probe prefix {probe + '/'!r}")
    if name.endswith(CI_SUFFIXES):
        raise ValueError(f"metric {name!r}: interval keys are derived from a metric's ci method, not registered")


def _decorator(table: dict[str, MetricInfo], name: str) -> Callable[[F], F]:
    def decorator(fn: F) -> F:
        info = table[name]
        if info.fn is not None:
            raise ValueError(f"metric {name!r} already has a function ({getattr(info.fn, '__name__', info.fn)})")
        table[name] = dataclasses.replace(info, fn=fn)
        return fn

    return decorator


def register(
    name: str,
    *,
    higher_is_better: bool,
    probe: str,
    description: str,
    more_diverse: bool | None = None,
    ci: str = "none",
    fn: Callable[..., Any] | None = None,
    derived: str = "",
    paper: PaperValues | None = None,
) -> Callable[[F], F]:
    """Register the metric ``name``; as a decorator, the decorated function becomes its ``fn``.

    ``more_diverse`` defaults to None (not a diversity metric); ``ci`` is one of ``CI_METHODS``.
    Raises ValueError on a duplicate name, a name that does not start with ``probe + "/"``, a
    name ending in ``_ci_lo``/``_ci_hi``, or an unknown ``ci`` method.
    """
    _check_new(name, probe)
    if ci not in CI_METHODS:
        raise ValueError(f"metric {name!r}: ci={ci!r} is not one of {', '.join(CI_METHODS)}")
    METRICS[name] = MetricInfo(name, higher_is_better, probe, description, more_diverse, fn=fn, derived=derived,
                               ci=ci, paper=paper)
    return _decorator(METRICS, name)


def register_companion(
    name: str,
    *,
    probe: str,
    description: str,
    of: str = "",
    higher_is_better: bool | None = None,
    fn: Callable[..., Any] | None = None,
    derived: str = "",
) -> Callable[[F], F]:
    """Register a companion key reported beside the metrics (a truth reference, a count, a
    diagnostic): no interval, no paper value, no diversity direction. ``of``: the registered
    metric it accompanies ("" if none). Same name rules as ``register``; usable as a decorator."""
    _check_new(name, probe)
    if of and of not in METRICS:
        raise KeyError(f"companion {name!r}: of={of!r} is not a registered metric")
    COMPANIONS[name] = MetricInfo(name, higher_is_better, probe, description, None, fn=fn, derived=derived,
                                  companion_of=of)
    return _decorator(COMPANIONS, name)


def _strip_eval(name: str) -> str:
    return name[len("eval/"):] if name.startswith("eval/") else name


def lookup(name: str) -> MetricInfo | None:
    """The entry a metrics.json key resolves to: a metric, a companion, or, for ``<key>_ci_lo`` /
    ``<key>_ci_hi``, the metric ``key`` when it declares an interval method; else None.
    Accepts the ``eval/`` W&B prefix."""
    key = _strip_eval(name)
    info = METRICS.get(key) or COMPANIONS.get(key)
    if info is not None:
        return info
    for suffix in CI_SUFFIXES:
        if key.endswith(suffix):
            base = METRICS.get(key[: -len(suffix)])
            if base is not None and base.ci != "none":
                return base
    return None


def resolve(name: str) -> MetricInfo:
    """``lookup`` that raises KeyError (naming the key) for a key nothing registers."""
    info = lookup(name)
    if info is None:
        key = _strip_eval(name)
        for suffix in CI_SUFFIXES:
            base = key[: -len(suffix)] if key.endswith(suffix) else None
            if base in METRICS:
                raise KeyError(f"metric key {name!r}: {base!r} is registered with ci='none', so it has no interval")
        raise KeyError(f"unknown metric key {name!r}: not registered (collapselab.metrics.register / "
                       "register_companion) and not the _ci_lo/_ci_hi of a metric with an interval")
    return info


def check_keys(keys: Iterable[str], probe: str) -> None:
    """Refuse metric keys a probe may not emit: unregistered ones, and ones registered for
    another probe. A programming error, so ValueError (not a UserError), naming key and probe."""
    for key in keys:
        try:
            info = resolve(key)
        except KeyError as e:
            raise ValueError(f"probe {probe!r} emitted {e.args[0]}") from None
        if info.probe != probe:
            raise ValueError(f"probe {probe!r} emitted metric key {key!r}, which is registered for "
                             f"probe {info.probe!r}")


def paper_metrics() -> dict[str, MetricInfo]:
    """The registered metrics the paper reports a value for, by name."""
    return {k: m for k, m in METRICS.items() if m.paper is not None}


def higher_is_more_diverse(name: str) -> bool | None:
    """Diversity direction of a registered metric: True / False, or None if it is not a
    diversity measure (companions are not). Accepts the ``eval/`` W&B prefix and interval keys
    (the direction of the metric they bound). Unknown names raise KeyError."""
    info = lookup(name)
    if info is None:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}")
    return info.more_diverse
