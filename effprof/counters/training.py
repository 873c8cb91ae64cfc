"""Training cost counted analytically, per layer: forward MACs, backward MACs (grad-input, grad-weight),
backward other ops, and the activations autograd saves for backward.

Counting rule: run one forward on a meta-device copy of the (head-replaced, frozen) model with
autograd on, under a ``TorchFunctionMode`` that sees every torch call, as the analytic counter does.
Each call's forward parts come from the same handles (effprof.counters.handles); its backward from
effprof.formulas.backward, given which operands need a gradient -- read off ``requires_grad`` of the
real operands, so the rules hold by construction:

- a frozen layer (no trainable parameters) has no grad-weight MACs;
- no grad-input MACs before the first layer that needs a gradient (autograd stops there: the
  activations before it do not require grad);
- norms, activations, pooling and elementwise ops have no MACs; their backward is counted in
  ``backward_other_ops``, one op per element of each input needing a gradient.

Saved activations: a ``saved_tensors_hooks`` pack hook sees every tensor autograd keeps for the
backward pass during the same forward; each storage is counted once, parameters and buffers
excluded, charged to the module whose forward saved it first. On meta, attention runs its math path,
which saves the full score matrix; CPU/CUDA fused attention kernels save less (a log-sum-exp row).

Calls are charged to the innermost running module, exactly as in the forward counter.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from effprof.counters import handles
from effprof.counters.analytic import to_meta
from effprof.counters.memory import peak_activation_bytes
from effprof.errors import EffprofError
from effprof.formulas import backward as b
from effprof.formulas import ops as f
from effprof.models.freeze import TrainingSetup, setup_training


def _is_weight(t: Any) -> bool:
    """A learned parameter, or a view of one (``self.weight.t()``)."""
    if isinstance(t, nn.Parameter):
        return True
    base = getattr(t, "_base", None)
    return isinstance(base, nn.Parameter)


def _grad(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and t.requires_grad


# --- backward handles: the MAC-bearing ops, each a formula of effprof.formulas.backward ----------------


def _conv_bwd(args, kwargs, out) -> b.BackwardMacs:
    x, w = args[0], handles._arg(args, kwargs, 1, "weight")
    groups = int(handles._arg(args, kwargs, 6, "groups", 1))
    return b.conv_backward_macs(tuple(out.shape), x.shape[1], tuple(w.shape[2:]), groups,
                                input_grad=_grad(x), weight_grad=_grad(w))  # fmt: skip


def _conv_transpose_bwd(args, kwargs, out) -> b.BackwardMacs:
    x, w = args[0], handles._arg(args, kwargs, 1, "weight")
    groups = int(handles._arg(args, kwargs, 6, "groups", 1))
    return b.conv_transpose_backward_macs(tuple(x.shape), w.shape[1] * groups, tuple(w.shape[2:]), groups,
                                          input_grad=_grad(x), weight_grad=_grad(w))  # fmt: skip


def _linear_bwd(args, kwargs, out) -> b.BackwardMacs:
    x, w = args[0], handles._arg(args, kwargs, 1, "weight")
    return b.linear_backward_macs(tuple(x.shape), w.shape[0], input_grad=_grad(x), weight_grad=_grad(w))


def _two_operand(a: torch.Tensor, c: torch.Tensor, forward: int) -> b.BackwardMacs:
    """Any bilinear op of two operands: forward MACs per operand needing a gradient, a weight's as grad-weight."""
    result = b.BackwardMacs()
    for t in (a, c):
        if _grad(t):
            result += b.BackwardMacs(0, forward) if _is_weight(t) else b.BackwardMacs(forward, 0)
    return result


def _matmul_bwd(args, kwargs, out) -> b.BackwardMacs:
    a, c = args[0], args[1]
    if _is_weight(a) and not _is_weight(c):
        a, c = c, a  # W @ x: the weight's gradient is still grad-weight
        return _two_operand(a, c, f.matmul_macs(tuple(c.shape), tuple(a.shape)))
    return b.matmul_backward_macs(tuple(a.shape), tuple(c.shape), a_grad=_grad(a), b_grad=_grad(c),
                                  b_is_weight=_is_weight(c))  # fmt: skip


def _addmm_bwd(args, kwargs, out) -> b.BackwardMacs:
    return _matmul_bwd(args[1:], kwargs, out)


def _einsum_bwd(args, kwargs, out) -> b.BackwardMacs:
    operands = args[1] if len(args) == 2 and isinstance(args[1], (list, tuple)) else args[1:]
    if len(operands) != 2:
        raise _Unsupported
    forward = f.einsum_macs(args[0], [tuple(t.shape) for t in operands])
    return _two_operand(operands[0], operands[1], forward)


def _sdpa_bwd(args, kwargs, out) -> b.BackwardMacs:
    q, k, v = args[0], handles._arg(args, kwargs, 1, "key"), handles._arg(args, kwargs, 2, "value")
    return b.sdpa_backward_macs(tuple(q.shape), tuple(k.shape), tuple(v.shape),
                                q_grad=_grad(q), k_grad=_grad(k), v_grad=_grad(v))  # fmt: skip


def _mha_bwd(args, kwargs, out) -> b.BackwardMacs:
    q, k, v = args[0], args[1], args[2]
    if q.dim() == 2:
        q, k, v = q.unsqueeze(1), k.unsqueeze(1), v.unsqueeze(1)
    in_proj = handles._arg(args, kwargs, 5, "in_proj_weight")
    if in_proj is None:
        in_proj = kwargs.get("q_proj_weight")
    out_proj = handles._arg(args, kwargs, 11, "out_proj_weight")
    input_grad, in_proj_grad = _grad(q) or _grad(k) or _grad(v), _grad(in_proj)
    total = b.mha_backward_macs(q.shape[0], k.shape[0], q.shape[1], q.shape[2], k.shape[-1], v.shape[-1],
                                input_grad=input_grad, in_proj_grad=in_proj_grad,
                                out_proj_grad=_grad(out_proj))  # fmt: skip
    # split as the forward handle splits: the attention core apart from the projections
    core = b.mha_core_backward_macs(q.shape[0], k.shape[0], q.shape[1], q.shape[2],
                                    qkv_grad=input_grad or in_proj_grad)  # fmt: skip
    return {"linear": b.BackwardMacs(total.grad_input - core.grad_input, total.grad_weight), "attention": core}


class _Unsupported(Exception):
    """A MAC op whose backward has no formula here (reported, never a silent zero)."""


BACKWARD_HANDLES = {
    **{name: _conv_bwd for name in ("conv1d", "conv2d", "conv3d", "convolution")},
    **{name: _conv_transpose_bwd for name in ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d")},
    "linear": _linear_bwd,
    **{name: _matmul_bwd for name in ("matmul", "mm", "bmm", "mv", "dot", "inner")},
    **{name: _addmm_bwd for name in ("addmm", "baddbmm", "addbmm", "addmv")},
    "einsum": _einsum_bwd,
    "scaled_dot_product_attention": _sdpa_bwd,
    "multi_head_attention_forward": _mha_bwd,
}


# --- results ---------------------------------------------------------------------------------------


@dataclass
class TrainingLayer:
    """One (module, op class) pair: its forward MACs and what its backward costs."""

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
    """Forward and backward MACs of one training step's model part, and its memory, on one input shape."""

    input_shape: tuple[int, ...]
    setup: TrainingSetup
    params: int
    trainable_params: int
    param_bytes: int
    trainable_param_bytes: int
    forward_macs: int
    grad_input_macs: int
    grad_weight_macs: int
    backward_other_ops: int
    saved_activation_bytes: int
    #: the inference forward's largest live set (effprof.counters.memory, no in-place folding)
    forward_peak_bytes: int = 0
    layers: list[TrainingLayer] = field(default_factory=list)
    #: op name -> calls whose backward has no formula (reported, never a silent zero)
    unsupported: Counter[str] = field(default_factory=Counter)

    @property
    def backward_macs(self) -> int:
        return self.grad_input_macs + self.grad_weight_macs

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


class _Recorder(TorchFunctionMode):
    def __init__(self, stack: list[str]) -> None:
        super().__init__()
        self.stack = stack
        self.rows: dict[tuple[str, str], TrainingLayer] = {}
        self.unsupported: Counter[str] = Counter()
        self.saved: dict[int, tuple[int, str]] = {}  # storage -> (bytes, module)
        self.weights: set[int] = set()
        self.keep: list[Any] = []

    def row(self, op_class: str) -> TrainingLayer:
        key = (self.stack[-1], op_class)
        if key not in self.rows:
            self.rows[key] = TrainingLayer(self.stack[-1], "", op_class)
        return self.rows[key]

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        name = handles.canonical_name(func)
        found = handles.lookup(name)
        if found is None or isinstance(found, str):
            return out
        parts = found(args, kwargs, out)
        macs = sum(p.macs for p in parts)
        if macs:
            handle = BACKWARD_HANDLES.get(name)
            try:
                if handle is None:
                    raise _Unsupported
                bwd = handle(args, kwargs, out)
            except _Unsupported:
                self.unsupported[name] += 1
                bwd = b.BackwardMacs()
            by_class = bwd if isinstance(bwd, dict) else {parts[0].op_class: bwd}
            for p in parts:
                self.row(p.op_class).forward_macs += p.macs
            for op_class, macs_b in by_class.items():
                r = self.row(op_class)
                r.grad_input_macs += macs_b.grad_input
                r.grad_weight_macs += macs_b.grad_weight
        else:
            inputs = [tuple(t.shape) for t in _tensors([*args, *kwargs.values()]) if _grad(t)]
            if parts:
                self.row(parts[0].op_class).backward_other_ops += b.elementwise_backward_other_ops(inputs)
        return out

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        key = storage._cdata
        if key not in self.weights and key not in self.saved:
            self.keep.append(storage)
            self.saved[key] = (storage.nbytes(), self.stack[-1])
        return t


def _tensors(values):
    for v in values:
        if isinstance(v, torch.Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from _tensors(v)


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
    model.eval()  # the forward counter's mode: MACs are the same in train mode
    paths: dict[int, str] = {}
    for path, module in model.named_modules():
        paths.setdefault(id(module), path)
    stack: list[str] = [""]
    hooks = []

    def push(module, _args):
        stack.append(paths.get(id(module), type(module).__name__))

    def pop(module, _args, _out):
        if len(stack) > 1:
            stack.pop()

    for module in model.modules():
        hooks.append(module.register_forward_pre_hook(push))
        hooks.append(module.register_forward_hook(pop, always_call=True))
    rec = _Recorder(stack)
    rec.weights = {t.untyped_storage()._cdata for t in [*model.parameters(), *model.buffers()]}
    x = torch.empty(input_shape, device="meta")
    fastpath = torch.backends.mha.get_fastpath_enabled()
    torch.backends.mha.set_fastpath_enabled(False)
    try:
        with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(rec.pack, lambda t: t), rec:
            model(x)
    except Exception as exc:  # the model's own complaint about the shape, kept in one line
        label = name or type(model).__name__
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise EffprofError(f"{label} rejects input shape {input_shape}: {detail}") from exc
    finally:
        torch.backends.mha.set_fastpath_enabled(fastpath)
        for h in hooks:
            h.remove()
    return _result(model, input_shape, setup, rec)


def _result(model: nn.Module, input_shape, setup: TrainingSetup, rec: _Recorder) -> TrainingCount:
    modules = dict(model.named_modules())
    saved_by_module: dict[str, int] = defaultdict(int)
    for nbytes, module in rec.saved.values():
        saved_by_module[module] += nbytes
    seen: set[int] = set()
    first_row: set[str] = set()
    layers = []
    for (path, _op_class), row in rec.rows.items():
        module = modules.get(path)
        row.type = type(module).__name__ if module is not None else "?"
        if path not in first_row:
            first_row.add(path)
            row.saved_bytes = saved_by_module.pop(path, 0)
            if module is not None:
                own = [p for p in module.parameters(recurse=False) if id(p) not in seen]
                seen.update(id(p) for p in own)
                row.trainable_params = sum(p.numel() for p in own if p.requires_grad)
        layers.append(row)
    for path, nbytes in saved_by_module.items():  # saved by a module with no counted op of its own
        module = modules.get(path)
        layers.append(TrainingLayer(path, type(module).__name__ if module is not None else "?", "other", saved_bytes=nbytes))
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]
    return TrainingCount(
        input_shape=input_shape,
        setup=setup,
        params=sum(p.numel() for p in params),
        trainable_params=sum(p.numel() for p in trainable),
        param_bytes=sum(p.numel() * p.element_size() for p in params),
        trainable_param_bytes=sum(p.numel() * p.element_size() for p in trainable),
        forward_macs=sum(r.forward_macs for r in layers),
        grad_input_macs=sum(r.grad_input_macs for r in layers),
        grad_weight_macs=sum(r.grad_weight_macs for r in layers),
        backward_other_ops=sum(r.backward_other_ops for r in layers),
        saved_activation_bytes=sum(r.saved_bytes for r in layers),
        layers=layers,
        unsupported=rec.unsupported,
    )
