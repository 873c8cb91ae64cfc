"""Saved activations of attention: counted as the fused kernels CPU and CUDA run (q, k, v, output and a
log-sum-exp row), not meta's math path (every L x L score matrix) -- checked against what autograd
really keeps on CPU and against the arithmetic."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from effprof.counters.training import count_training

B, L, E, H = 2, 50, 32, 4


class SelfAttention(nn.Module):
    """A ViT/timm-style block: one qkv Linear, F.scaled_dot_product_attention, an output Linear."""

    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(E, 3 * E)
        self.proj = nn.Linear(E, E)

    def forward(self, x):
        q, k, v = self.qkv(x).view(B, L, 3, H, E // H).permute(2, 0, 3, 1, 4)
        return self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(B, L, E))


class TorchvisionStyle(nn.Module):
    """nn.MultiheadAttention with need_weights=False, as torchvision's ViT calls it."""

    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(E, H, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x, need_weights=False)[0]


def saved_on_cpu(model: nn.Module) -> int:
    """Bytes autograd keeps for backward in a real CPU forward, each storage once, weights excluded."""
    weights = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen: dict[int, int] = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in weights:
            seen[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(torch.randn(B, L, E))
    return sum(seen.values())


@pytest.mark.parametrize("make", [SelfAttention, TorchvisionStyle])
def test_saved_attention_bytes_match_a_real_cpu_forward(make):
    torch.manual_seed(0)
    counted = count_training(make(), (B, L, E)).saved_activation_bytes
    assert counted == saved_on_cpu(make())
    score_matrices = B * H * L * L * 4  # what the math path would add, at least once
    assert counted < saved_on_cpu(make()) + score_matrices


def test_saved_attention_bytes_written_out():
    # x (qkv's input) + the qkv output (q, k, v are its views) + the attention output + one fp32
    # log-sum-exp per (batch, head, query); proj's input is a view of the attention output (the flash
    # kernel lays it out batch, query, head, so transposing back and reshaping copies nothing)
    expected = 4 * (B * L * E + B * L * 3 * E + B * L * E + B * H * L)
    assert count_training(SelfAttention(), (B, L, E)).saved_activation_bytes == expected
