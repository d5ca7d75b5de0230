"""Token entropy, eq. 3.1-3.2 (Experiment 3)."""

import math

import numpy as np
import pytest
import torch

from collapselab.metrics import completion_means, full_entropy_bits, topk_entropy_bits

NEG_INF = float("-inf")


def test_top5_hand_value():
    """probs [.5,.25,.125,.0625,.0625]: H = .5*1 + .25*2 + .125*3 + 2*.0625*4 = 1.875 bits."""
    logits = torch.log(torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.0625]))
    assert topk_entropy_bits(logits).item() == pytest.approx(1.875, abs=1e-6)


def test_top5_renormalises_over_full_vocab():
    """Full softmax [.4,.2,.1,.05,.05] + eight tokens of .025: the top 5 sum to .8 and renormalise
    to [.5,.25,.125,.0625,.0625] -> 1.875 bits (the tail must not leak in)."""
    p = torch.tensor([0.4, 0.2, 0.1, 0.05, 0.05] + [0.025] * 8)
    logits = torch.log(p) + 3.0  # a constant shift changes nothing (eq. 3.1)
    assert topk_entropy_bits(logits, k=5).item() == pytest.approx(1.875, abs=1e-5)


def test_top5_uniform_is_log2_5_and_temperature():
    """Uniform over 5 (plus -inf tail) = log2 5 = 2.3219 bits, the paper's upper bound. Logits
    2*log p at T=2 equal log p at T=1."""
    logits = torch.tensor([[0.0] * 5 + [NEG_INF] * 3])
    assert topk_entropy_bits(logits).item() == pytest.approx(math.log2(5), abs=1e-6)
    p = torch.tensor([0.5, 0.25, 0.125, 0.0625, 0.0625])
    assert topk_entropy_bits(2 * torch.log(p), temperature=2.0).item() == pytest.approx(1.875, abs=1e-5)


def test_top5_degenerate_is_zero_not_nan():
    """One token with all the mass (other logits -inf, or a huge gap): 0 bits, never nan."""
    h = topk_entropy_bits(torch.tensor([[0.0, NEG_INF, NEG_INF, NEG_INF, NEG_INF, NEG_INF],
                                        [1000.0, 0.0, 0.0, 0.0, 0.0, 0.0]]))
    assert torch.isfinite(h).all()
    assert h.tolist() == pytest.approx([0.0, 0.0], abs=1e-6)


def test_topk_k2_and_batch_shape_and_order_invariance():
    """k=2 over logits [0, 0, -10]: top-2 equal -> 1 bit. [B, T, V] -> [B, T]. Permuting the
    vocabulary changes nothing."""
    logits = torch.tensor([0.0, 0.0, -10.0])
    assert topk_entropy_bits(logits, k=2).item() == pytest.approx(1.0, abs=1e-6)
    x = torch.randn(2, 3, 50, generator=torch.Generator().manual_seed(0))
    h = topk_entropy_bits(x)
    assert h.shape == (2, 3)
    assert torch.all((h >= 0) & (h <= math.log2(5) + 1e-6))
    assert torch.allclose(topk_entropy_bits(x[..., torch.randperm(50)]), h, atol=1e-6)


def test_top5_matches_literal_eq_31_32():
    """The implementation skips the full softmax; compare with eq. 3.1 then top-5, renormalise,
    eq. 3.2 done literally, at T = 0.7."""
    x = torch.randn(4, 100, generator=torch.Generator().manual_seed(1)) * 3
    p = torch.softmax(x / 0.7, dim=-1).topk(5, dim=-1).values
    p = p / p.sum(-1, keepdim=True)
    literal = -(p * torch.log2(p)).sum(-1)
    assert torch.allclose(topk_entropy_bits(x, temperature=0.7), literal, atol=1e-5)


def test_full_entropy_hand_values():
    """Uniform over 8 = 3 bits; [0, 0, -inf] = 1 bit."""
    assert full_entropy_bits(torch.zeros(8)).item() == pytest.approx(3.0, abs=1e-6)
    assert full_entropy_bits(torch.tensor([0.0, 0.0, NEG_INF])).item() == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("fn", [topk_entropy_bits, full_entropy_bits])
def test_entropy_errors(fn):
    with pytest.raises(ValueError, match="logits"):
        fn(torch.zeros(3, 0))
    with pytest.raises(ValueError, match="temperature"):
        fn(torch.zeros(5), temperature=0.0)
    with pytest.raises(ValueError, match="all -inf"):
        fn(torch.full((5,), NEG_INF))


def test_completion_means_masked():
    """Row 0 averages tokens 1 and 2 -> 1.5; row 1 only token 4 (nan outside the mask is ignored);
    row 2 has no generated tokens -> nan."""
    v = torch.tensor([[1.0, 2.0, 3.0], [4.0, float("nan"), 9.0], [5.0, 5.0, 5.0]])
    m = torch.tensor([[True, True, False], [True, False, False], [False, False, False]])
    out = completion_means(v, m)
    assert out.shape == (3,)
    assert out[:2].tolist() == [1.5, 4.0]
    assert np.isnan(out[2])


def test_completion_means_errors():
    with pytest.raises(ValueError, match="N >= 1"):
        completion_means(torch.zeros(0, 3), torch.zeros(0, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="mask shape"):
        completion_means(torch.zeros(2, 3), torch.ones(2, 2, dtype=torch.bool))
