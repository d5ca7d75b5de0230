"""The report's typicality control: aligned with the labels' typicality bias alpha vs aligned at alpha = 0.

With ``lab.typicality`` = alpha > 0 the lab also runs a control whose annotator has no typicality
bias (its own pairs and reward model; PPO and DPO at the smallest beta of each sweep; persona
probe only, ``lab.stages``). Set beside base and SFT, the persona attributes split the collapse in
two: control vs SFT is what alignment does without typicality in the labels (the optimisation,
reward-model error, couplings), alpha vs control is what the typicality bias adds (Verbalized
Sampling, Zhang et al. 2025, eq. 1-3).
"""

from __future__ import annotations

import math
from pathlib import Path

from collapselab.lab.paper import PARSE_FLOOR
from collapselab.lab.render import Doc, ci_of, digits_apart, fmt
from collapselab.lab.results import LabResults, LabRun

# (label, metrics key, scale): MBTI coverage is types / 16, shown as a count of types
CONTROL_METRICS = [
    ("parse rate", "persona/parse_rate", 1.0),
    ("MBTI types (of 16)", "persona/mbti_coverage", 16.0),
    ("nationalities", "persona/n_nationalities", 1.0),
    ("age sd", "persona/age_sd", 1.0),
    ("attribute entropy (mean)", "persona/attribute_entropy_mean", 1.0),
    ("distinct review sentences (share)", "persona/review_distinct_sentence_share", 1.0),
]


def _key(v: object) -> object:
    """A value as the world tables are looked up: strings casefolded ("AMERICAN" is "American"), ages as they are."""
    return " ".join(v.split()).casefold() if isinstance(v, str) else v


def _world_logp() -> dict[str, dict]:
    """log P_world of each value (``_key``) of the attributes whose world frequencies are skewed
    (world/population.py)."""
    from collapselab.world.population import AGES, age_p, mbti_p, nationality_p

    return {"nationality": {_key(k): math.log(v) for k, v in nationality_p().items()},
            "mbti": {_key(k): math.log(v) for k, v in mbti_p().items()},
            "age": {int(a): math.log(p) for a, p in zip(AGES, age_p())}}


TYPICAL_LABELS = {"nationality": "nationality", "mbti": "MBTI type", "age": "age"}


def typical_picks(rows: list[dict]) -> dict[str, tuple[int, int]]:
    """What the labels teach about the attributes the annotator's quality score ignores.

    rows: preference pairs as ``collapselab.typicality.read_pairs`` gives them (``prompt`` a string or
    chat turns, ``chosen`` / ``rejected`` strings). Among the persona pairs (``answer_kind``) whose two
    answers both parse and carry values of an attribute that differ in world frequency (two values the
    world makes equally common, such as Spanish and Italian, are a tie and not counted), counts ``n``
    such pairs and ``k`` of them whose chosen answer carries the more common value (higher P_world).
    Returns {attribute: (k, n)} for nationality, mbti and age. k / n = 0.5: the labels ignore the attribute; above 0.5 they favour
    the common values, which is what typicality bias (alpha log pi_base, with a base that learned
    the world) adds.
    """
    from collapselab.typicality import user_text
    from collapselab.world.annotator import answer_kind
    from collapselab.world.persona import parse_persona

    logp = _world_logp()
    out = {a: [0, 0] for a in logp}
    for r in rows:
        chosen, rejected = r["chosen"], r["rejected"]
        if answer_kind(user_text(r["prompt"]), chosen) != "persona":
            continue
        c, j = parse_persona(chosen), parse_persona(rejected)
        if c is None or j is None:
            continue
        for a, table in logp.items():
            lc, lj = table.get(_key(c[a])), table.get(_key(j[a]))
            if lc is None or lj is None or lc == lj:
                continue
            out[a][0] += int(lc > lj)
            out[a][1] += 1
    return {a: (k, n) for a, (k, n) in out.items()}


def _read_pairs(folder: Path | None) -> list[dict] | None:
    """The pairs stage's pairs.jsonl in ``folder``, read by the typicality estimator's reader (None: no such file)."""
    from collapselab.typicality import read_pairs

    f = Path(folder) / "pairs.jsonl" if folder else None
    return read_pairs(f) if f is not None and f.is_file() else None


def _share(kn: tuple[int, int]) -> str:
    from collapselab.metrics.stats import wilson_ci

    k, n = kn
    if n == 0:
        return "n/a (no pair differs)"
    lo, hi = wilson_ci(k, n)
    return f"{fmt(k / n, (lo, hi))} ({k} of {n})"


def labels_table(doc: Doc, run: LabRun) -> None:
    """The share of persona pairs whose chosen answer has the world's more common value, alpha vs control."""
    own, ctl = _read_pairs(run.pairs), _read_pairs(run.pairs_control)
    if own is None or ctl is None:
        missing = [str(Path(f) / "pairs.jsonl") for f, rows in ((run.pairs, own), (run.pairs_control, ctl))
                   if rows is None and f]
        doc.p(f"What the labels teach: not shown, no pairs file at {', '.join(missing) or 'either side'}.")
        return
    a, c = typical_picks(own), typical_picks(ctl)
    doc.p("What the labels teach: among the persona pairs of each pair set (training and held-out pairs together) "
          "whose two answers parse and carry values of an attribute that differ in world frequency, the share whose "
          "chosen answer carries the value the world makes more common, with its 95% (Wilson) interval. 0.5 means "
          "the labels ignore the attribute; the reward model, DPO (and, through the same annotator, rejection "
          "sampling's picks) can only learn a preference the labels hold.")
    doc.table(["attribute", f"pairs labelled with alpha {run.typicality:g}", "control pairs (alpha 0)"],
              [[TYPICAL_LABELS[k], _share(a[k]), _share(c[k])] for k in a])


def _value(metrics: dict | None, key: str, scale: float) -> tuple[float | None, tuple[float, float] | None]:
    if not metrics or metrics.get(key) is None:
        return None, None
    ci = ci_of(metrics, key)
    return metrics[key] * scale, (ci[0] * scale, ci[1] * scale) if ci else None


def move(new: dict | None, old: dict | None, key: str) -> str:
    """How ``key`` moved from ``old`` to ``new``: "lower" / "higher" when the 95% intervals separate,
    "no clear change" when they overlap, "no interval" / "n/a" when an interval or a value is missing."""
    (a, a_ci), (b, b_ci) = _value(new, key, 1.0), _value(old, key, 1.0)
    if a is None or b is None:
        return "n/a"
    if a_ci is None or b_ci is None:
        return "no interval"
    if a_ci[1] < b_ci[0]:
        return "lower"
    if a_ci[0] > b_ci[1]:
        return "higher"
    return "no clear change"


def failed(*metrics: dict | None, reference: dict | None = None, ref_name: str = "SFT") -> str | None:
    """"failed run (parse 0.43 < 0.85)" when one of these checkpoints parses under the floor of the paper
    table (a broken model is a failed run, not a finding), "failed run (SFT parse 0.80 < 0.85)" when the
    ``reference`` they are compared with does, else None."""
    for m, who in [*((m, "") for m in metrics), (reference, f"{ref_name} ")]:
        parse = (m or {}).get("persona/parse_rate")
        if parse is not None and parse < PARSE_FLOOR:
            return f"failed run ({who}parse {parse:.2f} < {PARSE_FLOOR:.2f})"
    return None


def against(new: dict | None, reference: dict | None, key: str, ref_name: str = "SFT") -> str:
    """``new`` against a reference checkpoint (SFT, base) on ``key``: a failed run where either parses under the
    floor (the reference named), else ``move``."""
    return failed(new, reference=reference, ref_name=ref_name) or move(new, reference, key)


def run_label(algo: str, beta: float | None) -> str:
    """"PPO beta 0.005", or "RS" for rejection sampling (no beta)."""
    return algo.upper() if beta is None else f"{algo.upper()} beta {beta:g}"


def control_section(doc: Doc, res: LabResults, run: LabRun, control_on: bool) -> list[dict]:
    """Base, SFT, aligned at alpha and the alpha = 0 control, side by side on the persona attributes. Returns the
    second table's comparisons as data (one dict per run and measure; [] without a control)."""
    doc.h(2, "Typicality: aligned at alpha vs the alpha = 0 control")
    alpha = run.typicality
    if alpha == 0:
        doc.p("No control run: the annotator's typicality alpha is 0 (`lab.typicality`), so the aligned runs above "
              "are the alpha = 0 condition themselves.")
        return []
    if not run.controls:
        why = "`lab.control=false`" if not control_on else "the PPO and DPO beta lists are empty"
        doc.p(f"No control run ({why}): the labels carry typicality alpha = {alpha:g}, and nothing here separates "
              "its effect from the optimisation's.")
        return []
    cols: list[tuple[str, dict | None]] = [("base", res.roles.get("base")), ("SFT", res.roles.get("sft"))]
    pairs = []
    no_sel = run.controls.get(("rs-self", None))  # the RS control's null: fine-tuning on its own samples, no pick
    m_self = res.controls.get(no_sel.role) if no_sel else None
    for (algo, beta), ctl in sorted(run.controls.items(), key=lambda kv: kv[0][0]):
        if algo == "rs-self":
            continue
        main = run.rs if algo == "rs" else run.runs.get((algo, beta))
        m_main, m_ctl = res.roles.get(main.role) if main else None, res.controls.get(ctl.role)
        name = run_label(algo, beta)
        cols += [(f"{name}, alpha {alpha:g}", m_main), (f"{name}, alpha 0 (control)", m_ctl)]
        if algo == "rs" and no_sel:
            cols.append(("RS, alpha 0, no selection", m_self))
        pairs.append((name, m_main, m_ctl, m_self if algo == "rs" else None))
    doc.p(f"The labels of the lab's reward model, PPO and DPO, and the annotator's best-of-N picks in rejection "
          f"sampling, carry typicality bias alpha = {alpha:g}: the annotator's score gets alpha log "
          "pi_base(answer | request). The control repeats the alignment at "
          "alpha = 0 (its own pairs, sampled alike and labelled without the bias, its own reward model) for PPO and "
          "DPO at the smallest beta of each sweep, and rejection sampling with the unbiased annotator picking, and is "
          "evaluated with the persona probe only. Values with their "
          "95% intervals (from each checkpoint's metrics.json):")
    table = []
    for label, key, scale in CONTROL_METRICS:
        values = [_value(m, key, scale) for _, m in cols]
        d = digits_apart([ci for _, ci in values])  # intervals that differ never print alike
        table.append([label, *[fmt(v, ci, d) for v, ci in values]])
    doc.table(["measure", *[c for c, _ in cols]], table)
    rows, data, sft, base = [], [], res.roles.get("sft"), res.roles.get("base")
    for name, m_main, m_ctl, m_none in pairs:
        for label, key, _ in CONTROL_METRICS[1:]:
            own = "n/a" if m_none is None else against(m_none, sft, key)
            cells = {"control_vs_sft": against(m_ctl, sft, key), "alpha_vs_control": failed(m_main, m_ctl) or move(
                m_main, m_ctl, key), "control_vs_base": against(m_ctl, base, key, "base"),
                "alpha_vs_base": against(m_main, base, key, "base")}
            rows.append([name, label, *([own] if no_sel else []), *cells.values()])
            data.append({"run": name, "measure": label, "key": key, **({"no_selection_vs_sft": own} if no_sel else {}),
                         **cells})
    doc.table(["run", "measure", *(["fine-tuning on its own samples (RS, no selection vs SFT)"] if no_sel else []),
               "alignment without typicality (control vs SFT)",
               f"typicality in the labels (alpha {alpha:g} vs control)",
               "control vs base", f"alpha {alpha:g} vs base"], rows)
    doc.p("Read the second table as the mechanism: a **lower** under \"control vs SFT\" is collapse that alignment "
          "causes with an annotator indifferent to these attributes (optimisation, reward-model error, couplings "
          "with what it rewards; measured for rejection sampling, most of it is fine-tuning on the model's own "
          "samples, which loses their tails without any selection, see docs/alignment.md); a **lower** under "
          "\"alpha vs control\" is collapse that the typicality bias adds on top. "
          + ("For rejection sampling the control has a null of its own: the same rounds of fine-tuning on the "
             "model's own answers with no selection (best-of-1, `rs.n_samples=1`); its column says what that "
             "alone narrows, and \"control vs SFT\" then holds that plus the quality score's picks. "
             if no_sel else "") +
          "\"lower\" / \"higher\" need separated 95% intervals; the intervals are over the samples of one training "
          "run each, not over training runs, and PPO's run-to-run spread can be larger, so a single separation is "
          "a lead to repeat with other seeds, not a result. A run that parses fewer than "
          f"{PARSE_FLOOR:.0%} of its personas gets \"failed run\" instead of a verdict, as in the paper table, and so "
          "does a comparison with an SFT model that does (\"SFT parse\"). The last two columns compare with the "
          "base, the paper table's reference: the mechanism shows there as a control that stays within the base's "
          "intervals on the attributes the annotator ignores (\"no clear change\") beside an aligned run at "
          f"alpha {alpha:g} that leaves them (\"lower\"); a control that falls too narrowed them without the bias.")
    void = void_note(data, cols)
    if void:
        doc.p(void)
    labels_table(doc, run)
    return data


def void_note(data: list[dict], checkpoints: list[tuple[str, dict | None]]) -> str | None:
    """One sentence for a reader of a table full of "failed run": how many comparisons the parse floor voids
    and each checkpoint's parse rate, or None when it voids none."""
    cells = [v for d in data for k, v in d.items()  # "n/a": no comparison there (e.g. a run with no own null)
             if k not in ("run", "measure", "key") and not str(v).startswith("n/a")]
    n_void = sum(str(v).startswith("failed run") for v in cells)
    if not n_void:
        return None
    rates = [f"{name} {m['persona/parse_rate']:.3g}" for name, m in checkpoints
             if m and m.get("persona/parse_rate") is not None]
    return (f"{n_void} of {len(cells)} comparisons above are void: a checkpoint they read parses under the "
            f"{PARSE_FLOOR:.2f} floor. Parse rates: {'; '.join(rates)}. Why the alpha = 0 controls parse about as "
            "the SFT model does while the runs at alpha > 0 parse better, and the mechanism measured at 1000 "
            "personas per checkpoint: docs/alignment.md, \"Why the controls' selection does not lift their parse "
            "rate\" and \"The mechanism at 1000 personas per checkpoint\".")
