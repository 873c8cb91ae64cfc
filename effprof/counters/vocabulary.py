"""The op vocabulary every counter shares: op classes, which op names carry MACs, which are skipped.

Counting rule of the vocabulary (fvcore ``jit_analysis``): an op is *counted* (it has a formula,
``effprof.formulas.OP_FORMULAS``), *ignored on purpose* (``IGNORED``, with a one-line reason) or
*unsupported* (reported per module, never a silent zero). Op names come in every counter's spelling
(``conv``, ``aten::convolution``, ``aten.convolution.default``, ``Conv``); ``op_base_name`` strips
the namespace. Pure names: no torch, no fvcore.
"""

from __future__ import annotations

import re

from effprof.formulas.ops import RNN_OPS

OP_CLASSES = (
    "conv_dense",
    "conv_depthwise",
    "conv_pointwise",
    "conv_grouped",
    "linear",
    "attention",
    "norm",
    "activation",
    "pool",
    "elementwise",
    "other",
)

#: Op classes whose outputs count as activations (fvcore's and RegNet's convention).
ACTIVATION_OP_CLASSES = frozenset(
    {"conv_dense", "conv_depthwise", "conv_pointwise", "conv_grouped", "linear", "attention"}
)

#: op names (namespace stripped) that are multiply-accumulates in effprof's units, besides
#: anything with "conv" or "attention" in its name
_MAC_NAMES = frozenset(
    {
        "linear", "addmm", "mm", "bmm", "baddbmm", "addbmm", "matmul", "mv", "addmv", "dot",
        "inner", "einsum", "_scaled_mm", "multi_head_attention_forward",
        "_native_multi_head_attention", "_transformer_encoder_layer_fwd",
        # recurrent layers as one op: nn.LSTM/GRU/RNN (analytic, fvcore's trace, meta) or oneDNN's
        # LSTM kernel on CPU, which FlopCounterMode has no formula for
        *RNN_OPS, "mkldnn_rnn_layer",
    }
)  # fmt: skip
#: recurrent cells multiply by learned weights: effprof's "linear" class, like a hand-written x @ W
_LINEAR_NAMES = frozenset(
    {"linear", "addmm", "mm", "mv", "addmv", "dot", "inner", "_scaled_mm", *RNN_OPS, "mkldnn_rnn_layer"}
)

#: how a non-MAC op class is named in a sentence ("norms are other_ops in effprof")
CLASS_WORDS = {
    "norm": "norms",
    "pool": "pooling",
    "activation": "activations",
    "elementwise": "elementwise ops",
    "other": "resampling and other non-MAC ops",
}


def op_base_name(op: str) -> str:
    """``aten::batch_norm`` / ``aten.convolution.default`` / ``batch_norm`` -> the bare op name."""
    name = op.split("::", 1)[-1]
    if name.startswith("aten."):
        name = name[len("aten.") :]
    return name.split(".", 1)[0]


def is_mac_op(op: str) -> bool:
    """Whether an op (any counter's spelling) does multiply-accumulates in effprof's units."""
    name = op_base_name(op)
    if name in _MAC_NAMES:
        return True
    return ("conv" in name and "convert" not in name) or "attention" in name


def op_class_of(op: str) -> str:
    """The effprof op class of an op name; convolutions come back as ``conv_dense``.

    Counters that see the module (fvcore, torch) refine convolutions into depthwise, pointwise and
    grouped from the module's hyper-parameters. Matmuls between activations are ``attention``
    (the analytic counter's rule for a matmul with no learned operand).
    """
    name = op_base_name(op)
    if "conv" in name and "convert" not in name:
        return "conv_dense"
    if name in _LINEAR_NAMES:
        return "linear"
    if name in _MAC_NAMES or "attention" in name:
        return "attention"
    if "norm" in name:
        return "norm"
    if "pool" in name:
        return "pool"
    if re.search(r"relu|gelu|silu|sigmoid|swish|tanh|softmax|hardtanh|clamp|mish|elu", name):
        return "activation"
    if name in {"add", "sub", "mul", "div", "rsub", "pow", "neg", "sqrt", "rsqrt", "exp", "where"}:
        return "elementwise"
    return "other"


# --- ops skipped on purpose, with the reason (the analytic and ONNX counters) -------------------------

VIEW = "view or reshape: no arithmetic, no copy"
MOVE = "data movement (copy, concatenate, index, pad): bytes but no arithmetic"
META = "metadata query: returns no tensor data"
CREATE = "tensor creation: no arithmetic on the input"
IDENTITY = "identity at inference (dropout, assertions)"

IGNORED: dict[str, str] = {
    **{
        name: VIEW
        for name in (
            "view", "view_as", "reshape", "reshape_as", "permute", "transpose", "t", "flatten",
            "unflatten", "squeeze", "unsqueeze", "expand", "expand_as", "chunk", "split",
            "split_with_sizes", "tensor_split", "unbind", "narrow", "select", "movedim", "swapaxes",
            "swapdims", "as_strided", "detach", "contiguous", "getattr", "unfold", "diagonal",
        )
    },
    **{
        name: MOVE
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
        name: META
        for name in (
            "size", "dim", "numel", "stride", "is_contiguous", "data_ptr", "element_size", "len",
            "item", "tolist", "is_floating_point", "storage_offset", "requires_grad", "bool",
            "format", "repr", "hash", "iter", "nonzero", "any", "all", "equal", "allclose",
        )
    },
    **{
        name: CREATE
        for name in (
            "zeros", "ones", "empty", "full", "arange", "linspace", "new_zeros", "new_ones",
            "new_empty", "new_full", "new_tensor", "zeros_like", "ones_like", "empty_like",
            "full_like", "rand", "randn", "rand_like", "randn_like", "tensor", "as_tensor",
            "meshgrid", "eye",
        )
    },
    **{
        name: IDENTITY
        for name in (
            "dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout",
            "assert", "assert_async", "drop_path", "identity",
        )
    },
}  # fmt: skip
