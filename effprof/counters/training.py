"""Training cost counted analytically, per layer: forward MACs, backward MACs (grad-input, grad-weight),
backward other ops, and the activations autograd saves for backward.

Counting rule: run one forward on a meta-device copy of the (head-replaced, frozen) model with
autograd on, under the analytic counter's recorder (``analytic.OpRecorder``), so the forward table
is exactly ``count_analytic``'s. Each counted call's backward comes from its registered backward
formula (effprof.formulas.backward), given which operands need a gradient -- read off
``requires_grad`` of the real operands and handed over as the shapes' classes -- so the rules hold
by construction:

- a frozen layer (no trainable parameters) has no grad-weight MACs;
- no grad-input MACs before the first layer that needs a gradient (autograd stops there: the
  activations before it do not require grad);
- norms, activations, pooling and elementwise ops have no MACs; their backward is counted in
  ``backward_other_ops``, one op per element of each input needing a gradient.

The result is three count tables (effprof.counters.result), one cell per (module, op, op class):
the forward, the backward (all its MACs and other ops) and the grad-weight share of the backward's
MACs; totals and per-layer rows are views of them. A MAC op with no backward formula is in the
backward table's ``uncounted``, never a silent zero.

Saved activations: a ``saved_tensors_hooks`` pack hook sees every tensor autograd keeps for the
backward pass during the same forward; each storage is counted once, parameters and buffers
excluded, charged to the module whose forward saved it first. Attention is counted as the fused
kernels CPU and CUDA run it (flash / memory-efficient attention: q, k, v, the output and one
log-sum-exp per query row), not as meta's math path, which would keep every L x L score matrix
(a third of ViT-B/16's activations at batch 8): on meta, ``scaled_dot_product_attention`` -- called
directly or inside ``F.multi_head_attention_forward`` -- runs as the CPU flash kernel's meta
function where that kernel takes the call (no dropout, same head size for q, k and v), else as is.

Calls are charged to the innermost running module, exactly as in the forward counter.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from effprof.counters import handles
from effprof.counters.analytic import OpRecorder
from effprof.counters.memory import peak_activation_bytes
from effprof.counters.result import CountResult, CountTable
from effprof.counters.tracing import counting_mode, model_result, module_stack, one_line, tensors_in, to_meta
from effprof.errors import EffprofError
from effprof.formulas import backward as b
from effprof.formulas.registry import TensorShape, WeightShape
from effprof.models.freeze import TrainingSetup, setup_training


def _is_weight(t: torch.Tensor) -> bool:
    """A learned parameter, or a view of one (``self.weight.t()``): its gradient is a grad-weight."""
    return isinstance(t, nn.Parameter) or isinstance(getattr(t, "_base", None), nn.Parameter)


def grad_shape_class(t: torch.Tensor) -> type[TensorShape]:
    """The shape class a backward formula sees: weight or activation, needing a gradient or not."""
    if _is_weight(t):
        return b.TrainableShape if t.requires_grad else WeightShape
    return b.GradShape if t.requires_grad else TensorShape


# --- results ---------------------------------------------------------------------------------------


@dataclass
class TrainingLayer:
    """One (module, op class) row: its forward MACs and what its backward costs (a view of the tables)."""

    layer: str
    type: str
    op_class: str
    forward_macs: int = 0
    grad_input_macs: int = 0
    grad_weight_macs: int = 0
    backward_other_ops: int = 0
    trainable_params: int = 0  # the module's own trainable parameters, on its first row only
    saved_bytes: int = 0  # activations saved for backward by this module's own ops, on its first row

    @property
    def backward_macs(self) -> int:
        return self.grad_input_macs + self.grad_weight_macs


@dataclass
class TrainingCount:
    """Forward and backward MACs of one training step's model part, and its memory, on one input shape.

    ``forward``: the analytic forward (``count_analytic``'s table). ``backward``: per (module, op, op
    class), all backward MACs and the backward's other ops; its ``uncounted`` holds the MAC calls
    with no backward formula. ``grad_weight``: the share of those MACs that are gradients of
    trainable weights (grad-input = backward - grad-weight).
    """

    input_shape: tuple[int, ...]
    setup: TrainingSetup
    forward: CountResult
    backward: CountResult
    grad_weight: CountResult
    trainable_param_bytes: int = 0
    #: module path -> its own trainable parameters (each shared parameter counted once)
    trainable_by_module: dict[str, int] = field(default_factory=dict)
    #: module path -> bytes of the activations autograd saved for backward in its own forward
    saved_by_module: dict[str, int] = field(default_factory=dict)
    #: the inference forward's largest live set (effprof.counters.memory, no in-place folding)
    forward_peak_bytes: int = 0

    @property
    def params(self) -> int:
        return self.forward.params

    @property
    def trainable_params(self) -> int:
        return self.forward.trainable_params

    @property
    def param_bytes(self) -> int:
        return self.forward.weight_bytes

    @property
    def forward_macs(self) -> int:
        return self.forward.macs

    @property
    def grad_weight_macs(self) -> int:
        return self.grad_weight.macs

    @property
    def grad_input_macs(self) -> int:
        return self.backward.macs - self.grad_weight.macs

    @property
    def backward_macs(self) -> int:
        return self.backward.macs

    @property
    def backward_other_ops(self) -> int:
        return self.backward.other_ops

    @property
    def saved_activation_bytes(self) -> int:
        return sum(self.saved_by_module.values())

    @property
    def unsupported(self) -> Counter[str]:
        """Op name -> MAC calls whose backward has no formula (reported, never a silent zero)."""
        return self.backward.unsupported

    @property
    def training_macs(self) -> int:
        """Forward + backward MACs of one step (the optimizer's update is elementwise, not MACs)."""
        return self.forward_macs + self.backward_macs

    @property
    def batch(self) -> int:
        return int(self.input_shape[0]) if self.input_shape else 1

    @property
    def training_macs_per_image(self) -> float:
        return self.training_macs / self.batch

    @cached_property
    def layers(self) -> list[TrainingLayer]:
        """One row per (module, op class) of the forward, with its backward; a module's trainable params
        and saved bytes on its first row; a module that saved activations but ran no counted op of its
        own gets an ``other`` row."""
        backward = {(r.layer, r.op_class): r for r in self.backward.layers}
        grad_weight = {(r.layer, r.op_class): r.macs for r in self.grad_weight.layers}
        saved = dict(self.saved_by_module)
        rows, seen = [], set()
        for r in self.forward.layers:
            key = (r.layer, r.op_class)
            bwd, weight = backward.get(key), grad_weight.get(key, 0)
            row = TrainingLayer(r.layer, r.type, r.op_class, forward_macs=r.macs, grad_weight_macs=weight,
                                grad_input_macs=(bwd.macs if bwd else 0) - weight,
                                backward_other_ops=bwd.other_ops if bwd else 0)  # fmt: skip
            if r.layer not in seen:
                seen.add(r.layer)
                row.trainable_params = self.trainable_by_module.get(r.layer, 0)
                row.saved_bytes = saved.pop(r.layer, 0)
            rows.append(row)
        for path, nbytes in saved.items():
            rows.append(TrainingLayer(path, self.forward.module_types.get(path, "?"), "other", saved_bytes=nbytes))
        return rows

    def memory_bytes(self, optimizer: str) -> dict[str, int]:
        """Analytic training memory: params + grads + optimizer state + activations (bytes).

        Gradients: one per trainable parameter. Optimizer state: SGD with momentum keeps one buffer
        per trainable parameter, AdamW two (exp_avg, exp_avg_sq), plain SGD none. Activations: the
        larger of what autograd saves for backward and the forward's own largest live set (a frozen
        backbone saves nothing, yet its forward still holds its widest layer's input and output).
        """
        state = {"sgd": 1, "adamw": 2, "adam": 2, "sgd_plain": 0}
        if optimizer not in state:
            raise EffprofError(f"optimizer {optimizer!r}: use sgd (with momentum) or adamw")
        parts = {
            "params_bytes": self.param_bytes,
            "grads_bytes": self.trainable_param_bytes,
            "optimizer_state_bytes": state[optimizer] * self.trainable_param_bytes,
            "activation_bytes": max(self.saved_activation_bytes, self.forward_peak_bytes),
        }
        parts["total_bytes"] = sum(parts.values())
        return parts


# --- the count -------------------------------------------------------------------------------------

_SDPA = F.scaled_dot_product_attention


def _fused_sdpa(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):  # noqa: ANN001
    """``F.scaled_dot_product_attention`` on meta as the CPU flash kernel computes it (what autograd saves
    for backward follows the kernel); any other call, or one that kernel does not take, is left as is."""
    fused = (query.device.type == "meta" and dropout_p == 0.0 and not enable_gqa and query.dim() == 4
             and query.shape[-1] == key.shape[-1] == value.shape[-1])  # fmt: skip
    if not fused:
        return _SDPA(query, key, value, attn_mask=attn_mask, dropout_p=dropout_p, is_causal=is_causal, scale=scale,
                     enable_gqa=enable_gqa)  # fmt: skip
    out, _ = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
        query, key, value, dropout_p, is_causal, attn_mask=attn_mask, scale=scale)  # fmt: skip
    return out


@contextmanager
def fused_attention_on_meta() -> Iterator[None]:
    """For the calls made in the block: ``F.scaled_dot_product_attention`` is ``_fused_sdpa`` (the name
    F.multi_head_attention_forward looks up, too)."""
    F.scaled_dot_product_attention = _fused_sdpa
    try:
        yield
    finally:
        F.scaled_dot_product_attention = _SDPA


class _TrainingRecorder(OpRecorder):
    """The analytic forward (``OpRecorder``) plus, per counted call, its backward and saved tensors."""

    def __init__(self, stack: list[str], weights: set[int]) -> None:
        super().__init__(stack)
        self.backward = CountTable()
        self.grad_weight = CountTable()
        self.no_backward: Counter[tuple[str, str]] = Counter()
        self.saved: dict[int, tuple[int, str]] = {}  # storage -> (bytes, module)
        self.weights = weights  # storages of parameters and buffers: never "saved activations"
        self.keep: list[Any] = []  # the saved storages, alive so their ids stay unique

    def record(self, name: str, parts: list[handles.Part], args: tuple, kwargs: dict, out: Any) -> None:
        super().record(name, parts, args, kwargs, out)
        layer = self.stack[-1]
        if any(p.macs for p in parts):
            formula = b.backward_formula(name)
            grads = handles.apply_formula(formula, args, kwargs, out, grad_shape_class) if formula else None
            if grads is None:
                self.no_backward[(layer, name)] += 1
                return
            for part, grad in zip(parts, grads, strict=True):
                if grad.total:
                    self.backward.add(layer, name, part.op_class, macs=grad.total, calls=1)
                if grad.grad_weight:
                    self.grad_weight.add(layer, name, part.op_class, macs=grad.grad_weight, calls=1)
        elif parts:
            needing = [tuple(t.shape) for t in tensors_in([*args, *kwargs.values()]) if t.requires_grad]
            other = b.elementwise_backward_other_ops(needing)
            if other:
                self.backward.add(layer, name, parts[0].op_class, other_ops=other, calls=1)

    def run(self, func: Any, args: tuple, kwargs: dict) -> Any:
        if func is _SDPA:  # attention as the fused kernels run it: see the module docstring
            return _fused_sdpa(*args, **kwargs)
        if func is F.multi_head_attention_forward:
            with fused_attention_on_meta():
                return func(*args, **kwargs)
        return func(*args, **kwargs)

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        key = storage._cdata
        if key not in self.weights and key not in self.saved:
            self.keep.append(storage)
            self.saved[key] = (storage.nbytes(), self.stack[-1])
        return t


def count_training(
    model: nn.Module,
    input_shape: tuple[int, ...],
    *,
    freeze: str = "none",
    num_classes: int | None = None,
    name: str | None = None,
) -> TrainingCount:
    """Count one training step's forward and backward MACs, per layer, with ``freeze`` and ``num_classes`` applied.

    Counts on a meta copy; the caller's module is untouched. The input needs no gradient (an image
    batch). Raises EffprofError on a bad strategy or when the model rejects the input shape.
    """
    with torch.inference_mode(False):
        meta = to_meta(model)
        model = copy.deepcopy(meta) if meta is model else meta  # never freeze the caller's own module
        setup = setup_training(model, freeze, num_classes)
        count = _count(model, tuple(input_shape), setup, name)
        count.forward_peak_bytes = peak_activation_bytes(model, tuple(input_shape), inplace=False).peak_bytes
        return count


def _count(model: nn.Module, input_shape: tuple[int, ...], setup: TrainingSetup, name: str | None) -> TrainingCount:
    weights = {t.untyped_storage()._cdata for t in [*model.parameters(), *model.buffers()]}
    x = torch.empty(input_shape, device="meta")
    # eval() as the forward counter: the MACs are the same in train mode
    with module_stack(model) as stack, counting_mode(model, grad=True):
        rec = _TrainingRecorder(stack, weights)
        try:
            with torch.autograd.graph.saved_tensors_hooks(rec.pack, lambda t: t), rec:
                model(x)
        except Exception as exc:  # the model's own complaint about the shape, kept in one line
            label = name or type(model).__name__
            raise EffprofError(f"{label} rejects input shape {input_shape}: {one_line(exc)}") from exc
    forward = rec.result(model, input_shape)
    saved: dict[str, int] = {}
    for nbytes, module in rec.saved.values():
        saved[module] = saved.get(module, 0) + nbytes
    trainable = [p for p in model.parameters() if p.requires_grad]
    return TrainingCount(
        input_shape=input_shape,
        setup=setup,
        forward=forward,
        backward=model_result("analytic backward", model, input_shape, rec.backward.rows(),
                              uncounted=dict(rec.no_backward)),  # fmt: skip
        grad_weight=model_result("analytic grad-weight", model, input_shape, rec.grad_weight.rows()),
        trainable_param_bytes=sum(p.numel() * p.element_size() for p in trainable),
        trainable_by_module=_own_trainable(model, [c.layer for c in forward.table]),
        saved_by_module=saved,
    )


def _own_trainable(model: nn.Module, order: list[str]) -> dict[str, int]:
    """Module path -> its own trainable parameters, given to modules in ``order`` (each shared one once)."""
    modules = dict(model.named_modules())
    seen: set[int] = set()
    out: dict[str, int] = {}
    for path in dict.fromkeys(order):
        module = modules.get(path)
        if module is None:
            continue
        own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
        seen.update(id(p) for p in own)
        out[path] = sum(p.numel() for p in own if p.requires_grad)
    return out
