"""Plant a typicality bias in the lab's own pairs and check that eval/typicality.py recovers it.

    python scripts/typicality_recovery.py --pairs artifacts/pairs/<hash>/pairs.jsonl \
        --base artifacts/base/<hash> --alphas 0 0.01 0.05 --reduce sum mean

The answers of each pair are kept; only the labels are redrawn, by the world's annotator with
``typicality=alpha`` (its Bradley-Terry draw and the pairs stage's log pi_ref rule, ``typicality.scored`` for each ``--reduce``), with its own
``--label-seed``: the file's chosen/rejected order was set by the pairs stage's draws, and
reusing those uniform numbers on that order would tie the new labels to the old picks (labels
more deterministic than Bradley-Terry: every coefficient came out about twice too large).
Each relabelled file is then given to the estimator's own code path (``typicality.estimate``),
with the annotator's quality difference as a covariate and without it. Prints a Markdown table:
planted alpha, how many labels the bias flipped, how often the chosen answer is the likelier
one, its length in tokens against the rejected one, and the estimates with 95% CIs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np


def lab_rows(path: Path) -> list[dict]:
    """The rows of a lab pairs.jsonl (``typicality.read_pairs``: one-line errors naming the line), each with a
    conversational prompt, as the pairs stage writes them."""
    from collapselab.errors import UserError
    from collapselab.typicality import read_pairs

    try:
        rows = read_pairs(path)
    except UserError as e:
        raise UserError(f"--pairs: {e}") from None
    plain = next((r["line"] for r in rows if isinstance(r["prompt"], str)), None)
    if plain is not None:
        raise UserError(f"--pairs={str(path)!r}: line {plain} has a plain-string prompt; expected a lab pairs.jsonl "
                        "(prompt, chosen and rejected lists of {role, content} messages)")
    return rows


def main() -> None:
    from collapselab.cli import ArgumentParser, existing_file, output_file, real, whole
    from collapselab.config.align import check_model_folder, looks_like_path
    from collapselab.config.common import SEED_MAX
    from collapselab.config.typicality import REDUCTIONS

    ap = ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", required=True, help="a lab pairs.jsonl (conversational rows)")
    ap.add_argument("--base", required=True, help="the pretrained base model folder (pi_ref)")
    ap.add_argument("--alphas", type=real(0.0), nargs="+", default=[0.0, 0.01, 0.05])
    ap.add_argument("--reduce", nargs="+", default=["sum", "mean"], choices=list(REDUCTIONS))
    ap.add_argument("--seed", type=whole(0, SEED_MAX), default=0,
                    help=f"the estimator's seed (pair orientation), 0 to {SEED_MAX}")
    ap.add_argument("--label-seed", type=whole(0), default=1, help="the relabelling draws (not the pairs stage's 0)")
    ap.add_argument("--out", default=None, help="write the table's rows as JSON here")
    args = ap.parse_args()

    pairs = existing_file("--pairs", args.pairs)
    if looks_like_path(args.base):
        check_model_folder(args.base, "--base")
    if args.out:
        output_file("--out", args.out)
    rows = lab_rows(pairs)

    from collapselab.config.typicality import TypicalityConfig
    from collapselab.errors import UserError
    from collapselab.models import load_causal_lm
    from collapselab.probes.generation import HFLanguageModel
    from collapselab.typicality import estimate, reference_prompt, scored
    from collapselab.world.annotator import Annotator

    user = [r["prompt"][-1]["content"] for r in rows]
    a = [r["chosen"] for r in rows]
    b = [r["rejected"] for r in rows]
    model, tok = load_causal_lm(args.base)
    lm = HFLanguageModel(model, tok, name="base")
    prompts = [reference_prompt(u) for u in user]
    sums_of: dict[tuple, tuple] = {}  # scored texts -> their log pi_ref sums and token counts ("sum" and "mean" share)

    def score(texts: list[str]) -> tuple:
        if tuple(texts) not in sums_of:
            sums_of[tuple(texts)] = lm.continuation_logprobs(prompts, texts)
        return sums_of[tuple(texts)]

    _, na = score(a)
    _, nb = score(b)
    ntok = {x: n for x, n in zip(a + b, list(na) + list(nb))}  # whole answers' tokens, for the length column

    def logp(reduce: str) -> tuple[np.ndarray, np.ndarray]:
        """log pi_ref of each pair's answers by the annotator's own rule (``typicality.scored``)."""
        out = []
        for xs in (a, b):
            rules = [scored(reduce, u, x) for u, x in zip(user, xs)]
            sums, counts = score([r.text for r in rules])
            vals = [r.value(t, n) for r, t, n in zip(rules, sums, counts)]
            out.append(np.array([0.0 if v is None else v for v in vals]))  # an empty answer: no typicality
        return out[0], out[1]

    plain = Annotator().label_pairs(user, a, b, seed=args.label_seed)
    quality = {(q, x): Annotator().score(q, x) for q, x in zip(user + user, a + b)}

    out = []
    print("| reduce | planted alpha | labels flipped | chosen likelier | chosen - rejected tokens | "
          "estimate with quality (95% CI) | without quality (95% CI) |")
    print("|---|---|---|---|---|---|---|")
    for reduce in args.reduce:
        la, lb = logp(reduce)
        for alpha in args.alphas:
            ann = Annotator(typicality=alpha)
            lab = ann.label_pairs(user, a, b, seed=args.label_seed, ref_logp_a=list(la), ref_logp_b=list(lb))
            flipped = np.mean([x["chosen"] != y["chosen"] for x, y in zip(lab, plain)])
            chose_a = np.array([x["chosen"] == ai for x, ai in zip(lab, a)])
            gap = np.where(chose_a, la - lb, lb - la)
            tokens = np.mean([ntok[x["chosen"]] - ntok[x["rejected"]] for x in lab])
            fits = {}
            with tempfile.TemporaryDirectory() as tmp:
                f = Path(tmp) / "pairs.jsonl"
                f.write_text("".join(json.dumps({
                    "prompt": r["prompt"], "chosen": [{"role": "assistant", "content": x["chosen"]}],
                    "rejected": [{"role": "assistant", "content": x["rejected"]}],
                    "quality_delta": quality[(q, x["chosen"])] - quality[(q, x["rejected"])]}) + "\n"
                    for r, q, x in zip(rows, user, lab)))
                for key in ("quality_delta", None):
                    cfg = TypicalityConfig(pairs=str(f), ref=args.base, reduce=reduce, prompt_format="plain",
                                           quality_key=key, batch_size=32, device="cpu", seed=args.seed,
                                           temperature=ann.temperature)
                    try:
                        fits[key] = estimate(cfg, Path(tmp) / "run")
                    except UserError as e:  # e.g. perfectly separated picks on a small file
                        fits[key] = {"alpha": float("nan"), "ci": [float("nan")] * 2, "error": str(e)}
            q_fit, n_fit = fits["quality_delta"], fits[None]
            row = {"reduce": reduce, "alpha": alpha, "flipped": float(flipped), "chosen_likelier": float(np.mean(gap > 0)),
                   "token_gap": float(tokens), "with_quality": q_fit, "without_quality": n_fit}
            out.append(row)
            print(f"| {reduce} | {alpha:g} | {flipped:.1%} | {np.mean(gap > 0):.1%} | {tokens:+.1f} | "
                  f"{q_fit['alpha']:.4f} ({q_fit['ci'][0]:.4f} to {q_fit['ci'][1]:.4f}) | "
                  f"{n_fit['alpha']:.4f} ({n_fit['ci'][0]:.4f} to {n_fit['ci'][1]:.4f}) |", flush=True)
    if args.out:
        from collapselab.io import atomic_write_json

        atomic_write_json(Path(args.out), {"pairs": args.pairs, "base": args.base, "rows": out})


if __name__ == "__main__":
    from collapselab.cli import one_line_errors

    with one_line_errors():
        main()
