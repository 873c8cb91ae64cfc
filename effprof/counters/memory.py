"""Activation memory of one inference forward: the largest set of tensors alive at once.

Counting rule: run the model once on a meta-device copy (no data) under a TorchDispatchMode that
sees every aten op that runs. Each op's outputs that live in a *new* storage are allocations (a
view shares its base's storage and costs nothing); a storage is alive from the op that creates it
to the last op that reads it (the model's output: to the end). Weights and buffers are not
activations. Then sweep the ops in order:

- ``peak_bytes``: the largest live set *during* an op -- its inputs, its outputs and everything
  held for later (what a runtime needs when the op cannot write over its input);
- ``peak_held_bytes``: the largest live set *between* two ops -- what must be held across an op
  boundary, whatever the kernels do.

With ``inplace=True`` (default) the inference fusions every runtime applies are assumed: batch
norm folded into the preceding conv, and activations/elementwise ops whose input dies at that op
write over it (a storage of the same size). Attention runs its math path (the score matrix is
materialised), as on the meta device; the MHA fast path is switched off, as for the counters.

The inverted-residual argument checks out on ``peak_held_bytes``: in an expand -> depthwise ->
project block (stride 1, expansion e, C channels) the widest held set is input + expanded tensor,
(1 + e)·C per pixel; *during* the depthwise conv both its expanded input and expanded output are
alive, (1 + 2e)·C per pixel, unless the depthwise kernel streams over its input.

Activation *counts* versus bytes. ``CountResult.activations`` (analytic and fvcore) follows
fvcore's and RegNet's convention: the number of elements output by conv, linear, matmul (and, in
effprof, attention) ops, summed over the whole forward -- a proxy for memory traffic, not for
memory held. ``mac_output_elements`` here recomputes that count from the same run (attention's
math path outputs the B·H·L·S score matrix and the B·H·L·E result, which is effprof's attention
convention; fvcore's completed handle counts only the result). The relations:
``written_bytes`` >= ``mac_output_elements`` x bytes per element (norms and activations also write)
and ``peak_bytes`` <= ``written_bytes`` (not everything is alive at once).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from effprof.counters.tracing import counting_mode, module_stack, one_line, to_meta
from effprof.errors import EffprofError

#: ops that write over an input of the same size when that input dies there (inference fusions)
_FOLDABLE = frozenset(
    {
        "native_batch_norm", "_native_batch_norm_legit_no_training", "_native_batch_norm_legit",
        "relu", "relu6", "hardtanh", "gelu", "silu", "sigmoid", "hardsigmoid", "hardswish", "tanh",
        "leaky_relu", "elu", "mish", "softplus", "clamp", "clamp_min", "clamp_max", "_softmax", "_safe_softmax",
        "add", "sub", "mul", "div", "neg", "where",
    }
)  # fmt: skip
#: ops whose outputs are activations in fvcore's / RegNet's convention
_MAC_OUTPUT_OPS = frozenset(
    {
        "convolution", "_convolution", "addmm", "mm", "bmm", "baddbmm", "matmul", "mv", "dot", "einsum",
        # composite spellings, seen when a model's weights are inference tensors
        "conv1d", "conv2d", "conv3d", "linear",
    }
)  # fmt: skip


@dataclass
class LiveStep:
    """One op of the forward and the bytes alive during it and after it."""

    op: str
    module: str
    live_bytes: int  # during the op
    held_bytes: int  # after the op, before the next


@dataclass
class MemoryEstimate:
    """Activation memory of one inference forward on one input shape (bytes; weights excluded)."""

    input_shape: tuple[int, ...]
    peak_bytes: int
    peak_op: str
    peak_module: str
    peak_held_bytes: int
    peak_held_op: str
    peak_held_module: str
    input_bytes: int
    output_bytes: int
    #: bytes written to activation tensors over the whole forward (every op's fresh outputs)
    written_bytes: int
    #: fvcore/RegNet activation count: elements output by conv/linear/matmul/attention ops
    mac_output_elements: int
    #: module path -> the largest live set while that module's own ops ran
    bytes_by_module: dict[str, int] = field(default_factory=dict)
    steps: list[LiveStep] = field(default_factory=list)


@dataclass
class _Storage:
    nbytes: int
    born: int
    last_use: int
    alias_of: int | None = None  # folded into another storage (written over it)


class _Tracker(TorchDispatchMode):
    def __init__(self, stack: list[str], weights: set[int]) -> None:
        super().__init__()
        self.stack = stack
        self.weights = weights
        self.storages: dict[int, _Storage] = {}
        self.keep: list[Any] = []  # storages kept alive so their ids are never reused
        # per op: (name, module, input keys, first fresh output key or None)
        self.ops: list[tuple[str, str, list[int], int | None]] = []
        self.written_bytes = 0
        self.mac_output_elements = 0

    def key(self, t: torch.Tensor) -> int:
        storage = t.untyped_storage()
        self.keep.append(storage)
        return storage._cdata

    def add_input(self, t: torch.Tensor) -> None:
        self.storages[self.key(t)] = _Storage(t.untyped_storage().nbytes(), 0, 0)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        step = len(self.ops) + 1
        name = func._overloadpacket.__name__
        inputs = []
        for t in tree_flatten((args, kwargs))[0]:
            if isinstance(t, torch.Tensor):
                k = self.key(t)
                if k in self.storages:
                    self.storages[k].last_use = step
                    inputs.append(k)
        out = func(*args, **kwargs)
        fresh: int | None = None
        for t in tree_flatten(out)[0]:
            if not isinstance(t, torch.Tensor):
                continue
            k = self.key(t)
            if k in self.weights:
                continue
            if k in self.storages:  # a view or an in-place write
                self.storages[k].last_use = step
                if name.endswith("_"):
                    self.written_bytes += t.numel() * t.element_size()
                continue
            self.storages[k] = _Storage(t.untyped_storage().nbytes(), step, step)
            self.written_bytes += self.storages[k].nbytes
            fresh = k if fresh is None else fresh
            if name in _MAC_OUTPUT_OPS:
                self.mac_output_elements += t.numel()
        self.ops.append((name, self.stack[-1], inputs, fresh))
        return out


def _fold(tracker: _Tracker) -> None:
    """Let foldable ops write over an input that dies at that op (same size): one storage, not two."""

    def root(k: int) -> int:
        while tracker.storages[k].alias_of is not None:
            k = tracker.storages[k].alias_of
        return k

    for step, (name, _module, inputs, fresh) in enumerate(tracker.ops, start=1):
        if fresh is None or name.rstrip("_") not in _FOLDABLE:
            continue
        out = tracker.storages[fresh]
        for k in inputs:
            r = root(k)
            base = tracker.storages[r]
            if r != fresh and base.last_use == step and base.nbytes == out.nbytes:
                out.alias_of = r
                base.last_use = out.last_use
                break


def _sweep(tracker: _Tracker, n_steps: int) -> tuple[list[int], list[int]]:
    """Bytes alive during each op (index 1..n) and held after it, by a difference array."""
    during = [0] * (n_steps + 3)
    held = [0] * (n_steps + 3)
    for s in tracker.storages.values():
        if s.alias_of is not None:
            continue
        during[s.born] += s.nbytes
        during[s.last_use + 1] -= s.nbytes
        if s.last_use > s.born:  # held after op i when born <= i < last_use
            held[s.born] += s.nbytes
            held[s.last_use] -= s.nbytes
    for i in range(1, len(during)):
        during[i] += during[i - 1]
        held[i] += held[i - 1]
    return during, held


def peak_activation_bytes(
    model: nn.Module, input_shape: tuple[int, ...], *, inplace: bool = True
) -> MemoryEstimate:
    """Estimate the activation memory of one inference forward of ``model`` on ``input_shape``.

    Runs on a meta copy (the caller's module is untouched). Raises EffprofError when the model
    rejects the input shape.
    """
    with torch.inference_mode(False):  # the meta copy must hold normal tensors (see counting_mode)
        return _peak(model, tuple(input_shape), inplace)


def _peak(model: nn.Module, input_shape: tuple[int, ...], inplace: bool) -> MemoryEstimate:
    model = to_meta(model)
    weights = {t.untyped_storage()._cdata for t in [*model.parameters(), *model.buffers()]}
    x = torch.empty(input_shape, device="meta")
    with module_stack(model) as stack:
        tracker = _Tracker(stack, weights)
        tracker.add_input(x)
        try:
            with counting_mode(model, grad=False), tracker:
                out = model(x)
        except Exception as exc:  # the model's own complaint, kept in one line
            raise EffprofError(
                f"{type(model).__name__} rejects input shape {tuple(input_shape)}: {one_line(exc)}"
            ) from exc

    n = len(tracker.ops)
    output_bytes = 0
    for t in tree_flatten(out)[0]:
        if isinstance(t, torch.Tensor):
            k = t.untyped_storage()._cdata
            if k in tracker.storages:
                tracker.storages[k].last_use = n + 1  # the result is alive to the end
                output_bytes += tracker.storages[k].nbytes
    if inplace:
        _fold(tracker)
    during, held = _sweep(tracker, n)

    steps = [
        LiveStep(name, module, during[i], held[i])
        for i, (name, module, _, _) in enumerate(tracker.ops, start=1)
    ]
    by_module: dict[str, int] = defaultdict(int)
    for s in steps:
        by_module[s.module] = max(by_module[s.module], s.live_bytes)
    peak = max(steps, key=lambda s: s.live_bytes, default=LiveStep("", "", during[0], 0))
    peak_held = max(steps, key=lambda s: s.held_bytes, default=LiveStep("", "", 0, 0))
    return MemoryEstimate(
        input_shape=tuple(input_shape),
        peak_bytes=peak.live_bytes,
        peak_op=f"aten::{peak.op}" if peak.op else "",
        peak_module=peak.module,
        peak_held_bytes=peak_held.held_bytes,
        peak_held_op=f"aten::{peak_held.op}" if peak_held.op else "",
        peak_held_module=peak_held.module,
        input_bytes=x.untyped_storage().nbytes(),
        output_bytes=output_bytes,
        written_bytes=tracker.written_bytes,
        mac_output_elements=tracker.mac_output_elements,
        bytes_by_module=dict(by_module),
        steps=steps,
    )
