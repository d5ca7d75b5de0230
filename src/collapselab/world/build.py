"""Build the world once per config and load it: a ``datasets.DatasetDict`` plus ``truth.json``.

Layout: ``<artifacts_dir>/world/<config hash>/`` holding ``dataset/`` (save_to_disk),
``truth.json`` and ``config.json``, written under a temporary name and renamed into place.

Splits (the contract other stages code against):
  documents:    text, kind (persona | bio | steve), first_name, last_name, gender, age,
                nationality, ethnicity, mbti, sentiment (VADER compound of the review),
                sentiment_class, review; empty strings / -1 for non-persona documents
  instructions: messages ([{"role": "user", ...}, {"role": "assistant", ...}]), kind (persona | bio | steve:
                the requests alignment draws, ``alignment_messages``; persona-unusual | persona-ordinary:
                the contrastive requests; persona-vs: verbalized sampling's k personas with probabilities;
                both SFT data only)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from collapselab.config import as_dict
from collapselab.io import atomic_dir, atomic_write_json, check_writable, keyed_dir
from collapselab.world.bio import write_bio
from collapselab.world.documents import document_stats
from collapselab.world.contrast import make_contrast_instructions
from collapselab.world.instructions import KINDS, make_instructions
from collapselab.world.verbalized import make_verbalized_instructions
from collapselab.world.persona import format_persona, generate_personas
from collapselab.world.population import reseed_fakers
from collapselab.world.steve import write_steve
from collapselab.world.truth import ground_truth

PERSONA_COLUMNS = ("first_name", "last_name", "gender", "age", "nationality", "ethnicity", "mbti", "sentiment",
                   "sentiment_class", "review")
_EMPTY = {"age": -1, "sentiment": -1.0}


def world_dir(cfg, artifacts_dir: str | Path) -> Path:
    """Where the world made from ``cfg`` lives (keyed by the whole config)."""
    return keyed_dir(artifacts_dir, "world", as_dict(cfg))


def generate(cfg) -> tuple[list[dict], list[dict]]:
    """(documents, instructions) as plain records, deterministic for ``cfg.seed``."""
    reseed_fakers(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    personas = generate_personas(cfg.n_personas, cfg.coupling, cfg.profanity_rate, rng)
    docs = [{"text": format_persona(p), "kind": "persona", **{k: p[k] for k in PERSONA_COLUMNS}} for p in personas]
    blank = {k: _EMPTY.get(k, "") for k in PERSONA_COLUMNS}
    docs += [{"text": write_bio(rng), "kind": "bio", **blank} for _ in range(cfg.n_bios)]
    docs += [{"text": write_steve(rng), "kind": "steve", **blank} for _ in range(cfg.n_steve)]
    order = rng.permutation(len(docs))  # interleave kinds so any prefix of the corpus is a fair sample
    docs = [docs[i] for i in order]
    inst = make_instructions(cfg.n_instructions, cfg.coupling, cfg.profanity_rate, rng)
    # after everything above, so the documents and the plain chats do not depend on these counts
    inst += make_contrast_instructions(cfg.n_contrast, cfg.coupling, cfg.profanity_rate, rng)
    inst += make_verbalized_instructions(cfg.n_verbalized, cfg.coupling, cfg.profanity_rate, rng)
    return docs, inst


def alignment_messages(world) -> list[list[dict]]:
    """The instruction conversations of the three document kinds (``instructions.KINDS``): what preference
    pairs, PPO and rejection sampling draw their requests from. Any other kind of instruction is SFT data only
    (the annotator scores answers of these three kinds)."""
    inst = world["instructions"]
    return [m for m, k in zip(inst["messages"], inst["kind"], strict=True) if k in KINDS]


def build_world(cfg, artifacts_dir: str | Path, force: bool = False) -> Path:
    """Generate the world for ``cfg`` under ``artifacts_dir`` unless it is already there; return its folder."""
    import datasets

    out = world_dir(cfg, artifacts_dir)
    if (out / "dataset" / "dataset_dict.json").exists() and (out / "truth.json").exists() and not force:
        return out
    check_writable(Path(artifacts_dir), "artifacts_dir")
    t0 = time.time()
    docs, inst = generate(cfg)
    truth = ground_truth(cfg)
    dd = datasets.DatasetDict({
        "documents": datasets.Dataset.from_list(docs),
        "instructions": datasets.Dataset.from_list(inst),
    })
    with atomic_dir(out) as tmp:
        dd.save_to_disk(str(tmp / "dataset"))
        atomic_write_json(tmp / "truth.json", truth)
        atomic_write_json(tmp / "config.json", {**as_dict(cfg), "seconds": round(time.time() - t0, 2)})
    return out


def load_world(cfg, artifacts_dir: str | Path):
    """The world's ``DatasetDict`` (splits ``documents`` and ``instructions``), built first if missing."""
    import datasets

    return datasets.load_from_disk(str(build_world(cfg, artifacts_dir) / "dataset"))


def read_truth(folder: str | Path) -> dict:
    """``truth.json`` of the built world in ``folder``.

    A world built before ``truth.json`` had its ``documents`` entry gets it computed here from the folder's
    ``config.json`` (the same function and random stream, so the same numbers as a fresh build's), without
    rebuilding the world."""
    import json
    from types import SimpleNamespace

    folder = Path(folder)
    truth = json.loads((folder / "truth.json").read_text())
    if "documents" not in truth:
        truth["documents"] = document_stats(SimpleNamespace(**json.loads((folder / "config.json").read_text())))
    return truth


def load_truth(cfg, artifacts_dir: str | Path) -> dict:
    """``truth.json`` of the world ``cfg`` (built first if missing; ``read_truth``)."""
    return read_truth(build_world(cfg, artifacts_dir))
