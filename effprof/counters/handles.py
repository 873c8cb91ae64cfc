"""The shape wrapper: one torch call -> the registered formula of its op, applied to shapes.

The counter's half of the ``register_formula`` pattern (``torch/utils/flop_counter.py``'s
``shape_wrapper``): ``count_call`` names the op canonically, turns every tensor among the call's
arguments into its shape (a ``WeightShape`` for an nn.Parameter) and calls the formula of
``effprof.formulas.calls`` with ``out_shape``. Every op lands in exactly one of three places: a
formula (counted), ``vocabulary.IGNORED`` (skipped on purpose, with the reason), or neither
(unsupported: reported per module by the counter, never a silent zero).

Op names are canonical: ``Tensor.add_``, ``Tensor.__iadd__``, ``Tensor.__radd__`` and ``torch.add``
are all ``add``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from effprof.counters.tracing import first_tensor, shapes_of  # noqa: F401  (shapes_of: public here before)
from effprof.counters.vocabulary import IGNORED, META
from effprof.formulas import OP_FORMULAS, Part, TensorShape, WeightShape

__all__ = ["HANDLES", "IGNORED", "Part", "canonical_name", "count_call", "first_tensor", "lookup", "to_shapes"]

#: every op the analytic counter counts (the registered formulas)
HANDLES = OP_FORMULAS
_META = META

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


def to_shapes(value: Any) -> Any:
    """Tensors -> ``TensorShape`` (``WeightShape`` for an nn.Parameter), through lists, tuples and dicts."""
    if isinstance(value, torch.Tensor):
        return (WeightShape if isinstance(value, nn.Parameter) else TensorShape)(value.shape)
    if isinstance(value, (list, tuple)):
        return type(value)(to_shapes(v) for v in value) if type(value) in (list, tuple) else [to_shapes(v) for v in value]
    if isinstance(value, dict):
        return {k: to_shapes(v) for k, v in value.items()}
    return value


def count_call(name: str, args: tuple, kwargs: dict, out: Any) -> list[Part]:
    """The counted parts of one call of op ``name`` (which must have a formula), from shapes alone."""
    out_t = first_tensor(out)
    out_shape = TensorShape(out_t.shape) if out_t is not None else None
    return OP_FORMULAS[name](*to_shapes(args), out_shape=out_shape, **to_shapes(kwargs))


def lookup(name: str) -> Callable | str | None:
    """The formula for an op, or the reason it is ignored, or None when unsupported."""
    return OP_FORMULAS.get(name) or IGNORED.get(name)
