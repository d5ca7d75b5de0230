"""The lab report: ``<report_dir>/index.html`` and ``report.md``, every number read from the run's files.

Sections follow the paper (Experiments 3, 2, 1 and section 5.1) for base vs SFT vs PPO vs
DPO, then what the paper lacks: diversity against beta (beside the bandit's closed-form
prediction), against training step and against quality, predicted vs observed collapse (with the
labels' typicality bias when ``lab.typicality`` > 0) and the alpha = 0 control (``lab.control``).
The report reads a ``LabRun`` (what the job graph made, by path) and loads no model.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from collapselab.config.typicality import REDUCTIONS
from collapselab.io import atomic_write_json, atomic_write_text
from collapselab.lab import figures as F
from collapselab.lab.beta import AS_PREDICTED, MIXED, NOT_SEPARATED, ONE_BETA, OPPOSITE, beta_rows
from collapselab.lab.control import control_section
from collapselab.lab.mitigate import mitigation_section, steer_section
from collapselab.lab.paper import PARSE_FLOOR, config_number, is_aligned, lab_value, rows_json, side_by_side
from collapselab.lab.predict import learned_alpha, predicted_vs_observed, with_sentiment
from collapselab.lab.render import Doc, digits_apart
from collapselab.lab.render import ci_of as _ci
from collapselab.lab.render import fmt as _fmt
from collapselab.lab.results import (LabResults, LabRun, collect, entropy_per_completion, persona_samples,
                                     read_score_file)
from collapselab.metrics import METRICS
from collapselab.optimum import gamma
from collapselab.layout import read_meta

DIVERSITY_KEYS = ["entropy/top5_bits_mean", "semantic/tfidf_cos_mean", "persona/mbti_coverage",
                  "persona/n_nationalities", "lexical/distinct_2"]
STEP_KEYS = ["entropy/top5_bits_mean", "lexical/distinct_2"]
STEP_REF_KEYS = ["entropy/top5_bits_mean"]  # a mean over samples: comparable across sample sizes
MIN_ESS = 10  # below this effective sample size the exp(R/beta)-weighted estimate is not a prediction


class _Figs:
    """Copies figures into ``<report>/figures`` and hands back relative paths."""

    def __init__(self, report_dir: Path):
        self.dir = report_dir / "figures"
        self.dir.mkdir(parents=True, exist_ok=True)

    def copy(self, src: Path, name: str) -> str | None:
        if not src or not Path(src).exists():
            return None
        shutil.copyfile(src, self.dir / name)
        return f"figures/{name}"

    def path(self, name: str) -> Path:
        return self.dir / name


def _role_figure(res: LabResults, figs: _Figs, roles: list[str], stem: str) -> list[tuple[str, str]]:
    out = []
    for role in roles:
        if role in res.dirs:
            rel = figs.copy(res.dirs[role] / "figures" / f"{stem}.png", f"{role}_{stem}.png")
            if rel:
                out.append((rel, role))
    return out


def _compare_roles(res: LabResults) -> list[str]:
    """base, SFT, the strongest (smallest-beta) PPO and DPO runs and rejection sampling: the paper's base vs
    aligned."""
    roles = [r for r in ("base", "sft") if r in res.roles]
    for algo in ("ppo", "dpo"):
        al = res.aligned(algo)
        if al:
            roles.append(al[0])
    return roles + [r for r in ("rs",) if r in res.roles]


def build_report(run: LabRun, cfg: Any) -> Path:
    """Write the report for ``run`` into ``cfg.report_dir`` (``cfg``: the lab config); returns index.html."""
    report_dir = Path(cfg.report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    figs = _Figs(report_dir)
    res = collect(run)
    roles = _compare_roles(res)
    doc = Doc()
    doc.h(1, "collapselab report: the price of alignment on the tiny world")
    alpha = f"; annotator typicality alpha {run.typicality:g}" if run.typicality > 0 else ""
    doc.p(f"Preset `{cfg.lab.name}`; PPO betas {list(cfg.lab.ppo_betas)}, DPO betas {list(cfg.lab.dpo_betas)}{alpha}; "
          f"built {time.strftime('%Y-%m-%d %H:%M')}. Every number and figure below is read from this run's "
          f"metrics files under `{cfg.out_dir}`; none is typed in. The tiny world is not Llama-2: "
          f"{_model_size(run)} on a generated corpus, aligned against a simulated annotator whose quality score "
          "ignores who a customer is" + (" (its typicality term does not)" if run.typicality > 0 else "") + ". What can transfer is the direction of each effect, not its size.")
    world = _world_documents(run)
    paper = _paper_section(doc, res, roles, run.typicality, world)
    _experiment_sections(doc, res, figs, roles)
    _beta_section(doc, res, figs, run)
    _prediction_section(doc, res, figs, run)
    mechanism = control_section(doc, res, run, bool(cfg.lab.control))
    doc.figures(mitigation_section(doc, res, run, figs.dir))
    steer_section(doc, run)
    _toy_section(doc, figs, run)
    _times_section(doc, run)
    md, page = doc.markdown(), doc.html("collapselab report")
    # the verdicts as data, for tools that read several labs (scripts/across_seeds.py: one lab per seed): the paper
    # table's rows and the control's comparisons (``mechanism``)
    atomic_write_json(report_dir / "verdicts.json", {
        "lab": cfg.lab.name, "out_dir": str(cfg.out_dir), "model": [str(o) for o in cfg.lab.model],
        "align": [str(o) for o in cfg.lab.align],
        "typicality": run.typicality, "parse_floor": PARSE_FLOOR,
        "parse_rate": {r: res.roles[r].get("persona/parse_rate") for r in roles if r in res.roles},
        "paper": paper, "world_documents": world, "mechanism": mechanism})
    atomic_write_text(report_dir / "report.md", md)
    return atomic_write_text(report_dir / "index.html", page)


def _model_size(run: LabRun) -> str:
    """"a 1.90M-parameter model", read from the base checkpoint's metadata (a plain phrase without it)."""
    n = read_meta(run.base).get("n_params")
    return f"a {n / 1e6:.2f}M-parameter model" if n else "a small model"


def _world_documents(run: LabRun) -> dict | None:
    """The harness's metrics on the world's own documents (``truth.json``'s ``documents``), or None."""
    if run.world is None or not (run.world / "truth.json").exists():
        return None
    from collapselab.world.build import read_truth

    return read_truth(run.world)["documents"]


def _gender_direction(base: dict, aligned: dict[str, dict]) -> str:
    """Which way the gender row moved: the table shows |female share - 0.5|, which hides the side."""
    shares = {r: m.get("persona/female_share") for r, m in {"base": base, **aligned}.items()}
    if any(v is None for v in shares.values()):
        return ""
    return ("The gender row counts the imbalance, not its side; the female shares are "
            + ", ".join(f"{r} {v:.2f}" for r, v in shares.items())
            + " (the paper's aligned model went female; in the tiny world the side is the draw of the modes the "
              "collapse lands on, docs/alignment.md, \"Which way gender goes\").")


def _paper_section(doc: Doc, res: LabResults, roles: list[str], typicality: float = 0.0,
                   world: dict | None = None) -> list[dict]:
    """The paper table and its reading; returns its rows as data (``paper.rows_json``). ``world``: the same
    metrics on the world's own documents (``world.documents``), shown as a column before the lab's base."""
    doc.h(2, "Side by side with the paper")
    base = res.roles.get("base", {})
    aligned = {r: res.roles[r] for r in roles if r not in ("base",)}
    rows = side_by_side(base, aligned)
    header = ["experiment", "measure", "paper base", "paper aligned"]
    header += [f"world ({world['n']} documents)"] if world else []
    header += ["lab base [95% CI]"] + [f"lab {r} [95% CI]" for r in aligned]
    table = []
    for row in rows:
        h = row["headline"]
        cells = [h.experiment, h.what + (f" ({h.note})" if h.note else ""), h.paper_base, h.paper_aligned]
        if world:
            v = lab_value(world, h)
            cells.append(_fmt(v) if v is not None else "needs a model" if h.key.startswith("entropy/") else "-")
        # 3 significant digits, more where the row's intervals would print alike (entropy near log2 5 = 2.32)
        d = digits_apart([row["base_ci"], *(a["ci"] for a in row["aligned"].values())])
        cells.append(_fmt(row["base"], row["base_ci"], d) + (f": **{row['base_failed']}**" if row["base_failed"] else ""))
        for r in aligned:
            a = row["aligned"][r]
            cells.append(f"{_fmt(a['value'], a['ci'], d)}: **{a['verdict']}**")
        table.append(cells)
    doc.table(header, table)
    verdicts = [row["aligned"][r]["verdict"] for row in rows for r in aligned if is_aligned(r)]
    n_rep = sum(v == "reproduces" for v in verdicts)
    n_none = sum(v == "no interval" for v in verdicts)
    n_failed = sum(v.startswith("failed run") for v in verdicts)
    n_censored = sum(v.startswith("censored") for v in verdicts)
    review_censored = any(row["headline"].key == "persona/review_kmeans_k" and row["aligned"][r]["verdict"].startswith(
        "censored") for row in rows for r in aligned if is_aligned(r))
    per_col = "; ".join(f"{r}: {sum(row['aligned'][r]['verdict'] == 'reproduces' for row in rows)} of {len(rows)}"
                        for r in aligned if is_aligned(r))
    doc.p(f"Across the aligned columns (PPO and DPO at their smallest beta, and rejection sampling when the lab ran "
          f"it), {n_rep} of {len(verdicts)} cells move the way the paper reports ({per_col}). A cell "
          "**reproduces** only when its 95% interval lies wholly beyond the base interval in the paper's direction; a move inside overlapping intervals is \"no clear change\", and "
          "\"opposite\" means the intervals separate the other way. Every row has an interval: bootstrap over "
          "samples for means, spreads, counts, coverage and cluster numbers (k re-chosen by silhouette on each "
          "resample), Wilson for shares. A resample repeats samples, so the raw bootstrap of a count (distinct "
          "nationalities, MBTI types, k) runs low; its percentiles are re-centred on the observed value and "
          "rounded outward to whole counts, and base and aligned are bootstrapped alike, so intervals compare like with like. The minimum sentiment's "
          "interval starts at the observed minimum (a resample's minimum is never lower). "
          + (f"{n_none} cell(s) come from metrics files without intervals and get no verdict. " if n_none else "")
          + (f"{n_failed} persona cell(s) belong to checkpoints that parse fewer than {PARSE_FLOOR:.0%} of their "
             "personas, or are compared with a base that does: a model that cannot write the format is a failed run, "
             "and its attribute counts get no verdict. " if n_failed else "")
          + (f"{n_censored} cluster cell(s) are censored: k is the silhouette's best among 2..k_max, and theirs is "
             "k_max itself, so their own optimum may lie higher and an unchanged k says nothing (search further with "
             "persona.k_max / semantic.k_max). " if n_censored else "")
          + ("The verbatim repetition behind a censored review k is counted by `review_distinct_sentence_share` in "
             "the Experiment 1 table (distinct review sentences / sentences). " if review_censored else "")
          + ("The annotator's quality score ignores gender and nationality: they move through their coupling with "
             "what it rewards and, nationality included, through the typicality term alpha log pi_base (the "
             "control section tells the two apart); gender has no typical value in the world (half and half), so "
             "it need not reproduce. " if typicality > 0 else
             "Attributes the annotator ignores (gender, nationality) can only move through their coupling with what "
             "it rewards, so they need not reproduce. ")
          + _gender_direction(base, aligned))
    if world:
        doc.p(f"The world column is the same measure on {world['n']} of the world's own documents of each kind (fresh "
              "draws of its generators, `truth.json`), so a row reads world -> base -> aligned: how much of the world's "
              "variety the base learned, and how much alignment then removed. A dash: the measure needs embeddings "
              "(cluster k); top-5 entropy needs a model's next-token distribution.")
    doc.p("Each column is one training run, and its intervals are over its samples, not over training runs: a cell "
          "can turn on the seed, most of all the lowest sentiment, a minimum over single reviews. This report's "
          "verdicts are also in `verdicts.json` beside it; `python scripts/across_seeds.py` sets the verdicts of labs "
          "run at other seeds (`'lab.align=[\"seed=1\"]'`) beside these and counts, cell by cell, in how many the "
          "paper's direction holds.")
    return rows_json(rows)


def _experiment_sections(doc: Doc, res: LabResults, figs: _Figs, roles: list[str]) -> None:
    doc.h(2, "Experiment 3: token entropy (eq. 3.2)")
    per_role = {r: entropy_per_completion(res.dirs[r]) for r in roles}
    per_role = {r: v for r, v in per_role.items() if v}
    if per_role:
        from collapselab.probes.figures import entropy_boxplot  # torch, matplotlib

        box = entropy_boxplot(per_role, figs.path("entropy_boxplot.png"))
        doc.figures([(f"figures/{box.name}", "top-5 entropy per completion, bits (Figure 11)")])
    doc.figures(_role_figure(res, figs, roles, "entropy_sample"))
    if any("entropy/base_nll" in res.roles[r] for r in roles):
        doc.table(["checkpoint", "stories", "top-5 entropy, bits [95% CI]", "tokens per story",
                   "base NLL, nats/token [95% CI]"],
                  [[r, _fmt(config_number(res.roles[r], "entropy.n_samples")),
                    _fmt(res.roles[r].get("entropy/top5_bits_mean"), _ci(res.roles[r], "entropy/top5_bits_mean")),
                    _fmt(res.roles[r].get("entropy/tokens_mean")),
                    _fmt(res.roles[r].get("entropy/base_nll"), _ci(res.roles[r], "entropy/base_nll"))] for r in roles])
        doc.p("Base NLL is how unlikely the pretrained base finds each story (the base row: its own stories), a "
              "fluency check the paper does not make. A model uncertain because its text is broken (words dropped or "
              "swapped, as a policy that drifts far from its reference at a small KL beta does) has a high top-5 "
              "entropy without having more ways to tell a story: read a high entropy beside a high base NLL as "
              "breakage. The paper averages 100 stories per model; its gap (1.48 against 0.96 bits) is many times "
              "the tiny world's, whose intervals need more stories to resolve (entropy.n_samples).")
    doc.h(2, "Experiment 2: semantic diversity of \"Grace Hopper was\"")
    doc.table(["checkpoint", "TF-IDF cos mean (sd)", "embedding cos", "k-means k [95% CI]", "silhouette at k", "Vendi"],
              [[r, f"{_fmt(res.roles[r].get('semantic/tfidf_cos_mean'))} ({_fmt(res.roles[r].get('semantic/tfidf_cos_sd'))})",
                _fmt(res.roles[r].get("semantic/embed_cos_mean")),
                _fmt(res.roles[r].get("semantic/kmeans_k"), _ci(res.roles[r], "semantic/kmeans_k")),
                _fmt(res.roles[r].get("semantic/silhouette")),
                _fmt(res.roles[r].get("semantic/vendi"))] for r in roles])
    doc.p("The silhouette says how distinct the chosen clusters are (-1 to 1; near 0: no separation): the paper's "
          "\"scattered\" base against \"four distinct clusters\" (sec. 4.2, Fig. 10) is a low against a high "
          "silhouette. Near 0 the choice of k is weakly determined, so its interval is wide.")
    doc.figures(_role_figure(res, figs, roles, "semantic_tsne"))
    doc.h(2, "Experiment 1: customer personas and reviews")
    keys = ["persona/parse_rate", "persona/mbti_coverage", "persona/n_nationalities", "persona/n_first_names",
            "persona/age_sd", "persona/female_share", "persona/sentiment_min", "persona/sentiment_mean",
            "persona/review_chars_mean", "persona/review_kmeans_k", "persona/review_distinct_sentence_share",
            "persona/attribute_entropy_mean",
            "persona/attribute_entropy_mean_truth"]
    doc.table(["checkpoint", *[k.split("/")[1] for k in keys]],
              [[r, *[_fmt(res.roles[r].get(k), _ci(res.roles[r], k)) for k in keys]] for r in roles])
    doc.p("attribute_entropy_mean: mean normalised entropy of first name, nationality, ethnicity, MBTI and age "
          "band (1 = as spread as the sample size and the world's categories allow); its truth is the same "
          "statistic on as many of the world's own personas as the checkpoint parsed.")
    doc.figures(_role_figure(res, figs, roles, "persona_attributes"))
    doc.figures(_role_figure(res, figs, roles, "persona_review_tsne"))
    doc.h(2, "Section 5.1: attractor states")
    doc.table(["checkpoint", "recovery rate", "recovery tokens"],
              [[r, _fmt(res.roles[r].get("attractor/recovery_rate")),
                _fmt(res.roles[r].get("attractor/recovery_tokens_mean"))] for r in roles])
    doc.figures(_role_figure(res, figs, roles, "attractor_perturbed"))
    doc.h(2, "Quality beside diversity")
    qk = ["quality/reward_mean", "quality/annotator_mean", "quality/base_nll", "quality/toxicity_rate"]
    roles = sorted(res.roles, key=lambda r: ({"base": 0, "sft": 1}.get(r, 2), r))  # base and SFT first, as elsewhere
    doc.table(["checkpoint", *qk], [[r, *[_fmt(res.roles[r].get(k), _ci(res.roles[r], k)) for k in qk]] for r in roles])
    doc.p("reward_mean: the lab's reward model, trained on the annotator's labels (typicality bias included); "
          "annotator_mean: the annotator's own score of the same answers without the bias, the quality the labels "
          "were drawn from. Where the reward rises and the annotator's score does not, the policy has learned what "
          "the reward model rewards beyond the annotator's quality (the bias it learned, or its error).")


def _beta_section(doc: Doc, res: LabResults, figs: _Figs, run: LabRun) -> None:
    start = run.start_role if run.start_role in res.roles else None
    refs = {r: res.roles[r] for r in ("base", "sft", start) if r in res.roles}
    finals = [{**f, "metrics": f["metrics"]} for f in res.finals]
    optimum = None
    bandit = run.toy_bandit / "bandit.json" if run.toy_bandit else None
    if bandit and bandit.exists():
        optimum = json.loads(bandit.read_text())["optimum_curve"]
    doc.h(2, "Diversity against KL beta")
    if finals:
        p = F.diversity_vs(finals, DIVERSITY_KEYS, "beta", refs,
                           figs.path("diversity_vs_beta.png"), log_x=True, optimum=optimum)
        doc.figures([(f"figures/{p.name}", "final checkpoint of each run; dashed: base, SFT and the start model; "
                      "dotted: the bandit's closed-form optimum")])
    pi0 = _START_NAMES.get(run.start_role, run.start_role)
    doc.p(f"Smaller beta lets the policy move further from the model it starts from and is held to, here the {pi0} "
          "model (`lab.align_start`); the KL-regularised optimum pi0 exp(R/beta)/Z is pi0 at large beta and "
          "concentrates on the reward's best answers as beta shrinks, so it predicts less diversity at smaller beta, "
          "from pi0's level down (the dotted line shows it for the toy bandit). What the runs did:")
    _beta_table(doc, finals, res.roles.get("base"), res.roles.get(start) if start else None, pi0)
    doc.h(2, "Diversity against training step")
    if res.steps:
        # reference lines (base, SFT) only for a per-sample mean: the steps' light probe set samples fewer texts than
        # the final evaluations, and distinct-2, pooled over all texts, falls as texts are added (not comparable)
        step_refs = {r: {k: m[k] for k in STEP_REF_KEYS if k in m} for r, m in refs.items() if r in ("base", "sft")}
        p = F.diversity_vs(res.steps, STEP_KEYS, "step", step_refs, figs.path("diversity_vs_step.png"))
        doc.figures([(f"figures/{p.name}", "every checkpoint of every run (light probe set); dashed: base and SFT "
                      "for the mean entropy only, since distinct-2 pooled over the final evaluations' larger sample "
                      "is not comparable")])
    doc.h(2, "Diversity against quality")
    if finals:
        p = F.frontier(finals, refs, "quality/reward_mean", "entropy/top5_bits_mean", figs.path("frontier.png"))
        doc.figures([(f"figures/{p.name}", "reward-model score vs token entropy")])


_START_NAMES = {"sft": "SFT", "rs": "rejection-sampling (RS)"}


def _beta_table(doc: Doc, finals: list[dict], base: dict | None, start: dict | None, pi0: str) -> None:
    """The final runs by beta against the optimum's order and against the start model (lab/beta.py)."""
    keys = [*DIVERSITY_KEYS, "persona/attribute_entropy_mean"]
    rows = beta_rows(finals, start, keys, {k: METRICS[k].more_diverse for k in keys})
    if not rows:
        return
    betas = sorted({b for r in rows for b, *_ in r["runs"]})
    # one precision per measure, over both algorithms' rows: the base and the start model print alike in each
    digits: dict[str, int] = {}
    for key in {r["key"] for r in rows}:
        cis = [ci for r in rows if r["key"] == key for ci in (r["start"][1] if r["start"] else None,
                                                               *[ci for _, _, ci, _ in r["runs"]])]
        digits[key] = digits_apart([_ci(base, key) if base else None, *cis])
    table = []
    for r in rows:
        base_ci = _ci(base, r["key"]) if base else None
        d = digits[r["key"]]
        cells = {b: f"{_fmt(v, ci, d)} ({vs})" for b, v, ci, vs in r["runs"]}
        table.append([r["key"], r["algo"].upper(), _fmt(base.get(r["key"]), base_ci, d) if base else "n/a",
                      _fmt(*r["start"], d) if r["start"] else "n/a", *[cells.get(b, "") for b in betas], r["order"]])
    doc.table(["measure", "algorithm", "base", f"start: {pi0}", *[f"beta {b:g}" for b in betas], "order over beta"],
              table)
    n = len(rows)
    count = {o: sum(r["order"] == o for r in rows) for o in (AS_PREDICTED, OPPOSITE, NOT_SEPARATED, MIXED, ONE_BETA)}
    runs = [x for r in rows for x in r["runs"]]
    below = sum(vs == "less diverse" for *_, vs in runs)
    doc.p(f"Each run's cell says where its 95% interval sits against the {pi0} model's (less / more diverse, or no "
          f"clear change when they overlap); the last column reads the runs of one algorithm from small to large beta: "
          f"'{AS_PREDICTED}' when every neighbouring pair's intervals separate with the smaller beta less diverse, "
          f"'{OPPOSITE}' when they all separate the other way, '{NOT_SEPARATED}' when none does, '{MIXED}' when some "
          f"separate one way and some the other, '... for some betas' when some separate and the rest do not, and "
          f"'{ONE_BETA}' when the sweep has one beta, which has no order. Of these {n} rows, "
          + (f"{count[ONE_BETA]} have one beta; " if count[ONE_BETA] else "")
          + (f"{count[AS_PREDICTED]} follow the optimum's order, {count[OPPOSITE]} the opposite one, "
             f"{count[NOT_SEPARATED]} do not separate, {count[MIXED]} are mixed and "
             f"{n - sum(count.values())} separate for some betas only; " if count[ONE_BETA] < n else "")
          + f"{below} of {len(runs)} run cells are less diverse than the {pi0} model. "
          "Where the runs do not separate by beta, beta is not the knob that moved them in this lab: what they lost "
          "against the base they lost before or regardless of it (read their start column against the base line "
          "of the figure).")


def _prediction_section(doc: Doc, res: LabResults, figs: _Figs, run: LabRun) -> None:
    doc.h(2, "Predicted vs observed collapse")
    pi0 = _START_NAMES.get(run.start_role, run.start_role)
    if run.start_role not in res.dirs:
        doc.p(f"No evaluation of the {pi0} model (the policy PPO and DPO start from) found; skipped.")
        return
    ref_rows = persona_samples(res.dirs[run.start_role])
    texts = [r["text"] for r in ref_rows]
    ref_parsed = with_sentiment([r.get("parsed") for r in ref_rows])
    scored = read_score_file(run.start_scores, texts)  # the score/start job's file
    rewards = scored["scores"]
    observed = {}
    for f in res.finals:
        rows = persona_samples(res.dirs[f["role"]])
        observed[f["role"]] = (float(f["beta"]), with_sentiment([r.get("parsed") for r in rows]))
    rows = predicted_vs_observed(ref_parsed, rewards, observed)
    alpha, rows_a = run.typicality, None
    quality, log_ref = scored["quality"], scored["ref_logp"]
    if quality is not None and (alpha == 0 or log_ref is not None):  # the labels' own reward
        rows_a = predicted_vs_observed(ref_parsed, quality, observed, ref_log_ref=log_ref, alpha=alpha)
    doc.p("The KL-regularised optimum pi* = pi0 exp(R/beta)/Z implies each attribute's marginal after alignment "
          f"is pi0(a) E[exp(R/beta) | a] / Z. pi0 is the policy PPO and DPO start from and are held to by the KL term, "
          f"here the {pi0} model (`lab.align_start`); the marginal is estimated from its own persona samples, weighted "
          "by exp(R / beta) (ESS: the weights' effective sample size; small ESS = noisy prediction). "
          "At small beta the weights concentrate on a few samples "
          f"(ESS < {MIN_ESS}): those rows give no usable prediction and need more reference samples. "
          "'TV from sampling alone' is the 95th percentile of TV(predicted, observed) when both come from one "
          "distribution (a parametric bootstrap: the reference samples resampled and re-weighted, the observed "
          "marginal redrawn from the prediction at its own sample size); a disagreement at or below it is one "
          "these sample sizes cannot tell from agreement.")
    _reward_note(doc, run, res, alpha, quality is not None, log_ref is not None, pi0, scored["typicality_reduce"])
    if rows_a is not None and alpha > 0:
        ok = [i for i, p in enumerate(ref_parsed) if p]
        fit = learned_alpha(rewards[ok], quality[ok], log_ref[ok])
        if fit is not None:
            doc.p(f"What the reward model learned of the labels' typicality: fitted on the {fit['n']} parsed {pi0} "
                  f"personas, its score is {fit['quality_coef']:.3g} x the annotator's quality plus "
                  f"alpha = {_f3(fit['alpha'])} [{_f3(fit['ci_lo'])}, {_f3(fit['ci_hi'])}] (95% bootstrap CI) x "
                  f"log pi_base per unit of quality, against the labels' alpha = {alpha:g} "
                  "(`predict.learned_alpha`, a least-squares fit of R on the annotator's two terms).")
    if not rows:
        doc.p(f"No {pi0} persona sample parsed (or no aligned run was evaluated): nothing to predict.")
        return
    table, unreliable = [], []
    counts: dict[str, list[str]] = {}
    for i, r in enumerate(rows):
        variants = [("reward model", r)]
        if rows_a is not None:
            ra = rows_a[i]
            variants.append((f"annotator, alpha = {alpha:g}, gamma = {ra['gamma']:.3g}", ra))
        for label, v in variants:
            if v["ess"] < MIN_ESS:
                unreliable.append((v["run"], label, v["ess"]))
                continue
            verdict = _verdict(v)
            counts.setdefault(label.split(",")[0], []).append(verdict)
            cells = [v["attribute"], v["run"], *([label] if rows_a is not None else []), f"{v['ess']:.1f}",
                     *[_fmt(_tv(v.get(k))) for k in ("tv_ref_pred", "tv_ref_obs", "tv_pred_obs", "tv_noise95")],
                     verdict]
            table.append(cells)
    if unreliable:
        doc.p(unreliable_sentence(unreliable))
    if table:
        doc.p("Rows with ESS >= " + f"{MIN_ESS}: " + "; ".join(
            f"{name}: {sum(v == 'agree' for v in vs)} of {len(vs)} agree, "
            f"{sum(v == 'DISAGREE' for v in vs)} disagree beyond sampling noise" for name, vs in counts.items()) + ".")
        doc.table(["attribute", "run", *(["prediction"] if rows_a is not None else []), "ESS", f"TV({pi0}, predicted)",
                   f"TV({pi0}, observed)", "TV(predicted, observed)", "TV from sampling alone (95%)",
                   f"verdict (TV < 0.1, ESS >= {MIN_ESS})"], table)
    for attr in ("extraversion", "age band", "review sentiment", "nationality"):
        if any(r["attribute"] == attr for r in rows):
            p = F.predicted_observed(rows, attr, figs.path(f"predicted_{attr.replace(' ', '_')}.png"), rows_a,
                                     pi0=run.start_role.upper())
            what = f"{pi0}, predicted from the reward model and from the annotator, observed" if rows_a else \
                f"{pi0}, predicted, observed"
            doc.figures([(f"figures/{p.name}", f"{attr}: {what}")])


def _tv(x: float | None) -> float | None:
    """A total variation for the table: float round-off below 1e-12 (identical distributions) reads 0."""
    return 0.0 if x is not None and abs(x) < 1e-12 else x


def unreliable_sentence(rows: list[tuple[str, str, float]]) -> str:
    """One sentence for the predictions whose weights sit on fewer than MIN_ESS effective samples: which run and
    prediction, with the ESS range over its attributes. ``rows``: (run, prediction label, ESS) per table row."""
    ess: dict[tuple[str, str], list[float]] = {}
    for run, label, e in rows:
        ess.setdefault((run, label), []).append(e)
    parts = [f"{run} at {label} (ESS {min(v):.1f}" + (f"-{max(v):.1f}" if max(v) > min(v) else "") + ")"
             for (run, label), v in sorted(ess.items())]
    n = f"{len(rows)} row" + ("s" if len(rows) != 1 else "")
    return (f"Not in the table: {n} whose prediction rests on fewer than {MIN_ESS} effective samples, "
            f"so there is nothing to compare (the figures below still draw them): {'; '.join(parts)}.")


def _verdict(r: dict) -> str:
    """A table row's verdict; rows with ESS < MIN_ESS never reach the table (``unreliable_sentence``)."""
    gap = r["tv_pred_obs"]
    if gap is None:
        return "n/a"
    if gap < 0.1:
        return "agree"
    noise = r.get("tv_noise95")
    # the bar stays TV < 0.1; the note says whether the sample sizes could tell a gap this size from none
    return "DISAGREE (within sampling noise)" if noise is not None and gap <= noise else "DISAGREE"


def _f3(x: float) -> str:
    return f"{round(x, 3) + 0.0:.3f}"  # + 0.0: no "-0.000"


def _reward_note(doc: Doc, run: LabRun, res: LabResults, alpha: float, have_quality: bool, have_log_ref: bool,
                 pi0: str, reduce: str) -> None:
    """The two rewards R the prediction weights by, and gamma = 1 + alpha / beta per run."""
    if not have_quality or (alpha > 0 and not have_log_ref):
        missing = " or ".join(w for w, have in (("annotator quality", have_quality),
                                                 ("log pi_base", have_log_ref or alpha == 0)) if not have)
        doc.p(f"R is the reward model's score. `{run.start_scores}` holds no {missing} of the {pi0} personas "
              "(written by an older score job): the prediction from the annotator's own reward is not shown.")
        return
    gammas = ", ".join(f"{f['role']} (beta {float(f['beta']):g}): gamma = {gamma(float(f['beta']), alpha):.3g}"
                       for f in sorted(res.finals, key=lambda f: (f["algo"], float(f["beta"]))))
    typ = (f"r + alpha log pi_base(answer | request) with alpha = {alpha:g} (`lab.typicality`, Verbalized Sampling "
           f"eq. 1; log pi_base by the annotator's own rule: the request on its own line, log-probabilities "
           f"{REDUCTIONS.get(reduce, reduce)}, `annotator.typicality_reduce={reduce}`)") if alpha > 0 else "r (alpha = 0)"
    doc.p("Each run gets two predictions, one per reward R. **Reward model**: R is the reward model's score, the "
          "reward PPO maximises. **Annotator**: R is the reward of the labels themselves, the annotator's "
          f"Bradley-Terry score {typ}, r its quality score: the optimum of the objective the preference labels "
          "encode, which DPO targets directly and the reward model estimates. "
          f"Where pi0 and pi_base agree it is pi_base sharpened by gamma = 1 + alpha / beta (their eq. 3); here pi0 "
          f"is the {pi0} model and pi_base the pretrained base, so gamma is exact only where the two agree: "
          f"{gammas}. Where the reward-model prediction agrees with the observed marginal and the annotator's does "
          "not, the runs reached the optimum of the reward they were given, and that reward missed part of the "
          "labels' preference.")


def _toy_section(doc: Doc, figs: _Figs, run: LabRun) -> None:
    if run.toy_jeepiti is None or run.toy_bandit is None:
        return
    doc.h(2, "The toy bandit: Table 1 and the closed-form optimum")
    j = json.loads((run.toy_jeepiti / "jeepiti.json").read_text())
    doc.table(["t", "action", "reward", "advantage", "value", "probs"],
              [[str(r["t"]), str(r["action"]), _fmt(r["reward"]), _fmt(r["advantage"]), _fmt(r["value"]),
                ", ".join(f"{k} {v:.2f}" for k, v in r["probs"].items())] for r in j["rows"]])
    for e in j["errata"]:
        doc.p(erratum_sentence(e))
    bdir = run.toy_bandit
    doc.figures([x for x in [(figs.copy(bdir / "bandit_entropy_vs_beta.png", "toy_entropy_vs_beta.png"),
                              "final policy entropy vs beta, per update rule, with the optimum"),
                             (figs.copy(bdir / "bandit_dynamics.png", "toy_dynamics.png"), "PPO-rule dynamics")]
                 if x[0]])


def erratum_sentence(e: Any) -> str:
    """One Table 1 erratum (``toy.jeepiti.find_errata``: t, column, printed, rule, note) as a sentence,
    e.g. "Erratum at t = 2, column reward: reward column prints 0.8 but the printed advantage
    (0.4 + 0) - 1.0 uses 0.4." The note is already a sentence; without one, printed and rule values
    are spelled out. A plain string or an unknown dict is shown as text, never as a Python dict."""
    if not isinstance(e, dict):
        return f"Erratum: {e}"
    where = ", ".join(x for x in (f"t = {e['t']}" if "t" in e else "",
                                  f"column {e['column']}" if "column" in e else "") if x)
    head = f"Erratum at {where}" if where else "Erratum"
    if e.get("note") or e.get("message"):
        body = str(e.get("note") or e.get("message")).rstrip(".")
    elif "printed" in e and "rule" in e:
        body = f"Table 1 prints {_fmt(e['printed'])}; the stated rule gives {_fmt(e['rule'])}"
    else:
        body = "; ".join(f"{k} {_fmt(v)}" for k, v in e.items() if k not in ("t", "column"))
    return f"{head}: {body}." if body else f"{head}."


def _times_section(doc: Doc, run: LabRun) -> None:
    doc.h(2, "Stage times (this run)")
    reused = bool(run.job_times) and not any(run.job_times.values())  # a reused job's time is 0
    doc.p("Jobs run side by side (one CPU thread each), so a stage's wall time (first job's start to last job's "
          "end) overlaps other stages'. The report's own stage is still running as this page is written, so it is "
          "not listed; `stage_times.json` has it once the lab ends."
          + (" Every job was reused in this run, so the stages' walls below are only the seconds spent finding that; "
             "the job table's last column gives the times of the runs that did the work." if reused else ""))
    doc.table(["stage", "wall seconds"], [[k, f"{v:.1f}"] for k, v in run.stage_times.items()])
    last = run.last_job_times
    doc.p("A reused job took 0 s here; the last column gives the seconds it took when it last did its work "
          "(`stage_times.json`).")
    doc.table(["job", "seconds", "seconds when it last ran"],
              [[k, f"{v:.1f}", f"{last[k]:.1f}" if k in last else ""] for k, v in run.job_times.items()])
