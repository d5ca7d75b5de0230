"""The paper table and the control's mechanism of several labs side by side: in how many does each verdict hold?

    python scripts/lab.py 'lab.align=["seed=1"]' out_dir=outputs/lab-seed1 report_dir=outputs/lab-seed1/report
    python scripts/across_seeds.py seed0=report seed1=outputs/lab-seed1/report [--out seeds.md]

Each argument is a lab's report folder (or its verdicts.json, or a lab folder with report/ inside), optionally
named as LABEL=PATH. Every lab's verdicts are its own (its aligned runs against its own base, the report's
rules); this only sets them side by side and counts (collapselab.lab.across).
"""

from __future__ import annotations

import sys

from collapselab.cli import ArgumentParser, output_file
from collapselab.errors import UserError
from collapselab.io import atomic_write_text
from collapselab.lab.across import across, markdown, mechanism_across, read_verdicts


def main(argv: list[str] | None = None) -> int:
    ap = ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("labs", nargs="+", help="report folders (LABEL=PATH to name one)")
    ap.add_argument("--out", help="also write the Markdown here")
    args = ap.parse_args(argv)
    try:
        if args.out:
            output_file("--out", args.out)
        labs = []
        for arg in args.labs:
            label, sep, path = arg.partition("=")
            labs.append((label if sep else arg, read_verdicts(path if sep else arg)))
        text = markdown(across(labs), mechanism_across(labs))
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(text, end="")
    if args.out:
        atomic_write_text(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
