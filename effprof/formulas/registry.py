"""The op-formula registry: op name -> the formula that counts one call of it, from shapes alone.

The pattern of ``torch/utils/flop_counter.py``: ``@register_formula("conv2d", ...)`` sits on the
formula, the formula sees shapes (never tensors), and one shape wrapper on the counter's side
(``effprof.counters.handles.count_call``) turns a call's tensors into shapes before calling it.
Registered formulas take the op's own arguments in the op's own order, with every tensor replaced
by its ``TensorShape`` (a ``WeightShape`` for a learned parameter) and the shape of the first
tensor it returned as ``out_shape``; they return the counted ``Part``s of that one call.

Pure and torch-free: nothing here imports a counter, a model or torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple


class TensorShape(tuple):
    """The shape of a tensor argument (a tuple of ints), as the shape wrapper hands it to a formula."""

    __slots__ = ()


class WeightShape(TensorShape):
    """The shape of a learned operand (an nn.Parameter, an ONNX initializer): a matmul against one is
    a linear layer written by hand; a matmul of two activations is attention."""

    __slots__ = ()


class Part(NamedTuple):
    """A counted piece of one call; a call may yield several (MHA: projections + attention)."""

    op_class: str
    macs: int = 0
    other_ops: int = 0
    activations: int = 0


OpFormula = Callable[..., list[Part]]

#: op name (canonical: ``conv2d``, ``add``, ``scaled_dot_product_attention``) -> its formula
OP_FORMULAS: dict[str, OpFormula] = {}


def register_formula(*names: str) -> Callable[[OpFormula], OpFormula]:
    """Decorator: ``formula`` counts a call of each op in ``names``. An op registered twice is a bug."""

    def decorate(formula: OpFormula) -> OpFormula:
        for name in names:
            if name in OP_FORMULAS:
                raise ValueError(f"op {name!r} has two formulas: {OP_FORMULAS[name].__name__} and {formula.__name__}")
            OP_FORMULAS[name] = formula
        return formula

    return decorate


def op_formula(name: str) -> OpFormula | None:
    """The registered formula of an op, or None when effprof has none."""
    return OP_FORMULAS.get(name)
