"""Backward (training) MACs: one pure, shape-only formula per op, beside the forward ones in ops.py.

Counting rule, for every op that does MACs (conv, linear, matmul, einsum, attention): each forward
multiply-accumulate ``c += a * b`` has exactly one partner in the backward pass per operand that
needs a gradient -- ``da += dc * b`` and ``db += dc * a``. So, per operand:

- **grad-input MACs** (the gradient w.r.t. an activation: the layer's input, or Q, K, V, the
  attention matrix) = the forward MACs, when that activation needs a gradient;
- **grad-weight MACs** (the gradient w.r.t. a trainable weight) = the forward MACs, when the weight
  is trainable. A frozen layer (``requires_grad=False``) has no grad-weight MACs.

An activation needs a gradient only when something upstream of it is trainable: autograd stops at
the first layer that needs a gradient, so every layer before it has no grad-input MACs (the first
conv of a fully trained network computes no gradient for the image). The counter reads this off
``requires_grad`` of the real operands on the meta device, so it never guesses.

Bias gradients are sums over the output gradient, not MACs (as bias adds are not MACs forward).
Norms, activations, pooling and elementwise ops are not MACs: their backward is counted in
``*_backward_other_ops`` (one op per element of each input that needs a gradient), never in MACs.

Every function returns a ``BackwardMacs`` (grad_input, grad_weight) pair.
"""

from __future__ import annotations

from typing import NamedTuple

from effprof.formulas import ops as f
from effprof.formulas.ops import Shape


class BackwardMacs(NamedTuple):
    """MACs of one op's backward: w.r.t. activations (grad_input) and w.r.t. trainable weights (grad_weight)."""

    grad_input: int = 0
    grad_weight: int = 0

    @property
    def total(self) -> int:
        return self.grad_input + self.grad_weight

    def __add__(self, other: object) -> BackwardMacs:  # type: ignore[override]
        if not isinstance(other, BackwardMacs):
            return NotImplemented
        return BackwardMacs(self.grad_input + other.grad_input, self.grad_weight + other.grad_weight)


def bilinear_backward_macs(forward_macs: int, *, input_grad: bool, weight_grad: bool) -> BackwardMacs:
    """Backward of any op linear in each of two operands: forward MACs once per operand needing a gradient.

    ``input_grad``: the activation operand needs a gradient (something before it is trainable);
    ``weight_grad``: the weight operand is trainable.
    """
    return BackwardMacs(forward_macs if input_grad else 0, forward_macs if weight_grad else 0)


def conv_backward_macs(
    output_shape: Shape, in_channels: int, kernel_size: Shape, groups: int = 1, *, input_grad: bool, weight_grad: bool
) -> BackwardMacs:
    """Conv backward: grad-input = grad-weight = forward MACs = output elements x (Cin / groups) x prod(kernel).

    grad-input is the transposed conv of the output gradient with the weight; grad-weight the
    correlation of the input with the output gradient. Each pairs every forward multiply once.
    """
    forward = f.conv_macs(output_shape, in_channels, kernel_size, groups)
    return bilinear_backward_macs(forward, input_grad=input_grad, weight_grad=weight_grad)


def conv_transpose_backward_macs(
    input_shape: Shape, out_channels: int, kernel_size: Shape, groups: int = 1, *, input_grad: bool, weight_grad: bool
) -> BackwardMacs:
    """Transposed-conv backward: grad-input = grad-weight = forward MACs = input elements x (Cout / groups) x prod(kernel)."""
    forward = f.conv_transpose_macs(input_shape, out_channels, kernel_size, groups)
    return bilinear_backward_macs(forward, input_grad=input_grad, weight_grad=weight_grad)


def linear_backward_macs(input_shape: Shape, out_features: int, *, input_grad: bool, weight_grad: bool) -> BackwardMacs:
    """Linear backward: dX = dY W (rows x Cout x Cin) and dW = dY^T X (Cout x rows x Cin), each = forward MACs."""
    forward = f.linear_macs(input_shape, out_features)
    return bilinear_backward_macs(forward, input_grad=input_grad, weight_grad=weight_grad)


def matmul_backward_macs(a_shape: Shape, b_shape: Shape, *, a_grad: bool, b_grad: bool, b_is_weight: bool = False) -> BackwardMacs:
    """``a @ b`` backward: dA = dC B^T and dB = A^T dC, each = forward MACs (batch x n x k x m).

    ``a`` is an activation. ``b`` is a weight when ``b_is_weight`` (a linear layer written by hand):
    its gradient is grad-weight; otherwise (Q K^T, A V) both gradients are grad-input.
    """
    forward = f.matmul_macs(a_shape, b_shape)
    a_macs, b_macs = (forward if a_grad else 0), (forward if b_grad else 0)
    if b_is_weight:
        return BackwardMacs(a_macs, b_macs)
    return BackwardMacs(a_macs + b_macs, 0)


def sdpa_backward_macs(
    query_shape: Shape, key_shape: Shape, value_shape: Shape, *, q_grad: bool, k_grad: bool, v_grad: bool
) -> BackwardMacs:
    """softmax(Q K^T) V backward, all grad-input (no weights): the two forward matmuls' partners.

    Out = A V: dV = A^T dOut (B L S Ev) when V needs a gradient, dA = dOut V^T (B L S Ev) when Q or K
    does. S = Q K^T: dQ = dS K (B L S E) when Q does, dK = dS^T Q (B L S E) when K does. With Q, K, V
    all needing gradients this is 2x the forward MACs. The softmax backward is not MACs.
    """
    batch = f.numel(query_shape[:-2])
    scores = batch * query_shape[-2] * key_shape[-2]
    e, ev = query_shape[-1], value_shape[-1]
    macs = scores * ev * (int(v_grad) + int(q_grad or k_grad)) + scores * e * (int(q_grad) + int(k_grad))
    return BackwardMacs(macs, 0)


def mha_backward_macs(
    tokens_q: int,
    tokens_kv: int,
    batch: int,
    embed_dim: int,
    kdim: int | None = None,
    vdim: int | None = None,
    *,
    input_grad: bool,
    in_proj_grad: bool,
    out_proj_grad: bool,
) -> BackwardMacs:
    """nn.MultiheadAttention backward = in-projections + attention core + out-projection, each bilinear.

    In-projections (Lq B E E + Lkv B (kdim + vdim) E): grad-input when the inputs need a gradient,
    grad-weight when ``in_proj_grad``. The core (2 B Lq Lkv E) runs backward when its q, k, v need
    gradients (the inputs do, or the in-projection trains): 2x its MACs, all grad-input. The
    out-projection (Lq B E E): grad-input whenever the core ran backward or the inputs need a
    gradient, grad-weight when ``out_proj_grad``.
    """
    kdim = kdim or embed_dim
    vdim = vdim or embed_dim
    projections = batch * (tokens_q * embed_dim * embed_dim + tokens_kv * (kdim + vdim) * embed_dim)
    out_projection = batch * tokens_q * embed_dim * embed_dim
    qkv_grad = input_grad or in_proj_grad
    result = bilinear_backward_macs(projections, input_grad=input_grad, weight_grad=in_proj_grad)
    result += mha_core_backward_macs(tokens_q, tokens_kv, batch, embed_dim, qkv_grad=qkv_grad)
    result += bilinear_backward_macs(out_projection, input_grad=qkv_grad, weight_grad=out_proj_grad)
    return result


def mha_core_backward_macs(tokens_q: int, tokens_kv: int, batch: int, embed_dim: int, *, qkv_grad: bool) -> BackwardMacs:
    """The attention core of nn.MultiheadAttention backward: 2 x its forward MACs (2 B Lq Lkv E), grad-input.

    dQ, dK, dV and the attention matrix's gradient, each B Lq Lkv E (summed over heads), when the
    projected q, k, v need gradients; nothing otherwise.
    """
    core = 2 * batch * tokens_q * tokens_kv * embed_dim
    return BackwardMacs(2 * core if qkv_grad else 0, 0)


def elementwise_backward_other_ops(input_shapes: list[Shape]) -> int:
    """Backward of a norm, activation, pooling or elementwise op: one op per element of each input needing a gradient.

    The same one-per-element rule as forward ``other_ops`` (ops.elementwise_other_ops); never MACs.
    """
    return sum(f.numel(s) for s in input_shapes)
