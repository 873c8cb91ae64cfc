"""Handles: map each torch function the analytic counter sees to a formula of effprof.formulas.

Modelled on fvcore's ``jit_handles.py``: a dict keyed by op name, each handle a small function that
reads shapes off the call's arguments and returns the counted parts. Every op lands in exactly one
of three places: a handle here (counted), ``IGNORED`` (skipped on purpose, with the reason), or
neither (unsupported: reported per module by the counter, never a silent zero).

Op names are canonical: ``Tensor.add_``, ``Tensor.__iadd__``, ``Tensor.__radd__`` and ``torch.add``
are all ``add``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import torch
from torch import nn

from effprof.formulas import ops as f


class Part(NamedTuple):
    """A counted piece of one call; a call may yield several (MHA: projections + attention)."""

    op_class: str
    macs: int = 0
    other_ops: int = 0
    activations: int = 0


Handle = Callable[[tuple, dict, Any], list[Part]]

_DUNDER = {
    "add": "add", "radd": "add", "iadd": "add",
    "sub": "sub", "rsub": "sub", "isub": "sub",
    "mul": "mul", "rmul": "mul", "imul": "mul",
    "truediv": "div", "rtruediv": "div", "itruediv": "div", "div": "div",
    "floordiv": "floor_divide", "rfloordiv": "floor_divide",
    "matmul": "matmul", "rmatmul": "matmul", "imatmul": "matmul",
    "pow": "pow", "rpow": "pow", "ipow": "pow",
    "neg": "neg", "abs": "abs", "invert": "bitwise_not",
    "mod": "remainder", "rmod": "remainder",
    "and": "logical_and", "rand": "logical_and", "iand": "logical_and",
    "or": "logical_or", "ror": "logical_or", "ior": "logical_or",
    "eq": "eq", "ne": "ne", "lt": "lt", "le": "le", "gt": "gt", "ge": "ge",
}  # fmt: skip


def canonical_name(func: Callable) -> str:
    """``__iadd__``/``add_``/``add`` -> ``add``; property getters -> ``getattr``."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name == "__get__":
        return "getattr"
    if name.startswith("__") and name.endswith("__"):
        inner = name[2:-2]
        return _DUNDER.get(inner, inner)
    if name.endswith("_") and not name.startswith("_"):
        return name[:-1]
    return name.lstrip("_") if name.startswith("_") and not name.startswith("__") else name


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _shape(t: Any) -> tuple[int, ...]:
    return tuple(t.shape)


def first_tensor(value: Any) -> torch.Tensor | None:
    """The first tensor in a (possibly nested) value, or None."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (list, tuple)):
        for v in value:
            t = first_tensor(v)
            if t is not None:
                return t
    return None


def _pair(value: Any, n: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (int(value),) * n


# --- counted ops -----------------------------------------------------------------------------------


def _conv(args, kwargs, out) -> list[Part]:
    x, w = args[0], _arg(args, kwargs, 1, "weight")
    groups = int(_arg(args, kwargs, 6, "groups", 1))
    kernel = _shape(w)[2:]
    macs = f.conv_macs(_shape(out), x.shape[1], kernel, groups)
    op_class = f.conv_op_class(x.shape[1], w.shape[0], kernel, groups)
    return [Part(op_class, macs, 0, out.numel())]


def _conv_transpose(args, kwargs, out) -> list[Part]:
    x, w = args[0], _arg(args, kwargs, 1, "weight")
    groups = int(_arg(args, kwargs, 6, "groups", 1))
    kernel = _shape(w)[2:]
    macs = f.conv_transpose_macs(_shape(x), w.shape[1] * groups, kernel, groups)
    op_class = "conv_grouped" if groups > 1 else "conv_dense"
    return [Part(op_class, macs, 0, out.numel())]


def _linear(args, kwargs, out) -> list[Part]:
    x, w = args[0], _arg(args, kwargs, 1, "weight")
    return [Part("linear", f.linear_macs(_shape(x), w.shape[0]), 0, out.numel())]


def _matmul_class(*operands: torch.Tensor) -> str:
    # A matmul against a learned weight is a linear layer written by hand; activation x activation
    # (Q K^T, A V, token mixing) is attention.
    return "linear" if any(isinstance(t, nn.Parameter) for t in operands) else "attention"


def _matmul(args, kwargs, out) -> list[Part]:
    a, b = args[0], args[1]
    return [Part(_matmul_class(a, b), f.matmul_macs(_shape(a), _shape(b)), 0, out.numel())]


def _addmm(args, kwargs, out) -> list[Part]:
    # addmm/baddbmm/addbmm(bias, a, b): the bias add is not a MAC.
    a, b = args[1], args[2]
    return [Part(_matmul_class(a, b), f.matmul_macs(_shape(a), _shape(b)), 0, out.numel())]


def _einsum(args, kwargs, out) -> list[Part]:
    equation = args[0]
    operands = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
    macs = f.einsum_macs(equation, [_shape(t) for t in operands])
    return [Part(_matmul_class(*operands), macs, 0, out.numel())]


def _sdpa(args, kwargs, out) -> list[Part]:
    q, k, v = args[0], _arg(args, kwargs, 1, "key"), _arg(args, kwargs, 2, "value")
    macs = f.sdpa_macs(_shape(q), _shape(k), _shape(v))
    scores = f.sdpa_other_ops(_shape(q), _shape(k))
    return [Part("attention", macs, scores, scores + out.numel())]


def _mha(args, kwargs, out) -> list[Part]:
    # F.multi_head_attention_forward(query, key, value, embed_dim, num_heads, ...): (L, N, E) layout.
    q, k, v = args[0], args[1], args[2]
    if q.dim() == 2:  # unbatched (L, E)
        q, k, v = q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)
    tokens_q, batch, embed = q.shape
    tokens_kv = k.shape[0]
    core = 2 * batch * tokens_q * tokens_kv * embed
    total = f.mha_macs(tokens_q, tokens_kv, batch, embed, k.shape[-1], v.shape[-1])
    scores = batch * int(args[4]) * tokens_q * tokens_kv
    proj_out = batch * (2 * tokens_q + 2 * tokens_kv) * embed  # q, k, v and out projections
    return [
        Part("linear", total - core, 0, proj_out),
        Part("attention", core, scores, scores + batch * tokens_q * embed),
    ]


def _recurrent(mode: str) -> Handle:
    """``_VF.lstm/gru/rnn_tanh/rnn_relu``, as nn.LSTM/GRU/RNN call them: effprof's recurrent formula.

    Two signatures: (input, hx, weights, has_biases, num_layers, dropout, train, bidirectional,
    batch_first) and, for a PackedSequence, (data, batch_sizes, hx, weights, has_biases, num_layers,
    dropout, train, bidirectional). Either way every row of the input but the feature axis is one
    step of the cell, so steps = numel(input) / features (seq_len x batch, or the packed length).
    Sizes are read off the first layer's weights: W_ih (gates*hidden, input), W_hh (gates*hidden, h).
    """
    gates = f.RNN_GATES[mode]

    def handle(args, kwargs, out) -> list[Part]:
        packed = not isinstance(args[3], bool)
        weights, layers, both = (args[3], args[5], args[8]) if packed else (args[2], args[4], args[7])
        num_layers, bidirectional = int(layers), bool(both)
        x = args[0]
        w_ih, w_hh = weights[0], weights[1]
        hidden = w_ih.shape[0] // gates
        state = w_hh.shape[1]
        proj = state if state != hidden else 0  # only an LSTM with proj_size has h != hidden
        steps = f.numel(_shape(x)[:-1])
        shape = {"num_layers": num_layers, "bidirectional": bidirectional}
        macs = f.rnn_macs(mode, x.shape[-1], hidden, steps, proj_size=proj, **shape)
        other = f.rnn_other_ops(mode, hidden, steps, **shape)
        output = first_tensor(out)
        return [
            Part("linear", macs, 0, output.numel() if output is not None else 0),
            Part("activation", 0, other),
        ]

    return handle


def _elementwise(op_class: str) -> Handle:
    def handle(args, kwargs, out) -> list[Part]:
        t = first_tensor(out)
        return [Part(op_class, 0, f.elementwise_other_ops(_shape(t)) if t is not None else 0)]

    return handle


def _norm(args, kwargs, out) -> list[Part]:
    return [Part("norm", 0, f.norm_other_ops(_shape(first_tensor(out))))]


def _pool(dims: int) -> Handle:
    def handle(args, kwargs, out) -> list[Part]:
        kernel = _pair(_arg(args, kwargs, 1, "kernel_size"), dims)
        return [Part("pool", 0, f.pool_other_ops(_shape(first_tensor(out)), kernel))]

    return handle


def _reduction(args, kwargs, out) -> list[Part]:
    x = first_tensor(args)
    return [Part("pool", 0, f.reduction_other_ops(_shape(x)) if x is not None else 0)]


HANDLES: dict[str, Handle] = {
    **{name: _conv for name in ("conv1d", "conv2d", "conv3d", "convolution")},
    **{name: _conv_transpose for name in ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")},
    "linear": _linear,
    **{name: _matmul for name in ("matmul", "mm", "bmm", "mv", "dot", "inner")},
    **{name: _addmm for name in ("addmm", "baddbmm", "addbmm", "addmv")},
    "einsum": _einsum,
    "scaled_dot_product_attention": _sdpa,
    "multi_head_attention_forward": _mha,
    **{name: _recurrent(mode) for name, mode in f.RNN_OPS.items()},
    **{
        name: _norm
        for name in (
            "batch_norm", "layer_norm", "group_norm", "instance_norm", "rms_norm",
            "local_response_norm", "normalize",
        )
    },
    **{
        name: _elementwise("activation")
        for name in (
            "relu", "relu6", "hardtanh", "gelu", "silu", "sigmoid", "hardsigmoid", "hardswish", "tanh",
            "mish", "elu", "selu", "celu", "leaky_relu", "prelu", "rrelu", "softplus", "softsign",
            "softmax", "log_softmax", "glu", "threshold", "logsigmoid", "tanhshrink", "hardshrink",
            "softshrink", "clamp", "clamp_min", "clamp_max", "clip",
        )
    },
    **{
        name: _elementwise("elementwise")
        for name in (
            "add", "sub", "mul", "div", "true_divide", "neg", "pow", "sqrt", "rsqrt", "exp", "log",
            "abs", "where", "masked_fill", "addcmul", "addcdiv", "maximum", "minimum", "reciprocal",
            "erf", "sin", "cos", "lerp", "floor_divide", "remainder", "eq", "ne", "lt", "le", "gt",
            "ge", "logical_and", "logical_or", "logical_not", "bitwise_not", "sign", "floor", "ceil",
            "round", "square", "exp2", "log2", "fmod", "sub_", "rsub",
        )
    },
    **{f"max_pool{d}d": _pool(d) for d in (1, 2, 3)},
    **{f"max_pool{d}d_with_indices": _pool(d) for d in (1, 2, 3)},
    **{f"avg_pool{d}d": _pool(d) for d in (1, 2, 3)},
    **{f"lp_pool{d}d": _pool(d) for d in (1, 2, 3)},
    **{f"adaptive_avg_pool{d}d": _reduction for d in (1, 2, 3)},
    **{f"adaptive_max_pool{d}d": _reduction for d in (1, 2, 3)},
    **{name: _reduction for name in ("mean", "sum", "amax", "amin", "max", "min", "std", "var", "logsumexp", "prod")},
    **{name: _elementwise("other") for name in ("interpolate", "upsample", "grid_sample", "cumsum")},
}  # fmt: skip

_VIEW = "view or reshape: no arithmetic, no copy"
_MOVE = "data movement (copy, concatenate, index, pad): bytes but no arithmetic"
_META = "metadata query: returns no tensor data"
_CREATE = "tensor creation: no arithmetic on the input"
_IDENTITY = "identity at inference (dropout, assertions)"

IGNORED: dict[str, str] = {
    **{
        name: _VIEW
        for name in (
            "view", "view_as", "reshape", "reshape_as", "permute", "transpose", "t", "flatten",
            "unflatten", "squeeze", "unsqueeze", "expand", "expand_as", "chunk", "split",
            "split_with_sizes", "tensor_split", "unbind", "narrow", "select", "movedim", "swapaxes",
            "swapdims", "as_strided", "detach", "contiguous", "getattr", "unfold", "diagonal",
        )
    },
    **{
        name: _MOVE
        for name in (
            "cat", "concat", "concatenate", "stack", "hstack", "vstack", "pad", "roll", "clone",
            "getitem", "setitem", "index_select", "gather", "scatter", "masked_select", "repeat",
            "repeat_interleave", "tile", "flip", "channel_shuffle", "pixel_shuffle", "pixel_unshuffle",
            "to", "type", "float", "half", "bfloat16", "double", "copy", "cpu", "cuda", "fill",
            "zero", "index_put", "take_along_dim", "native_channel_shuffle", "tril", "triu",
            "type_as", "long", "int", "short", "byte", "char", "to_dense",
        )
    },
    # found on timm's volo (Outlooker attention): the inverse of unfold, which is a view here
    "fold": "fold (col2im): puts patches back into an image, summing overlaps: data movement, no MACs",
    **{
        name: _META
        for name in (
            "size", "dim", "numel", "stride", "is_contiguous", "data_ptr", "element_size", "len",
            "item", "tolist", "is_floating_point", "storage_offset", "requires_grad", "bool",
            "format", "repr", "hash", "iter", "nonzero", "any", "all", "equal", "allclose",
        )
    },
    **{
        name: _CREATE
        for name in (
            "zeros", "ones", "empty", "full", "arange", "linspace", "new_zeros", "new_ones",
            "new_empty", "new_full", "new_tensor", "zeros_like", "ones_like", "empty_like",
            "full_like", "rand", "randn", "rand_like", "randn_like", "tensor", "as_tensor",
            "meshgrid", "eye",
        )
    },
    **{
        name: _IDENTITY
        for name in (
            "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
            "assert", "assert_async", "drop_path", "identity",
        )
    },
}  # fmt: skip


def lookup(name: str) -> Handle | str | None:
    """The handle for an op, or the reason it is ignored, or None when unsupported."""
    return HANDLES.get(name) or IGNORED.get(name)


def shapes_of(values: Sequence[Any]) -> list[tuple[int, ...]]:
    """Shapes of every tensor among the (possibly nested) values."""
    found: list[tuple[int, ...]] = []
    for v in values:
        if isinstance(v, torch.Tensor):
            found.append(tuple(v.shape))
        elif isinstance(v, (list, tuple)):
            found.extend(shapes_of(v))
    return found
