"""Time the metric functions on synthetic completions: `.venv/bin/python scripts/bench_metrics.py [N]`.

Prints one line per metric with wall-clock seconds (the first embed call includes loading the model).
"""

from __future__ import annotations

import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = ("grace hopper was a computer scientist navy admiral who invented the first compiler cobol "
         "born in new york yale mathematics harvard mark bug coffee machine smartwatch warm").split()


def timed(label, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"{label:<32s} {time.perf_counter() - t0:7.3f} s")
    return out


def main(n: int = 200) -> None:
    import numpy as np
    import torch

    from collapselab import metrics as M

    rng = random.Random(0)
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(20, 60))) for _ in range(n)]
    timed("embed_texts (load + 2 texts)", lambda: M.embed_texts(texts[:2]))
    emb = timed(f"embed_texts ({n} texts)", lambda: M.embed_texts(texts))
    timed("tfidf_similarity", lambda: M.tfidf_similarity(texts))
    timed("mean_pairwise_cosine", lambda: M.mean_pairwise_cosine(emb))
    timed("best_kmeans (k 2..15)", lambda: M.best_kmeans(emb))
    timed("vendi_score", lambda: M.vendi_score(emb))
    timed("tsne_2d", lambda: M.tsne_2d(emb))
    timed("distinct_n (n=2)", lambda: M.distinct_n(texts, 2))
    timed("self_bleu (100 texts)", lambda: M.self_bleu(texts[:100]))
    timed(f"self_bleu ({n}, max_refs=50)", lambda: M.self_bleu(texts, max_refs=50))
    timed("compression_ratio", lambda: M.compression_ratio(texts))
    timed("vader_compound", lambda: M.vader_compound(texts))
    logits = torch.randn(n, 64, 32000)
    timed(f"topk_entropy_bits [{n},64,32000]", lambda: M.topk_entropy_bits(logits))
    timed("bootstrap_ci (1000)", lambda: M.bootstrap_ci(np.random.default_rng(0).random(n)))


if __name__ == "__main__":
    from collapselab.cli import ArgumentParser, whole

    ap = ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=whole(2), default=200, metavar="N",
                    help="synthetic completions (default 200; self-BLEU and t-SNE need 2)")
    main(ap.parse_args().n)
