"""effprof's own counter: shape-only formulas applied to every torch call of one forward pass.

Counting rule: run the model once on the meta device (no data, no arithmetic, so the cost does
not grow with resolution) under a ``TorchFunctionMode`` that sees every torch call at the Python
API level -- module calls and functional ones alike (``F.scaled_dot_product_attention``, ``@``,
``torch.einsum``, a residual ``+``). Each call is looked up among the registered formulas
(``effprof.formulas.calls``, through the shape wrapper ``handles.count_call``), ``IGNORED``
(skipped, with the reason) or neither (unsupported, reported per module). Forward hooks keep a
stack of the modules being run (``tracing.module_stack``), so each call is charged to the
innermost module whose own ``forward`` made it.

Autograd stays enabled: under ``no_grad``/``inference_mode`` nn.MultiheadAttention takes a fused
fast path that hides its matmuls.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from effprof.counters import handles
from effprof.counters.result import CountResult, CountTable
from effprof.counters.tracing import first_tensor, model_result, module_stack, one_line, tensors_in, to_meta
from effprof.counters.vocabulary import IGNORED, META
from effprof.errors import EffprofError

__all__ = ["OpRecorder", "count_analytic", "to_meta"]


class OpRecorder(TorchFunctionMode):
    """The analytic count of every torch call made while it is active, charged to ``stack[-1]``.

    A counted call goes through ``record``; a subclass that counts more per call (the training
    counter adds each call's backward) extends ``record`` and keeps this table as its forward.
    """

    def __init__(self, stack: list[str]) -> None:
        super().__init__()
        self.stack = stack
        self.table = CountTable()
        self.uncounted: Counter[tuple[str, str]] = Counter()
        self.ignored: Counter[str] = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = self.run(func, args, kwargs)
        name = handles.canonical_name(func)
        found = handles.lookup(name)
        if isinstance(found, str):
            self.ignored[name] += 1
        elif found is not None:
            self.record(name, handles.count_call(name, args, kwargs, out), args, kwargs, out)
        elif first_tensor(out) is not None:
            self.uncounted[(self.stack[-1], name)] += 1
        else:
            self.ignored[name] += 1  # returned no tensor: a query, counted as metadata
        return out

    def run(self, func: Any, args: tuple, kwargs: dict) -> Any:
        """Compute the call (this mode is off meanwhile); a subclass may run it another way with the same result."""
        return func(*args, **kwargs)

    def record(self, name: str, parts: list[handles.Part], args: tuple, kwargs: dict, out: Any) -> None:
        """Add one counted call (its formula's ``parts``) to the table, under the innermost running module."""
        moved = sum(t.numel() * t.element_size() for t in tensors_in([*args, *kwargs.values(), out]))
        out_t = first_tensor(out)
        shape = tuple(out_t.shape) if out_t is not None else None
        for i, part in enumerate(parts):
            self.table.add(
                self.stack[-1], name, part.op_class, macs=part.macs, other_ops=part.other_ops,
                activations=part.activations, bytes=moved if i == 0 else 0, calls=1, output_shape=shape,
            )  # fmt: skip

    def result(self, model: nn.Module, input_shape: tuple[int, ...]) -> CountResult:
        """The analytic CountResult of what was recorded on ``model`` (params and module names from it)."""
        return model_result("analytic", model, tuple(input_shape), self.table.rows(),
                            uncounted=dict(self.uncounted),
                            ignored={op: (n, IGNORED.get(op, META)) for op, n in self.ignored.items()})  # fmt: skip


def count_analytic(model: nn.Module, input_shape: tuple[int, ...], *, name: str | None = None) -> CountResult:
    """Count params, MACs, other ops, activations and bytes of ``model`` on one input shape.

    ``model`` may live on any device; counting happens on a meta copy. Raises EffprofError when the
    model rejects the input shape (the model's own message is kept).
    """
    model = to_meta(model)
    model.eval()
    x = torch.empty(input_shape, device="meta")
    with module_stack(model) as stack:
        recorder = OpRecorder(stack)
        try:
            with torch.enable_grad(), recorder:
                model(x)
        except Exception as exc:  # the model's own complaint about the shape, kept in one line
            label = name or type(model).__name__
            raise EffprofError(f"{label} rejects input shape {tuple(input_shape)}: {one_line(exc)}") from exc
    return recorder.result(model, input_shape)
