"""Sample the pretrained tiny base at temperature 1.0 and check it keeps the world's variety.

    python scripts/check_base.py                     # the default tiny base (pretrained first if missing)
    python scripts/check_base.py model=tiny_test world.n_personas=300 n_personas=20

Takes the same overrides as training/pretrain.py (they select the base), plus n_personas=,
n_bios=, n_steve= and sample_seed=. Prints the figures and a PASS/FAIL line per target.
"""

import sys
import time

from collapselab.cli import one_line_errors, print_usage_if_asked
from collapselab.config import compose
from collapselab.errors import UserError

COUNTS = {"n_personas": 100, "n_bios": 200, "n_steve": 100, "sample_seed": 0}


def main(argv: list[str]) -> None:
    from collapselab.models import load_causal_lm, pretrain, read_meta
    from collapselab.models.check import check_base, format_report
    from collapselab.world import load_truth

    counts = dict(COUNTS)
    overrides = []
    for a in argv:
        key, _, value = a.partition("=")
        if key in counts:
            lo = 0 if key == "sample_seed" else 1
            if not value.isdigit() or int(value) < lo:
                raise UserError(f"{key}={value!r}: must be a whole number >= {lo}")
            counts[key] = int(value)
        else:
            overrides.append(a)
    cfg = compose("pretrain", overrides)
    out = pretrain(cfg)
    meta = read_meta(out)
    print(f"base: {out}\n  {meta.get('n_params')} params, {meta.get('step')} steps, {meta.get('tokens')} tokens, "
          f"{meta.get('seconds')} s, {meta.get('tokens_per_s')} tokens/s, final loss {meta.get('final_loss'):.3f}")
    model, tok = load_causal_lm(out)
    t0 = time.perf_counter()
    report = check_base(model, tok, load_truth(cfg.world, cfg.artifacts_dir), counts["n_personas"],
                        counts["n_bios"], counts["n_steve"], seed=counts["sample_seed"])
    print(f"sampled in {time.perf_counter() - t0:.1f} s")
    print(format_report(report))
    for kind, ex in report["examples"].items():
        print(f"--- example {kind}: {ex[0][:300]!r}")


if __name__ == "__main__":
    print_usage_if_asked(sys.argv[1:], __doc__)
    with one_line_errors():
        main(sys.argv[1:])
