"""Backward (training) MACs: one pure, shape-only formula per op, registered on the op as the forward ones are.

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
``requires_grad`` of the real operands and hands it over in the shapes' classes: ``GradShape`` (an
activation needing a gradient), ``TrainableShape`` (a weight that trains), else the forward's
``TensorShape`` / ``WeightShape``. So the formulas never guess.

Bias gradients are sums over the output gradient, not MACs (as bias adds are not MACs forward).
Norms, activations, pooling and elementwise ops are not MACs: their backward is counted in
``*_backward_other_ops`` (one op per element of each input that needs a gradient), never in MACs.

Registration: ``@register_backward("conv2d", ...)`` sits on the formula, which takes the op's own
arguments as shapes, like the forward formula of the same op (``effprof.formulas.calls``), and
returns one ``BackwardMacs`` per ``Part`` that forward formula returns (MHA: projections, then the
attention core), or None when this call's backward has no formula (it is reported, never a silent
zero). The bilinear ops take their forward MACs from the forward formula itself, so a backward is
the forward it pairs with by construction; attention, two chained products, has its own closed form.
Pure and torch-free, like the rest of effprof.formulas.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from effprof.formulas import calls
from effprof.formulas import ops as f
from effprof.formulas.ops import Shape
from effprof.formulas.registry import TensorShape, WeightShape


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


class GradShape(TensorShape):
    """The shape of an activation operand that needs a gradient (something before it trains)."""

    __slots__ = ()


class TrainableShape(WeightShape):
    """The shape of a learned weight that trains (``requires_grad``): it gets a grad-weight."""

    __slots__ = ()


def needs_grad(shape: Any) -> bool:
    """Whether the operand of this shape gets a gradient in the backward pass."""
    return isinstance(shape, (GradShape, TrainableShape))


BackwardFormula = Callable[..., "list[BackwardMacs] | None"]

#: op name (as in ``effprof.formulas.OP_FORMULAS``) -> the formula of its backward
BACKWARD_FORMULAS: dict[str, BackwardFormula] = {}


def register_backward(*names: str) -> Callable[[BackwardFormula], BackwardFormula]:
    """Decorator: ``formula`` counts the backward of a call of each op in ``names``. Twice is a bug."""

    def decorate(formula: BackwardFormula) -> BackwardFormula:
        for name in names:
            if name in BACKWARD_FORMULAS:
                raise ValueError(f"op {name!r} has two backward formulas: {BACKWARD_FORMULAS[name].__name__} "
                                 f"and {formula.__name__}")  # fmt: skip
            BACKWARD_FORMULAS[name] = formula
        return formula

    return decorate


def backward_formula(name: str) -> BackwardFormula | None:
    """The registered backward formula of an op, or None when effprof has none."""
    return BACKWARD_FORMULAS.get(name)


# --- the rules ---------------------------------------------------------------------------------------


def bilinear_backward_macs(forward_macs: int, *, input_grad: bool, weight_grad: bool) -> BackwardMacs:
    """Backward of any op linear in each of two operands: forward MACs once per operand needing a gradient.

    ``input_grad``: the activation operand needs a gradient (something before it is trainable);
    ``weight_grad``: the weight operand is trainable.
    """
    return BackwardMacs(forward_macs if input_grad else 0, forward_macs if weight_grad else 0)


def operand_backward_macs(forward_macs: int, *operands: Shape) -> BackwardMacs:
    """The bilinear rule on a call's operands: forward MACs once per operand needing a gradient, a
    weight's as grad-weight, an activation's as grad-input (Q K^T: both grad-input; x W: one of each)."""
    result = BackwardMacs()
    for shape in operands:
        if needs_grad(shape):
            weight = isinstance(shape, WeightShape)
            result += BackwardMacs(0, forward_macs) if weight else BackwardMacs(forward_macs, 0)
    return result


def _per_part(forward: list, *operands: Shape) -> list[BackwardMacs]:
    return [operand_backward_macs(part.macs, *operands) for part in forward]


def _arg(args: tuple, kwargs: dict, index: int, name: str, default: Any = None) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


# --- registered: the bilinear ops ----------------------------------------------------------------------


@register_backward("conv1d", "conv2d", "conv3d", "convolution")
def conv(input: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[BackwardMacs]:
    """grad-input (the transposed conv of dY with W) and grad-weight (the correlation of X with dY):
    each the forward's output elements x (Cin / groups) x prod(kernel)."""
    return _per_part(calls.conv(input, weight, *args, out_shape=out_shape, **kwargs), input, weight)


@register_backward("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")
def conv_transpose(input: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[BackwardMacs]:
    """Each gradient = the forward's input elements x (Cout / groups) x prod(kernel)."""
    return _per_part(calls.conv_transpose(input, weight, *args, out_shape=out_shape, **kwargs), input, weight)


@register_backward("linear")
def linear(input: Shape, weight: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[BackwardMacs]:
    """dX = dY W (rows x Cout x Cin) and dW = dY^T X (Cout x rows x Cin): each the forward MACs."""
    return _per_part(calls.linear(input, weight, *args, out_shape=out_shape, **kwargs), input, weight)


@register_backward("matmul", "mm", "bmm", "mv", "dot", "inner")
def matmul(a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[BackwardMacs]:
    """dA = dC B^T and dB = A^T dC: each the forward MACs (batch x n x k x m)."""
    return _per_part(calls.matmul(a, b, *args, out_shape=out_shape, **kwargs), a, b)


@register_backward("addmm", "baddbmm", "addbmm", "addmv")
def addmm(bias: Shape, a: Shape, b: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[BackwardMacs]:
    """As ``matmul`` for a @ b; the bias's gradient is a sum, not MACs."""
    return _per_part(calls.addmm(bias, a, b, *args, out_shape=out_shape, **kwargs), a, b)


@register_backward("einsum")
def einsum(equation: str, *operands: Any, out_shape: Shape, **kwargs: Any) -> list[BackwardMacs] | None:
    """Two operands: each gradient is the forward's product over every index. Three or more: no formula."""
    listed = tuple(operands[0]) if len(operands) == 1 and not isinstance(operands[0], TensorShape) else operands
    if len(listed) != 2:
        return None
    return _per_part(calls.einsum(equation, *listed, out_shape=out_shape, **kwargs), *listed)


# --- registered: attention ------------------------------------------------------------------------------


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


@register_backward("scaled_dot_product_attention")
def sdpa(query: Shape, key: Shape, value: Shape, *args: Any, out_shape: Shape, **kwargs: Any) -> list[BackwardMacs]:
    """``sdpa_backward_macs`` with what Q, K and V need."""
    grads = {"q_grad": needs_grad(query), "k_grad": needs_grad(key), "v_grad": needs_grad(value)}
    return [sdpa_backward_macs(query, key, value, **grads)]


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


@register_backward("multi_head_attention_forward")
def multi_head_attention(
    query: Shape, key: Shape, value: Shape, embed_dim: int, num_heads: int, *args: Any, out_shape: Shape, **kwargs: Any
) -> list[BackwardMacs]:
    """F.multi_head_attention_forward, (L, N, E) layout: ``mha_backward_macs`` split as the forward
    formula splits it -- the projections (linear), then the attention core (``mha_core_backward_macs``).

    The in-projection is ``in_proj_weight`` (argument 5), or ``q_proj_weight`` when the projections are
    separate; the out-projection ``out_proj_weight`` (argument 11).
    """
    input_grad = needs_grad(query) or needs_grad(key) or needs_grad(value)
    if len(query) == 2:  # unbatched (L, E)
        query, key, value = (query[0], 1, query[1]), (key[0], 1, key[1]), (value[0], 1, value[1])
    in_proj = _arg(args, kwargs, 0, "in_proj_weight")
    in_proj_grad = needs_grad(in_proj if in_proj is not None else kwargs.get("q_proj_weight"))
    out_proj_grad = needs_grad(_arg(args, kwargs, 6, "out_proj_weight"))
    tokens_q, batch, embed = query
    total = mha_backward_macs(tokens_q, key[0], batch, embed, key[-1], value[-1],
                              input_grad=input_grad, in_proj_grad=in_proj_grad, out_proj_grad=out_proj_grad)  # fmt: skip
    core = mha_core_backward_macs(tokens_q, key[0], batch, embed, qkv_grad=input_grad or in_proj_grad)
    return [BackwardMacs(total.grad_input - core.grad_input, total.grad_weight), core]


# --- non-MAC ops -------------------------------------------------------------------------------------


def elementwise_backward_other_ops(input_shapes: list[Shape]) -> int:
    """Backward of a norm, activation, pooling or elementwise op: one op per element of each input needing a gradient.

    The same one-per-element rule as forward ``other_ops`` (ops.elementwise_other_ops); never MACs.
    """
    return sum(f.numel(s) for s in input_shapes)
