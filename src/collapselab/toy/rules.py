"""Policy-update rules for the K-armed bandit, each vectorized over seeds.

A rule holds its own state (value baseline, Q table, ...) as ``[S]`` / ``[S, K]`` arrays and
advances the logits ``theta [S, K]`` by one training step in place. No Python loop over seeds.
Rewards are deterministic per arm, as in the paper's example (section 5.2). With typicality
bias every rule trains on ``R + alpha log pi0`` (``RuleParams.typicality``; ``train_rewards``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from collapselab.toy.policy import log_softmax, sample_categorical, softmax

RULES = ("paper", "reinforce", "ppo", "actde", "dpo")
# Rules whose update contains beta; the others ignore it (they have no KL term).
USES_BETA = {"paper": False, "reinforce": False, "ppo": True, "actde": False, "dpo": True}


@dataclass
class RuleParams:
    """Everything a rule needs besides the logits. ``rewards``, ``pi0``: ``[K]``."""

    rewards: np.ndarray
    pi0: np.ndarray
    lr: float = 1.0
    beta: float = 0.1
    baseline_rate: float = 0.1  # reinforce: running-mean baseline b += rate * (r - b)
    ppo_epochs: int = 4
    ppo_clip: float = 0.2
    ppo_batch_size: int = 16
    ppo_value_lr: float = 0.5
    dpo_pairs_per_step: int = 16
    typicality: float = 0.0  # alpha: annotators' reward is R + alpha log pi0 (Verbalized Sampling eq. 1)


def train_rewards(p: RuleParams) -> np.ndarray:
    """``[K]`` reward the rules are trained on: ``R + alpha log pi0`` (Zhang et al. 2025, eq. 1)."""
    r = np.asarray(p.rewards, float)
    return r if p.typicality == 0 else r + p.typicality * np.log(np.asarray(p.pi0, float))


class Rule:
    """Base class: ``step(theta, rng)`` updates ``theta [S, K]`` in place."""

    name = ""

    def __init__(self, p: RuleParams, n_seeds: int):
        self.p = p
        self.S, self.K = n_seeds, len(p.rewards)
        self.rows = np.arange(n_seeds)
        self.r = train_rewards(p)  # [K]

    def step(self, theta: np.ndarray, rng: np.random.Generator) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


class PaperRule(Rule):
    """Table 1's rule: A = r - v; add lr*A to the sampled arm's logit; v becomes the last reward."""

    name = "paper"

    def __init__(self, p: RuleParams, n_seeds: int):
        super().__init__(p, n_seeds)
        self.v = np.zeros(n_seeds)  # v_0(s) = 0 (section 5.2)

    def step(self, theta, rng):
        a = sample_categorical(rng, softmax(theta))
        r = self.r[a]
        adv = r - self.v  # eq. 5.1 with a terminal next state: A = R + 0 - v(s)
        theta[self.rows, a] += self.p.lr * adv
        self.v = r


class ReinforceRule(Rule):
    """Policy gradient: theta += lr * (r - b) * grad log pi(a) = lr * (r - b) * (onehot(a) - pi)."""

    name = "reinforce"

    def __init__(self, p: RuleParams, n_seeds: int):
        super().__init__(p, n_seeds)
        self.b = np.zeros(n_seeds)

    def step(self, theta, rng):
        pi = softmax(theta)
        a = sample_categorical(rng, pi)
        r = self.r[a]
        adv = r - self.b
        grad = -pi * adv[:, None]
        grad[self.rows, a] += adv
        theta += self.p.lr * grad
        self.b += self.p.baseline_rate * (r - self.b)


class ActdeRule(Rule):
    """ACTDE (TurnTrout & Einhorn 2023): A = r - Q(a); logit(a) += lr*A; Q(a) += lr*A.

    Because the logit and Q(a) move by the same amount, logit(a) - Q(a) is invariant, so with
    Q_0 = 0 the logits converge to theta_0 + R: the policy becomes pi0 exp(R) / Z, a finite
    update per arm instead of the unbounded reinforcement of Table 1.
    """

    name = "actde"

    def __init__(self, p: RuleParams, n_seeds: int):
        super().__init__(p, n_seeds)
        self.q = np.zeros((n_seeds, self.K))

    def step(self, theta, rng):
        a = sample_categorical(rng, softmax(theta))
        adv = self.r[a] - self.q[self.rows, a]
        theta[self.rows, a] += self.p.lr * adv
        self.q[self.rows, a] += self.p.lr * adv


class PPORule(Rule):
    """PPO on-policy: sample a batch from pi_old, KL-penalised reward (eq. 5.2), learned value baseline,
    then ``ppo_epochs`` gradient-ascent steps on the clipped surrogate (appendix A2.3).

    Rewards are per arm, so a batch is summarised exactly by its per-arm counts ``n [S, K]``.
    """

    name = "ppo"

    def __init__(self, p: RuleParams, n_seeds: int):
        super().__init__(p, n_seeds)
        self.v = np.zeros(n_seeds)
        self.log_pi0 = np.log(p.pi0)

    def step(self, theta, rng):
        p = self.p
        logp_old = log_softmax(theta)
        pi_old = np.exp(logp_old)
        frac = rng.multinomial(p.ppo_batch_size, pi_old) / p.ppo_batch_size  # [S, K] batch shares
        # eq. 5.2 per sample: r - beta * log(pi/pi0); its score-function gradient has the KL optimum as fixed point
        r_kl = self.r[None, :] - p.beta * (logp_old - self.log_pi0[None, :])
        adv = r_kl - self.v[:, None]  # [S, K]
        lo, hi = 1.0 - p.ppo_clip, 1.0 + p.ppo_clip
        for _ in range(p.ppo_epochs):
            pi = softmax(theta)
            ratio = pi / pi_old
            # the clipped branch has zero gradient where min() selects it
            active = ~(((adv > 0) & (ratio > hi)) | ((adv < 0) & (ratio < lo)))
            w = frac * ratio * adv * active  # d surrogate / d log pi(k), summed over the batch
            theta += p.lr * (w - w.sum(axis=1, keepdims=True) * pi)
        # value baseline: one gradient step on 0.5 * (V - r)^2 averaged over the batch
        self.v += p.ppo_value_lr * ((frac * r_kl).sum(axis=1) - self.v)


class DPORule(Rule):
    """DPO (Rafailov et al. 2023) on pairs drawn from pi0 and labelled by a Bradley-Terry annotator,
    P(i preferred to j) = sigmoid(R_i - R_j). Loss: -log sigmoid(beta * (h_w - h_l)), h = log(pi/pi0).

    Its population minimiser is pi0 exp(R/beta)/Z, the same optimum as KL-regularised RL.
    Pairs are drawn as counts over the K*K (winner, loser) cells, exact in distribution.
    The loss gradient w.r.t. the logits carries a factor beta; the step is ``lr / beta`` times
    it, so ``lr`` means the same step in log-probability space whatever beta is (otherwise
    small betas barely move within any sensible number of steps).
    """

    name = "dpo"

    def __init__(self, p: RuleParams, n_seeds: int):
        super().__init__(p, n_seeds)
        pi0, r = np.asarray(p.pi0, float), self.r
        win = 1.0 / (1.0 + np.exp(-(r[:, None] - r[None, :])))  # [K, K] P(i beats j)
        q = 2.0 * pi0[:, None] * pi0[None, :] * win  # either order of the sampled pair
        np.fill_diagonal(q, pi0**2)  # identical pair: no gradient, still costs a label
        self.cell_probs = (q / q.sum()).ravel()
        self.log_pi0 = np.log(pi0)

    def step(self, theta, rng):
        p, K = self.p, self.K
        n = rng.multinomial(p.dpo_pairs_per_step, self.cell_probs, size=self.S).reshape(self.S, K, K)
        h = theta - self.log_pi0[None, :]  # log pi - log pi0 up to a per-seed constant that cancels
        margin = p.beta * (h[:, :, None] - h[:, None, :])  # [S, K(w), K(l)]
        g = n / p.dpo_pairs_per_step * p.beta / (1.0 + np.exp(margin))  # beta * (1 - sigmoid(margin))
        theta += (p.lr / p.beta) * (g.sum(axis=2) - g.sum(axis=1))


_RULE_CLASSES = {c.name: c for c in (PaperRule, ReinforceRule, PPORule, ActdeRule, DPORule)}


def make_rule(name: str, params: RuleParams, n_seeds: int) -> Rule:
    """The update rule called ``name`` (one of RULES) for ``n_seeds`` parallel seeds."""
    if name not in _RULE_CLASSES:
        raise ValueError(f"rule={name!r}: must be one of {', '.join(RULES)}")
    return _RULE_CLASSES[name](params, n_seeds)
