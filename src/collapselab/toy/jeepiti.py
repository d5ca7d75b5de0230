"""Replay of the paper's Table 1 ("Jeepiti", section 5.2) with the rule the text states, and its errata.

Rule (section 5.2 and footnote 3): both responses start at probability 0.5 (logits 0) and
v_0(s) = 0; at each step the advantage A = R(a) + 0 - v(s) (eq. 5.1, terminal next state) is
added to the chosen response's logit, and the value becomes the last reward. The rewards are
the ones the text gives: 1.0 for "Jeepiti", 0.4 for "Chats and Giggles".
"""

from __future__ import annotations

import numpy as np

from collapselab.toy.policy import softmax

JEEPITI, CHATS = "Jeepiti", "Chats and Giggles"
ACTIONS = (JEEPITI, CHATS)
STATED_REWARDS = {JEEPITI: 1.0, CHATS: 0.4}  # section 5.2 text
TABLE_ACTIONS = (JEEPITI, CHATS, CHATS, JEEPITI)  # Table 1, t = 1..4

# Table 1 exactly as printed. ``adv_reward`` is the reward inside the printed advantage
# expression "(R + 0) - v" and ``adv_value`` the v subtracted there.
PAPER_TABLE1 = (
    {"t": 0, "action": None, "reward": None, "adv_reward": None, "adv_value": None, "advantage": None,
     "value": 0.0, "probs": {JEEPITI: 0.5, CHATS: 0.5}},
    {"t": 1, "action": JEEPITI, "reward": 1.0, "adv_reward": 1.0, "adv_value": 0.0, "advantage": 1.0,
     "value": 1.0, "probs": {JEEPITI: 0.73, CHATS: 0.27}},
    {"t": 2, "action": CHATS, "reward": 0.8, "adv_reward": 0.4, "adv_value": 1.0, "advantage": -0.6,
     "value": 0.4, "probs": {JEEPITI: 0.83, CHATS: 0.17}},
    {"t": 3, "action": CHATS, "reward": 0.8, "adv_reward": 0.4, "adv_value": 0.4, "advantage": 0.0,
     "value": 0.4, "probs": {JEEPITI: 0.83, CHATS: 0.17}},
    {"t": 4, "action": JEEPITI, "reward": 1.0, "adv_reward": 1.0, "adv_value": 0.4, "advantage": 0.6,
     "value": 1.0, "probs": {JEEPITI: 0.93, CHATS: 0.07}},
)
PRINTED_DECIMALS = 2  # the table rounds to two decimals: differences under half a unit are rounding


def replay(actions=TABLE_ACTIONS, rewards=STATED_REWARDS, lr: float = 1.0) -> list[dict]:
    """Rows ``{"t", "action", "reward", "advantage", "value", "probs": {action: p}}``; row t=0 is the start."""
    logits = np.zeros(len(ACTIONS))
    value = 0.0
    rows = [{"t": 0, "action": None, "reward": None, "advantage": None, "value": value,
             "probs": dict(zip(ACTIONS, softmax(logits).tolist()))}]
    for t, a in enumerate(actions, start=1):
        r = rewards[a]
        adv = r + 0.0 - value  # eq. 5.1: R + gamma * v(terminal) - v(s)
        logits[ACTIONS.index(a)] += lr * adv
        value = r  # "the value becomes the last reward"
        rows.append({"t": t, "action": a, "reward": r, "advantage": adv, "value": value,
                     "probs": dict(zip(ACTIONS, softmax(logits).tolist()))})
    return rows


def _differs(printed: float, computed: float) -> bool:
    return abs(printed - computed) > 0.5 * 10**-PRINTED_DECIMALS + 1e-9


def find_errata(rows: list[dict], printed=PAPER_TABLE1) -> list[dict]:
    """Compare the replayed rows with Table 1 as printed; one entry per disagreement.

    Entries: ``{"t", "column", "printed", "rule", "note"}``. Checks the reward column against the
    reward the printed advantage uses, and every numeric column against the replay.
    """
    errata = []
    for got, paper in zip(rows, printed):
        t = paper["t"]
        if paper["reward"] is not None and paper["adv_reward"] is not None and _differs(paper["reward"], paper["adv_reward"]):
            errata.append({"t": t, "column": "reward", "printed": paper["reward"], "rule": got["reward"],
                           "note": f"reward column prints {paper['reward']} but the printed advantage "
                                   f"({paper['adv_reward']} + 0) - {paper['adv_value']} uses {paper['adv_reward']}"})
        elif paper["reward"] is not None and _differs(paper["reward"], got["reward"]):
            errata.append({"t": t, "column": "reward", "printed": paper["reward"], "rule": got["reward"],
                           "note": f"reward column prints {paper['reward']}; the stated reward is {got['reward']}"})
        for col in ("advantage", "value"):
            if paper[col] is not None and _differs(paper[col], got[col]):
                errata.append({"t": t, "column": col, "printed": paper[col], "rule": round(got[col], 4),
                               "note": f"{col} prints {paper[col]}; the rule gives {got[col]:.4f}"})
        for a, p in paper["probs"].items():
            if _differs(p, got["probs"][a]):
                errata.append({"t": t, "column": f"pi({a})", "printed": p, "rule": round(got["probs"][a], 4),
                               "note": f"pi_{t}({a}) prints {p:.2f}; the rule gives {got['probs'][a]:.4f} "
                                       f"(= {got['probs'][a]:.2f} at two decimals)"})
    return errata


def format_table(rows: list[dict], errata: list[dict]) -> str:
    """The replayed table, printed like Table 1, with a '*' where the paper prints something else."""
    flagged = {(e["t"], e["column"]) for e in errata}

    def cell(t, col, text):
        return text + ("*" if (t, col) in flagged else " ")

    head = f"{'t':>2}  {'response':<19} {'reward':>7} {'advantage':>10} {'v_t':>6} {'pi(J)':>7} {'pi(C&G)':>8}"
    lines = ["Table 1 replayed with the stated rule (logit(a) += A; v <- last reward; R = 1.0 / 0.4)", head]
    for r in rows:
        t = r["t"]
        fmt = (lambda x: "-" if x is None else f"{x:.2f}")
        lines.append(
            f"{t:>2}  {(r['action'] or '-'):<19} {cell(t, 'reward', fmt(r['reward'])):>7} "
            f"{cell(t, 'advantage', fmt(r['advantage'])):>10} {cell(t, 'value', fmt(r['value'])):>6} "
            f"{cell(t, f'pi({JEEPITI})', fmt(r['probs'][JEEPITI])):>7} {cell(t, f'pi({CHATS})', fmt(r['probs'][CHATS])):>8}"
        )
    if errata:
        lines.append("* where the printed Table 1 disagrees with its own rule:")
        lines += [f"  t={e['t']} {e['column']}: {e['note']}" for e in errata]
    else:
        lines.append("The printed Table 1 agrees with the rule everywhere.")
    return "\n".join(lines)


def run_jeepiti() -> dict:
    """The jeepiti.json payload: ``{"rows": [...], "errata": [...]}``."""
    rows = replay()
    return {"rows": rows, "errata": find_errata(rows)}
