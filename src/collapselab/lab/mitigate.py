"""The report's "Getting diversity back": decoding rules on the lab's collapsed checkpoint, against quality.

Each mitigation (``lab.mitigations``: a name and the decoding overrides of eval/evaluate.py) decodes
the final checkpoint of each of ``lab.mitigate_roles`` with the entropy, semantic, persona and quality probes
(``lab/eval_jobs.py``). For each diversity metric the share of the base-to-aligned gap it closes is

    gap closed = (mitigated - aligned) / (base - aligned)

(1 = back at the base, 0 = no better than the aligned model, < 0 = worse), computed from the
metrics' point values. Its 95% interval (``gap_interval``) resamples the three sample sets (base,
aligned, mitigated) independently, each as its metric's own interval does: TF-IDF similarity as the
mean of the per-text similarities in ``samples.jsonl``, attribute entropy by resampling personas
(re-centred on the point value, ``metrics.stats.index_bootstrap_ci``'s rule). A mitigation meets the
target of issue #14 when it closes >= 50% of the gap on TF-IDF similarity and on
``persona/attribute_entropy_mean`` while the persona parse rate stays >= 0.85 and the reward-model
score within 10% of the aligned model's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from collapselab.lab.figures import mitigation_frontier
from collapselab.lab.render import Doc, ci_of, fmt
from collapselab.lab.results import LabResults, LabRun, evaluation_samples, read_metrics

# (label, metrics key): the diversity side (each moves up or down with diversity, DIRECTIONS)
DIVERSITY = [("TF-IDF cos", "semantic/tfidf_cos_mean"), ("attribute entropy", "persona/attribute_entropy_mean"),
             ("Vendi", "semantic/vendi"), ("top-5 entropy, bits", "entropy/top5_bits_mean"),
             ("sampled entropy, bits", "entropy/sampled_bits_mean")]
QUALITY = [("parse rate", "persona/parse_rate"), ("reward", "quality/reward_mean"),
           ("annotator score", "quality/annotator_mean"), ("base NLL", "quality/base_nll")]
# the quality that the target holds within 10% of the aligned model's: the reward model's score (issue #14's target),
# and, beside it, the simulated annotator's own score without typicality (the tiny world's ground truth: a reward
# model trained on typicality-biased labels can mark a diverse answer down that the annotator scores as well)
REWARD, ANNOTATOR = "quality/reward_mean", "quality/annotator_mean"
TARGET_KEYS = ("semantic/tfidf_cos_mean", "persona/attribute_entropy_mean")


def gap_closed(value: float | None, aligned: float | None, base: float | None) -> float | None:
    """(value - aligned) / (base - aligned): the share of the base-to-aligned gap closed (None if no gap)."""
    if value is None or aligned is None or base is None or base == aligned:
        return None
    return (value - aligned) / (base - aligned)


def metric_draws(rows: list[dict], key: str, n_boot: int, rng: np.random.Generator) -> np.ndarray | None:
    """[n_boot] bootstrap values of ``key`` (TF-IDF mean or attribute entropy) from one evaluation's
    ``samples.jsonl`` rows, re-centred so their median is the full-set value; None without samples."""
    from collapselab.metrics.persona import attribute_codes, attribute_entropy_rows

    if key == "semantic/tfidf_cos_mean":
        sims = np.array([r["tfidf_cos"] for r in rows if r.get("probe") == "semantic" and r.get("tfidf_cos") is not None])
        if sims.size == 0:
            return None
        point, draws = float(sims.mean()), sims[rng.integers(0, sims.size, (n_boot, sims.size))].mean(1)
    elif key == "persona/attribute_entropy_mean":
        parsed = [r.get("parsed") for r in rows if r.get("probe") == "persona"]
        if not any(parsed):
            return None
        codes, n = attribute_codes(parsed), len(parsed)
        point = float(attribute_entropy_rows(codes, np.arange(n)[None, :])[0])
        draws = attribute_entropy_rows(codes, rng.integers(0, n, (n_boot, n)))
    else:
        raise KeyError(key)
    return draws + (point - np.nanmedian(draws))


def gap_interval(mitigated: np.ndarray | None, aligned: np.ndarray | None, base: np.ndarray | None,
                 alpha: float = 0.05) -> tuple[float, float] | None:
    """Percentile (1 - alpha) interval of ``gap_closed`` over paired draws [n_boot] of the three sets;
    draws where the resampled gap base - aligned is 0 are dropped. None if a set has no draws."""
    if mitigated is None or aligned is None or base is None:
        return None
    den = base - aligned
    ok = np.isfinite(mitigated) & np.isfinite(aligned) & np.isfinite(den) & (den != 0)
    if ok.sum() < 2:
        return None
    g = (mitigated[ok] - aligned[ok]) / den[ok]
    return float(np.quantile(g, alpha / 2)), float(np.quantile(g, 1 - alpha / 2))


def gap_intervals(res: LabResults, dirs: dict[str, Path], role: str, n_boot: int = 1000,
                  seed: int = 0) -> dict[tuple[str, str], tuple[float, float]]:
    """(mitigation, key) -> 95% interval of its gap closed on each ``TARGET_KEYS`` metric (where the samples
    exist), for the mitigations ``dirs`` (name -> evaluation folder) on ``role``; one seeded generator per
    (set, key), so a set's draws are the same in every row."""
    sets = {"base": res.dirs.get("base"), "aligned": res.dirs.get(role), **dirs}
    rows = {s: evaluation_samples(d) if d is not None else [] for s, d in sets.items()}
    out = {}
    for j, key in enumerate(TARGET_KEYS):
        draws = {s: metric_draws(r, key, n_boot, np.random.default_rng([seed, j, i])) if r else None
                 for i, (s, r) in enumerate(rows.items())}
        for n in dirs:
            ci = gap_interval(draws[n], draws["aligned"], draws["base"])
            if ci is not None:
                out[(n, key)] = ci
    return out


def meets_target(m: dict, aligned: dict, base: dict, quality: str = REWARD) -> bool:
    """>= 50% of the gap closed on TF-IDF and attribute entropy, parse rate >= 0.85, ``quality`` (the reward
    model's score, or the annotator's) within 10% of the aligned model's."""
    gaps = [gap_closed(m.get(k), aligned.get(k), base.get(k)) for k in TARGET_KEYS]
    r, r0 = m.get(quality), aligned.get(quality)
    reward_ok = r is not None and r0 is not None and r >= r0 - 0.1 * abs(r0)
    return (all(g is not None and g >= 0.5 for g in gaps) and (m.get("persona/parse_rate") or 0) >= 0.85
            and reward_ok)


def mitigation_section(doc: Doc, res: LabResults, run: LabRun, figs_dir: Path) -> list[tuple[str, str]]:
    """One table and frontier figure per role of ``lab.mitigate_roles``; returns the figures (relative path,
    caption)."""
    doc.h(2, "Getting diversity back")
    base = res.roles.get("base")
    if not any(run.mitigations.values()) or base is None:
        doc.p("No mitigation was evaluated (`lab.mitigations` or `lab.mitigate_roles` is empty, or the base "
              "checkpoint has no evaluation).")
        return []
    doc.p("Each row decodes the final checkpoint of an aligned run (the aligned row: plain sampling, as evaluated "
          "above) with one rule from `lab.mitigations`, on the same prompts and seeds; conformative decoding mixes in "
          "the lab's pretrained base (`decoding.base`), which reads the plain-text prompt. \"gap\" is the share of "
          "the base-to-aligned gap that the row closes, (row - aligned) / (base - aligned), from point values (1: "
          "back at the base; negative: further from it), with a 95% interval that resamples the base's, the aligned "
          "model's and the row's samples independently (1000 draws); the other intervals are each value's own. A row "
          "**meets the target** when it closes at least half of the gap on TF-IDF similarity and on the persona "
          "attribute entropy while parsing >= 85% of personas with a reward within 10% of the aligned model's. The "
          "last column asks the same with the simulated annotator's own score (without its typicality bias: the "
          "tiny world's ground-truth quality, which the reward model learned from biased labels) in place of the "
          "reward model's.")
    figs = []
    for role, dirs in run.mitigations.items():
        figs += _role_mitigations(doc, res, role, dirs, figs_dir, several=len(run.mitigations) > 1)
    return figs


def _role_mitigations(doc: Doc, res: LabResults, role: str, dirs: dict[str, Path], figs_dir: Path,
                      several: bool) -> list[tuple[str, str]]:
    """The table, the verdict and the frontier figure of the mitigations on one aligned checkpoint."""
    base, aligned = res.roles["base"], res.roles.get(role)
    if several:
        doc.h(3, f"On {role}")
    mitigated = {n: m for n, d in dirs.items() if (m := read_metrics(d)) is not None}
    if not mitigated or aligned is None:
        doc.p(f"No mitigation of `{role}` was evaluated (or `{role}` has no evaluation).")
        return []
    rows_in = [("base", base), ("sft", res.roles.get("sft") or {}), (f"{role} (aligned)", aligned), *mitigated.items()]
    gap_cis = gap_intervals(res, {n: dirs[n] for n in mitigated}, role)
    header = ["decoding", *[f"{label} [95% CI]" for label, _ in DIVERSITY[:2]], "gap TF-IDF", "gap attr. entropy",
              *[label for label, _ in DIVERSITY[2:]], *[label for label, _ in QUALITY], "meets target",
              "meets it on the annotator's score"]
    vs = [n for n, m in mitigated.items() if (m.get("meta") or {}).get("prompt_format") == "verbalized"]
    # which rules meet the target, on the reward model's score and on the annotator's: decided once, for the table
    # and the sentence under it
    meets = {q: [n for n, m in mitigated.items() if meets_target(m, aligned, base, q)] for q in (REWARD, ANNOTATOR)}
    table = []
    for name, m in rows_in:
        is_mit = name in mitigated

        def value(k: str) -> str:
            return "(plain prompt)" if _repeats_aligned(name, vs, k) else fmt(m.get(k), ci_of(m, k))

        cells = [name] + [value(k) for _, k in DIVERSITY[:2]]
        cells += ["" if not is_mit or _repeats_aligned(name, vs, k) else
                  fmt(gap_closed(m.get(k), aligned.get(k), base.get(k)), gap_cis.get((name, k))) for k in TARGET_KEYS]
        cells += [value(k) for _, k in DIVERSITY[2:]] + [fmt(m.get(k), ci_of(m, k)) for _, k in QUALITY]
        cells += [("**yes**" if name in meets[q] else "no") if is_mit else "" for q in (REWARD, ANNOTATOR)]
        table.append(cells)
    doc.table(header, table)
    if vs:
        doc.p(f"{', '.join(vs)}: verbalized sampling asks for 5 personas (attribute lines, no review) with their "
              "probabilities per call; its parse rate counts personas, and its reward and base NLL are over the "
              "bios alone (a list of attribute lines is not an answer the reward model scores), so its reward is "
              "not the persona-and-bio mean of the other rows. The entropy and semantic probes keep their plain "
              "requests under it, so those columns would only repeat the aligned row.")
    best, gold = meets[REWARD], meets[ANNOTATOR]
    doc.p(f"On `{role}`, {len(best)} of {len(mitigated)} rules meet the target" + (f" ({', '.join(best)})" if best else "")
          + f"; judged by the annotator's score instead of the reward model's, {len(gold)} of {len(mitigated)}"
          + (f" ({', '.join(gold)})" if gold else "") + ". The table is the measured frontier: what each rule buys "
          "back, and what it costs.")
    refs = {"base": base, "sft": res.roles.get("sft") or {}, f"{role} (aligned)": aligned}
    name = f"mitigation_frontier_{role}.png" if several else "mitigation_frontier.png"
    path = mitigation_frontier(mitigated, refs, figs_dir / name)
    return [(f"figures/{path.name}", f"diversity against quality (reward model; annotator): each decoding rule on "
                                     f"{role}'s final checkpoint")]


def _repeats_aligned(name: str, vs: list[str], key: str) -> bool:
    """Verbalized sampling (rows ``vs``) changes the persona prompt only: its other columns are the aligned row's."""
    return name in vs and not key.startswith("persona/")


def steer_section(doc: Doc, run: LabRun) -> None:
    """The SFT model's creativity score against the world's true surprisal, per layer (eval/steer.py's steer.json)."""
    import json

    doc.h(3, "Creativity steering: does the score track surprisal?")
    path = run.steer / "steer.json" if run.steer is not None else None
    if path is None or not path.is_file():
        doc.p("No steering validation in this lab (the `steer/sft` job did not run).")
        return
    s = json.loads(path.read_text())

    def cell(row: dict, key: str) -> str:
        r = row.get(key)
        if not r or not r.get("n"):
            return "no parsed persona" if r else ""
        return f"{fmt(r['rho'], (r['ci_lo'], r['ci_hi']))} (n {r['n']})"

    rows = [[layer, cell(row, "samples_surprisal_spearman"), cell(row, "samples_surprisal_no_names_spearman"),
             cell(row, "world_surprisal_spearman")] for layer, row in sorted(s["layers"].items(), key=lambda kv: int(kv[0]))]
    where = {"answers": "over the tokens of its own answers (sampled at T = 1) to", "last": "at the last prompt token of",
             "mean": "over the prompt tokens of"}.get(s.get("position", "last"), "at")
    doc.p(f"The creativity direction a (Olson et al. 2024) is the SFT model's mean residual activation {where} the "
          "world's \"unusual persona\" requests minus that on its \"ordinary persona\" requests, "
          "per layer (unit length); a text's score is the cosine of its mean activation with a. The world knows each "
          "persona's true surprisal, -log P_world of its attribute values, so the score can be checked: Spearman "
          "correlation between score and surprisal, 95% bootstrap interval, on the SFT model's own parsed persona "
          "samples and on personas drawn from the world itself. The bar for a usable direction (docs/evaluation.md, "
          "\"Creativity steering\"): > 0.3 with an interval above 0 on the SFT samples.")
    doc.table(["layer", "SFT samples", "SFT samples, surprisal without names", "world personas"], rows)
    a, b = s.get("answers_creative"), s.get("answers_boring")
    if a and b and a.get("n_scored") and b.get("n_scored"):  # does the model tell the two requests apart?
        doc.p(f"The answers the direction was read from: asked for an unusual persona the SFT model wrote personas of "
              f"mean true surprisal {a['surprisal_mean']:.1f} nats ({a['n_scored']} of {a['n']} parsed), asked for an "
              f"ordinary one {b['surprisal_mean']:.1f} ({b['n_scored']} of {b['n']}).")
