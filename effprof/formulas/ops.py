"""One pure, shape-only formula per op.

Every function here sees shapes (tuples of ints) and hyper-parameters, never tensors. The analytic
counter, the fvcore/FlopCounterMode completions and the lecture checks all call these, so each
formula is written once.

Conventions (DESIGN.md "Units"):
- ``*_macs`` returns multiply-accumulates: one per multiply of a conv, linear, matmul or attention.
  Bias adds are not MACs (the papers' and torchvision's convention).
- ``*_other_ops`` returns the non-MAC work of norms, activations, pooling and elementwise ops:
  one per output element unless the docstring says otherwise. Never mixed into MACs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Shape = Sequence[int]


def numel(shape: Shape) -> int:
    """Number of elements of a tensor of this shape (1 for a scalar)."""
    return math.prod(int(d) for d in shape)


# --- convolution -----------------------------------------------------------------------------


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Spatial output size of a convolution along one axis (PyTorch's floor rule)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv_macs(output_shape: Shape, in_channels: int, kernel_size: Shape, groups: int = 1) -> int:
    """MACs = output elements x (Cin / groups) x prod(kernel).

    Each output element is a dot product over its group's input channels and the kernel window.
    Stride, padding and dilation enter only through the output shape. ``output_shape`` is
    (N, Cout, *spatial); works for 1d/2d/3d and for transposed convs given their output shape.
    """
    return numel(output_shape) * (in_channels // groups) * numel(kernel_size)


def conv_transpose_macs(input_shape: Shape, out_channels: int, kernel_size: Shape, groups: int = 1) -> int:
    """MACs of a transposed conv = input elements x (Cout / groups) x prod(kernel).

    Each input element is scattered through the kernel into each output channel of its group.
    """
    return numel(input_shape) * (out_channels // groups) * numel(kernel_size)


def conv_params(in_channels: int, out_channels: int, kernel_size: Shape, groups: int = 1, bias: bool = True) -> int:
    """Params = Cout x (Cin / groups) x prod(kernel) (+ Cout with bias)."""
    return out_channels * (in_channels // groups) * numel(kernel_size) + (out_channels if bias else 0)


def conv_op_class(in_channels: int, out_channels: int, kernel_size: Shape, groups: int) -> str:
    """Classify a conv: depthwise (groups == Cin > 1), pointwise (1x1, groups 1), grouped, or dense."""
    if groups > 1 and groups == in_channels and out_channels % in_channels == 0:
        return "conv_depthwise"
    if groups > 1:
        return "conv_grouped"
    if all(int(k) == 1 for k in kernel_size):
        return "conv_pointwise"
    return "conv_dense"


# --- linear algebra ------------------------------------------------------------------------------


def linear_macs(input_shape: Shape, out_features: int) -> int:
    """MACs = (elements of the input / in_features) x in_features x out_features.

    Any leading dims (batch, tokens, ...) multiply: a (B, N, Cin) input costs B*N*Cin*Cout.
    """
    return numel(input_shape) * out_features


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Params = Cin x Cout (+ Cout with bias)."""
    return in_features * out_features + (out_features if bias else 0)


def broadcast_shapes(a: Shape, b: Shape) -> tuple[int, ...]:
    """NumPy broadcasting of two shapes (no validation beyond the rule)."""
    n = max(len(a), len(b))
    a = (1,) * (n - len(a)) + tuple(a)
    b = (1,) * (n - len(b)) + tuple(b)
    return tuple(max(x, y) for x, y in zip(a, b, strict=True))


def matmul_macs(a_shape: Shape, b_shape: Shape) -> int:
    """MACs of ``a @ b`` with torch.matmul's broadcasting: batch x n x k x m.

    1-d operands are promoted as torch does (a vector is a 1 x k row or a k x 1 column).
    """
    a = tuple(a_shape) if len(a_shape) > 1 else (1, a_shape[0])
    b = tuple(b_shape) if len(b_shape) > 1 else (b_shape[0], 1)
    n, k = a[-2], a[-1]
    m = b[-1]
    batch = broadcast_shapes(a[:-2], b[:-2])
    return numel(batch) * n * k * m


def einsum_macs(equation: str, shapes: Sequence[Shape]) -> int:
    """MACs of a two-operand einsum = product of the sizes of every distinct index.

    Each combination of all indices (kept and summed) is one multiply-accumulate. With one operand
    there is no multiply: 0 MACs. Three or more operands are counted as a left-to-right chain.
    """
    lhs = equation.replace(" ", "").split("->")[0]
    terms = lhs.split(",")
    if len(terms) < 2 or "..." in lhs:
        return 0 if len(terms) < 2 else _einsum_ellipsis_macs(terms, shapes)
    sizes: dict[str, int] = {}
    for term, shape in zip(terms, shapes, strict=True):
        for letter, dim in zip(term, shape, strict=True):
            sizes[letter] = max(sizes.get(letter, 1), int(dim))
    if len(terms) == 2:
        return numel(sizes.values())
    # Chain: contract operands pairwise, keeping every index still needed later.
    total, current = 0, set(terms[0])
    out = set(equation.replace(" ", "").split("->")[1]) if "->" in equation else set()
    for i, term in enumerate(terms[1:], start=1):
        letters = current | set(term)
        total += numel(sizes[c] for c in letters)
        later = set("".join(terms[i + 1 :])) | out
        current = {c for c in letters if c in later}
    return total


def _einsum_ellipsis_macs(terms: Sequence[str], shapes: Sequence[Shape]) -> int:
    # With "...", the broadcast batch dims multiply the explicit-index product.
    sizes: dict[str, int] = {}
    batch: tuple[int, ...] = ()
    for term, shape in zip(terms[:2], shapes[:2], strict=True):
        explicit = term.replace("...", "")
        n_batch = len(shape) - len(explicit)
        if "..." in term:
            batch = broadcast_shapes(batch, tuple(shape[:n_batch])) if batch else tuple(shape[:n_batch])
            shape = tuple(shape[n_batch:])
        for letter, dim in zip(explicit, shape, strict=True):
            sizes[letter] = max(sizes.get(letter, 1), int(dim))
    return numel(batch) * numel(sizes.values())


# --- attention -----------------------------------------------------------------------------------


def sdpa_macs(query_shape: Shape, key_shape: Shape, value_shape: Shape) -> int:
    """MACs of softmax(Q K^T) V = two batched matmuls: B x L x S x E  +  B x L x S x Ev.

    Shapes are (..., L, E), (..., S, E), (..., S, Ev); B is the product of the query's leading dims
    (batch x heads), so grouped-query attention (fewer key heads) is counted per query head.
    The scaling and softmax are not MACs (see ``sdpa_other_ops``).
    """
    batch = numel(query_shape[:-2])
    tokens_q, tokens_kv = query_shape[-2], key_shape[-2]
    return batch * tokens_q * tokens_kv * (query_shape[-1] + value_shape[-1])


def sdpa_other_ops(query_shape: Shape, key_shape: Shape) -> int:
    """Non-MAC work of attention: the softmax over the B x L x S score matrix (one per score)."""
    return numel(query_shape[:-2]) * query_shape[-2] * key_shape[-2]


def mha_macs(
    tokens_q: int, tokens_kv: int, batch: int, embed_dim: int, kdim: int | None = None, vdim: int | None = None
) -> int:
    """MACs of nn.MultiheadAttention = in-projections + attention + out-projection.

    q: Lq*B*E*E, k: Lkv*B*kdim*E, v: Lkv*B*vdim*E; attention 2*B*Lq*Lkv*E (summed over heads, each
    head of width E/h); out-projection Lq*B*E*E. The head count does not change the MACs.
    """
    kdim = kdim or embed_dim
    vdim = vdim or embed_dim
    projections = batch * (tokens_q * embed_dim * embed_dim + tokens_kv * (kdim + vdim) * embed_dim)
    attention = 2 * batch * tokens_q * tokens_kv * embed_dim
    out_projection = batch * tokens_q * embed_dim * embed_dim
    return projections + attention + out_projection


def vit_attention_macs(tokens: int, dim: int) -> int:
    """MACs of the attention core of one ViT block (Q K^T and A V): 2 x N^2 x d, quadratic in tokens."""
    return 2 * tokens * tokens * dim


def window_attention_macs(height: int, width: int, window: int, dim: int) -> int:
    """MACs of Swin window attention core: (HW / M^2) windows x 2 x (M^2)^2 x d = 2 x HW x M^2 x d.

    Linear in the number of pixels for a fixed window size M.
    """
    windows = (height * width) // (window * window)
    return windows * vit_attention_macs(window * window, dim)


# --- non-MAC ops (other_ops) -------------------------------------------------------------------------


def elementwise_other_ops(output_shape: Shape) -> int:
    """Elementwise ops (add, mul, activations): one op per output element."""
    return numel(output_shape)


def norm_other_ops(output_shape: Shape) -> int:
    """Normalisation (batch/layer/group norm): one op per output element (inference folds the affine)."""
    return numel(output_shape)


def pool_other_ops(output_shape: Shape, kernel_size: Shape) -> int:
    """Windowed pooling: one op per element read, i.e. output elements x window size."""
    return numel(output_shape) * numel(kernel_size)


def reduction_other_ops(input_shape: Shape) -> int:
    """Global pooling and reductions (mean, sum, adaptive pooling): one op per input element."""
    return numel(input_shape)


def softmax_other_ops(output_shape: Shape) -> int:
    """Softmax: one op per output element (exp, sum and divide folded into one, as for activations)."""
    return numel(output_shape)


def tensor_bytes(shapes: Sequence[Shape], bytes_per_element: int = 4) -> int:
    """Bytes moved to read or write tensors of these shapes once (fp32 by default)."""
    return sum(numel(s) for s in shapes) * bytes_per_element
