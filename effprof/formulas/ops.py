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


def gemm_macs(a_shape: Shape, b_shape: Shape, trans_a: bool = False, trans_b: bool = False) -> int:
    """MACs of ONNX Gemm, op(A) @ op(B) (+ C): ``matmul_macs`` of the operands as transposed.

    A is (M, K) or, with transA, (K, M); B is (K, N) or, with transB, (N, K). The C add is not a MAC.
    """
    a = tuple(reversed(a_shape)) if trans_a else tuple(a_shape)
    b = tuple(reversed(b_shape)) if trans_b else tuple(b_shape)
    return matmul_macs(a, b)


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

    q: Lq*B*E*E, k: Lkv*B*kdim*E, v: Lkv*B*vdim*E (``linear_macs``); attention 2*B*Lq*Lkv*E
    (``mha_attention_macs``, summed over heads, each of width E/h); out-projection Lq*B*E*E.
    The head count does not change the MACs.
    """
    kdim = kdim or embed_dim
    vdim = vdim or embed_dim
    projections = (
        linear_macs((batch, tokens_q, embed_dim), embed_dim)
        + linear_macs((batch, tokens_kv, kdim), embed_dim)
        + linear_macs((batch, tokens_kv, vdim), embed_dim)
    )
    out_projection = linear_macs((batch, tokens_q, embed_dim), embed_dim)
    return projections + mha_attention_macs(tokens_q, tokens_kv, batch, embed_dim) + out_projection


def mha_attention_macs(tokens_q: int, tokens_kv: int, batch: int, embed_dim: int) -> int:
    """The attention core of nn.MultiheadAttention = ``sdpa_macs`` over all heads: 2 x B x Lq x Lkv x E.

    Splitting E into h heads of E/h leaves the sum unchanged, so the heads need not be known.
    """
    return sdpa_macs((batch, tokens_q, embed_dim), (batch, tokens_kv, embed_dim), (batch, tokens_kv, embed_dim))


def vit_attention_macs(tokens: int, dim: int) -> int:
    """MACs of the attention core of one ViT block (Q K^T and A V): 2 x N^2 x d, quadratic in tokens.

    ``sdpa_macs`` with N queries and N keys of width d (all heads together).
    """
    return sdpa_macs((tokens, dim), (tokens, dim), (tokens, dim))


def window_attention_macs(height: int, width: int, window: int, dim: int) -> int:
    """MACs of Swin window attention core: (HW / M^2) windows x 2 x (M^2)^2 x d = 2 x HW x M^2 x d.

    Linear in the number of pixels for a fixed window size M.
    """
    windows = (height * width) // (window * window)
    return windows * vit_attention_macs(window * window, dim)


# --- recurrent layers ----------------------------------------------------------------------------

#: gate count per recurrent cell: LSTM has input, forget, cell and output gates; GRU reset, update
#: and new; a plain (Elman) RNN one. Keys are torch's mode names (``nn.RNNBase.mode``).
RNN_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
#: the op each mode runs as (``torch._VF.lstm``, ``aten::lstm``...): how the counters recognise one
RNN_OPS = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN_TANH", "rnn_relu": "RNN_RELU"}


def rnn_cell_macs(gates: int, input_size: int, hidden_size: int, steps: int, proj_size: int = 0) -> int:
    """MACs of one layer in one direction = gates x (input_size + h) x hidden_size x steps (+ projection).

    Every step multiplies the input by W_ih (gates*hidden x input_size) and the previous state by
    W_hh (gates*hidden x h), where h = proj_size if set (LSTM with projection), else hidden_size;
    the projection W_hr (proj_size x hidden_size) adds proj_size x hidden_size per step. ``steps``
    is seq_len x batch (every sequence element runs the cell once). Bias adds are not MACs.
    """
    state = proj_size or hidden_size
    return gates * (input_size + state) * hidden_size * steps + proj_size * hidden_size * steps


def rnn_macs(
    mode: str,
    input_size: int,
    hidden_size: int,
    seq_len: int,
    batch: int = 1,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    proj_size: int = 0,
) -> int:
    """MACs of nn.LSTM / nn.GRU / nn.RNN = sum over layers and directions of ``rnn_cell_macs``.

    Per direction and layer: gates x (input_size + hidden_size) x hidden_size x seq_len x batch,
    gates = 4 (LSTM), 3 (GRU), 1 (RNN). Layer 0 reads ``input_size`` features; each later layer
    reads the previous layer's output, directions x (proj_size or hidden_size) features.
    """
    gates = RNN_GATES[mode.upper()]
    directions = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        features = input_size if layer == 0 else directions * (proj_size or hidden_size)
        total += directions * rnn_cell_macs(gates, features, hidden_size, seq_len * batch, proj_size)
    return total


def rnn_params(
    mode: str,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    proj_size: int = 0,
    bias: bool = True,
) -> int:
    """Params of nn.LSTM / nn.GRU / nn.RNN = per layer and direction W_ih + W_hh (+ 2 bias vectors) (+ W_hr).

    W_ih: gates*hidden x features, W_hh: gates*hidden x (proj_size or hidden), biases b_ih and
    b_hh: gates*hidden each, W_hr: proj_size x hidden.
    """
    gates = RNN_GATES[mode.upper()]
    directions = 2 if bidirectional else 1
    state = proj_size or hidden_size
    total = 0
    for layer in range(num_layers):
        features = input_size if layer == 0 else directions * state
        per_direction = gates * hidden_size * (features + state) + proj_size * hidden_size
        per_direction += 2 * gates * hidden_size if bias else 0
        total += directions * per_direction
    return total


def rnn_other_ops(
    mode: str, hidden_size: int, steps: int, *, num_layers: int = 1, bidirectional: bool = False
) -> int:
    """Non-MAC work of a recurrent layer: one op per gate pre-activation (its sigmoid or tanh).

    gates x hidden_size x steps per layer and direction; the elementwise state update that follows
    the gates is folded in, as an activation's arithmetic is folded into one op per element.
    """
    directions = 2 if bidirectional else 1
    return RNN_GATES[mode.upper()] * hidden_size * steps * directions * num_layers


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
