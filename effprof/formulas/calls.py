"""Registered op formulas: what one call of each op costs, from its arguments' shapes.

Each formula is registered on the op names it counts (``@register_formula``) and takes the op's
own arguments in the op's order, with tensors replaced by their shapes (``TensorShape``; a
``WeightShape`` for a learned parameter) and ``out_shape`` the shape of the first tensor the call
returned (None when it returned none). It returns the counted ``Part``s, built from the pure
formulas of ``ops``. The analytic counter reaches these through one shape wrapper
(``effprof.counters.handles.count_call``); ops listed nowhere are the counter's "unsupported".

Activations follow fvcore's and RegNet's convention: the elements output by conv, linear, matmul
and attention ops.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from effprof.formulas import ops
from effprof.formulas.registry import Part, TensorShape, WeightShape, register_formula

Shape = Sequence[int]


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _numel(shape: Shape | None) -> int:
    return ops.numel(shape) if shape is not None else 0


def _pair(value: Any, n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value),) * n


def matmul_class(*operands: Any) -> str:
    """``linear`` when an operand is a learned weight (a linear layer written by hand), else ``attention``.

    Activation x activation (Q K^T, A V, token mixing) is attention.
    """
    return "linear" if any(isinstance(s, WeightShape) for s in operands) else "attention"


# --- MAC-bearing ops ---------------------------------------------------------------------------------


@register_formula("conv1d", "conv2d", "conv3d", "convolution")
def conv(input: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[Part]:
    """``conv_macs`` on the output shape; the op class from Cin, Cout, kernel and groups."""
    groups = int(_arg((input, weight, *args), kwargs, 6, "groups", 1))
    kernel = tuple(weight[2:])
    macs = ops.conv_macs(out_shape, input[1], kernel, groups)
    return [Part(ops.conv_op_class(input[1], weight[0], kernel, groups), macs, 0, ops.numel(out_shape))]


@register_formula("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def conv_transpose(input: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[Part]:
    """``conv_transpose_macs`` on the input shape (weight is (Cin, Cout / groups, *kernel))."""
    groups = int(_arg((input, weight, *args), kwargs, 6, "groups", 1))
    kernel = tuple(weight[2:])
    macs = ops.conv_transpose_macs(input, weight[1] * groups, kernel, groups)
    return [Part("conv_grouped" if groups > 1 else "conv_dense", macs, 0, ops.numel(out_shape))]


@register_formula("linear")
def linear(input: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[Part]:
    """``linear_macs``: every leading dim of the input multiplies in_features x out_features."""
    return [Part("linear", ops.linear_macs(input, weight[0]), 0, ops.numel(out_shape))]


@register_formula("matmul", "mm", "bmm", "mv", "dot", "inner")
def matmul(a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[Part]:
    """``matmul_macs`` with torch's broadcasting."""
    return [Part(matmul_class(a, b), ops.matmul_macs(a, b), 0, ops.numel(out_shape))]


@register_formula("addmm", "baddbmm", "addbmm", "addmv")
def addmm(bias: Shape, a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[Part]:
    """addmm(bias, a, b): ``matmul_macs`` of a @ b; the bias add is not a MAC."""
    return [Part(matmul_class(a, b), ops.matmul_macs(a, b), 0, ops.numel(out_shape))]


@register_formula("einsum")
def einsum(equation: str, *operands: Any, out_shape: Shape, **kwargs: Any) -> list[Part]:
    """``einsum_macs``; operands given one by one or as one list."""
    if len(operands) == 1 and not isinstance(operands[0], TensorShape):
        operands = tuple(operands[0])
    return [Part(matmul_class(*operands), ops.einsum_macs(equation, operands), 0, ops.numel(out_shape))]


@register_formula("scaled_dot_product_attention")
def sdpa(query: Shape, key: Shape, value: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[Part]:
    """``sdpa_macs``; the softmax over the scores is ``sdpa_other_ops``, and the scores are activations."""
    scores = ops.sdpa_other_ops(query, key)
    return [Part("attention", ops.sdpa_macs(query, key, value), scores, scores + ops.numel(out_shape))]


@register_formula("multi_head_attention_forward")
def multi_head_attention(
    query: Shape, key: Shape, value: Shape, embed_dim: int, num_heads: int, *args: Any, out_shape: Shape, **kwargs: Any
) -> list[Part]:
    """F.multi_head_attention_forward, (L, N, E) layout: ``mha_macs`` split into projections (linear)
    and the attention core (``mha_attention_macs``)."""
    if len(query) == 2:  # unbatched (L, E)
        query, key, value = (query[0], 1, query[1]), (key[0], 1, key[1]), (value[0], 1, value[1])
    tokens_q, batch, embed = query
    tokens_kv = key[0]
    core = ops.mha_attention_macs(tokens_q, tokens_kv, batch, embed)
    total = ops.mha_macs(tokens_q, tokens_kv, batch, embed, key[-1], value[-1])
    scores = batch * int(num_heads) * tokens_q * tokens_kv
    proj_out = batch * (2 * tokens_q + 2 * tokens_kv) * embed  # q, k, v and out projections
    return [
        Part("linear", total - core, 0, proj_out),
        Part("attention", core, scores, scores + batch * tokens_q * embed),
    ]


def _recurrent(mode: str):
    gates = ops.RNN_GATES[mode]

    def recurrent(*args: Any, out_shape: Shape | None, **kwargs: Any) -> list[Part]:
        # (input, hx, weights, has_biases, num_layers, dropout, train, bidirectional, batch_first), or for a
        # PackedSequence (data, batch_sizes, hx, weights, has_biases, num_layers, dropout, train, bidirectional)
        packed = not isinstance(args[3], bool)
        weights, layers, both = (args[3], args[5], args[8]) if packed else (args[2], args[4], args[7])
        shape = {"num_layers": int(layers), "bidirectional": bool(both)}
        x, w_ih, w_hh = args[0], weights[0], weights[1]
        hidden, state = w_ih[0] // gates, w_hh[1]
        proj = state if state != hidden else 0  # only an LSTM with proj_size has h != hidden
        steps = ops.numel(x[:-1])
        macs = ops.rnn_macs(mode, x[-1], hidden, steps, proj_size=proj, **shape)
        return [
            Part("linear", macs, 0, _numel(out_shape)),
            Part("activation", 0, ops.rnn_other_ops(mode, hidden, steps, **shape)),
        ]

    recurrent.__name__ = f"recurrent_{mode.lower()}"
    recurrent.__doc__ = (
        f"_VF.{mode.lower()} as nn.{mode.split('_')[0]} calls it: ``rnn_macs``. Every row of the input but the "
        "feature axis is one step (seq_len x batch, or the packed length); sizes from layer 0's W_ih, W_hh."
    )
    return recurrent


for _op, _mode in ops.RNN_OPS.items():
    register_formula(_op)(_recurrent(_mode))


# --- non-MAC ops: other_ops ----------------------------------------------------------------------------


@register_formula(
    "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm", "local_response_norm", "normalize",
)  # fmt: skip
def norm(*args: Any, out_shape: Shape | None, **kwargs: Any) -> list[Part]:
    """``norm_other_ops``: one op per output element."""
    return [Part("norm", 0, ops.norm_other_ops(out_shape) if out_shape is not None else 0)]


ACTIVATION_OPS = (
    "relu", "relu6", "hardtanh", "gelu", "silu", "sigmoid", "hardsigmoid", "hardswish", "tanh",
    "mish", "elu", "selu", "celu", "leaky_relu", "prelu", "rrelu", "softplus", "softsign",
    "softmax", "log_softmax", "glu", "threshold", "logsigmoid", "tanhshrink", "hardshrink",
    "softshrink", "clamp", "clamp_min", "clamp_max", "clip",
)  # fmt: skip
ELEMENTWISE_OPS = (
    "add", "sub", "mul", "div", "true_divide", "neg", "pow", "sqrt", "rsqrt", "exp", "log",
    "abs", "where", "masked_fill", "addcmul", "addcdiv", "maximum", "minimum", "reciprocal",
    "erf", "sin", "cos", "lerp", "floor_divide", "remainder", "eq", "ne", "lt", "le", "gt",
    "ge", "logical_and", "logical_or", "logical_not", "bitwise_not", "sign", "floor", "ceil",
    "round", "square", "exp2", "log2", "fmod", "sub_", "rsub",
)  # fmt: skip


@register_formula(*ACTIVATION_OPS)
def activation(*args: Any, out_shape: Shape | None, **kwargs: Any) -> list[Part]:
    """``elementwise_other_ops``: one op per output element."""
    return [Part("activation", 0, _numel(out_shape))]


@register_formula(*ELEMENTWISE_OPS)
def elementwise(*args: Any, out_shape: Shape | None, **kwargs: Any) -> list[Part]:
    """``elementwise_other_ops``: one op per output element."""
    return [Part("elementwise", 0, _numel(out_shape))]


@register_formula("interpolate", "upsample", "grid_sample", "cumsum")
def resample(*args: Any, out_shape: Shape | None, **kwargs: Any) -> list[Part]:
    """Resampling and scans: one op per output element, class ``other``."""
    return [Part("other", 0, _numel(out_shape))]


def _window_pool(dims: int):
    def pool(input: Shape, *args: Any, out_shape: Shape | None, **kwargs: Any) -> list[Part]:
        kernel = _pair(_arg((input, *args), kwargs, 1, "kernel_size"), dims)
        return [Part("pool", 0, ops.pool_other_ops(out_shape, kernel) if out_shape is not None else 0)]

    pool.__name__ = f"pool{dims}d"
    pool.__doc__ = f"{dims}-d windowed pooling: ``pool_other_ops``, output elements x window size."
    return pool


for _d in (1, 2, 3):
    register_formula(
        f"max_pool{_d}d", f"max_pool{_d}d_with_indices", f"avg_pool{_d}d", f"lp_pool{_d}d"
    )(_window_pool(_d))


@register_formula(
    *(f"adaptive_{kind}_pool{d}d" for kind in ("avg", "max") for d in (1, 2, 3)),
    "mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "prod",
)  # fmt: skip
def reduction(*args: Any, out_shape: Shape | None, **kwargs: Any) -> list[Part]:
    """Global pooling and reductions: ``reduction_other_ops``, one op per input element."""
    first = next((a for a in args if isinstance(a, TensorShape)), None)
    return [Part("pool", 0, ops.reduction_other_ops(first) if first is not None else 0)]
