"""Typicality bias in preference labels (Verbalized Sampling, Zhang et al. 2025, arXiv 2510.01171, eq. 1):
read a preference file, score its answers under pi_ref, fit alpha. ``eval/typicality.py`` is the
entry point; the fit itself is ``metrics.typicality.fit_typicality``.

What pi_ref is conditioned on is one rule for the whole project (``reference_prompt``): the
pairs stage's biased annotator scores answers the same way, so the estimator can recover the
alpha that was planted.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Iterator
from typing import Any

from collapselab.config.app import as_dict
from collapselab.errors import UserError

FIELDS = ("prompt", "chosen", "rejected")


def reference_prompt(request: str) -> str:
    """What a base model pi_ref reads before an answer: the request as plain text on its own line,
    the way it reads the world's documents (a base has no chat format of its own)."""
    return f"{request}\n"


# attributes_mean: a non-persona answer's per-token log pi_ref times this many tokens, the median length of the
# world's own stories and bios (63 and 64 tokens under the 8192-token base), so an answer of the world's length
# scores as under the sum, and a shorter one is not more typical for being short (docs/world.md)
ANSWER_TOKENS = 64


@dataclass(frozen=True)
class Scored:
    """What the typicality term takes of one answer: ``text``, whose log pi_ref(. | request) is summed over its
    tokens, and ``per_token``: None where that sum is the value, else the value is the mean per token times it."""

    text: str
    per_token: float | None = None

    def value(self, total: float, count: int) -> float | None:
        """log pi_ref from ``total`` (nats summed over ``text``'s tokens) and their ``count``; None where a per-token
        value is asked of an empty text."""
        if self.per_token is None:
            return total
        return None if count == 0 else total / count * self.per_token


def scored(reduce: str, request: str, answer: str) -> Scored:
    """The typicality term's rule for one answer, by ``reduce`` (``config.typicality.REDUCTIONS``): the whole
    ``answer`` summed (``sum``) or per token (``mean``); its lines before a review (``fields``:
    ``world.persona.attribute_lines``); or, for an answer the annotator reads as a persona, its attributes re-written in
    the world's layout and summed (``attributes``, ``attributes_mean``: ``world.persona.canonical_attributes``; the same
    text for the same values whatever the answer's length, layout or review, a value it lacks left blank), any other
    answer whole, summed (``attributes``) or per token times ``ANSWER_TOKENS`` (``attributes_mean``)."""
    from collapselab.world.annotator import answer_kind
    from collapselab.world.persona import attribute_lines, canonical_attributes

    if reduce == "fields":
        return Scored(attribute_lines(answer))
    if reduce in ("sum", "mean"):
        return Scored(answer, 1.0 if reduce == "mean" else None)
    if answer_kind(request, answer) == "persona":
        return Scored(canonical_attributes(answer))
    return Scored(answer, float(ANSWER_TOKENS) if reduce == "attributes_mean" else None)


# files read through HF datasets (a folder written by ``save_to_disk`` is read the same way); anything else is JSONL
DATASET_SUFFIXES = {".parquet": "parquet", ".csv": "csv", ".json": "json", ".arrow": "arrow"}


def read_pairs(path: str | Path, max_pairs: int | None = None, quality_key: str | None = None,
               split: str = "train") -> list[dict]:
    """The rows of a preference file as ``{"line", "prompt", "chosen", "rejected", "quality"}``.

    ``path``: a JSONL file (errors name its line); a ``.parquet`` / ``.csv`` / ``.json`` / ``.arrow`` file, or a
    folder written by ``datasets``' ``save_to_disk`` (its ``split`` if it holds several), read with HF datasets
    (errors name the row, counted from 1). ``prompt``: a string, or a list of ``{"role", "content"}`` turns (kept as
    the list); ``chosen`` / ``rejected``: a string, or a list holding one assistant turn (its content is taken). A row
    without ``prompt`` has it implicit in ``chosen`` and ``rejected`` (as in Anthropic HH): their shared start is
    taken as the prompt (TRL's ``maybe_extract_prompt``). Bad input is a one-line UserError naming the file and row.
    """
    p = Path(path)
    if p.is_dir() or (p.is_file() and p.suffix.lower() in DATASET_SUFFIXES and not _looks_like_jsonl(p)):
        records = _dataset_records(p, split, max_pairs)
    elif p.is_file():
        records = _jsonl_records(p)
    else:
        raise UserError(f"pairs={str(path)!r}: no such file, expected a JSONL, Parquet, CSV or JSON file or a "
                        "saved HF dataset folder")
    rows: list[dict] = []
    for lineno, where, raw in records:
        if max_pairs is not None and len(rows) >= max_pairs:
            break
        rows.append(_pair_row(raw, lineno, where, quality_key))
    if len(rows) < 2:
        raise UserError(f"pairs={str(path)!r}: {len(rows)} pair(s) found; need at least 2")
    return rows


def _looks_like_jsonl(p: Path) -> bool:
    """A ``.json`` file that holds one object per line (JSONL under another name): read line by line, so its
    errors name the line (a JSON array goes to HF datasets)."""
    if p.suffix.lower() != ".json":
        return False
    with p.open(encoding="utf-8", errors="replace") as f:
        head = f.read(4096).lstrip()
    return head.startswith("{")


def _jsonl_records(p: Path) -> Iterator[tuple[int, str, Any]]:
    with p.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{p}:{lineno}"
            try:
                yield lineno, where, json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{where}: not valid JSON ({e.msg})") from None


def _dataset_records(p: Path, split: str, max_rows: int | None) -> Iterator[tuple[int, str, Any]]:
    """The rows of a saved HF dataset folder (``split`` of a DatasetDict) or of a Parquet / CSV / JSON file."""
    import datasets

    level, bars = datasets.logging.get_verbosity(), datasets.utils.are_progress_bars_disabled()
    datasets.logging.set_verbosity(datasets.logging.CRITICAL)  # its own lines would break the one-line error
    datasets.disable_progress_bars()
    try:
        if p.is_dir():
            data = datasets.load_from_disk(str(p))
        else:
            data = datasets.load_dataset(DATASET_SUFFIXES[p.suffix.lower()], data_files=str(p), split="train")
    except Exception as e:  # noqa: BLE001 - datasets raises many kinds for a file it cannot read
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise UserError(f"pairs={str(p)!r}: HF datasets cannot read it ({first})") from None
    finally:
        datasets.logging.set_verbosity(level)
        if not bars:
            datasets.enable_progress_bars()
    if isinstance(data, datasets.DatasetDict):
        if split not in data:
            raise UserError(f"split={split!r}: pairs={str(p)!r} has the splits {', '.join(data)}")
        data = data[split]
    if max_rows is not None:
        data = data.select(range(min(max_rows, len(data))))
    for i, raw in enumerate(data, 1):
        yield i, f"{p} row {i}", raw


def _pair_row(raw: Any, lineno: int, where: str, quality_key: str | None) -> dict:
    if not isinstance(raw, dict):
        raise UserError(f"{where}: expected a JSON object with {', '.join(FIELDS)}")
    missing = [k for k in FIELDS if k not in raw and not (k == "prompt" and "chosen" in raw and "rejected" in raw)]
    if missing:
        raise UserError(f"{where}: row has no {', '.join(map(repr, missing))} (each row needs {', '.join(FIELDS)}, "
                        "or chosen and rejected that share their prompt)")
    if "prompt" not in raw:  # implicit: the shared start of chosen and rejected
        raw = {**raw, **_implicit_prompt(raw["chosen"], raw["rejected"], where)}
    row = {"line": lineno, "prompt": _prompt(raw["prompt"], where),
           "chosen": _answer(raw["chosen"], f"{where}: chosen"),
           "rejected": _answer(raw["rejected"], f"{where}: rejected"), "quality": None}
    if quality_key is not None:
        q = raw.get(quality_key)
        if isinstance(q, bool) or not isinstance(q, (int, float)):
            raise UserError(f"{where}: quality_key={quality_key!r} must name a number in every row, got {q!r}")
        row["quality"] = float(q)
    return row


def _implicit_prompt(c: Any, r: Any, where: str) -> dict:
    """``prompt`` / ``chosen`` / ``rejected`` of a row whose prompt is the shared start of its two answers. Turn
    lists: the shared leading turns (TRL's ``extract_prompt``). Strings: the shared start cut after its last
    "Assistant:" (Anthropic HH's layout), else at its last space or newline, so neither answer starts mid-word."""
    import os

    if not (isinstance(c, str) and isinstance(r, str) or isinstance(c, list) and isinstance(r, list)) or not (c and r):
        raise UserError(f"{where}: without a prompt, chosen and rejected must both be non-empty strings or turn lists")
    if c == r:
        raise UserError(f"{where}: chosen and rejected are the same")
    if isinstance(c, list):
        from trl.data_utils import extract_prompt

        out = extract_prompt({"chosen": c, "rejected": r})
        if not out["prompt"]:
            raise UserError(f"{where}: the row has no prompt, and chosen and rejected share no first turn")
        return out
    shared = os.path.commonprefix([c, r])
    marker = shared.rfind("Assistant:")
    cut = marker + len("Assistant:") if marker >= 0 else max(shared.rfind(" "), shared.rfind("\n"))
    if cut <= 0 or cut >= min(len(c), len(r)):
        raise UserError(f"{where}: the row has no prompt, and chosen and rejected share no start to take as one "
                        "(or one of them is all of the other's start)")
    return {"prompt": c[:cut], "chosen": c[cut:], "rejected": r[cut:]}


def _turns(value: Any, where: str) -> list[dict]:
    def is_turn(m: Any) -> bool:
        return isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)

    if not (isinstance(value, list) and value and all(map(is_turn, value))):
        raise UserError(f"{where}: expected a string or a list of {{'role', 'content'}} turns")
    return value


def _prompt(value: Any, where: str) -> str | list[dict]:
    return value if isinstance(value, str) else _turns(value, f"{where}: prompt")


def _answer(value: Any, where: str) -> str:
    if isinstance(value, str):
        return value
    turns = [m for m in _turns(value, where) if m["role"] == "assistant"]
    if len(turns) != 1 or len(value) != 1:
        raise UserError(f"{where}: expected one assistant turn, got {len(value)} turn(s)")
    return turns[0]["content"]


def prompt_text(prompt: str | list[dict], tok: Any, prompt_format: str = "plain") -> str:
    """What pi_ref is conditioned on. ``plain`` (for a base model, as the pairs stage scores):
    ``reference_prompt`` of the user text; ``chat`` (for a chat model): the conversation through
    the tokenizer's chat template with the generation prompt. A plain-string prompt is used as it is."""
    if isinstance(prompt, str):
        return prompt
    if prompt_format == "chat":
        if not getattr(tok, "chat_template", None):
            raise UserError("prompt_format=chat: ref has no chat template (use prompt_format=plain)")
        return tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
    return reference_prompt(user_text(prompt))


def user_text(prompt: str | list[dict]) -> str:
    """The request a row's prompt makes: a plain string as it is, else its user turns' contents, one per line."""
    return prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt if m["role"] == "user")


def score_pairs(lm: Any, rows: list[dict], reduce: str, batch_size: int, path: str,
                prompt_format: str = "plain") -> tuple[list[float], list[float]]:
    """log pi_ref(chosen | x) and log pi_ref(rejected | x) of each row, in nats (summed, or per token), by
    ``scored``'s rule for each answer."""
    prompts = [prompt_text(r["prompt"], lm.tok, prompt_format) for r in rows]
    raw = [r[k] for k in ("chosen", "rejected") for r in rows]
    requests = [user_text(r["prompt"]) for r in rows] * 2  # each answer's request, in raw's order
    rules = [scored(reduce, q, a) for q, a in zip(requests, raw)]
    answers = [x.text for x in rules]
    prompts2, lines2 = prompts + prompts, [r["line"] for r in rows] * 2
    for i, (p, a) in enumerate(zip(prompts2, answers)):  # positions past the context: outside ref's training
        add = not (lm.tok.bos_token and p.startswith(lm.tok.bos_token))
        n = lm.n_tokens(p, special=add) + lm.n_tokens(a, special=False)
        if n > lm.max_context:
            raise UserError(f"{path}:{lines2[i]}: prompt + answer is {n} tokens, longer than ref's context "
                            f"({lm.max_context}); remove the row or use a model with a longer context")
    # longest first, so each batch pads little; the scores go back to the rows' order
    order = sorted(range(len(answers)), key=lambda i: -(len(prompts2[i]) + len(answers[i])))
    sums, counts = lm.continuation_logprobs([prompts2[i] for i in order], [answers[i] for i in order],
                                            batch_size=batch_size)
    out = [0.0] * len(answers)
    for j, i in enumerate(order):
        v = rules[i].value(sums[j], counts[j])
        if v is None:
            raise UserError(f"{path}:{lines2[i]}: an answer is empty, which has no per-token log-prob; "
                            "use reduce=sum or remove the row")
        out[i] = v
    return out[: len(rows)], out[len(rows):]


def estimate(cfg: Any, out_dir: Path) -> dict:
    """Read the pairs, score them under ``cfg.ref``, fit alpha; write and return ``typicality.json``'s dict."""
    import numpy as np

    t0 = time.time()
    rows = read_pairs(cfg.pairs, cfg.max_pairs, cfg.quality_key, cfg.split)  # bad input fails before torch is imported
    from collapselab.io import atomic_write_json
    from collapselab.meta import git_hash, package_versions
    from collapselab.metrics.typicality import fit_typicality
    from collapselab.models import load_causal_lm
    from collapselab.probes.generation import HFLanguageModel
    from collapselab.probes.harness import resolve_device
    from collapselab.seed import seed_everything

    seed_everything(cfg.seed)
    device = resolve_device(cfg.device)
    try:
        model, tok = load_causal_lm(cfg.ref, dtype=cfg.dtype, device=device, artifacts_dir=cfg.artifacts_dir)
    except UserError as e:  # its message names the path as "checkpoint="; say which key it came from
        raise UserError(f"ref: {e}") from None
    lm = HFLanguageModel(model, tok, name=str(cfg.ref))
    lp_chosen, lp_rejected = map(np.asarray, score_pairs(lm, rows, cfg.reduce, cfg.batch_size, cfg.pairs,
                                                           cfg.prompt_format))

    # random orientation (A = chosen with probability 1/2): otherwise every label is 1 and the
    # no-intercept model P(A) = sigmoid(a * delta) is not identified
    a_chosen = np.random.default_rng(cfg.seed).random(len(rows)) < 0.5
    diff = lp_chosen - lp_rejected
    delta = np.where(a_chosen, diff, -diff)
    quality = None
    if cfg.quality_key is not None:
        q = np.array([r["quality"] for r in rows])
        quality = np.where(a_chosen, q, -q)
    try:
        fit = fit_typicality(delta, a_chosen.astype(int), quality, temperature=cfg.temperature)
    except ValueError as e:
        raise UserError(f"pairs={cfg.pairs!r}: {e}") from None
    result = {
        "alpha": fit.alpha, "se": fit.se, "ci": [fit.ci_low, fit.ci_high], "p_value": fit.p_value, "n": fit.n,
        "reduce": cfg.reduce, "prompt_format": cfg.prompt_format, "temperature": cfg.temperature, "ref": str(cfg.ref),
        "pairs": str(Path(cfg.pairs).resolve()),
        "quality_key": cfg.quality_key, "quality_coef": fit.quality_coef, "quality_se": fit.quality_se,
        # model-free summaries of the same data
        "chosen_more_likely_share": float(np.mean(diff > 0)),
        "delta_logp_chosen_minus_rejected_mean": float(diff.mean()),
        "meta": {"config": as_dict(cfg), "seed": cfg.seed, "device": device, "git_hash": git_hash(),
                 "versions": package_versions(), "seconds": round(time.time() - t0, 2)},
    }
    atomic_write_json(Path(out_dir) / "typicality.json", result)
    return result
