"""A tiny document model rendered to both Markdown and self-contained HTML (figures by relative path)."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


def fmt(v: Any, ci: tuple[float, float] | None = None, digits: int = 3) -> str:
    """A number for a table cell (``digits`` significant digits), with its 95% interval when given; "n/a" for None."""
    if v is None:
        return "n/a"
    s = f"{v:.{digits}g}" if isinstance(v, float) else str(v)
    return f"{s} [{ci[0]:.{digits}g}, {ci[1]:.{digits}g}]" if ci else s


def digits_apart(intervals: list[tuple[float, float] | None], least: int = 3) -> int:
    """The fewest significant digits (at least ``least``) at which no two different bounds of ``intervals`` print
    alike, so that intervals that differ never look the same, and one wholly above another never looks as if it
    touched it (rounding keeps order). A table row's cells share it."""
    bounds = sorted({float(x) for ci in intervals if ci is not None for x in ci})
    digits = least
    while digits < 17 and any(f"{a:.{digits}g}" == f"{b:.{digits}g}" for a, b in zip(bounds, bounds[1:])):
        digits += 1  # 17 significant digits tell any two doubles apart
    return digits


def ci_of(metrics: dict[str, Any], key: str) -> tuple[float, float] | None:
    """``key``'s 95% interval from its ``_ci_lo`` / ``_ci_hi`` entries, if the metrics have them."""
    lo, hi = metrics.get(f"{key}_ci_lo"), metrics.get(f"{key}_ci_hi")
    return (lo, hi) if lo is not None and hi is not None else None


@dataclass
class Doc:
    blocks: list[tuple[str, object]] = field(default_factory=list)

    def h(self, level: int, text: str) -> None:
        self.blocks.append(("h", (level, text)))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.blocks.append(("table", (header, rows)))

    def figures(self, items: list[tuple[str, str]]) -> None:
        """A row of figures: (relative path, caption)."""
        if items:
            self.blocks.append(("figs", items))

    def code(self, text: str) -> None:
        self.blocks.append(("code", text))

    def markdown(self) -> str:
        out = []
        for kind, b in self.blocks:
            if kind == "h":
                out.append("#" * b[0] + " " + b[1])
            elif kind == "p":
                out.append(b)
            elif kind == "table":
                header, rows = b
                out.append("| " + " | ".join(header) + " |")
                out.append("|" + "---|" * len(header))
                out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in rows]
            elif kind == "figs":
                out.append(" ".join(f"![{cap}]({src})" for src, cap in b))
            elif kind == "code":
                out.append("```\n" + b + "\n```")
            out.append("")
        return "\n".join(out)

    def html(self, title: str) -> str:
        e = html.escape
        body = []
        for kind, b in self.blocks:
            if kind == "h":
                body.append(f"<h{b[0]}>{e(b[1])}</h{b[0]}>")
            elif kind == "p":
                body.append(f"<p>{_inline(b)}</p>")
            elif kind == "table":
                header, rows = b
                th = "".join(f"<th>{e(c)}</th>" for c in header)
                trs = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>" for r in rows)
                body.append(f"<table><thead><tr>{th}</tr></thead><tbody>{trs}</tbody></table>")
            elif kind == "figs":
                figs = "".join(f'<figure><img src="{e(src)}" alt="{e(cap)}"><figcaption>{e(cap)}</figcaption></figure>'
                               for src, cap in b)
                body.append(f'<div class="figs">{figs}</div>')
            elif kind == "code":
                body.append(f"<pre>{e(b)}</pre>")
        return _PAGE.format(title=e(title), body="\n".join(body))


def _inline(text: str) -> str:
    """Escape, then render **bold** and `code` spans."""
    import re

    t = html.escape(text)
    t = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", t)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", t)


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em; color: #222; }}
/* a table wider than the page (the Experiment 1 table's many columns) scrolls inside it instead of being cut */
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; display: block; max-width: 100%; overflow-x: auto; }}
td, th {{ border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
.figs {{ display: flex; flex-wrap: wrap; gap: 1em; }}
figure {{ margin: 0; flex: 1 1 45%; max-width: 580px; }}
figure img {{ width: 100%; border: 1px solid #eee; }}
/* a figure alone in its row (the wide multi-panel ones) keeps its own width, up to the page's */
.figs figure:only-child {{ max-width: 100%; flex: 0 1 auto; }}
.figs figure:only-child img {{ width: auto; max-width: 100%; }}
figcaption {{ font-size: 0.8em; color: #555; }}
img.broken {{ outline: 3px solid red; }}
pre {{ background: #f7f7f7; padding: 0.6em; overflow-x: auto; }}
</style></head>
<body>
{body}
<script>
// Count figures that loaded; a broken one is outlined in red and named in the page title area.
window.addEventListener("load", function () {{
  var imgs = Array.from(document.images), bad = imgs.filter(function (i) {{ return !(i.complete && i.naturalWidth > 0); }});
  bad.forEach(function (i) {{ i.classList.add("broken"); }});
  var m = document.createElement("meta"); m.name = "figures-loaded";
  m.content = (imgs.length - bad.length) + "/" + imgs.length; document.head.appendChild(m);
}});
</script>
</body></html>
"""
